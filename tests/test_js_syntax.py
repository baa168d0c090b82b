"""Page-side JavaScript shipped as files is valid JavaScript (``node --check``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "pyweb").rglob("*.js"), *(ROOT / "demo").rglob("*.js")])


@pytest.mark.node
@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_javascript_files_parse(path):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to check pyweb's JavaScript (apt-get install nodejs)")
    done = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_package_ships_its_page_helper():
    from pyweb.browser._sources import page_js

    assert "globalThis.pywebPage" in page_js()
