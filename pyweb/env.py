"""What runtime pyweb is in, and where the browser stores come from.

``IN_PYODIDE`` is checked once, without importing ``js``. Browser schemes
ask :func:`local_storage` / :func:`indexed_db` for their platform object: the
real one in Pyodide, or what :func:`pyweb.emulation.install` put here in
CPython. Nothing is emulated silently.
"""

from __future__ import annotations

import sys
from typing import Any

from .errors import RuntimeUnavailableError

__all__ = ["IN_PYODIDE", "indexed_db", "local_storage", "set_platform"]

#: True inside Pyodide (browser or Node). The ``js`` module exists only there.
IN_PYODIDE = "_pyodide_core" in sys.modules or sys.platform == "emscripten"

# name -> platform object installed by pyweb.emulation (or a test).
_installed: dict[str, Any] = {}

_HINT = (
    "{what} exists only in a browser; in CPython call pyweb.emulation.install() first "
    "(or pass {arg}= to the handler)"
)


def set_platform(name: str, obj: Any | None) -> None:
    """Install (or with ``None`` remove) a stand-in platform object by name."""
    if obj is None:
        _installed.pop(name, None)
    else:
        _installed[name] = obj


def local_storage() -> Any:
    """The StorageLike behind ``localstorage://`` here."""
    if "local_storage" in _installed:
        return _installed["local_storage"]
    if IN_PYODIDE:
        from .browser.storage import browser_local_storage

        return browser_local_storage()
    raise RuntimeUnavailableError(_HINT.format(what="window.localStorage", arg="storage"))


def indexed_db() -> Any:
    """The IDBFactoryLike behind ``indexeddb://`` here."""
    if "indexed_db" in _installed:
        return _installed["indexed_db"]
    if IN_PYODIDE:
        from .browser.idb import browser_indexed_db

        return browser_indexed_db()
    raise RuntimeUnavailableError(_HINT.format(what="IndexedDB", arg="factory"))
