"""downloads:// and uploads (pyweb.browser_files) in real Chromium, Firefox and WebKit.

Downloads are captured by the harness (``captured_downloads``: Chromium's
download events; in Firefox and WebKit the browser's download folder, since
Firefox over BiDi and WebKit over WebDriver report no events for blob downloads). That capture bypasses the
browser's multiple-download permission, so these tests check names and bytes
with ``deliver="script"`` (every file clicked at once); how the browser's own
permission treats each delivery is pinned down in
``test_downloads_real_permissions.py``. Uploads go through a real
``<input type=file>`` filled by Playwright (``set_input_files``; over WebDriver,
file paths typed into it). TF.js 4.22
(served at /tfjs/) runs in the same page to check both directions:
``tf.io.browserFiles`` loads pyweb's download, pyweb loads TF.js's.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import textwrap

import pytest

import pyweb
from pyweb.emulation.downloads import FolderDownloads
from pyweb.handlers.downloads import download_files
from tests.test_artifacts import REFERENCE_SPECS, REFERENCE_TOPOLOGY

pytestmark = [pytest.mark.browser, pytest.mark.no_numpy]  # pyweb moves bytes here; numpy is not needed

# 21 float32 weights of the reference Dense model (3->4->1), every mantissa bit in use.
WEIGHTS = struct.pack("<21f", *(math.sin(i * 0.613 + 0.3) * (1 + i % 3) for i in range(21)))

ARTIFACTS = pyweb.ModelArtifacts(
    model_topology=REFERENCE_TOPOLOGY,
    weight_specs=REFERENCE_SPECS,
    weight_data=WEIGHTS,
    format="layers-model",
    generated_by="TensorFlow.js tfjs-layers v4.22.0",
    converted_by=None,
)

PRELUDE = """
import js
import pyweb
from pyweb import ModelArtifacts
from pyweb.handlers.downloads import DownloadsHandler

generated_by = "TensorFlow.js tfjs-layers v4.22.0"


def make():
    return ModelArtifacts(model_topology=topology, weight_specs=specs, weight_data=weights,
                          format="layers-model", generated_by=generated_by, converted_by=None)


def uploaded(element_id):
    return js.document.getElementById(element_id).files
"""

# JS: record every object URL made and revoked, and whether a blob URL still fetches.
TRACK_URLS = """() => {
  if (!globalThis.urlLog) {
    globalThis.urlLog = {created: [], revoked: []};
    const create = URL.createObjectURL.bind(URL), revoke = URL.revokeObjectURL.bind(URL);
    URL.createObjectURL = (blob) => { const u = create(blob); urlLog.created.push(u); return u; };
    URL.revokeObjectURL = (u) => { urlLog.revoked.push(u); return revoke(u); };
  }
  urlLog.created.length = 0;
  urlLog.revoked.length = 0;
}"""
FETCHES = "async (url) => { try { await (await fetch(url)).arrayBuffer(); return true; } catch (e) { return false; } }"

# JS: TF.js helpers. Weights come back as base64 of their float32 bytes, in model order.
TFJS_JS = """() => {
  const b64 = (u8) => btoa(Array.from(u8, (c) => String.fromCharCode(c)).join(''));
  const weightBytes = (m) => {
    const parts = m.getWeights().map((t) => new Uint8Array(t.dataSync().buffer.slice(0)));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return b64(out);
  };
  globalThis.tfjsHelpers = {
    async loadFromInput(id) {
      const m = await tf.loadLayersModel(tf.io.browserFiles([...document.getElementById(id).files]));
      try { return {weights: weightBytes(m), names: m.weights.map((w) => w.originalName)}; } finally { m.dispose(); }
    },
    async saveToDownloads(prefix) {
      const m = tf.sequential({name: 'tfjs_dense'});
      m.add(tf.layers.dense({name: 'd1', inputShape: [3], units: 4, activation: 'relu'}));
      m.add(tf.layers.dense({name: 'd2', units: 2}));
      m.setWeights(m.weights.map((w, i) => tf.tensor(
        Float32Array.from({length: w.shape.reduce((a, b) => a * b, 1)}, (_, j) => Math.cos(i * 1.7 + j * 0.37) * 3),
        w.shape)));
      try { await m.save('downloads://' + prefix); return weightBytes(m); } finally { m.dispose(); }
    },
  };
}"""


def run(pyodide, code: str, **globals):
    return pyodide.run(
        PRELUDE + textwrap.dedent(code), topology=REFERENCE_TOPOLOGY, specs=REFERENCE_SPECS, weights=WEIGHTS, **globals
    )


def load_tfjs(pyodide) -> None:
    if pyodide.run_js("() => typeof tf") == "undefined":
        pyodide.add_script("/tfjs/tf.min.js")
    if pyodide.run_js("() => typeof tfjsHelpers") == "undefined":
        pyodide.run_js(TFJS_JS)
    assert pyodide.run_js("async () => { await tf.setBackend('cpu'); return tf.version.tfjs; }") == "4.22.0"


def expected(prefix: str, *, single_file: bool = False) -> dict[str, bytes]:
    return {name: bytes(data) for name, data, _ in download_files(ARTIFACTS, prefix, single_file=single_file)}


@pytest.fixture(autouse=True)
def _no_page_errors(pyodide):
    yield
    assert not pyodide.console_errors


# -- downloads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    ["_ = await pyweb.asave(make(), url, deliver='script')", "_ = pyweb.save(make(), url, deliver='script')"],
    ids=["asave", "save"],
)
def test_both_files_arrive_with_tfjs_names_and_bytes(pyodide, captured_downloads, call):
    pyodide.run_js(TRACK_URLS)
    run(pyodide, call, url="downloads://my-model")
    files = captured_downloads.wait(2)
    assert sorted(name for name, _ in files) == ["my-model.json", "my-model.weights.bin"]
    assert dict(files) == expected("my-model")  # the JSON byte for byte as TF.js writes it, and the weights
    if captured_downloads.mode == "events":
        assert [name for name, _ in files] == ["my-model.json", "my-model.weights.bin"]  # clicked in TF.js's order
    log = pyodide.run_js("() => urlLog")
    assert len(log["created"]) == 2 and sorted(log["revoked"]) == sorted(log["created"])
    logged = len(pyodide.console_errors)
    assert not any(pyodide.run_js(FETCHES, url) for url in log["created"])  # revoked: blob URLs no longer resolve
    del pyodide.console_errors[logged:]  # the browser logs those failed fetches


def test_prefix_rules_and_topology_only(pyodide, captured_downloads):
    run(
        pyodide,
        """
        await DownloadsHandler("", deliver="script").asave(make())                              # empty prefix: model
        await pyweb.asave(make(), "downloads://downloads://twice", deliver="script")             # scheme stripped again
        _ = await pyweb.asave(ModelArtifacts(model_topology=topology), "downloads://topo", deliver="script")  # JSON only
    """,
    )
    files = dict(captured_downloads.wait(5, settle=1.0))
    assert sorted(files) == ["model.json", "model.weights.bin", "topo.json", "twice.json", "twice.weights.bin"]
    assert json.loads(files["twice.json"])["weightsManifest"] == [
        {"paths": ["./twice.weights.bin"], "weights": REFERENCE_SPECS}
    ]
    assert json.loads(files["topo.json"]) == {
        "modelTopology": REFERENCE_TOPOLOGY,
        "convertedBy": None,
        "weightsManifest": [{"paths": ["./topo.weights.bin"]}],
    }


def test_repeated_and_unsafe_names_match_the_folder_emulation(pyodide, captured_downloads, tmp_path):
    run(
        pyodide,
        """
        for url in ("downloads://dup", "downloads://dup", "downloads://dir/x"):
            _ = await pyweb.asave(make(), url, deliver="script")
    """,
    )
    if pyodide.browser_name == "webkit":
        # WebKitGTK saves a repeated name over the first file and keeps only the last path segment.
        files = captured_downloads.wait(4, settle=1.5)
        assert sorted(name for name, _ in files) == ["dup.json", "dup.weights.bin", "x.json", "x.weights.bin"]
        by_name = expected("dup") | {name.removeprefix("dir/"): data for name, data in expected("dir/x").items()}
        assert dict(files) == by_name  # FolderDownloads numbers repeats instead
        return
    files = captured_downloads.wait(6, settle=1.0)
    emulated = FolderDownloads(tmp_path)
    for prefix in ("dup", "dup", "dir/x"):
        emulated.download(download_files(ARTIFACTS, prefix))
    if captured_downloads.mode == "folder":  # Firefox: names on disk, repeats numbered
        assert sorted(name for name, _ in files) == sorted(path.name for path in emulated.history)
    else:  # Chromium: suggested names (its folder holds GUIDs); it sanitises as Firefox does
        suggested = ["dup.json", "dup.weights.bin"] * 2 + ["dir_x.json", "dir_x.weights.bin"]
        assert sorted(name for name, _ in files) == sorted(suggested)
    assert sorted(path.name for path in emulated.history) == [
        "dir_x.json",
        "dir_x.weights.bin",
        "dup(1).json",
        "dup.json",
        "dup.weights(1).bin",
        "dup.weights.bin",
    ]


def test_single_file_option_delivers_one_file_that_loads_back(pyodide, captured_downloads, set_input_files, tmp_path):
    run(pyodide, "_ = await pyweb.asave(make(), 'downloads://solo', single_file=True, deliver='script')")
    files = captured_downloads.wait(1, settle=1.5)
    assert [name for name, _ in files] == ["solo.json"]
    ((name, data),) = files
    assert data == expected("solo", single_file=True)["solo.json"]
    doc = json.loads(data)
    assert base64.b64decode(doc.pop("pywebWeightsData")) == WEIGHTS
    assert json.dumps(doc, separators=(",", ":")).encode() == expected("solo")["solo.json"]
    # Back through an <input type=file>, in the page (async and sync) ...
    set_input_files("solo-up", files)
    assert run(
        pyodide,
        """
        a = await pyweb.aload(pyweb.browser_files(uploaded("solo-up")))
        try:
            b = pyweb.load(pyweb.browser_files(uploaded("solo-up")))   # JSPI: File reads block here
        except pyweb.errors.SyncUnavailableError as exc:                # no JSPI (WebKit)
            assert "aload" in str(exc)
            b = a
        assert a.weight_data == b.weight_data == [weights] and a.model_topology == b.model_topology == topology
        [a.weight_specs == specs, a.format, a.generated_by, a.converted_by, a is b]
    """,
    ) == [True, "layers-model", ARTIFACTS.generated_by, None, pyodide.browser_name == "webkit"]
    # ... and through file:// on the host.
    (tmp_path / name).write_bytes(data)
    loaded = pyweb.load(f"file://{tmp_path}/{name}")
    assert bytes(loaded.weight_bytes()) == WEIGHTS and loaded.weight_specs == REFERENCE_SPECS


# -- uploads ---------------------------------------------------------------------------


def test_download_loads_back_through_upload_and_file_scheme(pyodide, captured_downloads, set_input_files, tmp_path):
    run(pyodide, "_ = await pyweb.asave(make(), 'downloads://round', deliver='script')")
    files = captured_downloads.wait(2)
    by_name = dict(files)
    ordered = [("round.json", by_name["round.json"]), ("round.weights.bin", by_name["round.weights.bin"])]
    set_input_files("up", ordered)
    got = run(
        pyodide,
        """
        art = await pyweb.aload(pyweb.browser_files(uploaded("up")))
        try:
            same = pyweb.load(pyweb.browser_files(list(uploaded("up"))))
        except pyweb.errors.SyncUnavailableError:   # no JSPI (WebKit): the async twin only
            same = await pyweb.aload(pyweb.browser_files(list(uploaded("up"))))
            blocked = False
        else:
            blocked = True
        assert same.weight_data == art.weight_data
        [[bytes(b) for b in art.weight_data], art.weight_specs, art.model_topology, art.format, art.converted_by, blocked]
    """,
    )
    assert got == [
        [WEIGHTS],
        REFERENCE_SPECS,
        REFERENCE_TOPOLOGY,
        "layers-model",
        None,
        pyodide.browser_name != "webkit",
    ]
    for name, data in files:
        (tmp_path / name).write_bytes(data)
    loaded = pyweb.load(f"file://{tmp_path}/round.json")
    assert bytes(loaded.weight_bytes()) == WEIGHTS and loaded.model_topology == REFERENCE_TOPOLOGY


def test_upload_pairing_errors_are_typed(pyodide, set_input_files):
    json_text = expected("m")["m.json"]
    set_input_files("wrong-order", [("m.weights.bin", WEIGHTS), ("m.json", json_text)])
    set_input_files("missing", [("m.json", json_text), ("other.bin", WEIGHTS)])
    set_input_files("extra", [("m.json", json_text), ("m.weights.bin", WEIGHTS), ("x.bin", b"")])
    set_input_files("empty", [])
    got = run(
        pyodide,
        """
        out = {}
        for element_id in ("wrong-order", "missing", "extra"):
            try:
                await pyweb.aload(pyweb.browser_files(uploaded(element_id)))
            except pyweb.errors.ArtifactError as exc:
                out[element_id] = [type(exc).__name__, getattr(exc, "part", None)]
        try:
            pyweb.browser_files(uploaded("empty"))
        except pyweb.errors.ArtifactError as exc:
            out["empty"] = [type(exc).__name__, None]
        out
    """,
    )
    assert got == {
        "wrong-order": ["CorruptModelError", "m.weights.bin"],  # files[0] must be the JSON
        "missing": ["CorruptModelError", "m.weights.bin"],
        "extra": ["ArtifactError", None],
        "empty": ["ArtifactError", None],
    }


# -- TF.js both ways ---------------------------------------------------------------------


def test_tfjs_browser_files_loads_pyweb_download(pyodide, captured_downloads, set_input_files):
    load_tfjs(pyodide)
    run(pyodide, "_ = pyweb.save(make(), 'downloads://for-tfjs', deliver='script')")
    by_name = dict(captured_downloads.wait(2))
    set_input_files("tf-up", [(n, by_name[n]) for n in ("for-tfjs.json", "for-tfjs.weights.bin")])
    loaded = pyodide.run_js("() => tfjsHelpers.loadFromInput('tf-up')")
    assert base64.b64decode(loaded["weights"]) == WEIGHTS
    assert loaded["names"] == [spec["name"] for spec in REFERENCE_SPECS]


def test_pyweb_upload_loads_tfjs_download(pyodide, captured_downloads, set_input_files):
    load_tfjs(pyodide)
    tfjs_weights = base64.b64decode(pyodide.run_js("() => tfjsHelpers.saveToDownloads('from-tfjs')"))
    files = dict(captured_downloads.wait(2 if pyodide.browser_name != "webkit" else 1, settle=2.0))
    if pyodide.browser_name == "webkit" and "from-tfjs.json" not in files:
        # TF.js clicks its two files a setTimeout(0) apart, and WebKit often keeps only the last
        # (pyweb spaces its own clicks for this). What arrived is still TF.js's bytes.
        assert files == {"from-tfjs.weights.bin": tfjs_weights}
        return
    assert sorted(files) == ["from-tfjs.json", "from-tfjs.weights.bin"]
    assert files["from-tfjs.weights.bin"] == tfjs_weights
    pair = [(n, files[n]) for n in ("from-tfjs.json", "from-tfjs.weights.bin")]
    set_input_files("from-tfjs", pair)
    got = run(
        pyodide,
        """
        art = await pyweb.aload(pyweb.browser_files(uploaded("from-tfjs")))
        [bytes(art.weight_data[0]), [s["name"] for s in art.weight_specs], art.generated_by, art.converted_by]
    """,
    )
    assert got == [tfjs_weights, ["d1/kernel", "d1/bias", "d2/kernel", "d2/bias"], ARTIFACTS.generated_by, None]
    # pyweb re-downloading what it loaded writes TF.js's JSON byte for byte.
    art = pyweb.load(pyweb.browser_files(pair))
    assert {n: bytes(d) for n, d, _ in download_files(art, "from-tfjs")} == files
