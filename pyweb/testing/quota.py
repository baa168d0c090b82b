"""Small storage quotas on demand, for tests of what happens when a browser store is full.

Two pytest fixtures (registered by :mod:`pyweb.testing.plugin`), both usable in
any test that uses the ``pyodide`` fixture:

``small_localstorage_quota(units)``
    Leaves exactly ``units`` UTF-16 code units of the page's localStorage for
    everything else, by storing one filler item. Both browsers allow 5,242,880
    units of key + value per origin and count them exactly (measured; pinned by
    ``tests/browser/test_quota.py``),
    so the filler is exact to the unit. It is used in Firefox too, although
    Firefox has a pref (``dom.storage.default_quota``, in KiB): the pref fixes
    the limit when the browser is launched, in steps of 1024 units, and needs
    a Firefox of its own plus a Pyodide boot (about 6 s); the filler costs one
    ``setItem`` and the next test's storage wipe removes it.

``small_idb_quota(quota_bytes)``
    Returns a :class:`QuotaPage`: a separate Pyodide page whose origin has a
    ``quota_bytes`` IndexedDB quota.

    - Chromium: CDP ``Storage.overrideQuotaForOrigin``. It only takes hold in a
      browser context that has not used storage yet and is dropped when its
      CDP session detaches, so the page gets a context of its own whose session
      sets the override before the page first loads and stays attached while
      the page lives; a later ``small_idb_quota(n)`` re-sends it on that session
      (which works). ``estimate()`` never shows the override: Chromium reports
      ``quota = usage + 10 GiB``, but ``usage`` is real.
    - Firefox: the pref ``dom.quotaManager.temporaryStorage.fixedLimit`` (KiB),
      read at launch, so the page runs in a Firefox launched for it (one per
      module, target and size; ``quota_bytes`` is rounded up to KiB). The limit
      is shared by every origin of the profile, which is why this Firefox
      serves nothing else. ``estimate()`` reports it.
    - WebKit (WebKitGTK 2.50 over WebDriver): an origin's quota is the
      construct-only ``origin-storage-ratio`` of the embedding application's
      ``WebKitWebsiteDataManager`` times the capacity of the volume holding
      its data folder (``os.statvfs``: ``f_blocks * f_frsize``; measured on a
      252 GiB disk and a 24 GiB tmpfs, 32 KiB to 2 MiB, no minimum seen).
      MiniBrowser has no option for it, so the page runs in a browser of our
      own, :mod:`pyweb.testing.webkit_browser` (PyGObject under Debian's
      ``/usr/bin/python3``), which WebKitWebDriver launches with a data folder
      in the session's temporary folder and ``quota_bytes / capacity`` as the
      ratio: one browser and Pyodide boot per module, target and size. There
      is no ``navigator.storage``, so ``baseline_usage`` is what the origin's
      files in the data folder take on disk when the page is handed out (0
      after the wipe: deleting the databases deletes their files).

    Chromium and Firefox count all of the origin's storage against the quota
    (Firefox counts localStorage too), and a database costs more than its
    records in every engine, so
    :attr:`QuotaPage.baseline_usage` (``estimate().usage`` when the page was
    handed out, after its storage was wiped; WebKit: see above) and
    :attr:`QuotaPage.available_bytes` say what is really left. Pyodide itself
    stores nothing; in Firefox the wipe leaves 80 KiB (16 KiB once
    localStorage is touched, 64 KiB once Cache Storage is), Chromium starts
    at 0. Fill with random bytes: Chromium compresses IndexedDB values.

Measured with these fixtures (Chromium 156, Firefox ESR 153, WebKitGTK 2.50),
and what tests have to allow for:

- Chromium lets every request succeed and only aborts the transaction, with
  ``tx.error.name == 'QuotaExceededError'`` (constructor QuotaExceededError,
  ``quota`` and ``requested`` null) and an empty message. Firefox fails the
  request itself for a value big enough to get a file of its own (about
  1 MiB and up) and sometimes for one of many small puts in a transaction;
  otherwise its commit fails. Neither says how much room was left.
- Chromium checks a write against a cached usage that a transaction
  committed just before may not have reached yet (a write that should have
  failed succeeded, 2 times in 4); ``estimate()`` in between brought it up to
  date every time. Right after an aborted write of megabytes into a new
  database, a small write that should fit was refused once.
- Firefox: a refused write of small records leaves the database file at the
  limit; after that even deletes and ``clear()`` abort with
  QuotaExceededError until the database is deleted. After a quota abort, the
  next put on the same connection throws InvalidStateError.
- WebKit fails the put that does not fit at once (request error
  ``QuotaExceededError``, message "Failed to PutOrAdd in database because
  not enough space for domain", a plain DOMException), then aborts the
  transaction with the same error. Each put is checked against the database
  file as last committed plus that put, so the puts of one transaction do not
  count against each other (48 x 64 KiB commit under a 2 MiB quota). The file
  keeps a removed record's pages, so removing a model gives no room back
  until the database is deleted. A ``tensorflowjs`` database holding a
  4 KiB model left about 220 KiB of a 2 MiB quota unusable by the next save.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from .config import HarnessConfig, Target
from .page import PyodidePage
from .page_js import js_source
from .webdriver import BrowserCommand, WebDriverPool, WebDriverPyodidePage

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, CDPSession, Page

__all__ = [
    "FILLER_KEY",
    "LOCAL_STORAGE_QUOTA_UNITS",
    "QuotaPage",
    "QuotaPages",
    "WebKitQuotaPage",
    "fill_local_storage",
    "pyweb_quota_pages",
    "small_idb_quota",
    "small_localstorage_quota",
]

#: Both browsers: UTF-16 code units of key + value per origin (tests/browser/test_quota.py).
LOCAL_STORAGE_QUOTA_UNITS = 5_242_880
#: The localStorage item that takes up the room a test does not want.
FILLER_KEY = "pyweb-quota-filler"
FIREFOX_QUOTA_PREF = "dom.quotaManager.temporaryStorage.fixedLimit"
#: WebKit: the interpreter that runs pyweb.testing.webkit_browser (Debian's, with PyGObject).
WEBKIT_PYTHON = "/usr/bin/python3"
WEBKIT_PACKAGES = "apt-get install --no-install-recommends python3-gi gir1.2-webkit2-4.1"
_WEBKIT_BROWSER = Path(__file__).with_name("webkit_browser.py")

# Sets the filler after checking that the other items fit in what is left.
_FILL = js_source("fill_local_storage.js")
_ESTIMATE = js_source("storage_estimate.js")


def fill_local_storage(page: PyodidePage, units: int, *, key: str = FILLER_KEY) -> int:
    """Leave exactly ``units`` UTF-16 units of localStorage to the items other than ``key``.

    Parameters
    ----------
    page
        The page whose origin's localStorage to fill.
    units
        Room, in UTF-16 code units of keys plus values, for everything else
        (items already there included).
    key
        The filler item's key.

    Returns
    -------
    int
        The filler value's length: ``5_242_880 - units - len(key)``.

    Raises
    ------
    ValueError
        ``units`` is negative or leaves no room for the filler's key.
    playwright.sync_api.Error
        The items already stored take more than ``units``.

    Examples
    --------
    >>> fill_local_storage(pyodide, 10_000)  # doctest: +SKIP
    5232862
    """
    length = LOCAL_STORAGE_QUOTA_UNITS - units - len(key)
    if units < 0 or length < 0:
        raise ValueError(f"units must be between 0 and {LOCAL_STORAGE_QUOTA_UNITS - len(key)}, not {units}")
    page.run_js(_FILL, [key, units, LOCAL_STORAGE_QUOTA_UNITS])
    return length


class QuotaPage(PyodidePage):
    """A :class:`~pyweb.testing.PyodidePage` whose origin has a small IndexedDB quota.

    Made by the ``small_idb_quota`` fixture (see the module docstring for how,
    per browser). Beyond a PyodidePage's attributes: ``quota_bytes`` (the
    forced quota; Firefox rounds it up to KiB), ``mechanism`` (``"cdp"`` or
    ``"prefs"``), ``baseline_usage`` and :attr:`available_bytes`, and
    ``launch_seconds`` (the extra browser's launch, Firefox only).
    """

    def __init__(self, browser: Browser, target: Target, origin: str, timeouts: dict[str, float]) -> None:
        super().__init__(browser, target, origin, timeouts)
        self.mechanism = "cdp" if target.browser.engine == "chromium" else "prefs"
        self.quota_bytes = 0
        self.baseline_usage = 0
        self.launch_seconds = 0.0
        self._session: CDPSession | None = None
        self._session_page: Any = None

    @property
    def available_bytes(self) -> int:
        """``quota_bytes`` minus the usage the browser reported when the page was handed out."""
        return self.quota_bytes - self.baseline_usage

    def estimate(self) -> dict[str, int]:
        """``navigator.storage.estimate()``: ``{"quota": ..., "usage": ...}`` as the browser reports them."""
        quota, usage = self.run_js(_ESTIMATE)
        return {"quota": int(quota), "usage": int(usage)}

    def set_quota(self, quota_bytes: int) -> None:
        """Chromium only: override the origin's quota again, on the page's live CDP session."""
        if self.mechanism != "cdp":
            raise NotImplementedError("Firefox reads its quota at launch; ask small_idb_quota for another size")
        self.quota_bytes = quota_bytes
        self._override()

    def _boot(self) -> None:
        # Runs in every new context (start, restart) before the page first
        # loads, so the override precedes any use of storage there.
        if self.mechanism == "cdp" and self._session_page is not self.page:
            self._session = cast("BrowserContext", self.context).new_cdp_session(cast("Page", self.page))
            self._session_page = self.page
            self._override()
        super()._boot()

    def _override(self) -> None:
        cast("CDPSession", self._session).send(
            "Storage.overrideQuotaForOrigin", {"origin": self.origin, "quotaSize": self.quota_bytes}
        )

    def close(self) -> None:
        super().close()  # closing the context ends the session and its override
        self._session = self._session_page = None


def volume_capacity(path: Path) -> int:
    """The size in bytes of the filesystem holding ``path`` (what WebKit's storage ratios multiply)."""
    st = os.statvfs(path)
    return st.f_blocks * st.f_frsize


def webkit_browser_missing() -> str | None:
    """Why :mod:`pyweb.testing.webkit_browser` cannot run here (no PyGObject or WebKit2 4.1 typelib), or None."""
    probe = "import gi; gi.require_version('Gtk', '3.0'); gi.require_version('WebKit2', '4.1')"
    try:
        done = subprocess.run([WEBKIT_PYTHON, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        return f"{WEBKIT_PYTHON} cannot run ({exc}); {WEBKIT_PACKAGES}"
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return f"{WEBKIT_PYTHON} has no PyGObject with WebKit2 4.1 ({last}); {WEBKIT_PACKAGES}"
    return None


class WebKitQuotaPage(WebDriverPyodidePage):
    """A WebDriver page whose origin has a small IndexedDB quota (WebKitGTK).

    Its browser is :mod:`pyweb.testing.webkit_browser`, launched by
    WebKitWebDriver with a website data folder of its own in the session
    folder and ``origin-storage-ratio = quota_bytes / capacity`` of that
    folder's volume (see the module docstring). The attributes are
    :class:`QuotaPage`'s: ``quota_bytes``, ``mechanism`` (``"ratio"``),
    ``baseline_usage``, :attr:`available_bytes`, ``launch_seconds``, plus
    ``origin_storage_ratio`` and ``data_folder``.
    """

    mechanism = "ratio"

    def __init__(
        self, pool: WebDriverPool, target: Target, origin: str, timeouts: dict[str, float], quota_bytes: int
    ) -> None:
        super().__init__(pool, target, origin, timeouts)
        self.quota_bytes = quota_bytes
        self.baseline_usage = 0
        self.launch_seconds = 0.0
        self.origin_storage_ratio = 0.0
        self.data_folder: Path | None = None

    @property
    def available_bytes(self) -> int:
        """``quota_bytes`` minus the usage measured when the page was handed out."""
        return self.quota_bytes - self.baseline_usage

    def origin_usage(self) -> int:
        """Bytes on disk of this origin's website data (WebKit has no ``navigator.storage`` to ask)."""
        if self.data_folder is None:
            return 0
        host = self.origin.split("://", 1)[1].replace(":", "_")
        return sum(
            f.stat().st_size
            for d in self.data_folder.rglob(f"*{host}*")
            for f in ([d] if d.is_file() else d.rglob("*"))
            if f.is_file()
        )

    def _browser_command(self) -> BrowserCommand:
        self.data_folder = cast(Path, self.session_folder) / "website-data"
        self.data_folder.mkdir()
        self.origin_storage_ratio = self.quota_bytes / volume_capacity(self.data_folder)
        args = [str(_WEBKIT_BROWSER), "--automation", "--data-dir", str(self.data_folder)]
        args += ["--origin-storage-ratio", repr(self.origin_storage_ratio)]
        return BrowserCommand(WEBKIT_PYTHON, args, name="pyweb-webkit")


class QuotaPages:
    """The quota pages of one test module and target, made on first use, closed by :meth:`close`.

    Chromium: one page, whose quota is re-set for each request. Firefox: one
    page (and Firefox) per size in KiB. WebKit: one page (and browser) per size.
    """

    def __init__(
        self,
        pyodide: PyodidePage,
        config: HarnessConfig,
        *,
        starts: list[tuple[str, dict[str, float]]] | None = None,
        launches: dict[str, float] | None = None,
    ) -> None:
        self.pyodide = pyodide
        self.config = config
        # Where page starts and browser launches are recorded (the plugin's summary).
        self.starts = starts if starts is not None else []
        self.launches = launches if launches is not None else {}
        self._chromium: QuotaPage | None = None
        self._firefox: dict[int, QuotaPage] = {}  # by quota in KiB, each in its own Firefox
        self._webkit: dict[int, WebKitQuotaPage] = {}  # by quota in bytes, each in its own browser
        self._browsers: list[Browser] = []

    def get(self, quota_bytes: int) -> QuotaPage | WebKitQuotaPage:
        """A wiped page whose origin has a ``quota_bytes`` IndexedDB quota."""
        if quota_bytes <= 0:
            raise ValueError(f"quota_bytes must be positive, not {quota_bytes}")
        engine = self.config.browsers[self.pyodide.browser_name].engine
        if engine == "webkit":
            webkit = self._webkit_page(quota_bytes)
            webkit.reset()
            webkit.baseline_usage = webkit.origin_usage()
            return webkit
        if engine == "chromium":
            page = self._chromium_page(quota_bytes)
        elif engine == "firefox":
            page = self._firefox_page(math.ceil(quota_bytes / 1024))
        else:
            pytest.skip(f"pyweb.testing cannot force a small IndexedDB quota in {engine}")
        page.reset()
        if page.mechanism == "cdp":
            page.set_quota(quota_bytes)  # also after a restart (the new session set the old value)
        page.baseline_usage = page.estimate()["usage"]
        return page

    def _target(self) -> Target:
        return next(t for t in self.config.targets if t.id == self.pyodide.target)

    def _chromium_page(self, quota_bytes: int) -> QuotaPage:
        if self._chromium is None:
            page = QuotaPage(self.pyodide.browser, self._target(), self.pyodide.origin, self.config.timeouts)
            page.quota_bytes = quota_bytes
            page._start()
            self.starts.append((f"{page.target} (IndexedDB quota page)", dict(page.timings)))
            self._chromium = page
        return self._chromium

    def _firefox_page(self, kib: int) -> QuotaPage:
        if kib in self._firefox:
            return self._firefox[kib]
        target = self._target()
        t0 = time.perf_counter()
        prefs = {**target.browser.launch.get("firefox_user_prefs", {}), FIREFOX_QUOTA_PREF: kib}
        browser = self.pyodide.browser.browser_type.launch(**{**target.browser.launch, "firefox_user_prefs": prefs})
        self._browsers.append(browser)
        launch_seconds = time.perf_counter() - t0
        page = QuotaPage(browser, target, self.pyodide.origin, self.config.timeouts)
        page.quota_bytes = kib * 1024
        page.launch_seconds = launch_seconds
        page._start()
        self.launches[f"{target.browser.name} ({FIREFOX_QUOTA_PREF}={kib})"] = launch_seconds
        self.starts.append((f"{page.target} (IndexedDB quota page)", dict(page.timings)))
        reported = page.estimate()["quota"]
        if reported != page.quota_bytes:
            raise RuntimeError(
                f"Firefox ignored {FIREFOX_QUOTA_PREF}={kib}: estimate() reports a {reported}-byte quota"
            )
        self._firefox[kib] = page
        return page

    def _webkit_page(self, quota_bytes: int) -> WebKitQuotaPage:
        if quota_bytes in self._webkit:
            return self._webkit[quota_bytes]
        from .plugin import _unavailable  # imported here: the plugin imports this module

        missing = webkit_browser_missing()
        if missing:
            _unavailable(f"a small IndexedDB quota in WebKit: {missing}")
        target = self.pyodide._target  # an extra target (--pyweb-targets) is not in config.targets
        pool = cast(WebDriverPool, self.pyodide.browser)  # a WebDriver page's browser is its pool
        page = WebKitQuotaPage(pool, target, self.pyodide.origin, self.config.timeouts, quota_bytes)
        page._start()
        page.launch_seconds = page.timings["session"]
        self.launches[f"{target.browser.name} (origin-storage-ratio={page.origin_storage_ratio:.3g})"] = (
            page.launch_seconds
        )
        self.starts.append((f"{page.target} (IndexedDB quota page)", dict(page.timings)))
        self._webkit[quota_bytes] = page
        return page

    def close(self) -> None:
        for webkit in self._webkit.values():
            webkit.close()
        self._webkit.clear()
        pages = [*self._firefox.values(), *([self._chromium] if self._chromium else [])]
        for page in pages:
            page.close()
        for browser in self._browsers:
            with contextlib.suppress(Exception):  # a crashed browser must not hide test results
                browser.close()
        self._chromium = None
        self._firefox.clear()
        self._browsers.clear()


@pytest.fixture(scope="module")
def pyweb_quota_pages(
    request: pytest.FixtureRequest, pyodide: PyodidePage, pyweb_config: HarnessConfig
) -> Iterator[QuotaPages]:
    """The module's :class:`QuotaPages` for the ``pyodide`` target; see ``small_idb_quota``."""
    from .plugin import _STATE  # imported here: the plugin imports this module

    state = request.config.stash[_STATE]
    pages = QuotaPages(pyodide, pyweb_config, starts=state.starts, launches=state.launches)
    yield pages
    pages.close()


@pytest.fixture
def small_idb_quota(pyweb_quota_pages: QuotaPages) -> Callable[[int], QuotaPage | WebKitQuotaPage]:
    """Open a page whose origin has a small IndexedDB quota: ``small_idb_quota(quota_bytes)``.

    Returns a :class:`QuotaPage` (a PyodidePage: ``run``, ``run_js``, ...) on
    the ``pyodide`` fixture's target and test server, storage wiped. Pages are
    kept for the module: Chromium's costs one Pyodide boot, Firefox's a Firefox
    launch and a boot per size. See the module docstring for how it is done.

    Examples
    --------
    >>> def test_full(small_idb_quota):  # doctest: +SKIP
    ...     page = small_idb_quota(2 * 1024 * 1024)
    ...     page.run("import os, pyweb; ...", size=page.available_bytes)
    """
    return pyweb_quota_pages.get


@pytest.fixture
def small_localstorage_quota(pyodide: PyodidePage) -> Callable[[int], int]:
    """Leave ``units`` UTF-16 units of the page's localStorage: ``small_localstorage_quota(units)``.

    Stores one filler item (:data:`FILLER_KEY`) of ``5_242_880 - units -
    len(FILLER_KEY)`` characters and returns that length; the storage wipe
    before the next test removes it. See :func:`fill_local_storage`.

    Examples
    --------
    >>> def test_full(pyodide, small_localstorage_quota):  # doctest: +SKIP
    ...     small_localstorage_quota(10_000)
    """

    def shrink(units: int) -> int:
        return fill_local_storage(pyodide, units)

    return shrink
