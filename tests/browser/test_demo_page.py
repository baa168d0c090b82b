"""The demo page clicked through in headless Chromium and Firefox, as ``pyweb demo`` serves it.

A :class:`~pyweb.demo.server.DemoServer` serves the packaged demo page with the local Pyodide
0.27.7 and the pyweb bundle, plus the upload server. Every test opens the page
in a browser started as a fresh install (a new profile, so storage starts
empty) that applies its own multiple-download permission
(:class:`pyweb.testing.real_downloads.RealBrowser`, state "default"): the
files a test sees are the files that really arrived, clicks included.

The layout test also writes README's screenshots (Chromium, at 1280x800 and
at 390x844) into docs/screenshots/, or into $PYWEB_SCREENSHOTS.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pyweb.demo.server import DemoServer
from pyweb.demo.walkthrough import SCHEMES, TOY_WEIGHT_BYTES, DemoPage, Downloads, walk
from pyweb.testing import plugin

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("PYWEB_SCREENSHOTS") or ROOT / "docs" / "screenshots")
VIEWPORTS = [(1280, 800), (390, 844)]


@pytest.fixture(scope="module")
def demo_server(pyweb_config):
    with DemoServer(config_path=pyweb_config.path) as server:
        yield server


@pytest.fixture(scope="module", params=["chromium", "firefox"])
def demo_browser(request):
    return request.param


@pytest.fixture
def real_browser(demo_browser, demo_server, pyweb_browsers, tmp_path):
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(demo_server.page_url))
    with plugin.real_browser(pyweb_browsers, demo_browser, origin, tmp_path) as browser:
        yield browser


@pytest.fixture
def demo(real_browser, demo_server, request):
    """A DemoPage in a browser as freshly installed; the upload server's models are cleared first."""
    for entry in demo_server.models_dir.iterdir():
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    width, height = getattr(request, "param", VIEWPORTS[0])
    page = real_browser.context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    demo = DemoPage(page, timeout=60)
    demo.downloads = Downloads(page, real_browser.folder)
    demo.browser_name = real_browser.spec.name
    demo.open(demo_server.page_url)
    yield demo
    assert not errors, errors
    page.close()


def test_walkthrough_every_action(demo):
    lines = walk(demo, demo.downloads)

    failed = [str(line) for line in lines if not line.ok]
    assert not failed, "\n".join(failed)
    assert {line.scheme for line in lines} >= set(SCHEMES)
    # The two failures the walk provokes are on the page as failures, and only those.
    log = demo.page.eval_on_selector_all("#log li", "items => items.map(li => ({...li.dataset}))")
    assert [(e["scheme"], e["action"]) for e in log if e["ok"] == "0"] == [
        ("upload", "load uploaded files"),
        ("localstorage", "save to localStorage"),
    ]
    assert demo.rows() == {}
    assert demo.page.locator("#models-empty").is_visible()
    assert demo.page.evaluate("localStorage.length") == 0
    assert demo.ls_chars() == 0


def test_saved_model_row_and_delete(demo):
    # The table's sizes are the stored model's, and they survive a reload of the page.
    demo.save("indexeddb", "kept")
    demo.save("localstorage", "gone")
    rows = demo.rows()
    assert set(rows) == {("indexeddb", "kept"), ("localstorage", "gone")}
    info = demo.page.evaluate("""() => JSON.parse(localStorage.getItem('tensorflowjs_models/gone/info'))""")
    assert int(rows[("localstorage", "gone")]["weights"]) == info["weightDataBytes"] == TOY_WEIGHT_BYTES
    assert int(rows[("localstorage", "gone")]["topology"]) == info["modelTopologyBytes"]

    entry = demo.row_action("localstorage", "gone", "delete")
    assert entry["ok"] == "1"
    assert set(demo.rows()) == {("indexeddb", "kept")}
    assert demo.page.evaluate("localStorage.length") == 0

    demo.open(demo.page.url)
    assert set(demo.rows()) == {("indexeddb", "kept")}


def test_quota_error_keeps_the_old_model(demo):
    demo.save("localstorage", "m")
    before = demo.rows()[("localstorage", "m")]
    demo.build("5mib")
    entry = demo.save("localstorage", "m")
    assert entry["ok"] == "0"
    error = demo.error()
    assert error is not None and error.startswith("Save to localStorage failed. QuotaExceededError")
    assert demo.page.locator("#error").is_visible()
    assert demo.rows()[("localstorage", "m")] == before
    assert demo.text("#status") == "Save to localStorage failed."
    # The same big model fits in IndexedDB.
    assert demo.save("indexeddb", "m")["ok"] == "1"
    assert int(demo.rows()[("indexeddb", "m")]["weights"]) == 24 * ((5 << 20) // 24) + 12


def test_download_then_upload_round_trip(demo):
    demo.save("downloads", "dl")
    assert demo.downloads.take_offers() == ["dl.weights.bin"]  # the click gave one file; the button the other
    files = dict(demo.downloads.wait(2))
    assert sorted(files) == ["dl.json", "dl.weights.bin"]
    assert len(files["dl.weights.bin"]) == TOY_WEIGHT_BYTES
    demo.build("1mib")  # a different current model, so the upload visibly replaces it
    entry = demo.upload(list(files.items()))
    assert entry["ok"] == "1" and int(entry["bytes"]) == TOY_WEIGHT_BYTES
    assert demo.text("#summary").startswith("Loaded from uploaded files: dl.json, dl.weights.bin")
    assert demo.page.get_attribute("#prediction", "data-classes") == "north,west,east"


# -- layout and README's screenshots ------------------------------------------------

LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const root = document.documentElement;
  const vw = root.clientWidth;
  if (root.scrollWidth > vw + 1) problems.push(`the page scrolls sideways: ${root.scrollWidth} > ${vw}`);
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className ? '.' + String(el.className).replace(/ /g, '.') : '') +
      ' "' + (el.textContent || el.value || '').trim().slice(0, 30) + '"';
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  };
  const leaves = [...document.querySelectorAll('body *')].filter((el) => shown(el) && (
      el.matches('button, input, select, meter, progress') ||
      [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())));
  // Each leaf's box, clipped to the scrolling box it sits in (the log).
  const boxes = leaves.map((el) => {
    let r = el.getBoundingClientRect();
    let box = {l: r.left, t: r.top, r: r.right, b: r.bottom};
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (scrolls(p)) {
        const c = p.getBoundingClientRect();
        box = {l: Math.max(box.l, c.left), t: Math.max(box.t, c.top), r: Math.min(box.r, c.right), b: Math.min(box.b, c.bottom)};
      }
    }
    return box;
  });
  // Nothing may hide in a sideways-scrolling box either (the summary, the table, the log).
  for (const el of document.querySelectorAll('body *')) {
    if (shown(el) && scrolls(el) && el.scrollWidth > el.clientWidth + 1)
      problems.push(`hidden in a sideways scroll: ${name(el)} (${el.scrollWidth} > ${el.clientWidth})`);
  }
  leaves.forEach((el, i) => {
    if (!scrolls(el) && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0)
      problems.push(`text cut off: ${name(el)} (${el.scrollWidth} > ${el.clientWidth})`);
    if (boxes[i].r > vw + 1) problems.push(`off the right edge: ${name(el)}`);
  });
  for (let i = 0; i < leaves.length; i++) {
    for (let j = i + 1; j < leaves.length; j++) {
      const a = leaves[i], b = leaves[j];
      if (a.contains(b) || b.contains(a)) continue;
      const x = Math.min(boxes[i].r, boxes[j].r) - Math.max(boxes[i].l, boxes[j].l);
      const y = Math.min(boxes[i].b, boxes[j].b) - Math.max(boxes[i].t, boxes[j].t);
      if (x > 1 && y > 1) problems.push(`overlap: ${name(a)} and ${name(b)}`);
    }
  }
  return problems;
}"""


@pytest.mark.parametrize("demo", VIEWPORTS, indirect=True, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_layout_and_screenshots(demo):
    width, height = demo.page.viewport_size["width"], demo.page.viewport_size["height"]
    for scheme in ("localstorage", "indexeddb", "file", "http"):
        assert demo.save(scheme, "demo-classifier")["ok"] == "1"
    demo.click("#load-example")
    assert len(demo.rows()) == 4
    problems = demo.page.evaluate(LAYOUT_PROBLEMS)
    assert not problems, f"at {width}x{height}:\n" + "\n".join(problems)
    if demo.browser_name == "chromium":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        demo.page.screenshot(path=str(SCREENSHOTS / f"demo-{width}x{height}.png"), full_page=True)
    # The longest message the page shows: a quota error, with a 5 MiB model's summary.
    demo.build("5mib")
    assert demo.save("localstorage", "demo-classifier")["ok"] == "0"
    problems = demo.page.evaluate(LAYOUT_PROBLEMS)
    assert not problems, f"with the quota error at {width}x{height}:\n" + "\n".join(problems)


def test_progress_bar_on_big_save_and_load(demo):
    # Record every state the progress box goes through while a 5 MiB model is saved and loaded.
    demo.page.evaluate(
        """() => {
          window.progressSeen = [];
          const box = document.getElementById('progress-box');
          const bar = document.getElementById('progress');
          new MutationObserver(() => window.progressSeen.push(
              {shown: !box.hidden, value: bar.getAttribute('value'), label: box.textContent.trim()}))
            .observe(box, {attributes: true, subtree: true, childList: true, characterData: true});
        }"""
    )
    demo.build("5mib")
    demo.page.evaluate("window.progressSeen.length = 0")
    for scheme in ("file", "http"):
        assert demo.save(scheme, "big")["ok"] == "1"
        entry = demo.row_action(scheme, "big", "load")
        assert entry["ok"] == "1" and int(entry["bytes"]) > 5 << 20
    seen = demo.page.evaluate("window.progressSeen")
    shown = [s for s in seen if s["shown"]]
    for verb, url_part in (
        ("Saving", "file://"),
        ("Loading", "file://"),
        ("Saving", "http://"),
        ("Loading", "http://"),
    ):
        assert any(s["label"].startswith(verb) and url_part in s["label"] for s in shown), (verb, url_part, seen)
    # Loads that report progress fill the bar (file and http do) before it is hidden again.
    assert any(s["value"] == "1" and s["label"].endswith("100%") and "Loading http://" in s["label"] for s in seen)
    assert seen[-1]["shown"] is False
    assert demo.page.locator("#progress-box").is_hidden()


@pytest.fixture
def bare_page(real_browser):
    page = real_browser.context.new_page()
    yield page
    page.close()


def test_pyodide_from_another_origin(bare_page, pyweb_server, pyweb_config):
    # --pyodide URL: any indexURL works, here the test server's copy on another origin (it sends CORS headers).
    remote = pyweb_server.url("/pyodide/0.27.7/")
    with DemoServer(config_path=pyweb_config.path, pyodide_url=remote) as server:
        assert "pyodide=" in server.page_url
        demo = DemoPage(bare_page, timeout=60)
        demo.open(server.page_url)
        assert demo.text("#status").startswith("Ready (pyweb")
        assert demo.page.get_attribute("#prediction", "data-classes") == "north,west,east"


def test_a_page_that_cannot_start_says_why(bare_page, demo_server):
    bare_page.goto(demo_server.page_url + "&pyodide=/no-such-pyodide/")
    bare_page.wait_for_selector("body[data-state]", timeout=30_000)
    assert bare_page.get_attribute("body", "data-state") == "error"
    assert bare_page.locator("#error").is_visible()
    assert "/no-such-pyodide/pyodide.js" in bare_page.locator("#error").text_content()
    assert bare_page.locator("#status").text_content() == "Failed to start."


def test_quick_clicks_run_one_after_another(demo):
    # Three clicks in one go: each action runs whole, in order, and the page is busy until the last ends.
    before = demo.log_count()
    demo.page.evaluate(
        """() => { window.statusSeen = [];
                   const status = document.getElementById('status');
                   // Every text the status is given, even two set in one task.
                   new MutationObserver((records) => records.forEach((r) =>
                       r.addedNodes.forEach((n) => window.statusSeen.push(n.textContent))))
                     .observe(status, {childList: true});
                   document.getElementById('model-name').value = 'quick';
                   for (const id of ['save-localstorage', 'save-indexeddb', 'save-file'])
                     document.getElementById(id).click(); }"""
    )
    assert demo.page.get_attribute("body", "data-busy") == "1"
    demo.page.wait_for_function(
        f"Number(document.getElementById('log').dataset.count) >= {before + 3} && document.body.dataset.busy === '0'"
    )
    log = demo.page.eval_on_selector_all("#log li", "items => items.map(li => ({...li.dataset}))")[:3]
    assert [(e["scheme"], e["ok"]) for e in reversed(log)] == [("localstorage", "1"), ("indexeddb", "1"), ("file", "1")]
    # Each save ended (its "Saved" status) before the next began: none ran inside another.
    seen = [text.split(" ", 2)[:2] for text in demo.page.evaluate("window.statusSeen") if text.startswith("Sav")]
    urls = ["localstorage://quick", "indexeddb://quick", "file:///home/pyodide/models/quick"]
    assert seen == [[verb, url + suffix] for url in urls for verb, suffix in (("Saving", "\u2026"), ("Saved", ":"))], (
        seen
    )
    assert {k for k in demo.rows() if k[1] == "quick"} == {
        ("localstorage", "quick"),
        ("indexeddb", "quick"),
        ("file", "quick"),
    }


def test_a_failed_action_leaves_the_table_as_stored(demo):
    # A model deleted behind the page's back (another tab): Delete fails, and the table drops the row.
    demo.save("localstorage", "elsewhere")
    demo.save("indexeddb", "kept")
    demo.page.evaluate("""() => Object.keys(localStorage).filter((k) => k.startsWith('tensorflowjs_models/elsewhere/'))
                                    .forEach((k) => localStorage.removeItem(k))""")
    assert demo.page.evaluate("localStorage.length") == 0
    entry = demo.row_action("localstorage", "elsewhere", "delete")
    assert entry["ok"] == "0"
    assert demo.error().startswith("Delete elsewhere failed. ModelNotFoundError")
    assert set(demo.rows()) == {("indexeddb", "kept")}
    assert demo.ls_chars() == 0


def test_names_with_slashes_keep_their_name_in_every_store(demo):
    # file:// and http:// keep "team/m" as nested folders; the table, copy and move use the whole name.
    for scheme in ("file", "http"):
        assert demo.save(scheme, "team/m")["ok"] == "1"
    assert set(demo.rows()) == {("file", "team/m"), ("http", "team/m")}
    assert demo.row_action("file", "team/m", "copy", "localstorage")["ok"] == "1"
    assert demo.row_action("http", "team/m", "move", "indexeddb")["ok"] == "1"
    assert set(demo.rows()) == {("file", "team/m"), ("localstorage", "team/m"), ("indexeddb", "team/m")}
    assert demo.rows()[("localstorage", "team/m")]["url"] == "localstorage://team/m"
