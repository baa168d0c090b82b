"""What runtime pyweb is in, and where the browser stores come from.

``IN_PYODIDE`` is checked once, without importing ``js``. Browser schemes
ask :func:`local_storage` / :func:`indexed_db` for their platform object: the
real one in Pyodide, or what :func:`pyweb.emulation.install` put here in
CPython. Nothing is emulated silently.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import RuntimeUnavailableError

if TYPE_CHECKING:
    from .platforms import IDBFactoryLike, StorageLike

__all__ = ["IN_PYODIDE", "downloads", "indexed_db", "local_storage", "set_platform"]

#: True inside Pyodide (browser or Node). The ``js`` module exists only there.
IN_PYODIDE = "_pyodide_core" in sys.modules or sys.platform == "emscripten"

# name -> platform object installed by pyweb.emulation (or a test).
_installed: dict[str, Any] = {}

_HINT = (
    "{what} exists only in a browser; in CPython call pyweb.emulation.install() first (or pass {arg}= to the handler)"
)


def set_platform(name: str, obj: Any | None) -> None:
    """Install (or with ``None`` remove) a stand-in platform object by name."""
    if obj is None:
        _installed.pop(name, None)
    else:
        _installed[name] = obj


T = TypeVar("T")


def _platform(name: str, in_browser: Callable[[], T], missing: str) -> T:
    # The one lookup: what was installed, else the browser's own, else a hint.
    if name in _installed:
        installed: T = _installed[name]
        return installed
    if IN_PYODIDE:
        return in_browser()
    raise RuntimeUnavailableError(missing)


def local_storage() -> StorageLike:
    """The StorageLike behind ``localstorage://`` here."""

    def browser() -> StorageLike:
        from .browser.storage import browser_local_storage

        return browser_local_storage()

    return _platform("local_storage", browser, _HINT.format(what="window.localStorage", arg="storage"))


def indexed_db() -> IDBFactoryLike:
    """The IDBFactoryLike behind ``indexeddb://`` here."""

    def browser() -> IDBFactoryLike:
        from .browser.idb import browser_indexed_db

        return browser_indexed_db()

    return _platform("indexed_db", browser, _HINT.format(what="IndexedDB", arg="factory"))


def downloads() -> Any:
    """Where ``downloads://`` sends files: the installed stand-in, else the page."""

    def browser() -> Any:
        from .browser.bridge import in_worker, page_bridge
        from .browser.dom import AnchorDownloads, BridgedDownloads

        return BridgedDownloads(page_bridge()) if in_worker() else AnchorDownloads()

    return _platform(
        "downloads",
        browser,
        "downloads:// needs a browser page; in CPython call pyweb.emulation.install(downloads_dir=...) first "
        "(or pass target= to the handler)",
    )
