"""``window.localStorage`` as a :class:`~pyweb.types.StorageLike`, on a page or from a Web Worker.

Beyond the Web Storage methods it offers the optional fast paths the
localStorage handler uses for weights, which keep the big base64 string on
the JS side (3 MiB in Chromium on Pyodide 0.27: 21 ms instead of 332 ms to
save, 4.6 ms instead of ~100 ms to load, measured by ``make bench-browser``):

- ``set_base64(key, data)``: the bytes cross ONCE (``to_js`` of a memoryview,
  one copy), then one JS function base64-encodes and calls ``setItem``;
- ``get_base64(key)``: one JS function calls ``getItem`` and decodes, and the
  resulting Uint8Array crosses back with ``.to_bytes()`` (one copy).

Errors become pyweb errors (QuotaExceededError when full, see
:data:`pyweb.browser.ffi.JS_ERROR_TABLE`); a failed ``setItem`` leaves the
store unchanged (both browsers).

The JS side is page.js's ``storage`` (:mod:`pyweb.browser.page`). In a Web
Worker, which has no localStorage, :class:`BridgedLocalStorage` sends the
same calls to the page (:mod:`pyweb.browser.bridge`): one message each way
per call, bytes as Uint8Arrays, base64 on the page.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ..errors import RuntimeUnavailableError
from .ffi import is_null, to_uint8array, translate_js_errors
from .page import page_helpers

__all__ = ["BridgedLocalStorage", "BrowserLocalStorage", "browser_local_storage", "page_engine"]


def page_engine() -> str:
    """Whose localStorage accounting this browser has: ``"webkit"`` (bytes), else ``"chromium"`` or ``"firefox"``.

    WebKit's user agents (Safari, every browser on iOS) say ``AppleWebKit/`` and not ``Chrome/``;
    Chromium's say both, Firefox's neither.
    """
    import js

    agent = str(js.navigator.userAgent)
    if "AppleWebKit/" in agent and "Chrome/" not in agent and "Chromium/" not in agent:
        return "webkit"
    return "firefox" if "Firefox/" in agent else "chromium"


class BrowserLocalStorage:
    """The page's ``localStorage``; values are str, as in the Web Storage API.

    ``engine`` names whose quota accounting it has (:func:`page_engine`).
    """

    def __init__(self, helpers: Any) -> None:
        self._js = helpers
        self.engine = page_engine()

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


class BridgedLocalStorage:
    """The page's ``localStorage`` from a Web Worker: each call is one round trip to the page.

    Sync like the Web Storage API (each call waits through JSPI), so the
    localStorage handler works unchanged; values and errors are the page's.
    """

    def __init__(self, bridge: Any) -> None:
        self._bridge = bridge
        self.engine = page_engine()  # a worker's user agent is its page's browser's

    @property
    def length(self) -> int:
        return int(self._call("storage.length"))

    def key(self, index: int) -> str | None:
        value = self._call("storage.key", index)
        return None if value is None else str(value)

    def getItem(self, key: str) -> str | None:  # noqa: N802 (Web Storage names)
        value = self._call("storage.getItem", key)
        return None if value is None else str(value)

    def setItem(self, key: str, value: str) -> None:  # noqa: N802
        self._call("storage.setItem", key, value)

    def removeItem(self, key: str) -> None:  # noqa: N802
        self._call("storage.removeItem", key)

    def set_base64(self, key: str, data: Any) -> None:
        """Store ``data`` (bytes-like) under ``key`` as base64 text, encoded on the page."""
        self._call("storage.setBase64", key, to_uint8array(data))

    def get_base64(self, key: str) -> bytes | None:
        """The bytes whose base64 is stored under ``key``, decoded on the page; None if absent."""
        array = self._call("storage.getBase64", key)
        return None if array is None else array.to_bytes()

    def _call(self, op: str, *args: Any) -> Any:
        return self._bridge.call_sync(op, *args)


@cache
def browser_local_storage() -> BrowserLocalStorage | BridgedLocalStorage:
    """The page's localStorage, wrapped once: directly on a page, through the bridge in a worker.

    Raises
    ------
    RuntimeUnavailableError
        No localStorage here (storage disabled, or an opaque origin).
    """
    from .bridge import in_worker, page_bridge

    if in_worker():
        return BridgedLocalStorage(page_bridge())
    helpers = page_helpers().storage
    if not helpers.available():
        raise RuntimeUnavailableError(
            "window.localStorage is not available here (storage disabled, or an opaque origin); "
            "use indexeddb:// instead"
        )
    return BrowserLocalStorage(helpers)
