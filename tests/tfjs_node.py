"""Run the Node.js side of the interop tests: real TensorFlow.js 4.22 from ``node_modules``.

Tests that need it are marked ``@pytest.mark.node``. They need the ``node`` binary and
``node_modules/@tensorflow/tfjs`` (``make setup`` installs both from package-lock.json). When either
is missing those tests fail with that hint instead of skipping, so a broken setup cannot pass
quietly; set ``PYWEB_ALLOW_NO_NODE=1`` to turn the failure into a skip.

conftest.py imports the :func:`tfjs_goldens` fixture from here so every test module can use it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "ALLOW_NO_NODE",
    "LOAD_CHECK",
    "MAKE_GOLDENS",
    "REPO_ROOT",
    "load_check",
    "node_available",
    "node_output_fixture",
    "require_node",
    "run_node",
    "tfjs_goldens",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
MAKE_GOLDENS = REPO_ROOT / "tools" / "tfjs" / "make_goldens.js"
LOAD_CHECK = REPO_ROOT / "tools" / "tfjs" / "load_check.js"
ALLOW_NO_NODE = "PYWEB_ALLOW_NO_NODE"
_TFJS_PACKAGE = REPO_ROOT / "node_modules" / "@tensorflow" / "tfjs" / "package.json"


def node_available() -> bool:
    """True when ``node`` is on PATH and ``npm install`` has put @tensorflow/tfjs in node_modules."""
    return shutil.which("node") is not None and _TFJS_PACKAGE.is_file()


def require_node() -> None:
    """Fail the calling test (skip it if ``PYWEB_ALLOW_NO_NODE=1``) unless Node and TF.js are there."""
    if node_available():
        return
    missing = "the `node` binary is not on PATH" if shutil.which("node") is None else f"{_TFJS_PACKAGE} is missing"
    message = (
        f"Node.js interop tests need Node and @tensorflow/tfjs: {missing}. "
        f"Run `make setup` (or set {ALLOW_NO_NODE}=1 to skip them)."
    )
    if os.environ.get(ALLOW_NO_NODE) == "1":
        pytest.skip(message)
    pytest.fail(message, pytrace=False)


def _arg(value: Any) -> str:
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


def run_node(script: str | os.PathLike[str], *args: Any, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``node script *args`` from the repository root; stdout/stderr captured as UTF-8 text."""
    require_node()
    argv = [shutil.which("node"), os.fspath(script), *map(_arg, args)]
    return subprocess.run(
        argv,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


def load_check(source: str | os.PathLike[str], *, timeout: float = 120) -> dict[str, Any]:
    """What TF.js sees when it loads ``source`` (a model.json URL, file or directory); see load_check.js."""
    proc = run_node(LOAD_CHECK, source, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"TF.js could not load {source}:\n{proc.stderr.strip()}", pytrace=False)
    return json.loads(proc.stdout)


def node_output_fixture(script: Path, *args: Any, name: str, timeout: float = 120) -> Callable[..., Path]:
    """Make a session fixture that runs ``node script OUTDIR *args`` once and returns OUTDIR."""

    @pytest.fixture(scope="session", name=name)
    def _fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
        require_node()
        out = tmp_path_factory.mktemp(name)
        proc = run_node(script, out, *args, timeout=timeout)
        if proc.returncode != 0:
            pytest.fail(f"node {script.name} failed (exit {proc.returncode}):\n{proc.stderr.strip()}", pytrace=False)
        return out

    return _fixture


#: Session fixture: a directory of goldens written by make_goldens.js (layout in that script's header).
tfjs_goldens = node_output_fixture(MAKE_GOLDENS, name="tfjs_goldens")
