"""WebDriver targets: the harness page in a browser Playwright cannot drive (WebKitGTK).

Playwright's ``webkit`` needs Playwright's own patched build; the Debian WebKitGTK
is driven instead over W3C WebDriver (``WebKitWebDriver``, from the package
``webkit2gtk-driver``) through Selenium, with ``MiniBrowser --automation`` as the
browser. WebKitGTK has no headless mode, so each pool starts one Xvfb server (a
free display found with ``-displayfd``) that every session shares.

One WebDriver session (a fresh browser process with empty storage) serves one
:class:`WebDriverPyodidePage`, so a test module gets one browser and one Pyodide
boot, as on the Playwright targets. Everything else is the same page and the same
page-side harness: calls evaluate the same snippets with ``execute_script`` (which
awaits a returned Promise). The driver does not expose console messages, so the
page's ``console`` is wrapped and its records are read back after every call.

A stuck page (Python spinning in the page) is handled twice: WebDriver's script
timeout answers a promise that never settles; a page whose main thread spins
never answers it, so a host timer then kills the driver's process group (the
driver and its browser), and the page is replaced either way.

Downloads: WebKitGTK saves a Blob download without asking, into the user's XDG
download folder, which GLib reads from ``$XDG_CONFIG_HOME/user-dirs.dirs``. So
every session gets a fresh ``XDG_CONFIG_HOME`` naming a fresh empty folder
(:attr:`WebDriverPyodidePage.downloads_folder`), both removed with the session.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from .config import Browser, Target
from .errors import PyodideTimeoutError
from .page import PyodidePage
from .page_js import READY, RUN_JS, TIMEOUT_MARK, WIPE, js_source

__all__ = ["BrowserCommand", "PageScriptError", "WebDriverPool", "WebDriverPyodidePage", "webdriver_missing"]

DEFAULT_DRIVER = "/usr/bin/WebKitWebDriver"
XVFB = "Xvfb"
# Seconds the host waits beyond a call's own timeout before it kills the browser. WebDriver's
# script timeout does not answer while the page's main thread spins, so this is what fires then.
_GRACE = 5.0

# execute_script runs a function body: each .js file (a function expression) is called there.
# webdriver_call.js calls one snippet with one argument, errors coming back as data.
_CALL = f"return ({js_source('webdriver_call.js')}\n)(...arguments);"
# Keeps console records after every navigation; _DRAIN reads them back.
_CONSOLE = f"return ({js_source('webdriver_console.js')}\n)();"
_DRAIN = f"return ({js_source('webdriver_drain.js')}\n)();"


@dataclass(frozen=True)
class BrowserCommand:
    """A browser for WebKitWebDriver to launch instead of the config's: ``binary args...``.

    ``name`` is the application name the browser reports to the driver, which
    must equal the session's ``browserName`` capability.
    """

    binary: str
    args: list[str]
    name: str


class PageScriptError(Exception):
    """JavaScript evaluated in a WebDriver page threw; ``name`` is the JS error's name."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, self.message))


def webdriver_missing(browser: Browser) -> str | None:
    """Why this WebDriver browser cannot start here (browser, driver, Xvfb, Selenium), or None."""
    hint = f" ({browser.install_hint})" if browser.install_hint else ""
    exe = browser.launch.get("executable_path")
    driver = browser.launch.get("driver_path", DEFAULT_DRIVER)
    for path in (exe, driver):
        if path and not Path(path).exists():
            return f"browser {browser.name!r}: {path} does not exist{hint}"
    if shutil.which(XVFB) is None:
        return f"browser {browser.name!r}: {XVFB} is not installed{hint}"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return f"browser {browser.name!r}: Selenium is not installed (pip install selenium)"
    return None


class WebDriverPool:
    """One Xvfb display for the session's WebDriver browsers; each page starts its own session."""

    def __init__(self) -> None:
        self._xvfb: subprocess.Popen[bytes] | None = None
        self.display = ""
        self.launches: list[tuple[str, float]] = []

    def start_display(self) -> str:
        """The display (``":N"``) of the pool's Xvfb, started on first use."""
        if self._xvfb is None or self._xvfb.poll() is not None:
            read, write = os.pipe()
            try:
                self._xvfb = subprocess.Popen(
                    [XVFB, "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                    pass_fds=[write],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                os.close(write)
                write = -1
                number = _read_line(read, 30)
            finally:
                os.close(read)
                if write >= 0:
                    os.close(write)
            if not number:
                self.close()
                raise RuntimeError("Xvfb did not report a display within 30 s")
            self.display = f":{number}"
        return self.display

    def new_driver(
        self, browser: Browser, downloads: Path | None = None, *, command: BrowserCommand | None = None
    ) -> Any:
        """A new WebDriver session (a fresh browser process) for the config browser ``browser``.

        With ``downloads``, the browser saves its downloads into that folder
        (``XDG_DOWNLOAD_DIR`` in a ``user-dirs.dirs`` beside it). With
        ``command``, the driver launches that browser instead of the config's.
        """
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.service import Service

        if browser.engine != "webkit":
            raise ValueError(f"browser {browser.name!r}: WebDriver targets support the webkit engine only")
        env = dict(os.environ, DISPLAY=self.start_display())
        env.pop("WAYLAND_DISPLAY", None)
        if downloads is not None:
            env["XDG_CONFIG_HOME"] = str(_xdg_config(downloads))
        options = webdriver.WebKitGTKOptions()
        if command is not None:
            options.binary_location = command.binary
            options.set_capability("browserName", command.name)
        elif browser.launch.get("executable_path"):
            options.binary_location = browser.launch["executable_path"]
        for argument in command.args if command is not None else browser.launch.get("args", ["--automation"]):
            options.add_argument(argument)
        service = Service(
            executable_path=browser.launch.get("driver_path", DEFAULT_DRIVER),
            env=env,
            log_output=subprocess.DEVNULL,
            popen_kw={"start_new_session": True},  # the watchdog kills driver and browser as a group
        )
        t0 = time.perf_counter()
        driver = webdriver.WebKitGTK(options=options, service=service)
        self.launches.append((browser.name, time.perf_counter() - t0))
        return driver

    def close(self) -> None:
        if self._xvfb is not None:
            self._xvfb.terminate()
            try:
                self._xvfb.wait(10)
            except subprocess.TimeoutExpired:
                self._xvfb.kill()
                self._xvfb.wait()
            self._xvfb = None


def _xdg_config(downloads: Path) -> Path:
    """An XDG config folder beside ``downloads`` whose ``user-dirs.dirs`` names it the download folder."""
    config = downloads.parent / "xdg-config"
    config.mkdir(exist_ok=True)
    # GLib takes an absolute path here as well as "$HOME/..."; quotes and backslashes cannot be escaped.
    if '"' in str(downloads) or "\\" in str(downloads):
        raise ValueError(f"a download folder path without quotes or backslashes is needed: {downloads}")
    (config / "user-dirs.dirs").write_text(f'XDG_DOWNLOAD_DIR="{downloads}"\n')
    return config


def _read_line(fd: int, seconds: float) -> str:
    """What Xvfb writes to its -displayfd pipe (the display number), or "" after ``seconds``."""
    import select

    data = b""
    deadline = time.monotonic() + seconds
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return ""
        chunk = os.read(fd, 32)
        if not chunk:
            break
        data += chunk
    return data.decode().strip()


class WebDriverPyodidePage(PyodidePage):
    """:class:`PyodidePage` in a browser driven over WebDriver (one session per page).

    The API is the Playwright page's (``run``, ``run_js``, ``run_pytest``,
    ``add_script``, ``wipe_storage``, ``reload``, ``console``...), except that
    ``page`` is the Selenium WebDriver, ``context`` is None, and JavaScript that
    throws raises :class:`PageScriptError`.
    """

    browser: Any  # the WebDriverPool, not a Playwright Browser

    def __init__(self, pool: WebDriverPool, target: Target, origin: str, timeouts: dict[str, float]) -> None:
        # The base class keeps its browser as an opaque handle; here that is the pool, not Playwright's.
        super().__init__(cast(Any, pool), target, origin, timeouts)
        self.driver: Any = None
        #: Where this session's browser saves downloads (a fresh empty folder per session).
        self.downloads_folder: Path | None = None
        #: A temporary folder of this session's (its downloads, XDG config, uploads), removed with it.
        self.session_folder: Path | None = None

    @classmethod
    def open(cls, browser: Any, target: Target, origin: str, timeouts: dict[str, float]) -> WebDriverPyodidePage:
        """A new WebDriver session on ``browser`` (a :class:`WebDriverPool`), with Pyodide booted."""
        page = cls(browser, target, origin, timeouts)
        page._start()
        return page

    def run_js(self, expression_or_function: str, arg: Any = None, *, timeout: float | None = None) -> Any:
        """Evaluate JavaScript in the page (awaiting a Promise), with a timeout; see PyodidePage.run_js."""
        seconds = self.timeouts["js"] if timeout is None else timeout
        try:
            return self._call(
                RUN_JS, [expression_or_function, arg, seconds * 1000], seconds + 5, "run_js()", restart=True
            )
        except PageScriptError as exc:
            if TIMEOUT_MARK in exc.message:
                raise PyodideTimeoutError(f"run_js() did not settle within {seconds} s on {self.target}") from None
            raise

    def add_script(self, path: str) -> None:
        """Load a script served by the test server, e.g. ``"/tfjs/tf.min.js"``; gone after reload()."""
        self._call(js_source("add_script.js"), self.origin + path, self.timeouts["js"], "add_script()")

    def reset(self) -> None:
        """Before each test: restart a dead or stuck page, wipe storage, clear logs."""
        if self._stuck or self.driver is None:
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
        if self._stuck or self.driver is None:
            return False
        try:
            return self._call(READY, None, 5, "alive()") is True
        except Exception:  # noqa: BLE001
            return False

    def close(self) -> None:
        """End the WebDriver session (the browser process goes with it)."""
        driver, self.driver, self.page = self.driver, None, None
        if driver is None:
            return
        if self._stuck:
            _kill_group(driver)
        with contextlib.suppress(Exception):  # the browser may already be gone
            driver.quit()
        _kill_group(driver)
        self._removesession_folder()

    def click(self, selector: str) -> None:
        """Click the element the CSS ``selector`` finds, as a user would (a real gesture)."""
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, selector).click()

    @contextlib.contextmanager
    def second_tab(self) -> Iterator[_WebDriverTab]:
        """Another tab of the same browser on the page's address (a WebDriver new window).

        Yields an object with ``evaluate(function_source, arg=None)``; the tab is closed after
        the block. The driver is switched to the tab only for its own calls.
        """
        if self.driver is None:
            raise RuntimeError(f"the page on {self.target} is closed")
        driver = self.driver
        main = driver.current_window_handle
        driver.switch_to.new_window("tab")
        tab = _WebDriverTab(self, driver.current_window_handle, main)
        try:
            driver.get(self.url)
            driver.switch_to.window(main)
            yield tab
        finally:
            with contextlib.suppress(Exception):  # the session may be gone
                driver.switch_to.window(tab.handle)
                driver.close()
            driver.switch_to.window(main)

    # -- internals -------------------------------------------------------

    def _closed(self) -> bool:
        return self.driver is None

    def _start(self) -> None:
        t0 = time.perf_counter()
        self._removesession_folder()
        self.session_folder = Path(tempfile.mkdtemp(prefix="pyweb-webdriver-"))
        self.downloads_folder = self.session_folder / "downloads"
        self.downloads_folder.mkdir()
        self.driver = self.page = self.browser.new_driver(
            self._target.browser, self.downloads_folder, command=self._browser_command()
        )
        self._stuck = False
        session_seconds = time.perf_counter() - t0
        self._boot()
        self.timings["session"] = session_seconds
        self.timings["total"] += session_seconds

    def _browser_command(self) -> BrowserCommand | None:
        """The browser to launch instead of the config's (a subclass's hook; ``session_folder`` is fresh)."""
        return None

    def _navigate(self) -> None:
        self.driver.set_page_load_timeout(self.timeouts["start"])
        self.driver.get(self.url)
        self.driver.execute_script(_CONSOLE)

    def _call(self, function: str, arg: Any, timeout: float, what: str, *, restart: bool = False) -> Any:
        from selenium.common.exceptions import TimeoutException

        if self.driver is None:
            raise RuntimeError(f"the page on {self.target} is closed")
        driver = self.driver
        fired = threading.Event()

        def fire() -> None:
            fired.set()
            self._stuck = True
            _kill_group(driver)

        timer = threading.Timer(timeout + _GRACE, fire)
        timer.daemon = True
        timer.start()
        try:
            driver.set_script_timeout(timeout)
            result = driver.execute_script(_CALL, function, arg)
        except TimeoutException:
            self._stuck = True
        except Exception:  # after the kill, the driver's connection just drops
            if not fired.is_set():
                self._stuck = True
                self.console_errors.append("the browser session ended")
                raise
        else:
            self._drain_console()
            if result["ok"]:
                return result["value"]
            raise PageScriptError(result["name"], result["message"])
        finally:
            timer.cancel()
        raise self._timed_out(what, timeout, restart=restart) from None

    def _removesession_folder(self) -> None:
        if self.session_folder is not None:
            shutil.rmtree(self.session_folder, ignore_errors=True)
            self.session_folder = self.downloads_folder = None

    def _drain_console(self) -> None:
        with contextlib.suppress(Exception):
            for kind, text in self.driver.execute_script(_DRAIN):
                self.console.append(f"[{kind}] {text}")
                if kind in ("error", "pageerror"):
                    self.console_errors.append(text)


class _WebDriverTab:
    """A second tab of a :class:`WebDriverPyodidePage`'s session (see ``second_tab``)."""

    def __init__(self, page: WebDriverPyodidePage, handle: str, main: str) -> None:
        self.page = page
        self.handle = handle
        self._main = main

    def evaluate(self, function: str, arg: Any = None) -> Any:
        """Call a JavaScript function source in this tab with ``arg`` (awaiting a Promise)."""
        driver = self.page.driver
        driver.switch_to.window(self.handle)
        try:
            driver.set_script_timeout(self.page.timeouts["js"])
            result = driver.execute_script(_CALL, function, arg)
        finally:
            driver.switch_to.window(self._main)
        if result["ok"]:
            return result["value"]
        raise PageScriptError(result["name"], result["message"])


def _kill_group(driver: Any) -> None:
    """Kill the driver's process group (WebKitWebDriver and the browser it started)."""
    process = getattr(getattr(driver, "service", None), "process", None)
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        process.wait(10)
