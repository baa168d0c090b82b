"""Browser-test fixtures for downloads and uploads: ``captured_downloads`` and ``set_input_files``.

**Capturing downloads** works differently per browser (measured with Playwright 1.5x):

- Chromium: ``page.on("download")`` fires once per file; ``suggested_filename``
  is the ``download`` attribute, the bytes come from ``download.path()``.
- Firefox driven over WebDriver BiDi (``moz-firefox``): Playwright fires NO
  download event for a script-clicked blob download, but the browser still
  saves it into its ``downloads_path``, under the suggested name
  (``name(1).json`` when taken), writing a ``.part`` file beside an empty
  placeholder and renaming it when done. So the fixture polls that folder.
  ``downloads_path`` is a launch option, and the session's shared Firefox has
  none: the first test of a module that captures Firefox downloads moves the
  module's page (the ``pyodide`` fixture) to a second Firefox launched with
  ``downloads_path=<session tmp>/firefox`` (once per session, about 3 s) and
  restarts the page there (once per module, about 4 s). A BROWSERS entry whose
  ``launch`` already sets ``downloads_path`` (a folder used for nothing else)
  is used as it is.
- WebKit (WebKitGTK over WebDriver): the driver reports no downloads either;
  the browser saves each Blob download without asking into its XDG download
  folder, which the harness sets per WebDriver session
  (``WebDriverPyodidePage.downloads_folder``), so the fixture polls that
  folder as in Firefox. WebKit writes a download under a temporary
  ``.wkdownload`` name and renames it when done.

The folder is emptied before each test, so files keep their suggested names
unless a test downloads one name twice.

**Uploads**: ``set_input_files(name, files)`` adds ``<input type=file multiple
id=NAME>`` to the page (or uses the element a CSS selector names), fills it
with Playwright's ``set_input_files`` from bytes or paths (over WebDriver: the
bytes written to files, their paths typed into the input), and returns the id,
so page code reaches the files as ``js.document.getElementById(NAME).files``.

Examples
--------
>>> def test_download(pyodide, captured_downloads, set_input_files):  # doctest: +SKIP
...     pyodide.run("import pyweb; await pyweb.asave(art, 'downloads://m')")
...     files = captured_downloads.wait(2)          # [("m.json", b"..."), ("m.weights.bin", b"...")]
...     set_input_files("up", files)
...     pyodide.run("import js, pyweb; await pyweb.aload(pyweb.browser_files(js.document.getElementById('up').files))")
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from .config import HarnessConfig
from .page import PyodidePage
from .page_js import js_source
from .webdriver import WebDriverPyodidePage

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["CapturedDownloads", "DownloadBrowsers", "captured_downloads", "feed_file_input", "set_input_files"]

_POLL = 0.05  # seconds between looks at the folder / event pumps
_FOLDER_ENGINES = ("firefox",)  # engines whose script-clicked blob downloads fire no Playwright event
_PARTIAL = (".part", ".wkdownload")  # unfinished downloads: Firefox's, WebKit's


class DownloadBrowsers:
    """Browsers launched with a known ``downloads_path``, one per config browser name."""

    def __init__(self, config: HarnessConfig, root: Path) -> None:
        self.config = config
        self.root = root
        self._browsers: dict[str, tuple[Any, Path]] = {}
        #: Seconds spent: ``launch <name>`` and ``move <target>`` (page restarts), for the record.
        self.timings: dict[str, float] = {}

    def folder_for(self, page: PyodidePage) -> Path:
        """The downloads folder of ``page``'s browser, moving the page to one that has it if needed."""
        launch = self.config.browsers[page.browser_name].launch
        if launch.get("downloads_path"):
            return Path(launch["downloads_path"])
        browser, folder = self._browser(page)
        if page.browser is not browser:
            t0 = time.perf_counter()
            page.browser = browser
            page.restart()  # a fresh context and page in the browser that keeps its downloads
            self.timings[f"move {page.target}"] = time.perf_counter() - t0
        return folder

    def _browser(self, page: PyodidePage) -> tuple[Any, Path]:
        name = page.browser_name
        if name not in self._browsers:
            folder = self.root / name
            folder.mkdir(parents=True, exist_ok=True)
            launch = dict(self.config.browsers[name].launch, downloads_path=str(folder))
            t0 = time.perf_counter()
            browser = page.browser.browser_type.launch(**launch)
            self.timings[f"launch {name}"] = time.perf_counter() - t0
            self._browsers[name] = (browser, folder)
        return self._browsers[name]

    def close(self) -> None:
        for browser, _ in self._browsers.values():
            with contextlib.suppress(Exception):
                browser.close()
        self._browsers.clear()


class CapturedDownloads:
    """The downloads one test's page makes; :meth:`wait` returns ``[(name, bytes), ...]``.

    ``mode`` is ``"events"`` (Chromium) or ``"folder"`` (Firefox, where
    ``name`` is the file's name on disk: the suggested one, or ``name(1).ext``
    for a repeat). ``page`` is the PyodidePage whose downloads are captured.
    """

    def __init__(self, page: PyodidePage, folder: Path | None = None) -> None:
        self.page = page
        self.folder = folder
        self.mode = "folder" if folder is not None else "events"
        self._events: list[Any] = []
        self._returned: set[Any] = set()
        self._listening: Any = None
        if folder is None:
            self._listening = page.page
            self._listening.on("download", self._on_download)
        else:
            _empty(folder)

    def wait(self, n: int = 1, timeout: float = 15.0, *, settle: float = 0.3) -> list[tuple[str, bytes]]:
        """Wait for ``n`` new complete downloads, then ``settle`` seconds more for any extra.

        Returns every download not returned before, in order (in Firefox:
        order of completion, then name). Raises AssertionError naming what did
        arrive when fewer than ``n`` complete within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        self._until(lambda: len(self._new()) >= n, deadline, n)
        self._pump(settle)
        self._until(lambda: not self._busy(), deadline, n)
        new = self._new()
        self._returned.update(id(d) if self.mode == "events" else d[0] for d in new)
        return [self._read(d) for d in new]

    def close(self) -> None:
        if self._listening is not None:
            with contextlib.suppress(Exception):
                self._listening.remove_listener("download", self._on_download)
            self._listening = None

    # -- internals -------------------------------------------------------

    def _on_download(self, download: Any) -> None:
        self._events.append(download)

    def _until(self, done: Callable[[], bool], deadline: float, n: int) -> None:
        while not done():
            if time.monotonic() > deadline:
                got = [d.suggested_filename if self.mode == "events" else d[0] for d in self._new()]
                raise AssertionError(f"expected {n} new download(s) on {self.page.target}; complete: {got}")
            self._pump(_POLL)

    def _pump(self, seconds: float) -> None:
        # Playwright delivers events only while it runs: wait inside it.
        if isinstance(self.page, WebDriverPyodidePage):
            time.sleep(seconds)  # the driver delivers nothing: the folder is what is watched
        elif self.page.page is not None and not self.page.page.is_closed():
            self.page.page.wait_for_timeout(seconds * 1000)
        else:
            time.sleep(seconds)

    def _busy(self) -> bool:
        return self.mode == "folder" and any(e.name.endswith(_PARTIAL) for e in cast(Path, self.folder).iterdir())

    def _new(self) -> list[Any]:
        if self.mode == "events":
            return [d for d in self._events if id(d) not in self._returned]
        # folder mode: self.folder is set
        return [(name, path) for name, path in _complete_files(cast(Path, self.folder)) if name not in self._returned]

    def _read(self, item: Any) -> tuple[str, bytes]:
        if self.mode == "folder":
            name, path = item
            return name, path.read_bytes()
        failure = item.failure()  # waits until the download ends
        if failure:
            raise AssertionError(f"download {item.suggested_filename!r} failed: {failure}")
        return item.suggested_filename, Path(item.path()).read_bytes()


def _empty(folder: Path) -> None:
    for entry in folder.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()


def _complete_files(folder: Path) -> list[tuple[str, Path]]:
    """Finished downloads in ``folder``: none while any ``.part`` file is still there."""
    entries = list(folder.iterdir())
    if any(e.name.endswith(_PARTIAL) for e in entries):
        return []  # Firefox: placeholders stay empty until their .part is renamed over them
    files = []
    for entry in entries:
        with contextlib.suppress(FileNotFoundError):
            files.append((entry.stat().st_mtime_ns, entry.name, entry))
    return [(name, path) for _, name, path in sorted(files)]


# -- uploads ------------------------------------------------------------------------

_ENSURE_INPUT = js_source("ensure_file_input.js")
_ELEMENT_ID = js_source("element_id.js")


def feed_file_input(page: PyodidePage, selector_or_name: str, files: Iterable[Any]) -> str:
    """Fill an ``<input type=file>`` of ``page`` with ``files``; return its id.

    Parameters
    ----------
    page
        The PyodidePage.
    selector_or_name
        An element id (created as ``<input type=file multiple>`` when missing),
        or a CSS selector (starting with ``#``, ``.``, ``[`` or holding a space)
        of an existing file input.
    files
        ``(name, bytes)`` pairs (as :meth:`CapturedDownloads.wait` returns),
        paths, or Playwright payload dicts. Names ending ``.json`` get type
        ``application/json``, others ``application/octet-stream`` (over
        WebDriver the browser picks the type from the name; payload dicts are
        Playwright's only).
    """
    if isinstance(page, WebDriverPyodidePage):
        return _feed_over_webdriver(page, selector_or_name, list(files))
    payloads = [_payload(item) for item in files]
    element_id: str
    live = cast("Page", page.page)
    if selector_or_name[:1] in "#.[" or " " in selector_or_name:
        selector = selector_or_name
        element_id = live.eval_on_selector(selector, _ELEMENT_ID)
    else:
        element_id = selector_or_name
        if not page.run_js(_ENSURE_INPUT, element_id):
            raise AssertionError(f"#{element_id} exists but is not an <input type=file>")
        selector = f"[id={json.dumps(element_id)}]"
    live.set_input_files(selector, payloads)
    return element_id


def _feed_over_webdriver(page: WebDriverPyodidePage, selector_or_name: str, files: list[Any]) -> str:
    from selenium.webdriver.common.by import By

    if selector_or_name[:1] in "#.[" or " " in selector_or_name:
        element = page.driver.find_element(By.CSS_SELECTOR, selector_or_name)
        element_id = str(element.get_attribute("id") or "")
    else:
        element_id = selector_or_name
        if not page.run_js(_ENSURE_INPUT, element_id):
            raise AssertionError(f"#{element_id} exists but is not an <input type=file>")
        element = page.driver.find_element(By.ID, element_id)
    if not files:
        return element_id
    # WebDriver uploads files by path, one per line. A File reads its path when the page reads
    # it, so the files live in the session's folder (removed with the session); each in a
    # folder of its own, so that it keeps its name even when two share one.
    root = Path(tempfile.mkdtemp(prefix="upload-", dir=page.session_folder))
    paths = []
    for i, item in enumerate(files):
        if isinstance(item, (str, os.PathLike)):
            paths.append(os.path.abspath(os.fspath(item)))
            continue
        if isinstance(item, dict):
            raise TypeError("Playwright payload dicts cannot be sent over WebDriver: pass (name, bytes) or a path")
        name, data = item
        path = root / str(i) / name
        path.parent.mkdir()
        path.write_bytes(bytes(data))
        paths.append(str(path))
    element.send_keys("\n".join(paths))
    return element_id


def _payload(item: Any) -> Any:
    if isinstance(item, dict):
        return item
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item)
    name, data = item
    mime = "application/json" if name.lower().endswith(".json") else "application/octet-stream"
    return {"name": name, "mimeType": mime, "buffer": bytes(data)}


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def pyweb_download_browsers(
    pyweb_config: HarnessConfig, pyweb_browsers: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DownloadBrowsers]:
    """Browsers with a known ``downloads_path`` (Firefox), launched on first use."""
    pool = DownloadBrowsers(pyweb_config, tmp_path_factory.mktemp("pyweb-downloads"))
    yield pool
    pool.close()


@pytest.fixture
def captured_downloads(pyodide: PyodidePage, pyweb_download_browsers: DownloadBrowsers) -> Iterator[CapturedDownloads]:
    """The downloads this test's page makes: ``captured_downloads.wait(n, timeout)``.

    In Firefox the module's page may first move to a browser that keeps its
    downloads (see :mod:`pyweb.testing.downloads`); the page is then fresh.
    """
    engine = pyweb_download_browsers.config.browsers[pyodide.browser_name].engine
    if isinstance(pyodide, WebDriverPyodidePage):
        folder = pyodide.downloads_folder
        if folder is None:
            raise RuntimeError(f"the page on {pyodide.target} is closed")
    elif engine in _FOLDER_ENGINES:
        folder = pyweb_download_browsers.folder_for(pyodide)
    else:
        folder = None
    capture = CapturedDownloads(pyodide, folder)
    try:
        yield capture
    finally:
        capture.close()


@pytest.fixture
def set_input_files(pyodide: PyodidePage) -> Callable[[str, Iterable[Any]], str]:
    """``set_input_files(selector_or_name, files) -> id``: see :func:`feed_file_input`."""
    return functools.partial(feed_file_input, pyodide)
