"""The demo page in WebKit (WebKitGTK's MiniBrowser over WebDriver, under Xvfb).

``pyweb demo --headless --browser webkit`` runs the whole walk-through there, as a user
runs it; and the page's storage meter counts what WebKit's localStorage quota counts:
bytes (1 a character for an all-Latin-1 string, else 2 a UTF-16 unit), with no storage
estimate (WebKit has no ``navigator.storage``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pyweb.demo.server import DemoServer
from pyweb.demo.walkthrough import TOY_WEIGHT_BYTES, DemoPage
from pyweb.demo.webdriver_page import SeleniumPage
from pyweb.emulation.local_storage import DEFAULT_QUOTA_UNITS, storage_units, utf16_units
from pyweb.testing.plugin import _unavailable

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def webkit(pyweb_config):
    spec = pyweb_config.browsers["webkit"]
    if spec.missing():
        _unavailable(f"{spec.missing()}; run `{pyweb_config.setup_hint}`")
    return spec


def test_pyweb_demo_headless_webkit_walks_through_every_action(webkit):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "pyweb", "demo", "--headless", "--browser", "webkit"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "on a virtual display (Xvfb)" in done.stdout, report
    summary = re.search(r"^(\d+) actions, (\d+) failed", done.stdout, re.MULTILINE)
    assert summary is not None, report
    assert int(summary[1]) >= 20 and summary[2] == "0", report
    meters = next(line for line in done.stdout.splitlines() if "storage meters" in line)
    assert "localStorage bytes, no storage estimate in this browser" in meters, meters
    assert "save one file (weights inside the JSON)" in done.stdout and "load the TF.js example model" in done.stdout


def test_storage_meter_counts_webkit_bytes(webkit, pyweb_config, pyweb_browsers):
    pool = pyweb_browsers.webdriver()
    with (
        tempfile.TemporaryDirectory(prefix="pyweb-demo-webkit-") as root,
        DemoServer(config_path=pyweb_config.path) as server,
    ):
        folder = Path(root) / "downloads"
        folder.mkdir()
        driver = pool.new_driver(webkit, folder)
        try:
            page = SeleniumPage(driver, Path(root))
            demo = DemoPage(page, timeout=60)
            demo.open(server.page_url)
            assert demo.text("#ls-unit") == "bytes"
            assert page.get_attribute("#storage-used", "data-usage") == "none"
            assert "no storage estimate" in demo.text("#storage-used")
            assert page.locator("#storage-meter").is_hidden()

            assert demo.build("toy")["ok"] == "1"
            # A name outside Latin-1: its keys cost WebKit 2 bytes a UTF-16 unit, the rest 1 a character.
            assert demo.save("localstorage", "模型-ü")["ok"] == "1"
            items = page.evaluate("() => Object.entries({...localStorage})")
            assert len(items) == 5
            want = sum(storage_units(k, "webkit") + storage_units(v, "webkit") for k, v in items)
            assert want != sum(utf16_units(k) + utf16_units(v) for k, v in items)  # bytes, not units
            assert demo.ls_chars() == want > TOY_WEIGHT_BYTES
            assert page.get_attribute("#ls-used", "data-unit") == "bytes"
            assert int(page.get_attribute("#ls-meter", "max") or 0) == DEFAULT_QUOTA_UNITS
        finally:
            driver.quit()
