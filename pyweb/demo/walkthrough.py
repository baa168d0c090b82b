"""``pyweb demo --headless``: click through every action of the demo page in a real browser.

Each action is a click (or a file chosen) on the page, then a check of what
the user would see: the activity log's new entry (``#log li``: scheme,
action, bytes, ok), the stored-models table, the summary, the error box, the
files that were downloaded. One report line per action::

    localstorage  save demo-classifier                      396 B  ok

:func:`run` launches the browser named in ``playwright.config.py`` (the
Debian Chromium or Firefox), prints the report and returns the exit status:
0 only if every action passed. :func:`walk` does the clicking on a page the
caller opened; the browser tests call it too, then look further.
"""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

__all__ = ["DemoPage", "Downloads", "Line", "run", "walk"]

TOY_WEIGHT_BYTES = (2 * 16 + 16 + 16 * 3 + 3) * 4  # the 2-16-3 classifier in float32
ACTION_TIMEOUT = 120.0  # seconds for one action (a 5 MiB save in Firefox takes a few)
SCHEMES = ("localstorage", "indexeddb", "file", "http", "downloads", "upload")


# The stored-models table's rows as dicts, read in the page.
_MODELS_TABLE_JS = resources.files(__package__ or __name__).joinpath("models_table.js").read_text("utf-8")
_LOG_ENTRY_JS = resources.files(__package__ or __name__).joinpath("log_entry.js").read_text("utf-8")
_SETTLED_JS = resources.files(__package__ or __name__).joinpath("settled.js").read_text("utf-8")


class ActionFailed(AssertionError):
    """An action did not have the effect the walk-through expects."""


@dataclass
class Line:
    """One report line: what was done where, how many weight bytes, and how it went."""

    scheme: str
    action: str
    nbytes: int
    outcome: str  # "ok", "ok: <note>", or "FAILED: <why>"

    @property
    def ok(self) -> bool:
        return self.outcome == "ok" or self.outcome.startswith("ok:")

    def __str__(self) -> str:
        return f"{self.scheme:<13}{self.action:<46}{self.nbytes:>11,} B  {self.outcome}"


class Downloads:
    """Files that really arrive in the browser's download folder.

    The walk-through's browser applies its own download permission (a
    :class:`pyweb.testing.real_downloads.RealBrowser` in its "default" state:
    what a fresh install does), so what arrives is what a user would get:
    one file per click, and the rest through the buttons pyweb offers, which
    :meth:`take_offers` clicks as a user would.
    """

    def __init__(self, page: Any, folder: Path) -> None:
        self.page = page
        self.folder = folder
        # name -> what the file was when seen: WebKitGTK saves a download of a name already
        # there over that file (Chromium and Firefox add " (1)" or "(1)" to the new one).
        self._seen: dict[str, tuple[int, int, int]] = {p.name: _signature(p) for p in folder.iterdir()}

    def wait(self, n: int, timeout: float = 30.0) -> list[tuple[str, bytes]]:
        """The next ``n`` finished downloads as (name, bytes); fewer after ``timeout`` is a failure."""
        deadline = time.monotonic() + timeout
        while len(self._pending()) < n or self._busy():
            if time.monotonic() > deadline:
                got = [p.name for p in self._pending()]
                raise ActionFailed(f"expected {n} download(s) to arrive, {len(got)} did: {got}")
            self.page.wait_for_timeout(100)
        self.page.wait_for_timeout(300)  # any extra file would show up now
        files = []
        for item in self._pending():
            self._seen[item.name] = _signature(item)
            # A repeated name is saved as "name(1).json" (Firefox) or "name (1).json" (Chromium):
            # report the name the page gave.
            files.append((re.sub(r" ?\(\d+\)(?=\.[^.]+$)", "", item.name), item.read_bytes()))
        return files

    def take_offers(self, timeout: float = 10.0) -> list[str]:
        """Click every download button pyweb offers, one at a time as a user would; their names."""
        clicked = []
        while self.page.locator("[data-pyweb-download]").count():
            button = self.page.locator("[data-pyweb-download]").first
            name = button.get_attribute("data-pyweb-download")
            before = len(self._pending())
            button.click()
            deadline = time.monotonic() + timeout
            while len(self._pending()) <= before and time.monotonic() < deadline:
                self.page.wait_for_timeout(100)
            clicked.append(name)
        return clicked

    def _pending(self) -> list[Path]:
        from ..testing.real_downloads import _in_progress

        return sorted(
            (p for p in self.folder.iterdir() if not _in_progress(p.name) and self._seen.get(p.name) != _signature(p)),
            key=lambda p: p.name,
        )

    def _busy(self) -> bool:
        # Partial files (.part, .crdownload, .wkdownload) and Chromium's hidden first temporary file.
        from ..testing.real_downloads import _in_progress

        return any(_in_progress(p.name) for p in self.folder.iterdir())


def _signature(path: Path) -> tuple[int, int, int]:
    """What tells a file from the one saved over it: inode, size, modification time."""
    st = path.stat()
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class DemoPage:
    """The demo page in a Playwright page: actions and what they show."""

    def __init__(self, page: Any, timeout: float = ACTION_TIMEOUT) -> None:
        self.page = page
        self.timeout_ms = timeout * 1000

    def open(self, url: str, boot_timeout: float = 180.0) -> None:
        self.page.goto(url)
        self.page.wait_for_selector("body[data-state]", timeout=boot_timeout * 1000)
        if self.page.get_attribute("body", "data-state") != "ready":
            raise ActionFailed(f"the page did not start: {self.text('#error')}")
        self.page.wait_for_selector('body[data-busy="0"]', timeout=self.timeout_ms)

    # -- reading -----------------------------------------------------------

    def text(self, selector: str) -> str:
        return self.page.locator(selector).first.text_content() or ""

    def error(self) -> str | None:
        box = self.page.locator("#error")
        return None if box.is_hidden() else (box.text_content() or "")

    def rows(self) -> dict[tuple[str, str], dict[str, str]]:
        """The stored-models table: (scheme, name) -> its cells."""
        return {
            (r["scheme"], r["name"]): r
            for r in self.page.eval_on_selector_all(
                "#models tbody tr",
                _MODELS_TABLE_JS,
            )
        }

    def row(self, scheme: str, name: str) -> Any:
        return self.page.locator(f'#models tbody tr[data-scheme="{scheme}"][data-name="{name}"]')

    def log_count(self) -> int:
        return int(self.page.get_attribute("#log", "data-count") or 0)

    def last_log(self) -> dict[str, str]:
        entry: dict[str, str] = self.page.eval_on_selector("#log li:first-child", _LOG_ENTRY_JS)
        return entry

    def ls_chars(self) -> int:
        return int(self.page.get_attribute("#ls-used", "data-chars") or 0)

    # -- acting --------------------------------------------------------------

    def act(self, do: Callable[[], Any]) -> dict[str, str]:
        """Do one thing on the page; wait for its log entry and for the page to settle."""
        before = self.log_count()
        do()
        self.page.wait_for_function(_SETTLED_JS, arg=before, timeout=self.timeout_ms)
        return self.last_log()

    def click(self, selector: str) -> dict[str, str]:
        return self.act(lambda: self.page.click(selector))

    def row_action(self, scheme: str, name: str, action: str, target: str | None = None) -> dict[str, str]:
        row = self.row(scheme, name)
        if row.count() != 1:
            raise ActionFailed(f"no row for {scheme} {name} in the table")
        if target is not None:
            row.locator("select.target").select_option(target)
        return self.act(lambda: row.locator(f"button.{action}").click())

    def build(self, size: str = "toy") -> dict[str, str]:
        self.page.select_option("#model-size", size)
        return self.click("#build-toy")

    def set_name(self, name: str) -> None:
        self.page.fill("#model-name", name)

    def save(self, scheme: str, name: str | None = None) -> dict[str, str]:
        if name is not None:
            self.set_name(name)
        return self.click(f"#save-{scheme}")

    def upload(self, files: list[tuple[str, bytes]]) -> dict[str, str]:
        payload = [{"name": n, "mimeType": "application/octet-stream", "buffer": b} for n, b in files]
        return self.act(lambda: self.page.set_input_files("#upload-input", payload))


# -- the walk-through ------------------------------------------------------------


def walk(demo: DemoPage, downloads: Downloads, report: Callable[[Line], None] = lambda line: None) -> list[Line]:
    """Every action of the page, in order, each checked; returns the report lines."""
    lines: list[Line] = []

    def step(scheme: str, action: str, fn: Callable[[], tuple[int, str] | int]) -> None:
        try:
            result = fn()
            nbytes, note = result if isinstance(result, tuple) else (result, "")
            line = Line(scheme, action, nbytes, f"ok: {note}" if note else "ok")
        except Exception as exc:  # noqa: BLE001 - each failure is one report line
            line = Line(
                scheme, action, 0, f"FAILED: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            )
        lines.append(line)
        report(line)

    def ok(entry: dict[str, str]) -> int:
        if entry.get("ok") != "1":
            raise ActionFailed(f"{entry.get('text')}; page says: {demo.error()}")
        if demo.error() is not None:
            raise ActionFailed(f"error shown: {demo.error()}")
        return int(entry["bytes"])

    def listed(scheme: str, name: str, weight_bytes: int) -> None:
        row = demo.rows().get((scheme, name))
        if row is None:
            raise ActionFailed(f"{scheme} {name} is not in the table: {sorted(demo.rows())}")
        if int(row["weights"]) != weight_bytes or int(row["topology"]) <= 0:
            raise ActionFailed(f"{scheme} {name} listed with {row['weights']} weight bytes, expected {weight_bytes}")

    def gone(scheme: str, name: str) -> None:
        if (scheme, name) in demo.rows():
            raise ActionFailed(f"{scheme} {name} is still in the table")

    def loaded(source: str, nbytes: int, classes: str = "north,west,east") -> None:
        summary = demo.text("#summary")
        if not summary.startswith(source):
            raise ActionFailed(f"summary does not start with {source!r}: {summary[:80]!r}")
        got = demo.page.get_attribute("#prediction", "data-classes")
        if got != classes:
            raise ActionFailed(f"predicted {got}, expected {classes}")
        if int(demo.page.get_attribute("#summary", "data-weight-bytes")) != nbytes:
            raise ActionFailed("the loaded model has different weight bytes")

    name = "demo-classifier"
    toy = TOY_WEIGHT_BYTES

    def fit() -> int:
        nbytes = ok(demo.build("toy"))
        if "Total params: 99" not in demo.text("#summary"):
            raise ActionFailed("summary lacks 'Total params: 99'")
        loaded("Toy classifier", nbytes)
        return nbytes

    step("numpy", "fit toy classifier, summary, predict", fit)

    for scheme in ("localstorage", "indexeddb", "file", "http"):

        def save(scheme: str = scheme) -> int:
            nbytes = ok(demo.save(scheme, name))
            listed(scheme, name, toy)
            return nbytes

        step(scheme, f"save {name}", save)

    def meters() -> tuple[int, str]:
        chars = demo.ls_chars()
        unit = demo.page.get_attribute("#ls-used", "data-unit") or "characters"  # WebKit's quota counts bytes
        usage_text = demo.page.get_attribute("#storage-used", "data-usage") or "0"
        if chars <= toy:
            raise ActionFailed(f"localStorage meter shows {chars} {unit}")
        if usage_text == "none":  # no navigator.storage (WebKit): the page must say so
            shown = demo.text("#storage-used")
            if "no storage estimate" not in shown:
                raise ActionFailed(f"no navigator.storage, and the page shows {shown!r}")
            return 0, f"{chars:,} localStorage {unit}, no storage estimate in this browser"
        usage = int(usage_text)
        if usage <= 0:
            raise ActionFailed("storage estimate shows no usage")
        return 0, f"{chars:,} localStorage {unit}, {usage:,} B estimated"

    step("localstorage", "storage meters", meters)

    for scheme in ("localstorage", "indexeddb", "file", "http"):

        def load(scheme: str = scheme) -> int:
            nbytes = ok(demo.row_action(scheme, name, "load"))
            loaded(f"Loaded from {demo.rows()[(scheme, name)]['url']}", nbytes)
            return nbytes

        step(scheme, f"load {name}", load)

    pair: list[tuple[str, bytes]] = []
    single: list[tuple[str, bytes]] = []

    def download_pair() -> tuple[int, str]:
        ok(demo.save("downloads", name))
        offered = downloads.take_offers()  # the files pyweb could not start without another click
        pair[:] = downloads.wait(2)
        names = sorted(n for n, _ in pair)
        if names != [f"{name}.json", f"{name}.weights.bin"]:
            raise ActionFailed(f"arrived: {names}")
        how = f"{len(offered)} by pyweb's button" if offered else "both at once"
        return len(dict(pair)[f"{name}.weights.bin"]), f"{', '.join(names)} arrived ({how})"

    def download_single() -> tuple[int, str]:
        ok(demo.save("downloads-single", name))
        downloads.take_offers()
        single[:] = downloads.wait(1)
        if [n for n, _ in single] != [f"{name}.json"]:
            raise ActionFailed(f"arrived: {[n for n, _ in single]}")
        return len(single[0][1]), f"{single[0][0]} arrived"

    step("downloads", "save model.json + weights.bin", download_pair)
    step("downloads", "save one file (weights inside the JSON)", download_single)

    def upload(files: list[tuple[str, bytes]]) -> Callable[[], int]:
        def go() -> int:
            if not files:
                raise ActionFailed("nothing was downloaded to upload")
            nbytes = ok(demo.upload(files))
            loaded("Loaded from uploaded files", nbytes)
            if nbytes != toy:
                raise ActionFailed(f"uploaded model has {nbytes} weight bytes")
            return nbytes

        return go

    step("upload", "upload the two downloaded files", upload(pair))
    step("upload", "upload the one-file download", upload(single))

    moved = "demo-moved"

    def copy() -> int:
        ok(demo.save("localstorage", moved))
        nbytes = ok(demo.row_action("localstorage", moved, "copy", "indexeddb"))
        listed("localstorage", moved, toy)
        listed("indexeddb", moved, toy)
        return nbytes

    def move(src: str, dst: str) -> Callable[[], int]:
        def go() -> int:
            nbytes = ok(demo.row_action(src, moved, "move", dst))
            gone(src, moved)
            listed(dst, moved, toy)
            return nbytes

        return go

    step("indexeddb", f"copy localstorage://{moved} here", copy)
    step("file", f"move {moved} from indexeddb", move("indexeddb", "file"))
    step("http", f"move {moved} from file", move("file", "http"))
    step("localstorage", f"move {moved} from http (replaces the copy)", move("http", "localstorage"))

    example: dict[str, int] = {}

    def load_example() -> int:
        nbytes = ok(demo.click("#load-example"))
        loaded("TF.js example model", nbytes)
        if "TensorFlow.js" not in demo.text("#summary"):
            raise ActionFailed("the example is not marked as made by TensorFlow.js")
        example["bytes"] = nbytes
        return nbytes

    def save_example() -> int:
        nbytes = ok(demo.save("indexeddb", "tfjs-example"))
        listed("indexeddb", "tfjs-example", example.get("bytes", -1))
        return nbytes

    step("http", "load the TF.js example model", load_example)
    step("indexeddb", "save the TF.js example", save_example)

    def quota() -> tuple[int, str]:
        big = ok(demo.build("5mib"))
        entry = demo.save("localstorage", name)
        if entry.get("ok") != "0":
            raise ActionFailed("a 5 MiB save into localStorage did not fail")
        shown = demo.error() or ""
        if "QuotaExceededError" not in shown:
            raise ActionFailed(f"the error box shows {shown!r}")
        listed("localstorage", name, toy)  # the old model is still there, whole
        ok(demo.row_action("localstorage", name, "load"))
        loaded("Loaded from localstorage://", toy)
        return big, "QuotaExceededError shown, old model kept and loads"

    step("localstorage", "save 5 MiB over the toy model (quota)", quota)

    def bad_file() -> tuple[int, str]:
        entry = demo.upload([("broken.json", b'{"modelTopology": ')])
        shown = demo.error() or ""
        if entry.get("ok") != "0" or "Error" not in shown:
            raise ActionFailed(f"a broken file was not reported: {shown!r}")
        return 0, shown.split(". ", 1)[-1].split(":")[0] + " shown"

    step("upload", "upload a broken model.json", bad_file)

    def delete_all() -> tuple[int, str]:
        rows = demo.rows()
        for scheme, model in rows:
            ok(demo.row_action(scheme, model, "delete"))
            gone(scheme, model)
        if demo.rows():
            raise ActionFailed(f"left in the table: {sorted(demo.rows())}")
        if demo.ls_chars() != 0:
            raise ActionFailed(f"localStorage still holds {demo.ls_chars()} characters")
        return 0, f"{len(rows)} models deleted"

    step("all", "delete every stored model", delete_all)
    return lines


# -- the command ----------------------------------------------------------------------


def run(
    page_url: str,
    *,
    browser: str = "chromium",
    config_path: str | Path | None = None,
    timeout: float = 300.0,
    out: IO[str] = sys.stdout,
) -> int:
    """Open ``page_url`` in headless ``browser``, walk through it, print the report; the exit status.

    Raises
    ------
    RuntimeError
        Playwright or the browser is missing, or the config does not name ``browser``.
    """
    from ..testing.config import load_config

    config = load_config(config_path or _default_config())
    if browser not in config.browsers:
        raise RuntimeError(f"no browser {browser!r} in {config.path}; choose from {', '.join(config.browsers)}")
    spec = config.browsers[browser]
    if spec.driver == "playwright":
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError as exc:
            raise RuntimeError("--headless drives a browser through Playwright: pip install 'pyweb[demo]'") from exc
    if spec.missing():
        raise RuntimeError(spec.missing())

    t0 = time.perf_counter()
    # WebKitGTK has no headless mode: its "headless" is a virtual display (Xvfb).
    where = f"{browser} on a virtual display (Xvfb)" if spec.driver == "webdriver" else f"headless {browser}"
    print(f"pyweb demo walk-through in {where} (its own download permission): {page_url}", file=out, flush=True)
    lines: list[Line] = []

    def report(line: Line) -> None:
        lines.append(line)
        print(line, file=out, flush=True)

    with tempfile.TemporaryDirectory(prefix="pyweb-demo-") as root:
        if spec.driver == "webdriver":
            _run_webdriver(spec, Path(root), page_url, report)
        else:
            _run_playwright(spec, Path(root), page_url, report)
    failed = [line for line in lines if not line.ok]
    named = sorted({line.scheme for line in lines} & set(SCHEMES))
    elapsed = time.perf_counter() - t0
    print(
        f"{len(lines)} actions, {len(failed)} failed, in {elapsed:.0f} s; schemes: {', '.join(named)}",
        file=out,
        flush=True,
    )
    missing = set(SCHEMES) - set(named)
    if missing:
        print(f"not exercised: {', '.join(sorted(missing))}", file=out, flush=True)
    return 1 if failed or missing or elapsed > timeout else 0


def _open_and_walk(
    page: Any, folder: Path, page_url: str, report: Callable[[Line], None], on_open: Callable[[], Any] = lambda: None
) -> None:
    """Open the demo page in ``page`` (Playwright's or a SeleniumPage), then walk through it."""
    demo = DemoPage(page)
    downloads = Downloads(page, folder)
    try:
        demo.open(page_url)
        on_open()
        report(Line("page", "open, start Pyodide and pyweb", 0, "ok"))
    except Exception as exc:  # noqa: BLE001
        report(Line("page", "open, start Pyodide and pyweb", 0, f"FAILED: {exc}"))
    else:
        walk(demo, downloads, report)


def _run_playwright(spec: Any, root: Path, page_url: str, report: Callable[[Line], None]) -> None:
    from playwright.sync_api import sync_playwright

    from ..testing.real_downloads import RealBrowser

    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page_url))
    with sync_playwright() as pw:
        # A fresh profile as installed ("default"), nothing bypassing its multiple-download permission.
        instance = RealBrowser(pw, spec, "default", root, origin)
        try:
            page = instance.context.new_page()
            page.set_viewport_size({"width": 1280, "height": 800})
            page_errors: list[str] = []
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            _open_and_walk(page, instance.folder, page_url, report)
            if page_errors:
                report(Line("page", "uncaught page errors", 0, "FAILED: " + "; ".join(page_errors)))
        finally:
            with contextlib.suppress(Exception):
                instance.close()


def _run_webdriver(spec: Any, root: Path, page_url: str, report: Callable[[Line], None]) -> None:
    """The walk in a WebDriver browser (WebKitGTK's MiniBrowser under Xvfb): a fresh session.

    WebKitGTK has no download permission: a Blob download is saved at once into the
    session's XDG download folder (a fresh one here).
    """
    from ..testing.webdriver import WebDriverPool
    from .webdriver_page import SeleniumPage, call_js

    folder = root / "downloads"
    folder.mkdir()
    pool = WebDriverPool()
    driver = None
    try:
        driver = pool.new_driver(spec, folder)
        page = SeleniumPage(driver, root)
        page.set_viewport_size({"width": 1280, "height": 800})
        _open_and_walk(page, folder, page_url, report, lambda: call_js(driver, "collectErrors"))
        with contextlib.suppress(Exception):
            errors = call_js(driver, "errors")
            if errors:
                report(Line("page", "uncaught page errors", 0, "FAILED: " + "; ".join(errors)))
    finally:
        if driver is not None:
            with contextlib.suppress(Exception):
                driver.quit()
        pool.close()


def _default_config() -> Path:
    """The checkout's ``playwright.config.py``; without a checkout, the packaged :mod:`pyweb.demo.browsers`."""
    from . import BROWSERS_CONFIG

    path = Path(__file__).resolve().parents[2] / "playwright.config.py"
    return path if path.is_file() else BROWSERS_CONFIG
