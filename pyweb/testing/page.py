"""PyodidePage: one browser page with Pyodide booted and the bundle unpacked.

``page.evaluate`` has no timeout, and ``wait_for_function``'s timeout never
fires while the page's main thread is stuck (say, in a Python ``while True``):
its clean-up evaluates in that page and waits forever. So every call into the
page runs under a host-side watchdog, a timer on Playwright's own event loop
that closes the page's browser context when it expires; the pending call then
fails at once and the page is replaced. Under pytest, Playwright runs in a
thread of its own and ``browser``, ``context`` and ``page`` are proxies (see
:mod:`pyweb.testing.pwthread`); a call and its watchdog make one hop there.
Playwright is imported only inside methods: ``import pyweb.testing`` stays
cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import textwrap
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from .bundle import BUNDLE_DIR, PAGE_MODULE
from .config import Target
from .errors import PyodideError, PyodideTimeoutError
from .page_js import (  # noqa: F401 - re-exported for older callers
    BOOT,
    BUNDLE_PATH,
    HARNESS_JS,
    HARNESS_PATH,
    INDEX_HTML,
    INDEX_PATH,
    READY,
    RUN,
    RUN_JS,
    TIMEOUT_MARK,
    WIPE,
)
from .page_runner import dumps, loads
from .pwthread import call_in_thread, unwrap

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

__all__ = ["PyodidePage"]


class _Watchdog:
    """A timer that closes a stuck page (its context, or ``victim``); ``fired`` tells whether it did."""

    def __init__(self, page: Page, victim: Any, seconds: float, on_fire: Any) -> None:
        self.fired = False
        self._victim = victim
        self._on_fire = on_fire
        # Sync-API objects keep their asyncio loop and async twin in _loop and
        # _impl_obj (Playwright >=1.57,<1.65): the only way to act while a call waits.
        self._handle = page._loop.call_later(seconds, self._fire)

    def _fire(self) -> None:
        self.fired = True
        self._on_fire()
        task = asyncio.ensure_future(self._victim._impl_obj.close())
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def cancel(self) -> None:
        self._handle.cancel()


class PyodidePage:
    """A browser page running Pyodide with pyweb under test on ``sys.path``.

    Made by the ``pyodide`` fixture, one per test module and target (or by
    :meth:`open` outside pytest). Attributes: ``page`` (the Playwright Page),
    ``context``, ``browser`` (the Playwright Browser), ``browser_name``,
    ``build``, ``target`` (``"chromium-0.27.7"``), ``has_numpy``, ``python``
    (the version the config expects, ``"3.12"``), ``runtime`` (what booted:
    ``{"python": "3.12.7", "pyodide": "0.27.7"}``), ``origin`` (the test
    server), ``url`` (the page's address), ``timeout`` (seconds for one
    :meth:`run`, reset before each test), ``timeouts`` (the config's),
    ``console`` and ``console_errors`` (cleared before each test) and
    ``timings`` (seconds spent starting the page, by step).

    Examples
    --------
    In a test that takes the ``pyodide`` fixture (a page in a real browser):

    >>> pyodide.run("import pyweb; pyweb.__version__")  # doctest: +SKIP
    '0.1.0'
    >>> pyodide.run("sum(xs)", xs=[1, 2, 3])  # doctest: +SKIP
    6
    """

    def __init__(self, browser: Browser, target: Target, origin: str, timeouts: dict[str, float]) -> None:
        self.browser_name = target.browser.name
        self.build = target.build.name
        self.target = target.id
        self.has_numpy = target.build.numpy
        self.python = target.build.python
        self.origin = origin
        self.timeouts = dict(timeouts)
        self.timeout = float(timeouts["run"])
        self.console: list[str] = []
        self.console_errors: list[str] = []
        self.timings: dict[str, float] = {}
        self.runtime: dict[str, str] = {}
        self.browser = browser
        self._target = target
        self._stuck = False
        index_url = target.build.index_url or f"{origin}/pyodide/{target.build.name}/"
        self.url = f"{origin}{INDEX_PATH}?pyodide={quote(index_url, safe='')}"
        self.context: BrowserContext | None = None
        self.page: Page | None = None

    @classmethod
    def open(cls, browser: Browser, target: Target, origin: str, timeouts: dict[str, float]) -> PyodidePage:
        """A new context and page on ``browser``, with Pyodide booted."""
        page = cls(browser, target, origin, timeouts)
        page._start()
        return page

    # -- running code ----------------------------------------------------

    def run(self, code: str, /, **globals: Any) -> Any:
        """Run Python in the page and return its last expression's value.

        ``code`` is dedented and run with ``runPythonAsync`` in a fresh namespace,
        so top-level ``await`` and ``pyodide.ffi.run_sync`` work. Keyword
        arguments become variables there. Values cross as JSON (bytes too).

        Raises
        ------
        PyodideError
            The code raised; carries the page's type name and traceback.
        PyodideTimeoutError
            It took longer than ``self.timeout`` seconds; the page is restarted.
        """
        text = self._call(RUN, [textwrap.dedent(code), dumps(globals)], self.timeout, "run()", restart=True)
        result = loads(text)
        if result["ok"]:
            return result["value"]
        raise PyodideError(
            result["type"],
            result["message"],
            result["traceback"],
            qualname=result["qualname"],
            mro=result["mro"],
            attrs=result["attrs"],
            console_errors=self.console_errors,
            target=self.target,
        )

    def run_js(self, expression_or_function: str, arg: Any = None, *, timeout: float | None = None) -> Any:
        """Evaluate JavaScript in the page (awaiting a Promise), with a timeout.

        A function source is called with ``arg``. Raises PyodideTimeoutError after
        ``timeout`` seconds (default ``timeouts["js"]``) and Playwright's Error
        when the JavaScript throws.
        """
        from playwright.sync_api import Error

        seconds = self.timeouts["js"] if timeout is None else timeout
        try:
            # The page's own timer answers first; the driver's is for a stuck page.
            return self._call(
                RUN_JS, [expression_or_function, arg, seconds * 1000], seconds + 5, "run_js()", restart=True
            )
        except Error as exc:
            if TIMEOUT_MARK in str(exc):
                raise PyodideTimeoutError(f"run_js() did not settle within {seconds} s on {self.target}") from None
            raise

    def run_pytest(self, *args: str, check: bool = True) -> dict[str, Any]:
        """Run pytest inside the page on files of the bundle (paths relative to its root).

        Returns ``{"exitcode", "outcomes": {nodeid: outcome}, "reports": {nodeid: text},
        "output"}``; with ``check`` (the default) a non-zero exit raises AssertionError
        carrying pytest's output from the page.
        """
        result: dict[str, Any] = self.run(
            f"import {PAGE_MODULE}\n{PAGE_MODULE}.run_pytest(args, rootdir)", args=list(args), rootdir=BUNDLE_DIR
        )
        if check and result["exitcode"] != 0:
            raise AssertionError(f"pytest in the page ({self.target}) exited {result['exitcode']}:\n{result['output']}")
        return result

    def add_script(self, path: str) -> None:
        """Load a script served by the test server, e.g. ``"/tfjs/tf.min.js"``; gone after reload()."""
        self._live.add_script_tag(url=self.origin + path)

    def click(self, selector: str) -> None:
        """Click the element the CSS ``selector`` finds, as a user would (a real gesture)."""
        if self.page is None:
            raise RuntimeError(f"the page on {self.target} is closed")
        self.page.click(selector)

    # -- state -----------------------------------------------------------

    def wipe_storage(self) -> list[str]:
        """Clear localStorage, sessionStorage, Cache Storage and delete every IndexedDB database.

        Returns the names of the databases deleted.
        """
        deleted: list[str] = self._call(WIPE, None, self.timeouts["wipe"], "wipe_storage()", restart=True)
        return deleted

    def reload(self) -> None:
        """Reload the page: a fresh interpreter, the same origin and storage."""
        self._boot()

    def reset(self) -> None:
        """Before each test: restart a dead or stuck page, wipe storage, clear logs."""
        if self._stuck or self._closed():
            self.restart()
        try:
            self._call(WIPE, None, self.timeouts["wipe"], "wipe_storage()")
        except Exception:  # noqa: BLE001 - stuck, crashed, or a database left open: start over once
            self.restart()
            self.wipe_storage()
        self.console.clear()
        self.console_errors.clear()
        self.timeout = float(self.timeouts["run"])

    def alive(self) -> bool:
        """True when the page answers and its harness is booted."""
        if self._stuck or self._closed():
            return False
        try:
            return self._call(READY, None, 5, "alive()") is True
        except Exception:  # noqa: BLE001
            return False

    def restart(self) -> None:
        """Replace the context and page (used after a crash or timeout)."""
        self.close()
        self._start()

    def close(self) -> None:
        """Close the page's browser context."""
        from playwright.sync_api import Error

        if self.context is not None:
            try:
                self.context.close()
            except Error:
                pass  # the browser may already be gone at session end
            self.context = self.page = None

    @contextlib.contextmanager
    def second_tab(self) -> Iterator[Any]:
        """Another tab of the same browser on the page's address (same origin, same storage).

        Yields an object with ``evaluate(function_source, arg=None)`` (JavaScript in that tab,
        awaiting a Promise); the tab is closed after the block.
        """
        if self.context is None:
            raise RuntimeError(f"the page on {self.target} is closed")
        tab = self.context.new_page()
        try:
            tab.goto(self.url, wait_until="load", timeout=self.timeouts["start"] * 1000)
            yield tab
        finally:
            tab.close()

    # -- internals -------------------------------------------------------

    def _closed(self) -> bool:
        """True when the page is gone (closed or crashed); reset() and alive() ask."""
        return self.page is None or self.page.is_closed()

    def _new_page(self) -> Page:
        self.context = self.browser.new_context(**self._target.browser.context)
        return self.context.new_page()

    def _start(self) -> None:
        t0 = time.perf_counter()
        self.page = self._new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_page_error)
        self.page.on("crash", self._on_crash)
        self._stuck = False
        context_seconds = time.perf_counter() - t0
        self._boot()
        self.timings["context"] = context_seconds
        self.timings["total"] += context_seconds

    @property
    def _live(self) -> Page:
        """``page`` while the harness has one open (it is None only after ``close()``)."""
        return cast("Page", self.page)

    def _navigate(self) -> None:
        """Load the test page, before Pyodide boots in it."""
        self._live.goto(self.url, wait_until="load", timeout=self.timeouts["start"] * 1000)

    def _boot(self) -> None:
        t0 = time.perf_counter()
        self._navigate()
        goto = time.perf_counter() - t0
        info = self._call(
            BOOT,
            {
                "bundleURL": self.origin + BUNDLE_PATH,
                "bundleDir": BUNDLE_DIR,
                "pageModule": PAGE_MODULE,
                "numpy": self.has_numpy,
            },
            self.timeouts["start"],
            "starting Pyodide",
        )
        self.timings = {"goto": goto, **info["timings"], "total": time.perf_counter() - t0}
        self.runtime = {"python": info["python"], "pyodide": info["pyodide"]}

    def _call(self, function: str, arg: Any, timeout: float, what: str, *, restart: bool = False) -> Any:
        live = self._live
        # One hop to Playwright's thread for the call and its watchdog (a timer on Playwright's loop).
        fired, value = call_in_thread(
            live, self._evaluate_watched, unwrap(live), unwrap(self._watchdog_victim()), function, arg, timeout
        )
        if fired:
            raise self._timed_out(what, timeout, restart=restart) from None
        return value

    def _evaluate_watched(self, page: Page, victim: Any, function: str, arg: Any, timeout: float) -> tuple[bool, Any]:
        """In Playwright's thread: ``(False, value)``, or ``(True, None)`` when the watchdog fired."""
        from playwright.sync_api import Error

        watchdog = _Watchdog(page, victim, timeout, self._mark_stuck)
        try:
            return False, page.evaluate(function, arg)
        except Error:
            if not watchdog.fired:
                raise
            return True, None
        finally:
            watchdog.cancel()

    def _timed_out(self, what: str, timeout: float, *, restart: bool) -> PyodideTimeoutError:
        """The error for a call that did not finish; with ``restart``, the page is replaced first."""
        message = f"{what} did not finish within {timeout:g} s on {self.target}"
        if restart:
            self.restart()
            message += "; the page was restarted (a fresh interpreter, empty storage)"
        if self.console_errors:
            message += "\nConsole errors:\n" + "\n".join(self.console_errors)
        return PyodideTimeoutError(message)

    def _watchdog_victim(self) -> Any:
        """What the watchdog closes when the page is stuck: its own context."""
        return self.context

    def _mark_stuck(self) -> None:
        self._stuck = True

    def _on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"[{message.type}] {message.text}")
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_page_error(self, error: Any) -> None:
        text = f"uncaught {getattr(error, 'name', 'Error')}: {getattr(error, 'message', error)}"
        self.console.append(f"[pageerror] {text}")
        self.console_errors.append(text)

    def _on_crash(self, page: Page) -> None:
        self._stuck = True
        self.console_errors.append("the page crashed")

    def __repr__(self) -> str:
        return f"<PyodidePage {self.target} at {self.origin}>"
