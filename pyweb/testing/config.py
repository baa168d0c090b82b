"""Read the browser-test config file (``playwright.config.py``) into typed targets.

The file is plain Python data; see the repository's ``playwright.config.py``
for every key. Relative paths in it are relative to the file's own folder.
"""

from __future__ import annotations

import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

__all__ = ["Browser", "Build", "HarnessConfig", "Target", "load_config"]

CONFIG_NAME = "playwright.config.py"

_DEFAULT_TIMEOUTS = {"run": 60.0, "js": 30.0, "start": 120.0, "wipe": 10.0}


class ConfigError(ValueError):
    """The config file is missing a key or has a wrong value."""


@dataclass(frozen=True)
class Browser:
    name: str
    engine: str  # Playwright browser type: "chromium", "firefox" or "webkit"
    launch: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    context: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    install_hint: str = ""
    # "playwright", or "webdriver": Selenium over W3C WebDriver (pyweb.testing.webdriver), for a
    # browser Playwright cannot drive (the Debian WebKitGTK). launch then has executable_path
    # (the browser), driver_path (its WebDriver server) and args.
    driver: str = "playwright"

    def missing(self) -> str | None:
        """Why this browser cannot start here, or None."""
        if self.driver == "webdriver":
            from .webdriver import webdriver_missing

            return webdriver_missing(self)
        exe = self.launch.get("executable_path")
        if exe and not Path(exe).exists():
            hint = f" ({self.install_hint})" if self.install_hint else ""
            return f"browser {self.name!r}: {exe} does not exist{hint}"
        return None


@dataclass(frozen=True)
class Build:
    name: str
    path: Path | None  # local folder served at /pyodide/<name>/, or None when index_url is set
    index_url: str | None
    numpy: bool
    python: str

    def missing(self) -> str | None:
        """Why this Pyodide build cannot be served, or None."""
        # load_config() sets one of index_url and path
        if self.index_url or (cast(Path, self.path) / "pyodide.js").is_file():
            return None
        return f"Pyodide {self.name}: {self.path}/pyodide.js does not exist"


@dataclass(frozen=True)
class Target:
    browser: Browser
    build: Build

    @property
    def id(self) -> str:
        return f"{self.browser.name}-{self.build.name}"

    def __repr__(self) -> str:
        return f"Target({self.id})"


@dataclass(frozen=True)
class HarnessConfig:
    path: Path
    browsers: dict[str, Browser]
    builds: dict[str, Build]
    targets: list[Target]
    timeouts: dict[str, float]
    static: dict[str, Path]
    setup_hint: str
    # Selectable with --pyweb-targets but not run by default (EXTRA_TARGETS in the file).
    extra_targets: list[Target] = field(default_factory=list)

    def select(self, ids: str | None) -> list[Target]:
        """The targets named in a comma list such as ``"chromium-0.27.7,chromium-314"``."""
        if not ids:
            return list(self.targets)
        known = {t.id: t for t in [*self.targets, *self.extra_targets]}
        wanted = [i.strip() for i in ids.split(",") if i.strip()]
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise ConfigError(f"unknown pyweb target(s) {', '.join(unknown)}; {self.path} has {', '.join(known)}")
        return [known[i] for i in wanted]


def load_config(path: str | Path) -> HarnessConfig:
    """Execute a config file and check its BROWSERS, PYODIDE_BUILDS and TARGETS."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(f"pyweb browser-test config {path} does not exist")
    data = runpy.run_path(str(path))
    root = path.parent
    for key in ("BROWSERS", "PYODIDE_BUILDS", "TARGETS"):
        if key not in data:
            raise ConfigError(f"{path} defines no {key}")
    browsers = {name: _browser(name, spec) for name, spec in data["BROWSERS"].items()}
    builds = {name: _build(name, spec, root) for name, spec in data["PYODIDE_BUILDS"].items()}
    targets = [_target(entry, browsers, builds, path) for entry in data["TARGETS"]]
    extra = [_target(entry, browsers, builds, path) for entry in data.get("EXTRA_TARGETS", [])]
    return HarnessConfig(
        path=path,
        browsers=browsers,
        builds=builds,
        targets=targets,
        timeouts={**_DEFAULT_TIMEOUTS, **data.get("TIMEOUTS", {})},
        static={prefix: root / folder for prefix, folder in data.get("STATIC", {}).items()},
        setup_hint=data.get("SETUP_HINT", "make setup"),
        extra_targets=extra,
    )


def _target(entry: tuple[str, str], browsers: dict[str, Browser], builds: dict[str, Build], path: Path) -> Target:
    browser, build = entry
    if browser not in browsers or build not in builds:
        raise ConfigError(f"{path}: target {entry!r} names an unknown browser or build")
    return Target(browsers[browser], builds[build])


def _browser(name: str, spec: dict[str, Any]) -> Browser:
    engine = spec.get("engine", name)
    if engine not in ("chromium", "firefox", "webkit"):
        raise ConfigError(f"browser {name!r}: engine must be chromium, firefox or webkit, not {engine!r}")
    driver = spec.get("driver", "playwright")
    if driver not in ("playwright", "webdriver"):
        raise ConfigError(f"browser {name!r}: driver must be playwright or webdriver, not {driver!r}")
    return Browser(
        name, engine, dict(spec.get("launch", {})), dict(spec.get("context", {})), spec.get("install", ""), driver
    )


def _build(name: str, spec: dict[str, Any], root: Path) -> Build:
    index_url = spec.get("index_url")
    if not index_url and not spec.get("path"):
        raise ConfigError(f"Pyodide build {name!r} needs a local 'path' or an 'index_url'")
    if index_url and not index_url.endswith("/"):
        index_url += "/"
    path = root / spec["path"] if spec.get("path") else None
    return Build(name, path, index_url, bool(spec.get("numpy", False)), str(spec.get("python", "")))
