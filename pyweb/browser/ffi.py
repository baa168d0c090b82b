"""Moving values between Python and JS: bytes, nulls, objects, errors.

Costs measured in Pyodide 0.27.7, Chromium and Firefox, decide the routes
(``tests/browser/test_storage_handlers.py`` pins the buffer routes):

- Python bytes -> JS: ``to_js(memoryview)`` makes a Uint8Array with ONE
  copy (~1.7 GB/s). ``js.Uint8Array.new(bytes)`` passes a PyProxy that JS
  reads element by element (~5 MB/s); never use it.
- JS buffer -> Python: ``.to_bytes()`` on an ArrayBuffer or typed array,
  one copy (~10 GB/s).
- Strings are the slow part (0.27: ~20 MB/s into Chromium), so large
  payloads never cross as ``str``.

Only this package imports ``js``/``pyodide``; importing it outside Pyodide
raises :class:`~pyweb.errors.RuntimeUnavailableError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache
from typing import Any

from ..env import IN_PYODIDE
from ..errors import PyWebError, RuntimeUnavailableError
from ._errors import JS_ERROR_TABLE, make_error

if not IN_PYODIDE:  # pragma: no cover - exercised by the CPython import test
    raise RuntimeUnavailableError("pyweb.browser needs Pyodide (the 'js' module exists only there)")

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, to_js

try:  # Pyodide 314+: JS null is jsnull, not None
    from pyodide.ffi import jsnull as _JSNULL  # noqa: N812  a module constant
except ImportError:  # Pyodide 0.27: null is None
    _JSNULL = None

__all__ = [
    "JS_ERROR_TABLE",
    "JsException",
    "is_null",
    "js_error",
    "js_helpers",
    "to_js_object",
    "to_uint8array",
    "translate_js_errors",
]


def is_null(value: Any) -> bool:
    """True for JS ``null``/``undefined`` on every Pyodide (None or ``jsnull``)."""
    return value is None or (_JSNULL is not None and value is _JSNULL)


def to_uint8array(data: Any) -> Any:
    """A JS Uint8Array holding a copy of ``data`` (bytes-like): exactly one copy."""
    view = memoryview(data)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    if not view.c_contiguous:  # to_js needs one block; never the case for pyweb's buffers
        view = memoryview(bytes(view))
    return to_js(view)


def to_js_object(value: dict[str, Any]) -> Any:
    """A plain JS object (nested dicts too) on every Pyodide.

    Pyodide 0.27's ``to_js(dict)`` makes a ``Map``, 314's an ``Object``;
    ``dict_converter=Object.fromEntries`` gives objects on both.
    """
    return to_js(value, dict_converter=js.Object.fromEntries)


def js_error(exc: BaseException, *, url: str | None = None, action: str | None = None) -> PyWebError:
    """The pyweb error for a JsException (by its JS ``name``, see JS_ERROR_TABLE)."""
    name = getattr(exc, "name", None)
    message = getattr(exc, "message", None)
    if name is None:  # older JsException: read the JS error object itself
        js_err = getattr(exc, "js_error", None)
        name = getattr(js_err, "name", None)
        message = getattr(js_err, "message", None)
    return make_error(str(name) if name else None, str(message) if message else None, url=url, action=action)


@contextlib.contextmanager
def translate_js_errors(*, url: str | None = None, action: str | None = None) -> Iterator[None]:
    """Turn a JsException raised inside the block into its pyweb error.

    ``raise ... from exc`` keeps the JS error reachable as ``__cause__``.

    Examples
    --------
    >>> with translate_js_errors(url="localstorage://m", action="saving"):  # doctest: +SKIP
    ...     js.localStorage.setItem("k", "v" * 10**7)
    Traceback (most recent call last):
    pyweb.errors.QuotaExceededError: saving (localstorage://m) failed: QuotaExceededError: ...
    """
    try:
        yield
    except JsException as exc:
        raise js_error(exc, url=url, action=action) from exc


@cache
def js_helpers(source: str) -> Any:
    """Evaluate a JS expression once and keep its value (the helper objects)."""
    return run_js(source)
