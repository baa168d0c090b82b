"""The demo page (demo/index.html + demo/app.py) clicked through in a real browser.

The session's harness server also serves the repository's demo/ folder under
/demo/, so the page's defaults (Pyodide at /pyodide/0.27.7/, pyweb from
/pyweb-bundle.zip) resolve on the same origin. The page opens in the
``pyodide`` fixture's browser context, whose storage the fixture wipes first.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

DEMO = Path(__file__).resolve().parents[2] / "demo"
# 2*16 + 16 + 16*3 + 3 float32 values.
WEIGHT_BYTES = (2 * 16 + 16 + 16 * 3 + 3) * 4
LS_URL = "localstorage://demo-classifier"
IDB_URL = "indexeddb://demo-classifier"


def _row(page, url: str):
    return page.locator(f'#models tbody tr[data-url="{url}"]')


def test_demo_page_save_list_delete(pyodide, pyweb_server):
    url = pyweb_server.url("/demo/index.html")
    if pyodide.build != "0.27.7":  # the page's default; other builds go by ?pyodide=
        url += "?" + urlsplit(pyodide.url).query
    pyweb_server.mounts["/demo/"] = DEMO
    page = pyodide.context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(url)
        page.wait_for_selector("body[data-state]", timeout=60_000)
        assert page.locator("body").get_attribute("data-state") == "ready", page.locator("#error").text_content()
        assert page.locator("#error").is_hidden()
        assert "Total params: 99" in page.locator("#summary").text_content()
        assert "north" in page.locator("#prediction").text_content()
        assert page.locator("#ls-used").get_attribute("data-chars") == "0"
        assert page.locator("#models-empty").is_visible()

        page.click("#save-localstorage")
        _row(page, LS_URL).wait_for(timeout=20_000)
        page.click("#save-indexeddb")
        _row(page, IDB_URL).wait_for(timeout=20_000)

        assert page.locator("#models tbody tr").count() == 2
        for url, scheme in ((LS_URL, "localStorage"), (IDB_URL, "IndexedDB")):
            row = _row(page, url)
            assert row.locator("td.scheme").text_content() == scheme
            assert row.locator("td.name").text_content() == "demo-classifier"
            assert row.locator("td.weight-bytes").text_content() == str(WEIGHT_BYTES)
            assert int(row.locator("td.topology-bytes").text_content()) > 100
        used = int(page.locator("#ls-used").get_attribute("data-chars"))
        assert used > WEIGHT_BYTES  # base64 weights + topology + info + spec keys

        _row(page, IDB_URL).locator("button.load").click()
        page.wait_for_function("document.querySelector('#summary').textContent.startsWith('Loaded from indexeddb://')")
        assert "Total params: 99" in page.locator("#summary").text_content()

        _row(page, LS_URL).locator("button.delete").click()
        _row(page, LS_URL).wait_for(state="detached", timeout=20_000)
        assert page.locator("#models tbody tr").count() == 1
        assert _row(page, IDB_URL).count() == 1
        assert page.locator("#ls-used").get_attribute("data-chars") == "0"
        assert page.evaluate("localStorage.length") == 0

        assert page.locator("#error").is_hidden(), page.locator("#error").text_content()
        assert not errors, errors
    finally:
        page.close()
        del pyweb_server.mounts["/demo/"]
