"""pytest plugin: run tests against pyweb inside Pyodide in real browsers.

Opt-in: a project enables it with ``-p pyweb.testing.plugin`` (in ``addopts``)
or ``pytest_plugins = ["pyweb.testing.plugin"]`` in its root ``conftest.py``;
installing pyweb alone changes nothing in anyone's pytest run. Enabled, it does
nothing (and imports no Playwright) until a test uses the ``pyodide`` fixture. Expensive things happen once: one server per session, one
browser per browser name per session, one page per test module and target.
Before every test the page's storage is wiped (cheap reset).

Options: ``--pyweb-config PATH`` (default: ``playwright.config.py`` in the
rootdir), ``--pyweb-targets chromium-0.27.7,...``. ini: ``pyweb_bundle`` (extra
files or folders for the page, relative to the ini file). Environment:
``PYWEB_REQUIRE_BROWSERS=1`` turns "browser or build missing" skips into failures.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from .config import CONFIG_NAME, ConfigError, HarnessConfig, Target, load_config
from .downloads import captured_downloads, pyweb_download_browsers, set_input_files  # noqa: F401 (fixtures)
from .page import PyodidePage
from .pwthread import PlaywrightThread
from .quota import pyweb_quota_pages, small_idb_quota, small_localstorage_quota  # noqa: F401 (fixtures)
from .real_downloads import RealBrowserPool, RealDownloadsPage, RealWebDriverDownloadsPage
from .server import StaticServer, harness_server
from .webdriver import WebDriverPool, WebDriverPyodidePage

__all__ = ["BrowserPool"]

REQUIRE_ENV = "PYWEB_REQUIRE_BROWSERS"
_STATE = pytest.StashKey["_State"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pyweb", "pyweb browser tests (Playwright + Pyodide)")
    group.addoption(
        "--pyweb-config", metavar="PATH", help=f"browser-test config file (default: {CONFIG_NAME} in the rootdir)"
    )
    group.addoption(
        "--pyweb-targets",
        metavar="LIST",
        help="comma-separated subset of the config's targets, e.g. chromium-0.27.7,chromium-314",
    )
    parser.addini(
        "pyweb_bundle", type="paths", help="extra files or folders shipped to the test page, relative to the ini file"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real browser through Playwright")
    config.addinivalue_line("markers", "no_numpy: also run on Pyodide builds without numpy")
    config.addinivalue_line(
        "markers", "playwright_only: run only on the Playwright targets (the test uses Playwright's own objects)"
    )
    config.stash[_STATE] = state = _State(config)
    if config.getoption("pyweb_config") or config.getoption("pyweb_targets"):
        state.targets()  # asked for explicitly: a bad path or target name is a usage error now


class _State:
    """Per-session plugin state: the config, loaded on first use, and page start-up records."""

    def __init__(self, config: pytest.Config) -> None:
        self.pytest_config = config
        self._config: HarnessConfig | None = None
        self.starts: list[tuple[str, dict[str, float]]] = []
        self.launches: dict[str, float] = {}
        self.real_launches: list[tuple[str, float]] = []

    @property
    def config(self) -> HarnessConfig:
        if self._config is None:
            option = self.pytest_config.getoption("pyweb_config")
            path = Path(option) if option else self.pytest_config.rootpath / CONFIG_NAME
            try:
                self._config = load_config(path)
            except ConfigError as exc:
                raise pytest.UsageError(f"{exc} (pass --pyweb-config PATH)") from None
        return self._config

    def targets(self) -> list[Target]:
        try:
            return self.config.select(self.pytest_config.getoption("pyweb_targets"))
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = [n for n in ("pyodide", "real_downloads") if n in metafunc.fixturenames]
    if not names:
        return
    targets = metafunc.config.stash[_STATE].targets()
    if metafunc.definition.get_closest_marker("no_numpy") is None:
        targets = [t for t in targets if t.build.numpy]
    if metafunc.definition.get_closest_marker("playwright_only") is not None:
        targets = [t for t in targets if t.browser.driver == "playwright"]
    ids = [t.id for t in targets]
    if "pyodide" in names:
        metafunc.parametrize("pyodide", targets, ids=ids, indirect=True, scope="module")
    else:  # real_downloads takes its permission state as its own param; the target comes here
        targets = [
            t
            for t in targets
            if (t.browser.engine in ("chromium", "firefox") and t.browser.driver == "playwright")
            or (t.browser.engine == "webkit" and t.browser.driver == "webdriver")
        ]
        metafunc.parametrize("pyweb_target", targets, ids=[t.id for t in targets], scope="function")


@pytest.hookimpl(tryfirst=True)  # before -m filtering, so -m "not browser" sees the mark
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"pyodide", "real_downloads"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    funcargs = getattr(item, "funcargs", {})
    page = funcargs.get("pyodide") or funcargs.get("real_downloads")
    if report.failed and isinstance(page, PyodidePage) and page.console:
        report.sections.append((f"pyodide console ({page.target})", "\n".join(page.console[-200:])))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if not state or not state.starts:
        return
    terminalreporter.section("pyweb browser pages")
    for name, seconds in state.launches.items():
        terminalreporter.line(f"{name}: browser launch {seconds:.2f} s")
    if state.real_launches:
        by_name: dict[str, list[float]] = {}
        for name, seconds in state.real_launches:
            by_name.setdefault(name, []).append(seconds)
        for name, runs in by_name.items():
            terminalreporter.line(f"{name}: {len(runs)} launch(es), median {statistics.median(runs):.2f} s")
    by_target: dict[str, list[dict[str, float]]] = {}
    for target, timings in state.starts:
        by_target.setdefault(target, []).append(timings)
    for target, starts in by_target.items():
        keys = [k for k in starts[0] if k != "total"]
        parts = ", ".join(f"{k} {statistics.median(r.get(k, 0) for r in starts):.2f}" for k in keys)
        total = statistics.median(r["total"] for r in starts)
        terminalreporter.line(f"{target}: {len(starts)} page start(s), median {total:.2f} s ({parts})")


@contextlib.contextmanager
def real_browser(pool: BrowserPool, name: str, origin: str, root: Path, state: str = "default") -> Iterator[Any]:
    """A :class:`~pyweb.testing.real_downloads.RealBrowser` of the config's browser ``name``.

    For a page of your own (not the harness page) in a browser that applies its own download
    permission, as a fresh install would (``state="default"``). Skips, or fails in CI, when the
    browser is missing.

    Examples
    --------
    >>> with real_browser(pyweb_browsers, "chromium", server.origin, tmp_path) as browser:  # doctest: +SKIP
    ...     page = browser.context.new_page()
    """
    from .real_downloads import RealBrowser

    spec = pool.config.browsers[name]
    if spec.missing():
        _unavailable(f"{spec.missing()}; run `{pool.config.setup_hint}`")
    browser = RealBrowser(pool.playwright(), spec, state, root, origin)
    try:
        yield browser
    finally:
        browser.close()


def _require(target: Target, config: HarnessConfig) -> None:
    """Skip (or fail, in CI) unless the target's browser, build and Playwright are there."""
    problem = target.browser.missing() or target.build.missing()
    if problem:
        _unavailable(f"{problem}; run `{config.setup_hint}`")
    if target.browser.driver == "webdriver":
        return
    try:
        import playwright  # noqa: F401
    except ImportError:
        _unavailable(f"Playwright is not installed; run `{config.setup_hint}`")


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_ENV, "") not in ("", "0"):
        pytest.fail(f"{reason} ({REQUIRE_ENV} is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


class BrowserPool:
    """Playwright and its browsers, started on first use and stopped by :meth:`close`."""

    def __init__(self, config: HarnessConfig, launches: dict[str, float]) -> None:
        self.config = config
        self.launches = launches
        self._playwright: Any = None
        self._thread: PlaywrightThread | None = None
        self._browsers: dict[str, Any] = {}
        self._webdriver: WebDriverPool | None = None

    def webdriver(self) -> WebDriverPool:
        """The session's WebDriver pool (its Xvfb display), made on first use."""
        if self._webdriver is None:
            self._webdriver = WebDriverPool()
        return self._webdriver

    def playwright(self) -> Any:
        """The session's Playwright, started on first use in a thread of its own (a proxy: see
        :mod:`pyweb.testing.pwthread`), so that the test thread has no event loop marked running."""
        if self._playwright is None:
            self._thread = PlaywrightThread()
            self._playwright = self._thread.start()
        return self._playwright

    def get(self, name: str) -> Any:
        """The launched Playwright Browser for a config browser name."""
        if name not in self._browsers:
            self.playwright()
            spec = self.config.browsers[name]
            t0 = time.perf_counter()
            self._browsers[name] = getattr(self._playwright, spec.engine).launch(**spec.launch)
            self.launches[name] = time.perf_counter() - t0
        return self._browsers[name]

    def close(self) -> None:
        if self._webdriver is not None:
            for name, seconds in self._webdriver.launches:
                self.launches.setdefault(f"{name} (WebDriver session)", seconds)
            self._webdriver.close()
            self._webdriver = None
        if self._thread is None:
            return
        for browser in self._browsers.values():
            with contextlib.suppress(Exception):  # a crashed browser must not hide test results
                browser.close()
        self._browsers.clear()
        self._thread.stop()
        self._thread = self._playwright = None


@pytest.fixture(scope="session")
def pyweb_config(request: pytest.FixtureRequest) -> HarnessConfig:
    """The loaded browser-test config (``--pyweb-config`` or rootdir/playwright.config.py)."""
    return request.config.stash[_STATE].config


@pytest.fixture(scope="session")
def pyweb_bundle_files(request: pytest.FixtureRequest) -> dict[str, Path]:
    """Extra files for the page: archive name -> host path. Override to add your own.

    Defaults to the ini option ``pyweb_bundle``, each path stored relative to the rootdir.
    """
    root = request.config.rootpath
    files = {}
    for path in request.config.getini("pyweb_bundle"):
        path = Path(path).resolve()
        try:
            files[path.relative_to(root).as_posix()] = path
        except ValueError:
            raise pytest.UsageError(f"pyweb_bundle entry {path} is outside the rootdir {root}") from None
    return files


@pytest.fixture(scope="session")
def pyweb_server(pyweb_config: HarnessConfig, pyweb_bundle_files: dict[str, Path]) -> Iterator[StaticServer]:
    """The session's static server: Pyodide builds, STATIC folders, test page and bundle."""
    with harness_server(pyweb_config, pyweb_bundle_files) as server:
        yield server


@pytest.fixture(scope="session")
def pyweb_browsers(request: pytest.FixtureRequest, pyweb_config: HarnessConfig) -> Iterator[BrowserPool]:
    """Browsers launched on first use, closed at the end of the session."""
    pool = BrowserPool(pyweb_config, request.config.stash[_STATE].launches)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def pyodide(
    request: pytest.FixtureRequest, pyweb_server: StaticServer, pyweb_browsers: BrowserPool
) -> Iterator[PyodidePage]:
    """A page running Pyodide with pyweb under test, one per module and target.

    Parametrized over the config's TARGETS (only builds with numpy unless the
    test is marked ``no_numpy``). Skipped when the browser or build is missing.
    """
    target: Target = request.param
    _require(target, pyweb_browsers.config)
    if target.browser.driver == "webdriver":
        page: PyodidePage = WebDriverPyodidePage.open(
            pyweb_browsers.webdriver(), target, pyweb_server.origin, pyweb_browsers.config.timeouts
        )
        request.config.stash[_STATE].starts.append((target.id, dict(page.timings)))
        yield page
        page.close()
        return
    from playwright.sync_api import Error

    try:
        browser = pyweb_browsers.get(target.browser.name)
    except Error as exc:
        if "Executable doesn't exist" not in str(exc):
            raise
        # A config without executable_path means Playwright's own browser build, not downloaded here.
        _unavailable(f"browser {target.browser.name!r} is not installed: {str(exc).splitlines()[0]}")
    page = PyodidePage.open(browser, target, pyweb_server.origin, pyweb_browsers.config.timeouts)
    request.config.stash[_STATE].starts.append((target.id, dict(page.timings)))
    yield page
    page.close()


@pytest.fixture(scope="session")
def pyweb_real_browsers(
    request: pytest.FixtureRequest,
    pyweb_server: StaticServer,
    pyweb_browsers: BrowserPool,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RealBrowserPool]:
    """Browsers that apply their own download permission (see :mod:`pyweb.testing.real_downloads`)."""
    pool = RealBrowserPool(pyweb_browsers, tmp_path_factory.mktemp("pyweb-real-downloads"), pyweb_server.origin)
    yield pool
    pool.close()
    request.config.stash[_STATE].real_launches.extend(pool.launches)


@pytest.fixture
def real_downloads(
    request: pytest.FixtureRequest,
    pyweb_target: Target,
    pyweb_server: StaticServer,
    pyweb_real_browsers: RealBrowserPool,
    pyweb_browsers: BrowserPool,
) -> Iterator[RealDownloadsPage | RealWebDriverDownloadsPage]:
    """A page with Pyodide and the bundle in a browser that applies its own download permission.

    Use as ``@pytest.mark.parametrize("real_downloads", ["ask", "allow", "block"], indirect=True)``
    (also ``"default"``: a profile as a fresh install leaves it); runs once per Chromium,
    Firefox and WebKit target (WebKit has no such permission: every state is its default). ``.run``/``.run_js`` as the ``pyodide`` fixture, ``.click(selector)`` for a
    trusted click, ``.files(expect=N, timeout=S)`` for the names that arrived in the browser's
    download folder. Each test gets a new browser profile and tab.
    """
    state = getattr(request, "param", "ask")
    target = pyweb_target
    _require(target, pyweb_browsers.config)
    if target.browser.driver == "webdriver":  # WebKit: no download permission to set, see real_downloads
        webdriver_page = RealWebDriverDownloadsPage.open_state(
            pyweb_browsers.webdriver(), target, pyweb_server.origin, pyweb_browsers.config.timeouts, state
        )
        request.config.stash[_STATE].starts.append((f"{target.id} (real downloads)", dict(webdriver_page.timings)))
        try:
            yield webdriver_page
        finally:
            webdriver_page.close()
        return
    real = pyweb_real_browsers.get(target.browser, state)
    page = RealDownloadsPage.open_in(
        real, target, pyweb_server.origin, pyweb_browsers.config.timeouts, pyweb_real_browsers.commands
    )
    request.config.stash[_STATE].starts.append((f"{target.id} (real downloads)", dict(page.timings)))
    try:
        yield page
    finally:
        page.close()
        pyweb_real_browsers.release(real)


@pytest.fixture(autouse=True)
def _pyweb_fresh_page(request: pytest.FixtureRequest) -> Iterator[None]:
    # Cheap reset between tests sharing a module's page; a crashed page is replaced.
    if "pyodide" in request.fixturenames:
        request.getfixturevalue("pyodide").reset()
    yield
