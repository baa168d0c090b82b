"""The demo walk-through over W3C WebDriver (Selenium), for WebKitGTK.

Playwright cannot drive the Debian WebKitGTK, so ``pyweb demo --headless --browser
webkit`` runs the same walk-through (:mod:`pyweb.demo.walkthrough`) through
:class:`SeleniumPage`: the small part of Playwright's sync ``Page`` API that
:class:`~pyweb.demo.walkthrough.DemoPage` and
:class:`~pyweb.demo.walkthrough.Downloads` use, over a Selenium WebDriver. Elements
are found and read in the page (``querySelectorAll``, ``textContent``,
``getAttribute``); clicks, typing and file choices are WebDriver's own, so the page
sees user gestures. The browser session itself comes from
:class:`pyweb.testing.webdriver.WebDriverPool` (MiniBrowser under Xvfb).
"""

from __future__ import annotations

import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["SeleniumLocator", "SeleniumPage", "call_js"]

# The page-side half lives in selenium_page.js: an object of functions, run by name.
_FUNCTIONS = resources.files(__package__ or __name__).joinpath("selenium_page.js").read_text("utf-8")
_CALL = f"return ({_FUNCTIONS}\n)[arguments[0]](...Array.prototype.slice.call(arguments, 1));"


def call_js(driver: Any, name: str, *args: Any) -> Any:
    """Run the function ``name`` of selenium_page.js in the driver's page with ``args``."""
    return driver.execute_script(_CALL, name, *args)


class SeleniumLocator:
    """Elements found by CSS selectors, resolved afresh on every call (as a Playwright Locator)."""

    def __init__(self, page: SeleniumPage, parts: list[str], first: bool = False) -> None:
        self._page = page
        self._parts = parts
        self._first = first

    @property
    def first(self) -> SeleniumLocator:
        return SeleniumLocator(self._page, self._parts, True)

    def locator(self, selector: str) -> SeleniumLocator:
        return SeleniumLocator(self._page, [*self._parts, selector], self._first)

    def elements(self) -> list[Any]:
        found: list[Any] = call_js(self._page.driver, "resolve", self._parts, self._first)
        return found

    def count(self) -> int:
        return len(self.elements())

    def text_content(self) -> str | None:
        value: str | None = call_js(self._page.driver, "textContent", self._one())
        return value

    def get_attribute(self, name: str) -> str | None:
        value: str | None = call_js(self._page.driver, "getAttribute", self._one(), name)
        return value

    def is_visible(self) -> bool:
        found = self.elements()
        return bool(found) and bool(call_js(self._page.driver, "visible", found[0]))

    def is_hidden(self) -> bool:
        return not self.is_visible()

    def click(self) -> None:
        self._one(visible=True).click()

    def select_option(self, value: str) -> None:
        from selenium.webdriver.support.select import Select

        select = Select(self._one(visible=True))
        try:
            select.select_by_value(value)
        except Exception:  # noqa: BLE001 - Playwright matches a value or a label
            select.select_by_visible_text(value)

    def fill(self, value: str) -> None:
        element = self._one(visible=True)
        element.clear()
        element.send_keys(value)

    def _one(self, *, visible: bool = False) -> Any:
        """The first element, waited for (and for it to be shown, with ``visible``) as Playwright does."""
        deadline = time.monotonic() + self._page.timeout
        while True:
            found = self.elements()
            if found and (not visible or call_js(self._page.driver, "visible", found[0])):
                return found[0]
            if time.monotonic() > deadline:
                state = "visible " if found else ""
                raise TimeoutError(f"no {state}element for {' '.join(self._parts)!r} in {self._page.timeout:g} s")
            time.sleep(0.1)


class SeleniumPage:
    """The part of Playwright's sync Page API the demo walk-through uses, over a Selenium WebDriver.

    ``upload_folder`` is where :meth:`set_input_files` writes the chosen files (WebDriver
    chooses files by path); ``timeout`` is the seconds an element is waited for.
    """

    def __init__(self, driver: Any, upload_folder: Path, timeout: float = 30.0) -> None:
        self.driver = driver
        self.upload_folder = upload_folder
        self.timeout = timeout

    def goto(self, url: str) -> None:
        self.driver.get(url)

    def set_viewport_size(self, size: dict[str, int]) -> None:
        self.driver.set_window_size(size["width"], size["height"])

    def locator(self, selector: str) -> SeleniumLocator:
        return SeleniumLocator(self, [selector])

    def evaluate(self, expression_or_function: str, arg: Any = None) -> Any:
        return call_js(self.driver, "evaluate", expression_or_function, arg)

    def eval_on_selector(self, selector: str, function: str) -> Any:
        element = self.locator(selector).first._one()
        return call_js(self.driver, "evalOn", function, element)

    def eval_on_selector_all(self, selector: str, function: str) -> Any:
        return call_js(self.driver, "evalOnAll", function, selector)

    def get_attribute(self, selector: str, name: str) -> str | None:
        return self.locator(selector).first.get_attribute(name)

    def wait_for_selector(self, selector: str, timeout: float = 30_000) -> None:
        self._wait(lambda: self.locator(selector).count() > 0, timeout / 1000, f"no element for {selector!r}")

    def wait_for_function(self, function: str, arg: Any = None, timeout: float = 30_000) -> None:
        self._wait(lambda: bool(self.evaluate(function, arg)), timeout / 1000, f"{function[:60]!r} stayed false")

    def wait_for_timeout(self, milliseconds: float) -> None:
        time.sleep(milliseconds / 1000)

    def click(self, selector: str) -> None:
        self.locator(selector).first.click()

    def select_option(self, selector: str, value: str) -> None:
        self.locator(selector).first.select_option(value)

    def fill(self, selector: str, value: str) -> None:
        self.locator(selector).first.fill(value)

    def set_input_files(self, selector: str, files: list[dict[str, Any]]) -> None:
        """Choose files (Playwright payloads: ``name`` and ``buffer``) in the file input ``selector``."""
        # Each file in a folder of its own, so that two of one name keep it.
        root = Path(tempfile.mkdtemp(prefix="upload-", dir=self.upload_folder))
        paths = []
        for i, item in enumerate(files):
            path = root / str(i) / item["name"]
            path.parent.mkdir()
            path.write_bytes(bytes(item["buffer"]))
            paths.append(str(path))
        self.locator(selector).first._one().send_keys("\n".join(paths))

    def _wait(self, check: Any, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} after {seconds:g} s")
            time.sleep(0.1)
