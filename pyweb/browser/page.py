"""pyweb's page helper (page.js) from Python in Pyodide.

On a page's main thread it gives pyweb's localStorage handler its base64 fast
paths and ``downloads://`` its delivery (one download per user gesture, the
rest offered as buttons); in a Web Worker it gives the client side of the
bridge (:mod:`pyweb.browser.bridge`). Evaluated once per JS realm.
"""

from __future__ import annotations

from typing import Any

from ._sources import page_js
from .ffi import js_helpers

__all__ = ["page_helpers"]


def page_helpers() -> Any:
    """``globalThis.pywebPage``, made by evaluating page.js the first time."""
    return js_helpers(page_js())
