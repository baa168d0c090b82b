"""``pyweb demo --headless`` from an installed wheel alone: no checkout, no PYTHONPATH.

pyweb's wheel is built from a copy of the package (``pip wheel --no-deps``) and
installed with its ``demo`` extra into a fresh venv; the ``pyweb`` command of
that venv then serves the packaged page and example model from a folder
outside the checkout and clicks through it in each browser, launched as the
packaged :mod:`pyweb.demo.browsers` says.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pyweb.testing.config import HarnessConfig
from pyweb.testing.plugin import _unavailable

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PAGE_FILES = {
    "index.html",
    "boot.js",
    "meters.js",
    "app.py",
    "app.css",
    "toy_model.py",
    "examples/tfjs-blobs/model.json",
}


def _run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with pyweb's wheel and its demo extra installed; its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "pyweb", source / "pyweb", ignore=shutil.ignore_patterns("__pycache__"))
    done = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(source)], work, 600
    )
    assert done.returncode == 0, done.stderr
    [wheel] = (work / "dist").glob("pyweb-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n.removeprefix("pyweb/demo/page/") for n in zf.namelist() if n.startswith("pyweb/demo/page/")}
    assert shipped >= PAGE_FILES, sorted(shipped)
    venv = work / "venv"
    done = _run([sys.executable, "-m", "venv", str(venv)], work, 300)
    assert done.returncode == 0, done.stderr
    done = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{wheel}[demo]"], work, 900)
    assert done.returncode == 0, done.stderr
    return Path(venv / "bin")


@pytest.mark.parametrize("browser", ["chromium", "firefox", "webkit"])
def test_pyweb_demo_headless_from_the_wheel(
    installed: Path, pyweb_config: HarnessConfig, tmp_path: Path, browser: str
) -> None:
    build = pyweb_config.builds["0.27.7"]
    assert build.path is not None, "the config's Pyodide 0.27.7 must be a local folder"
    problem = build.missing() or pyweb_config.browsers[browser].missing()
    if problem:
        _unavailable(f"{problem}; run `{pyweb_config.setup_hint}`")
    elsewhere = tmp_path / "elsewhere"  # no playwright.config.py, no demo/ folder, no pyweb/ here
    elsewhere.mkdir()
    where = _run([str(installed / "python"), "-c", "import pyweb; print(pyweb.__file__)"], elsewhere, 60)
    assert Path(where.stdout.strip()).is_relative_to(installed.parent), where.stdout + where.stderr
    argv = [str(installed / "pyweb"), "demo", "--headless", "--browser", browser, "--pyodide-dir", str(build.path)]
    done = _run(argv, elsewhere, 600)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    summary = re.search(r"^(\d+) actions, (\d+) failed", done.stdout, re.MULTILINE)
    assert summary is not None, report
    assert int(summary[1]) >= 20 and summary[2] == "0", report
    assert "open, start Pyodide and pyweb" in done.stdout and "load the TF.js example model" in done.stdout
