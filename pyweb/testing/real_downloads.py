"""``real_downloads``: a page in a browser that applies its own multiple-download permission.

Playwright's download handling bypasses Chromium's multiple-download limiter
(``accept_downloads``, or any CDP ``Browser.setDownloadBehavior``), so the
``pyodide`` fixture and ``captured_downloads`` say nothing about what a user's
browser delivers. Here each browser starts with a fresh profile that sets the
permission, and nothing touches its download behaviour:

- **Chromium** is started as a plain process (``--headless``, the config's
  flags, ``--user-data-dir`` with a ``Preferences`` file giving the download
  folder and, for ``allow``/``block``, the site setting
  ``profile.default_content_setting_values.automatic_downloads`` = 1 / 2),
  and Playwright attaches with ``connect_over_cdp(no_defaults=True)``, which
  leaves the default context's download behaviour alone. Pages are new tabs
  of that context (Chromium keeps the limiter's state per tab).
- **Firefox** applies its site permission ``automatic-download`` only with
  download spam protection on (``browser.download.enable_spam_prevention``,
  off by default in Firefox ESR 153). ``ask`` turns protection on with no
  site permission; ``allow``/``block`` also write the permission (ALLOW /
  DENY) into the profile's ``permissions.sqlite``; ``default`` is a new
  profile untouched. Playwright launches it with that profile
  (``launch_persistent_context``); its WebDriver BiDi download behaviour
  ("allowed", into the folder) does not bypass the protection. Firefox
  remembers a site that downloaded without a gesture (a ``prompt``
  permission), so ``ask`` gets a fresh profile for every test.

- **WebKit** (WebKitGTK's MiniBrowser over WebDriver) has no setting for
  multiple or automatic downloads: it saves every download without asking
  into the XDG download folder. So every state starts the same browser: a new
  WebDriver session (fresh, empty storage) whose download folder is its own
  (:class:`RealWebDriverDownloadsPage`). WebDriver's scripts run without user
  activation, as a page's own script would; its element click is a real one.

``tests/browser/test_downloads_real_permissions.py`` checks Chromium and
Firefox against the same browser started with no automation at all.

States: ``"ask"`` (a new profile's default in Chromium; Firefox with spam
protection on), ``"allow"``, ``"block"``, and ``"default"`` (the profile as a
fresh install leaves it).

Examples
--------
>>> @pytest.mark.parametrize("real_downloads", ["ask", "allow", "block"], indirect=True)  # doctest: +SKIP
... def test_two_files(real_downloads):
...     real_downloads.run("import pyweb; await pyweb.asave(model, 'downloads://m')")
...     real_downloads.click("[data-pyweb-download]")          # a trusted user gesture
...     assert real_downloads.files(expect=2, timeout=5) == ["m.json", "m.weights.bin"]
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from .commands import CommandError, CommandServer, CommandTimeout
from .config import Browser, Target
from .page import PyodidePage
from .page_js import js_source
from .webdriver import WebDriverPool, WebDriverPyodidePage

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

__all__ = [
    "ACTIVATION_SECONDS",
    "STATES",
    "RealBrowser",
    "RealBrowserPool",
    "RealDownloadsPage",
    "RealWebDriverDownloadsPage",
    "complete_downloads",
]

#: The permission states a real-downloads browser can start in.
STATES = ("ask", "allow", "block", "default")
#: Firefox, Chromium, WebKit: a download still being written.
_PARTIAL = (".part", ".crdownload", ".wkdownload")
#: Chromium first writes a download to a hidden temporary file (".org.chromium.Chromium.XXXXXX").
_TEMPORARY = (".org.chromium.",)
#: Firefox's transient user activation in the fixture's browsers, in seconds: None keeps Firefox's
#: own (5 s). Shorter ones change what arrives (a download handled after the window closes counts
#: as gesture-less), so the fixture keeps the default and waits for Playwright's activation to end.
ACTIVATION_SECONDS: float | None = None
_POLL = 0.1
_START_SECONDS = 30.0


def _in_progress(name: str) -> bool:
    return name.endswith(_PARTIAL) or name.startswith(_TEMPORARY)


def complete_downloads(folder: Path) -> list[str]:
    """Names of the finished downloads in ``folder``, sorted (none while any is still being written)."""
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return []
    if any(_in_progress(e.name) for e in entries):
        return []
    return sorted(e.name for e in entries if e.is_file())


class RealBrowser:
    """One browser process with its own profile and download folder, in one permission state."""

    def __init__(
        self,
        playwright: Any,
        spec: Browser,
        state: str,
        root: Path,
        origin: str,
        *,
        activation_seconds: float | None = None,
    ) -> None:
        if state not in STATES:
            raise ValueError(f"real_downloads state must be one of {STATES}, not {state!r}")
        self.spec, self.state, self.origin = spec, state, origin
        self.activation_seconds = activation_seconds
        self.root = Path(tempfile.mkdtemp(prefix=f"{spec.name}-{state}-", dir=root))
        self.folder = self.root / "downloads"
        self.profile = self.root / "profile"
        self.folder.mkdir()
        self.profile.mkdir()
        self._process: subprocess.Popen[bytes] | None = None
        self._browser: Any = None
        self.context: Any = None
        self.seconds = 0.0
        t0 = time.perf_counter()
        if spec.engine == "chromium":
            self._start_chromium(playwright)
        elif spec.engine == "firefox":
            self._start_firefox(playwright)
        else:
            raise ValueError(f"real_downloads supports Chromium and Firefox, not {spec.engine}")
        self.seconds = time.perf_counter() - t0

    #: Browsers remember what a site did (Chromium keeps a dismissed multiple-download prompt as a
    #: block for the site, Firefox a prompt permission for a site that downloaded without a
    #: gesture), so every test gets a new profile.
    single_use = True

    def empty_folder(self) -> None:
        for entry in self.folder.iterdir():
            with contextlib.suppress(OSError):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self._browser is not None:
                self._browser.close()
            elif self.context is not None:
                self.context.close()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- Chromium ---------------------------------------------------------------------

    def _start_chromium(self, playwright: Any) -> None:
        prefs: dict[str, Any] = {"download": {"default_directory": str(self.folder), "prompt_for_download": False}}
        if self.state in ("allow", "block"):
            setting = 1 if self.state == "allow" else 2
            prefs["profile"] = {"default_content_setting_values": {"automatic_downloads": setting}}
        (self.profile / "Default").mkdir()
        (self.profile / "Default" / "Preferences").write_text(json.dumps(prefs))
        executable = self.spec.launch.get("executable_path") or "chromium"
        args = [a for a in self.spec.launch.get("args", []) if not a.startswith("--headless")]
        self._process = subprocess.Popen(
            [
                executable,
                "--headless",
                *args,
                "--no-first-run",
                "--no-default-browser-check",
                f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = self._devtools_port()
        self._browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}", no_defaults=True)
        self.context = self._browser.contexts[0]

    def _devtools_port(self) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + _START_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"Chromium exited with status {self._process.returncode} while starting")
            with contextlib.suppress(OSError, ValueError, IndexError):
                return int(marker.read_text().split()[0])
            time.sleep(_POLL)
        raise RuntimeError(f"Chromium did not open its DevTools port within {_START_SECONDS:g} s")

    # -- Firefox ----------------------------------------------------------------------

    def _start_firefox(self, playwright: Any) -> None:
        prefs = {
            "browser.download.dir": str(self.folder),
            "browser.download.folderList": 2,
            "browser.download.useDownloadDir": True,
            "browser.download.always_ask_before_handling_new_types": False,
        }
        if self.state != "default":
            prefs["browser.download.enable_spam_prevention"] = True
        if self.state in ("allow", "block"):
            _firefox_permission(self.profile, self.origin, "automatic-download", 1 if self.state == "allow" else 2)
        if self.activation_seconds is not None:
            prefs["dom.user_activation.transient.timeout"] = self.activation_seconds
        launch = {k: v for k, v in self.spec.launch.items() if k not in ("downloads_path", "firefox_user_prefs")}
        self.context = playwright.firefox.launch_persistent_context(
            str(self.profile),
            **launch,
            **self.spec.context,
            downloads_path=str(self.folder),
            firefox_user_prefs=prefs,
            accept_downloads=True,
        )


def _firefox_permission(profile: Path, origin: str, kind: str, value: int) -> None:
    """Write one site permission into a new profile's permissions.sqlite (Firefox's schema 13)."""
    db = sqlite3.connect(profile / "permissions.sqlite")
    try:
        db.executescript(
            "CREATE TABLE moz_perms (id INTEGER PRIMARY KEY, origin TEXT, type TEXT, permission INTEGER,"
            " expireType INTEGER, expireTime INTEGER, modificationTime INTEGER);"
            "CREATE TABLE moz_hosts (id INTEGER PRIMARY KEY, host TEXT, type TEXT, permission INTEGER,"
            " expireType INTEGER, expireTime INTEGER, modificationTime INTEGER, isInBrowserElement INTEGER);"
            "CREATE TABLE moz_origin_interactions (origin TEXT PRIMARY KEY, lastInteractionTime INTEGER);"
            "PRAGMA user_version = 13;"
        )
        db.execute(
            "INSERT INTO moz_perms (origin, type, permission, expireType, expireTime, modificationTime)"
            " VALUES (?, ?, ?, 0, 0, ?)",
            (origin, kind, value, int(time.time() * 1000)),
        )
        db.commit()
    finally:
        db.close()


class RealBrowserPool:
    """Real-downloads browsers by (browser name, state), started on first use."""

    def __init__(self, playwright_source: Any, root: Path, origin: str) -> None:
        self._source = playwright_source  # a BrowserPool: its Playwright instance is shared
        self.root = root
        self.origin = origin
        self.commands = CommandServer()
        self._browsers: dict[tuple[str, str], RealBrowser] = {}
        #: Seconds spent starting each browser, for the session report.
        self.launches: list[tuple[str, float]] = []

    def get(self, spec: Browser, state: str) -> RealBrowser:
        key = (spec.name, state)
        browser = self._browsers.get(key)
        if browser is None:
            playwright = self._source.playwright()
            browser = RealBrowser(
                playwright, spec, state, self.root, self.origin, activation_seconds=ACTIVATION_SECONDS
            )
            self.launches.append((f"{spec.name} ({state} downloads)", browser.seconds))
            self._browsers[key] = browser
        return browser

    def release(self, browser: RealBrowser) -> None:
        """After a test: a single-use browser is closed (the next test starts a new one)."""
        if browser.single_use:
            self._browsers.pop((browser.spec.name, browser.state), None)
            browser.close()

    def close(self) -> None:
        if self._browsers:
            for browser in self._browsers.values():
                browser.close()
            self._browsers.clear()
        self.commands.close()


class RealDownloadsPage(PyodidePage):
    """A :class:`PyodidePage` in a tab of a :class:`RealBrowser`; adds :meth:`files` and :meth:`click`.

    ``.run``/``.run_js`` reach the page through a command queue it polls
    (:mod:`pyweb.testing.commands`), not ``page.evaluate``, so code runs
    without a user gesture, as a page's own script would; :meth:`click` is a
    real one. ``state`` is the permission state, ``folder`` the browser's
    download folder (emptied when the page opens).
    """

    def __init__(
        self, real: RealBrowser, target: Target, origin: str, timeouts: dict[str, float], commands: CommandServer
    ) -> None:
        super().__init__(real.context, target, origin, timeouts)
        self.real = real
        self.state = real.state
        self.folder = real.folder
        self._commands = commands
        self._channel = commands.channel()
        self.url += "&commands=" + quote(self._channel, safe="")

    @classmethod
    def open_in(
        cls, real: RealBrowser, target: Target, origin: str, timeouts: dict[str, float], commands: CommandServer
    ) -> RealDownloadsPage:
        """A new tab of ``real`` with Pyodide booted, its download folder emptied."""
        page = cls(real, target, origin, timeouts, commands)
        real.empty_folder()
        page._start()
        page._await_no_activation()
        return page

    def _await_no_activation(self, limit: float = 10.0) -> None:
        # Playwright's own scripts run with user activation (Firefox over BiDi activates the
        # page while setting it up); tests start once it has expired (about 5 s), as a page's
        # own script would run.
        deadline = time.monotonic() + limit
        while self._call(_ACTIVE, None, 5, "reading navigator.userActivation") and time.monotonic() < deadline:
            time.sleep(0.25)

    def add_script(self, path: str) -> None:
        """Load a script served by the test server (through the command queue: no gesture)."""
        self._call(_ADD_SCRIPT, self.origin + path, self.timeouts["js"], "add_script()")

    def _call(self, function: str, arg: Any, timeout: float, what: str, *, restart: bool = False) -> Any:
        from playwright.sync_api import Error

        try:
            return self._commands.call(self._channel, function, arg, timeout)
        except CommandError as exc:
            raise Error(str(exc)) from None
        except CommandTimeout:
            self._stuck = True
            raise self._timed_out(what, timeout, restart=restart) from None

    def files(self, expect: int = 1, timeout: float = 10.0, *, settle: float = 0.5) -> list[str]:
        """Names of the files that arrived in the download folder, sorted.

        Waits until ``expect`` are there (then ``settle`` seconds more, for any
        extra) or ``timeout`` seconds pass, and returns what is there.
        """
        deadline = time.monotonic() + timeout
        while len(complete_downloads(self.folder)) < expect and time.monotonic() < deadline:
            self._pump(_POLL)
        if len(complete_downloads(self.folder)) >= expect:
            self._pump(settle)
        while any(_in_progress(e.name) for e in self.folder.iterdir()) and time.monotonic() < deadline + 5:
            self._pump(_POLL)
        return complete_downloads(self.folder)

    def read(self, name: str) -> bytes:
        """The bytes of a downloaded file."""
        return (self.folder / name).read_bytes()

    def click(self, selector: str) -> None:
        """A real click (trusted input events: a user gesture) on the first element ``selector`` matches."""
        cast("Page", self.page).click(selector)

    @property
    def engine(self) -> str:
        """The browser's engine (``"chromium"``, ``"firefox"``)."""
        return self.real.spec.engine

    def _pump(self, seconds: float) -> None:
        if self.page is not None and not self.page.is_closed():
            self.page.wait_for_timeout(seconds * 1000)
        else:
            time.sleep(seconds)

    # -- a tab, not a context --------------------------------------------------------

    def _new_page(self) -> Page:
        self.context = self.real.context
        return cast("BrowserContext", self.context).new_page()

    def _watchdog_victim(self) -> Any:
        return self.page  # the context is the browser's own: close only this tab

    def close(self) -> None:
        from playwright.sync_api import Error

        if self.page is not None:
            with contextlib.suppress(Error):
                self.page.close()
        self.page = None


class RealWebDriverDownloadsPage(WebDriverPyodidePage):
    """A real-downloads page in a WebDriver browser (WebKit), which has no download permission.

    The same API as :class:`RealDownloadsPage` (``state``, ``folder``,
    :meth:`files`, :meth:`read`, :meth:`click`); ``state`` is recorded only,
    since WebKitGTK downloads every file without asking.
    """

    state: str
    folder: Path

    @classmethod
    def open_state(
        cls, pool: WebDriverPool, target: Target, origin: str, timeouts: dict[str, float], state: str
    ) -> RealWebDriverDownloadsPage:
        """A new WebDriver session on ``pool`` with Pyodide booted, its download folder empty."""
        if state not in STATES:
            raise ValueError(f"real_downloads state must be one of {STATES}, not {state!r}")
        page = cls(pool, target, origin, timeouts)
        page.state = state
        page._start()
        if page.downloads_folder is None:
            raise RuntimeError(f"the page on {target.id} has no download folder")
        page.folder = page.downloads_folder
        return page

    @property
    def engine(self) -> str:
        """The browser's engine (``"webkit"``)."""
        return self._target.browser.engine

    def files(self, expect: int = 1, timeout: float = 10.0, *, settle: float = 0.5) -> list[str]:
        """Names of the files that arrived in the download folder, sorted; see RealDownloadsPage.files."""
        deadline = time.monotonic() + timeout
        while len(complete_downloads(self.folder)) < expect and time.monotonic() < deadline:
            time.sleep(_POLL)
        if len(complete_downloads(self.folder)) >= expect:
            time.sleep(settle)
        while any(_in_progress(e.name) for e in self.folder.iterdir()) and time.monotonic() < deadline + 5:
            time.sleep(_POLL)
        return complete_downloads(self.folder)

    def read(self, name: str) -> bytes:
        """The bytes of a downloaded file."""
        return (self.folder / name).read_bytes()


_ACTIVE = js_source("user_activation.js")
_ADD_SCRIPT = js_source("add_script.js")
