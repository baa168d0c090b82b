"""Playwright runs in a thread of its own: test bodies keep asyncio, and the proxies behave as Playwright.

The harness starts Playwright's sync API in a thread of its own (pyweb.testing.pwthread), so a
test using the ``pyodide`` fixture and its ``.page`` has no event loop marked running: asyncio.run
and pyweb's sync verbs (which bridge to async through asyncio.run) work in its body.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest

import pyweb
from pyweb.testing.contract import make_artifacts
from pyweb.testing.webdriver import WebDriverPyodidePage
from pyweb.types import Handler

ROOT = Path(__file__).resolve().parents[2]


class _AsyncOnly(Handler):
    """A handler with async methods only: its sync verbs go through pyweb's asyncio.run bridge."""

    stored: ClassVar[dict[str, pyweb.ModelArtifacts]] = {}

    def __init__(self, path: str) -> None:
        self.path = path
        self.url = f"pwthread://{path}"

    async def asave(self, artifacts: pyweb.ModelArtifacts) -> pyweb.SaveResult:
        await asyncio.sleep(0)
        _AsyncOnly.stored[self.path] = artifacts
        return pyweb.SaveResult(pyweb.artifacts.artifacts_info(artifacts))

    async def aload(self) -> pyweb.ModelArtifacts:
        await asyncio.sleep(0)
        return _AsyncOnly.stored[self.path]


def _evaluate(pyodide, expression):
    """``expression`` evaluated through the page object itself (Playwright's, or Selenium's driver)."""
    if isinstance(pyodide, WebDriverPyodidePage):
        return pyodide.page.execute_script(f"return {expression}")
    return pyodide.page.evaluate(expression)


@pytest.fixture
def playwright_page(pyodide):
    # Its tests are marked playwright_only: the WebDriver target (Selenium) has no Playwright objects.
    assert not isinstance(pyodide, WebDriverPyodidePage)
    return pyodide.page


def test_asyncio_run_and_sync_verbs_work_in_a_test_body(pyodide):
    assert _evaluate(pyodide, "1 + 1") == 2  # the page is in use in this body...

    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert asyncio.run(answer()) == 42  # ...and asyncio.run still works here
    pyweb.register_handler("pwthread", _AsyncOnly)
    art = make_artifacts()
    pyweb.save(art, "pwthread://m")  # a sync verb of an async-only handler: asyncio.run inside
    assert pyweb.load("pwthread://m") is art
    assert _evaluate(pyodide, "2 + 2") == 4
    assert pyodide.run("1 + 2") == 3


@pytest.mark.playwright_only
def test_proxies_return_proxies_and_keep_identity(pyodide, playwright_page):
    page = playwright_page
    assert page.context is pyodide.context  # one proxy per Playwright object
    other = page.context.new_page()
    try:
        assert other in page.context.pages
        other.goto(pyodide.origin + "/index.html")
        assert other.evaluate("location.pathname") == "/index.html"
    finally:
        other.close()
    assert other.is_closed()


@pytest.mark.playwright_only
def test_exceptions_keep_their_playwright_type(playwright_page):
    from playwright.sync_api import Error, TimeoutError

    with pytest.raises(TimeoutError):
        playwright_page.wait_for_selector("#no-such-element", timeout=100)
    with pytest.raises(Error, match="pwthread-boom"):
        playwright_page.evaluate("() => { throw new Error('pwthread-boom'); }")


@pytest.mark.playwright_only
def test_event_callbacks_run_in_the_playwright_thread_with_proxies(playwright_page):
    page = playwright_page
    seen: list[tuple[str, str, bool]] = []

    def on_console(message) -> None:
        # Called in Playwright's thread; a call from there runs directly (no hop, no deadlock).
        seen.append((message.type, message.text, threading.current_thread() is threading.main_thread()))
        assert message.page is page

    page.on("console", on_console)
    try:
        page.evaluate("console.warn('pwthread-hello')")
    finally:
        page.remove_listener("console", on_console)
    page.evaluate("console.warn('pwthread-after-removal')")
    assert [(t, x) for t, x, _ in seen] == [("warning", "pwthread-hello")]
    assert seen[0][2] is False


@pytest.mark.playwright_only
def test_context_managers_work_through_the_proxy(playwright_page):
    page = playwright_page
    with page.expect_console_message(lambda m: m.text == "pwthread-cm") as info:
        page.evaluate("console.log('pwthread-cm')")
    assert info.value.text == "pwthread-cm"
    assert info.value.page is page


@pytest.mark.playwright_only
def test_an_interrupted_call_frees_the_playwright_thread(playwright_page):
    # A signal raising in the test thread (Ctrl+C, pytest-timeout) while a call waits: the caller
    # gets it at once, the call is cancelled in Playwright's thread, and the next call runs.
    class Interrupted(Exception):
        pass

    def interrupt(signum, frame):
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    t0 = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(Interrupted):
            playwright_page.evaluate("new Promise(() => {})")  # never settles
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - t0 < 10
    t0 = time.monotonic()
    assert playwright_page.evaluate("3") == 3
    assert time.monotonic() - t0 < 10


def test_no_private_asyncio_names():
    private = "asyncio" + "._"
    uses = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("pyweb", "tests")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if private in line
    ]
    assert uses == []
