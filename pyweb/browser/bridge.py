"""pyweb in a Web Worker: the page's localStorage and downloads, reached through page.js.

A worker (a JupyterLite kernel, a worker an app starts) has IndexedDB and
fetch but no ``localStorage`` and no ``document``. The first time a scheme
needs them, :func:`page_bridge` connects to pyweb's page helper
(:mod:`pyweb.browser.page`) over a ``BroadcastChannel`` named with a random
token only this worker knows:

- in an IPython kernel (JupyterLite), pyweb displays the helper as a
  JavaScript output of the running cell, which JupyterLab runs in the page;
  once the page answers, the output is replaced by an empty one, so a saved
  notebook does not carry it;
- otherwise pyweb asks the page with ``postMessage({pyweb: "connect", token})``,
  which the page answers if it called ``pywebPage.attach(worker)`` (README,
  "pyweb in a Web Worker").

The worker binds to the first page that answers and ignores every other, so
two notebooks never act on each other's requests. Each call is one message
each way; bytes cross as Uint8Arrays (copied once each way), and base64 is
done on the page. Sync calls wait through ``pyodide.ffi.run_sync`` (JSPI),
and raise :class:`~pyweb.errors.SyncUnavailableError` where it is missing.
"""

from __future__ import annotations

import json
import secrets
import sys
from typing import Any

from .._run import run_sync
from ..errors import RuntimeUnavailableError
from ._sources import page_js
from .ffi import is_null, to_js_object, translate_js_errors
from .page import page_helpers

# isort: split
import js  # after the ffi guard, which raises outside Pyodide
from pyodide.ffi import to_js

__all__ = ["CALL_SECONDS", "CONNECT_SECONDS", "PageBridge", "in_worker", "page_bridge"]

#: Seconds to wait for the page helper to answer the first time.
CONNECT_SECONDS = 15.0
#: Seconds one call may take on the page (a download of a large model included).
CALL_SECONDS = 120.0

_HOW = (
    "pyweb reaches the page's localStorage and downloads from a Web Worker through its page helper. "
    "In Jupyter(Lite) the helper comes as a JavaScript output of the running cell, which runs in the page "
    "only when the notebook is trusted in this session; in your own app, load pyweb's page.js in the page "
    "and call pywebPage.attach(worker) (README: 'pyweb in a Web Worker')."
)


def in_worker() -> bool:
    """True in a Web Worker's global scope (no ``document``)."""
    return getattr(js, "document", None) is None and hasattr(js, "WorkerGlobalScope")


class PageBridge:
    """One worker's connection to its page's pyweb helper.

    Examples
    --------
    >>> await page_bridge().call("storage.getItem", "k")  # doctest: +SKIP
    """

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)
        self._client = page_helpers().connect(self.token)
        self._connected = False
        self._display: Any = None

    async def connect(self) -> None:
        """Install the page helper if needed and wait until a page answers."""
        if self._connected:
            return
        self._ask_the_page()
        try:
            with translate_js_errors(action="connecting to the page helper"):
                await self._client.ready(int(CONNECT_SECONDS * 1000))
        except Exception as exc:
            raise RuntimeUnavailableError(f"no page answered within {CONNECT_SECONDS:g} s. {_HOW}") from exc
        self._connected = True
        if self._display is not None:  # the page runs the helper now: drop it from the notebook
            from IPython.display import HTML

            self._display.update(HTML(""))
            self._display = None

    async def call(self, op: str, *args: Any) -> Any:
        """Run ``op`` (see page.js's OPS) on the page; JS errors come back as pyweb errors."""
        await self.connect()
        with translate_js_errors(action=f"the page's {op}"):
            value = await self._client.call(
                op, to_js(list(args), dict_converter=js.Object.fromEntries), int(CALL_SECONDS * 1000)
            )
        return None if is_null(value) else value

    def call_sync(self, op: str, *args: Any) -> Any:
        """:meth:`call` from sync code (JSPI), or SyncUnavailableError."""
        return self.call_sync_coroutine(self.call(op, *args))

    def call_sync_coroutine(self, coro: Any) -> Any:
        """Run a coroutine of calls from sync code (JSPI), or SyncUnavailableError."""
        return run_sync(coro, twin="the a-prefixed twin (asave, aload, alist_models)")

    def _ask_the_page(self) -> None:
        shell = _ipython_shell()
        if shell is not None:
            from IPython.display import Javascript, display

            code = f"{page_js()}\n;globalThis.pywebPage.serve({json.dumps(self.token)});"
            self._display = display(Javascript(code), display_id=True)
        else:
            js.postMessage(to_js_object({"pyweb": "connect", "token": self.token}))


def _ipython_shell() -> Any:
    if "IPython" not in sys.modules:
        return None
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


_BRIDGE: PageBridge | None = None


def page_bridge() -> PageBridge:
    """This worker's bridge to its page (made once).

    Raises
    ------
    RuntimeUnavailableError
        Not in a Web Worker (a page has its own document and storage).
    """
    global _BRIDGE
    if not in_worker():
        raise RuntimeUnavailableError("page_bridge() is for Web Workers; this is a page")
    if _BRIDGE is None:
        _BRIDGE = PageBridge()
    return _BRIDGE
