"""Page-side JavaScript shipped as files is valid JavaScript (``node --check``) and is package data."""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGED = sorted((ROOT / "pyweb").rglob("*.js"))
SOURCES = sorted([*PACKAGED, *(ROOT / "demo").rglob("*.js")])


@pytest.mark.node
@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_javascript_files_parse(path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to check pyweb's JavaScript (apt-get install nodejs)")
    done = subprocess.run([node, "--check", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def _package_data() -> dict[str, list[str]]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        data: dict[str, list[str]] = tomllib.load(f)["tool"]["setuptools"]["package-data"]
    return data


@pytest.mark.parametrize("path", PACKAGED, ids=[str(p.relative_to(ROOT)) for p in PACKAGED])
def test_javascript_files_are_package_data(path: Path) -> None:
    # A .js file no package-data glob names would be missing from the wheel (and from `pyweb demo` there).
    shipped = [
        package
        for package, patterns in _package_data().items()
        if path.is_relative_to(package_dir := ROOT / package.replace(".", "/"))
        and any(fnmatch.fnmatch(path.relative_to(package_dir).as_posix(), p) for p in patterns)
    ]
    assert shipped, f"{path.relative_to(ROOT)} matches no [tool.setuptools.package-data] glob"


def test_the_package_ships_its_page_helper() -> None:
    from pyweb.browser._sources import page_js

    assert "globalThis.pywebPage" in page_js()


def test_the_test_page_snippets_come_from_their_files() -> None:
    from pyweb.testing import page_js

    assert page_js.HARNESS_JS.startswith(b"'use strict';") and b"globalThis.pywebHarness" in page_js.HARNESS_JS
    # PyodidePage.run_js tells its own timeout from the page's errors by this mark.
    assert f"'{page_js.TIMEOUT_MARK} after '" in page_js.RUN_JS


SNIPPETS = sorted(p for p in (ROOT / "pyweb" / "testing").glob("*.js") if p.name != "harness.js")


@pytest.mark.node
@pytest.mark.parametrize("path", SNIPPETS, ids=[p.name for p in SNIPPETS])
def test_harness_snippets_are_function_expressions(path: Path) -> None:
    # The host evaluates each as a function (page.evaluate, the command queue, and WebDriver's
    # `return (<source>)(...arguments)`); harness.js is the page's one script.
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to check pyweb's JavaScript (apt-get install nodejs)")
    check = "const f = (0, eval)('(' + require('fs').readFileSync(process.argv[1], 'utf8') + '\\n)');"
    check += "if (typeof f !== 'function') { console.error(typeof f); process.exit(1); }"
    done = subprocess.run([node, "-e", check, str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_the_webdriver_page_calls_its_snippets_from_their_files() -> None:
    from pyweb.testing import webdriver
    from pyweb.testing.page_js import js_source

    assert js_source("webdriver_call.js") in webdriver._CALL
    assert "globalThis.__pywebConsole" in webdriver._CONSOLE and "globalThis.__pywebConsole" in webdriver._DRAIN
