"""``window.localStorage`` as a :class:`~pyweb.types.StorageLike`.

Beyond the Web Storage methods it offers the optional fast paths the
localStorage handler uses for weights, which keep the big base64 string on
the JS side (browser-facts.md §4, 3 MiB in Chromium on Pyodide 0.27: 21 ms
instead of 332 ms to save, 4.6 ms instead of ~100 ms to load):

- ``set_base64(key, data)``: the bytes cross ONCE (``to_js`` of a memoryview,
  one copy), then one JS function base64-encodes and calls ``setItem``;
- ``get_base64(key)``: one JS function calls ``getItem`` and decodes, and the
  resulting Uint8Array crosses back with ``.to_bytes()`` (one copy).

Errors become pyweb errors (QuotaExceededError when full, see
:data:`pyweb.browser.ffi.JS_ERROR_TABLE`); a failed ``setItem`` leaves the
store unchanged (both browsers, facts §1).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ..errors import RuntimeUnavailableError
from .ffi import is_null, js_helpers, to_uint8array, translate_js_errors

__all__ = ["BrowserLocalStorage", "browser_local_storage"]

# One object of helpers, made once. Uint8Array.prototype.toBase64 and
# Uint8Array.fromBase64 (present in current Chromium and Firefox) are native
# and fast; the fallbacks run btoa/atob over 24 KiB pieces (a multiple of 3,
# so the pieces' base64 concatenates to the whole's, and fromCharCode's
# argument count stays small).
_HELPERS = r"""
(() => {
  const storage = () => globalThis.localStorage;
  const CHUNK = 3 * 8192;
  const encode = (typeof Uint8Array.prototype.toBase64 === 'function')
    ? (u) => u.toBase64()
    : (u) => {
        const parts = [];
        for (let i = 0; i < u.length; i += CHUNK) {
          parts.push(btoa(String.fromCharCode.apply(null, u.subarray(i, i + CHUNK))));
        }
        return parts.join('');
      };
  const decode = (typeof Uint8Array.fromBase64 === 'function')
    ? (s) => Uint8Array.fromBase64(s)
    : (s) => {
        const bin = atob(s);
        const out = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
        return out;
      };
  return {
    available: () => { try { return !!storage(); } catch (e) { return false; } },
    setBase64: (key, bytes) => storage().setItem(key, encode(bytes)),
    getBase64: (key) => { const s = storage().getItem(key); return s === null ? null : decode(s); },
    length: () => storage().length,
    key: (i) => storage().key(i),
    getItem: (key) => storage().getItem(key),
    setItem: (key, value) => storage().setItem(key, value),
    removeItem: (key) => storage().removeItem(key),
  };
})()
"""


class BrowserLocalStorage:
    """The page's ``localStorage``; values are str, as in the Web Storage API."""

    def __init__(self, helpers: Any) -> None:
        self._js = helpers

    @property
    def length(self) -> int:
        with translate_js_errors(action="localStorage.length"):
            return int(self._js.length())

    def key(self, index: int) -> str | None:
        with translate_js_errors(action="localStorage.key"):
            value = self._js.key(index)
        return None if is_null(value) else str(value)

    def getItem(self, key: str) -> str | None:  # noqa: N802 (Web Storage names)
        with translate_js_errors(action=f"localStorage.getItem({key!r})"):
            value = self._js.getItem(key)
        return None if is_null(value) else str(value)

    def setItem(self, key: str, value: str) -> None:  # noqa: N802
        with translate_js_errors(action=f"localStorage.setItem({key!r})"):
            self._js.setItem(key, value)

    def removeItem(self, key: str) -> None:  # noqa: N802
        with translate_js_errors(action=f"localStorage.removeItem({key!r})"):
            self._js.removeItem(key)

    def set_base64(self, key: str, data: Any) -> None:
        """Store ``data`` (bytes-like) under ``key`` as base64 text."""
        array = to_uint8array(data)  # the one copy into JS
        with translate_js_errors(action=f"localStorage.setItem({key!r})"):
            self._js.setBase64(key, array)

    def get_base64(self, key: str) -> bytes | None:
        """The bytes whose base64 is stored under ``key``; None if absent.

        Raises CorruptModelError when the value is not base64.
        """
        with translate_js_errors(action=f"decoding localStorage[{key!r}] as base64"):
            array = self._js.getBase64(key)
        return None if is_null(array) else array.to_bytes()


@cache
def browser_local_storage() -> BrowserLocalStorage:
    """The page's localStorage, wrapped once.

    Raises
    ------
    RuntimeUnavailableError
        No localStorage here (a Web Worker, or storage disabled).
    """
    helpers = js_helpers(_HELPERS)
    if not helpers.available():
        raise RuntimeUnavailableError(
            "window.localStorage is not available here (a Web Worker, or storage disabled); use indexeddb:// instead"
        )
    return BrowserLocalStorage(helpers)
