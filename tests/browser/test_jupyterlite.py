"""pyweb's example notebook in a real JupyterLite site, driven through its notebook UI.

The site is what ``pyweb lite`` builds: jupyterlite-core 0.6.4 with the Pyodide
kernel on the local Pyodide 0.27.7 and pyweb's wheel in its piplite index. The
kernel runs in a Web Worker; every browser scheme must work from there against
the page's real storage. Each browser is started as a fresh install that
applies its own download permission (:class:`pyweb.testing.real_downloads.RealBrowser`),
so the downloads checked are the files that really arrived.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from pyweb import lite
from pyweb.testing.plugin import _unavailable, real_browser
from pyweb.testing.real_downloads import complete_downloads
from pyweb.testing.server import StaticServer

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = lite.EXAMPLE_NOTEBOOK.name
TAGS = [
    c["metadata"]["tags"][0] for c in json.loads(lite.EXAMPLE_NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"
]


@pytest.fixture(scope="module")
def site(tmp_path_factory, pyweb_config):
    build = pyweb_config.builds["0.27.7"]
    wheels = sorted((ROOT / ".assets" / "lite-wheels").glob("*.whl"))
    tfjs = ROOT / "node_modules/@tensorflow/tfjs/dist/tf.min.js"
    if build.missing() or not wheels or not tfjs.exists():
        _unavailable("the JupyterLite site needs Pyodide 0.27.7, .assets/lite-wheels and TF.js; run `make setup`")
    work = tmp_path_factory.mktemp("lite")
    wheel = lite.build_wheel(ROOT, work / "wheels")
    out = lite.build_site(
        work / "site",
        pyodide_dir=build.path,
        wheels=[wheel, *wheels],
        files=[tfjs, ROOT / "pyweb" / "demo" / "page" / "examples" / "tfjs-blobs"],
    )
    with StaticServer({"/": out}) as server:
        yield server


class Notebook:
    """A notebook open in JupyterLite's notebook UI; runs code cells as a user does (select, Shift+Enter)."""

    def __init__(self, page, origin: str) -> None:
        self.page, self.origin = page, origin

    def open(self, path: str) -> None:
        self.page.bring_to_front()  # the user's tab: a background tab's notebook is hidden
        self.page.goto(f"{self.origin}/notebooks/index.html?path={path}")
        self.page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)

    def cell(self, tag: str):
        return self.page.locator(".jp-Notebook .jp-CodeCell").nth(TAGS.index(tag))

    def run(self, tag: str, *, until: str | None = None, timeout: float = 120) -> str:
        self.page.bring_to_front()
        cell = self.cell(tag)
        cell.locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + timeout
        prompt = cell.locator(".jp-InputPrompt")
        while not re.fullmatch(r"\[\d+\]:", (prompt.text_content() or "").strip()):
            if time.monotonic() > deadline:
                raise AssertionError(f"cell {tag} did not finish in {timeout} s; prompt {prompt.text_content()!r}")
            self.page.wait_for_timeout(200)
        output = cell.locator(".jp-OutputArea")
        while until is not None and until not in (output.inner_text() or ""):
            if time.monotonic() > deadline:
                raise AssertionError(f"cell {tag} output lacks {until!r}: {output.inner_text()!r}")
            self.page.wait_for_timeout(200)
        return output.inner_text()


@pytest.fixture(params=["chromium", "firefox"])
def browser(request, pyweb_browsers, site, tmp_path):
    with real_browser(pyweb_browsers, request.param, site.origin, tmp_path) as browser:
        yield browser


def _page_storage(page) -> dict:
    return page.evaluate("""async () => {
      const ls = Object.keys(localStorage).filter((k) => k.startsWith('tensorflowjs_models/')).sort();
      const idb = await new Promise((resolve) => {
        const req = indexedDB.open('tensorflowjs');
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('models_store')) { db.close(); resolve([]); return; }
          const all = db.transaction('models_store').objectStore('models_store').getAllKeys();
          all.onsuccess = () => { db.close(); resolve(all.result.sort()); };
        };
        req.onerror = () => resolve(['error']);
      });
      return {localStorage: ls, indexedDB: idb};
    }""")


def _file_browser(context, origin: str, folder: str = "") -> list[str]:
    """The names JupyterLite's file browser lists in ``folder``."""
    page = context.new_page()
    try:
        page.goto(f"{origin}/tree/index.html")
        page.wait_for_selector(".jp-DirListing-content", timeout=60_000)
        page.wait_for_timeout(1000)
        for name in [p for p in folder.split("/") if p]:  # open each folder as a user does
            before = page.locator(".jp-DirListing-itemText").all_inner_texts()
            page.locator(".jp-DirListing-itemText", has_text=re.compile(f"^{re.escape(name)}$")).first.click()
            page.keyboard.press("Enter")  # opens the selected folder (a double click, in Chromium only)
            deadline = time.monotonic() + 30
            while page.locator(".jp-DirListing-itemText").all_inner_texts() == before:
                if time.monotonic() > deadline:
                    raise AssertionError(f"could not open {name} in the file browser")
                page.wait_for_timeout(200)
            page.wait_for_timeout(500)
        return sorted(page.locator(".jp-DirListing-itemText").all_inner_texts())
    finally:
        page.close()


def _upload(context, origin: str, files: list[Path]) -> None:
    """Upload files into the file browser's root, as a user does with its upload button."""
    page = context.new_page()
    try:
        page.goto(f"{origin}/tree/index.html")
        page.wait_for_selector(".jp-DirListing-content", timeout=60_000)
        with page.expect_file_chooser() as chooser:
            page.click("jp-button[title='Upload Files']")
        chooser.value.set_files([str(f) for f in files])
        deadline = time.monotonic() + 30
        while not {f.name for f in files} <= set(page.locator(".jp-DirListing-itemText").all_inner_texts()):
            if time.monotonic() > deadline:
                raise AssertionError("the uploaded files did not show in the file browser")
            page.wait_for_timeout(300)
    finally:
        page.close()


def test_every_scheme_from_the_kernel(browser, site):
    page = browser.context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    nb = Notebook(page, site.origin)
    nb.open(NOTEBOOK)

    setup = nb.run("setup", until="pyweb 0.1.0", timeout=240)
    prediction = re.search(r"prediction (\[\[.*\]\])", setup).group(1)
    assert "67-parameter model" in setup

    assert "localstorage://jl: 268 weight bytes, same predictions" in nb.run("localstorage", until="localstorage")
    assert "indexeddb://jl: same predictions" in nb.run("indexeddb", until="indexeddb")
    out = nb.run("file", until="file:///drive")
    assert "refused models/v1.2: InvalidURLError" in out
    assert "file:///drive/models/jl: ['model.json', 'weights.bin']" in out
    assert "left behind in /drive/models: []" in out
    assert "http: sequential_1 75 parameters" in nb.run("http", until="http:")

    # downloads://: Shift+Enter is a gesture, so jl.json comes at once; jl.weights.bin by pyweb's button.
    out = nb.run("downloads", until="downloads://")
    assert "{'clicked': ['jl.json'], 'offered': ['jl.weights.bin']}" in out
    deadline = time.monotonic() + 15
    while "jl.json" not in complete_downloads(browser.folder) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    page.click("[data-pyweb-download]")
    while len(complete_downloads(browser.folder)) < 2 and time.monotonic() < deadline + 15:
        page.wait_for_timeout(200)
    assert complete_downloads(browser.folder) == ["jl.json", "jl.weights.bin"]

    # TF.js in the page loads both stores' copies and predicts what pyweb predicted.
    out = nb.run("tfjs", until="TF.js", timeout=120)
    assert "TF.js 4.22.0" in out, out
    flat = json.dumps([round(v, 4) for row in json.loads(prediction) for v in row], separators=(",", ":"))
    assert f"localstorage://jl {flat}" in out and f"indexeddb://jl {flat}" in out
    assert "pyweb loads TF.js's model: [[0.75, 0.75], [2.75, 2.75]]" in nb.run("from-tfjs", until="TF.js")
    out = nb.run("list", until="not listed")
    assert "['indexeddb://jl', 'localstorage://from-tfjs', 'localstorage://jl']" in out
    assert "not listed: none" in out

    # The page's own storage holds what the kernel saved, in TF.js's keys and records.
    storage = _page_storage(page)
    assert "tensorflowjs_models/jl/weight_data" in storage["localStorage"]
    assert storage["indexedDB"] == ["jl"]

    # The downloaded files, uploaded through the file browser, load back in the kernel.
    _upload(browser.context, site.origin, [browser.folder / "jl.json", browser.folder / "jl.weights.bin"])
    assert "same predictions: True" in nb.run("upload", until="uploaded")
    root = _file_browser(browser.context, site.origin)
    assert {"models", "jl.json", "jl.weights.bin", NOTEBOOK} <= set(root), root
    assert not [n for n in root if n.startswith(".")]
    assert _file_browser(browser.context, site.origin, "models/jl") == ["model.json", "weights.bin"]
    page.close()


def test_two_notebooks_and_a_reload(browser, site):
    # Two tabs, two kernels: each page helper answers only its own kernel. A reload starts over.
    a, b = browser.context.new_page(), browser.context.new_page()
    for page in (a, b):
        page.set_viewport_size({"width": 1280, "height": 900})
    nb_a, nb_b = Notebook(a, site.origin), Notebook(b, site.origin)
    nb_a.open(NOTEBOOK)
    nb_b.open(NOTEBOOK)
    for nb in (nb_a, nb_b):
        nb.run("setup", until="pyweb 0.1.0", timeout=240)
        assert "same predictions" in nb.run("localstorage", until="localstorage")
    assert "'offered': ['jl.weights.bin']" in nb_a.run("downloads", until="downloads://")
    a.wait_for_timeout(1500)
    assert a.locator("[data-pyweb-download]").count() == 1  # A's page shows A's button ...
    assert b.locator("[data-pyweb-download]").count() == 0  # ... and B's page did nothing for A's kernel
    assert complete_downloads(browser.folder) == ["jl.json"]
    a.reload()
    nb_a.open(NOTEBOOK)
    nb_a.run("setup", until="pyweb 0.1.0", timeout=240)
    assert "same predictions" in nb_a.run("localstorage", until="localstorage")
    a.close()
    b.close()
