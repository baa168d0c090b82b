"""pyweb in a plain dedicated Worker that an app starts itself (demo/worker/): the page adds
pyweb's page.js and one call, ``pywebPage.attach(worker)``, and every browser scheme works
from the worker against the page's storage and downloads."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from pyweb.browser._sources import page_js
from pyweb.testing.bundle import build_bundle
from pyweb.testing.plugin import _unavailable, real_browser
from pyweb.testing.real_downloads import complete_downloads
from pyweb.testing.server import StaticServer

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parents[2] / "demo" / "worker"

SETUP = """
import pyweb, json
from pyweb import ModelArtifacts
art = ModelArtifacts(model_topology={"class_name": "Sequential", "config": {"layers": []}},
                     weight_specs=[{"name": "w", "shape": [4], "dtype": "float32"}], weight_data=bytes(range(16)))
"""


@pytest.fixture(scope="module")
def app(pyweb_config):
    build = pyweb_config.builds["0.27.7"]
    if build.missing():
        _unavailable(f"{build.missing()}; run `make setup`")
    bundle = build_bundle(Path(__file__).resolve().parents[2] / "pyweb", test_packages=False)
    files = {"/pyweb-page.js": page_js().encode(), "/bundle.zip": bundle}
    with StaticServer({"/app/": HERE, "/pyodide/": build.path}, files) as server:
        yield server


@pytest.fixture(params=["chromium", "firefox"])
def page(request, pyweb_browsers, app, tmp_path):
    with real_browser(pyweb_browsers, request.param, app.origin, tmp_path) as real:
        page = real.context.new_page()
        page.real = real
        query = (
            f"pyodide={quote(app.origin + '/pyodide/', safe='')}&bundle={quote(app.origin + '/bundle.zip', safe='')}"
        )
        page.goto(f"{app.origin}/app/index.html?{query}")
        yield page


def in_worker(page, code: str, timeout: float = 120):
    return page.evaluate("(code) => window.runInWorker(code)", SETUP + code)


def test_every_scheme_from_a_plain_worker(page):
    # Sync and async calls reach the page's localStorage; IndexedDB is the worker's own (same origin).
    out = json.loads(
        in_worker(
            page,
            """
saved = pyweb.save(art, "localstorage://w").model_artifacts_info.weight_data_bytes
back = bytes(pyweb.load("localstorage://w").weight_data)
await pyweb.asave(art, "indexeddb://w")
listing = await pyweb.alist_models()
json.dumps({"saved": saved, "same": back == bytes(range(16)), "listed": sorted(listing),
            "unreachable": listing.unreachable, "in_worker": not hasattr(__import__("js"), "document")})
""",
        )
    )
    assert out == {
        "saved": 16,
        "same": True,
        "listed": ["indexeddb://w", "localstorage://w"],
        "unreachable": {},
        "in_worker": True,
    }
    keys = page.evaluate("Object.keys(localStorage).sort()")
    assert keys == [
        f"tensorflowjs_models/w/{s}"
        for s in ("info", "model_metadata", "model_topology", "weight_data", "weight_specs")
    ]
    # A download started by a click in the page: one file at once, one by pyweb's button.
    page.evaluate("""() => { window.onClickCode = `
import pyweb
from pyweb import ModelArtifacts
art = ModelArtifacts(model_topology={}, weight_specs=[{"name": "w", "shape": [4], "dtype": "float32"}],
                     weight_data=bytes(range(16)))
str(pyweb.save(art, "downloads://w").delivery)`; }""")  # sync: waits through JSPI
    page.click("#run")
    assert page.evaluate("() => window.lastRun") == "{'clicked': ['w.json'], 'offered': ['w.weights.bin']}"
    page.click("[data-pyweb-download]")
    deadline = time.monotonic() + 15
    while len(complete_downloads(page.real.folder)) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert complete_downloads(page.real.folder) == ["w.json", "w.weights.bin"]
    assert (page.real.folder / "w.weights.bin").read_bytes() == bytes(range(16))


def test_a_worker_whose_page_has_no_helper_gets_a_typed_error(page):
    # The same worker on a page that never called attach(): the call fails, typed, after the wait.
    out = page.evaluate("""async () => {
      const w = new Worker('worker.js' + location.search);
      const reply = new Promise((resolve) => w.addEventListener('message', (e) => { if (e.data && !e.data.pyweb) resolve(e.data); }));
      w.postMessage({id: 1, code: `
import pyweb.browser.bridge as bridge
bridge.CONNECT_SECONDS = 2
import pyweb
try:
    pyweb.save(pyweb.ModelArtifacts(model_topology={}), "localstorage://x")
    result = "saved?"
except pyweb.errors.RuntimeUnavailableError as exc:
    result = type(exc).__name__
result`});
      const msg = await reply;
      w.terminate();
      return msg.value;
    }""")
    assert out == "RuntimeUnavailableError"


def test_the_workers_kept_indexeddb_connection_never_blocks_the_page(page):
    # pyweb in the worker keeps its IndexedDB connection between operations; the page deleting
    # the database (TF.js's tests do, and so may an app) must not be blocked by it.
    assert (
        in_worker(
            page,
            """
pyweb.env.indexed_db().idle_seconds = 60
_ = await pyweb.asave(art, "indexeddb://w")
"kept"
""",
        )
        == "kept"
    )
    blocked = page.evaluate("""() => new Promise((resolve, reject) => {
      let blocked = false;
      const req = indexedDB.deleteDatabase('tensorflowjs');
      req.onblocked = () => { blocked = true; };
      req.onsuccess = () => resolve(blocked);
      req.onerror = () => reject(new Error(String(req.error)));
      setTimeout(() => reject(new Error('deleteDatabase did not complete in 10 s')), 10000);
    })""")
    assert blocked is False
    assert (
        in_worker(
            page,
            """
try:
    await pyweb.aload("indexeddb://w")
    out = "loaded?"
except pyweb.errors.ModelNotFoundError:
    out = "gone"
_ = await pyweb.asave(art, "indexeddb://w")
out + " " + str((await pyweb.aload("indexeddb://w")).weight_data == bytes(range(16)))
""",
        )
        == "gone True"
    )
