"""The demo's example model, pyweb/demo/page/examples/tfjs-blobs: trained and saved by real TF.js, read by pyweb.

tools/tfjs/make_demo_model.js wrote it (its header says how to re-run it). The CPython tests need only
the committed files; the ``node`` ones re-run the script and let TF.js load the folder over HTTP.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import pyweb
from pyweb.layers import load_layers_model
from pyweb.layers.summary import summary_lines
from pyweb.server import ModelServer
from tests.tfjs_node import REPO_ROOT, load_check, run_node

EXAMPLES = REPO_ROOT / "pyweb" / "demo" / "page" / "examples"
FOLDER = EXAMPLES / "tfjs-blobs"
MAKE_DEMO_MODEL = REPO_ROOT / "tools" / "tfjs" / "make_demo_model.js"
WEIGHTS_FILE = "group1-shard1of1.bin"
CLASSES = ["north", "west", "east"]
LAYERS = [("dense_Dense1", "Dense"), ("dropout_Dropout1", "Dropout"), ("dense_Dense2", "Dense")]


def model_json(folder=FOLDER) -> dict:
    return json.loads((folder / "model.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model():
    return load_layers_model(f"file://{FOLDER}")


def test_folder_holds_exactly_the_converter_layout():
    assert sorted(p.name for p in FOLDER.iterdir()) == [WEIGHTS_FILE, "model.json"]
    manifest = model_json()["weightsManifest"]
    assert [group["paths"] for group in manifest] == [[WEIGHTS_FILE]]
    spec_bytes = sum(4 * int(np.prod(w["shape"])) for w in manifest[0]["weights"])
    assert (FOLDER / WEIGHTS_FILE).stat().st_size == spec_bytes
    assert sum(p.stat().st_size for p in FOLDER.iterdir()) < 10 * 1024


@pytest.mark.parametrize("suffix", ["", "/model.json"], ids=["folder", "model.json"])
def test_loads_from_folder_or_model_json(suffix):
    loaded = load_layers_model(f"file://{FOLDER}{suffix}")
    assert [(layer.name, layer.class_name) for layer in loaded.layers[1:]] == LAYERS
    assert loaded.user_defined_metadata["classes"] == CLASSES


def test_summary_lists_the_layers(model):
    lines = summary_lines(model)
    for name, class_name in LAYERS:
        assert any(line.startswith(f"{name} ({class_name})") for line in lines)
    assert "Total params: 75" in lines


def test_predict_matches_tfjs_on_the_probe(model):
    meta = model.user_defined_metadata
    got = model.predict(np.array(meta["probe"], np.float32))
    want = np.array(meta["probe_predictions"], np.float32)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert [CLASSES[i] for i in np.argmax(got, axis=1)] == ["north", "west", "east"]


def test_artifacts_say_tfjs_layers_model():
    artifacts = pyweb.load(f"file://{FOLDER}")
    assert artifacts.format == "layers-model"
    assert artifacts.generated_by.startswith("TensorFlow.js")


@pytest.mark.node
def test_rerun_writes_the_same_topology(tmp_path):
    out = tmp_path / "tfjs-blobs"
    proc = run_node(MAKE_DEMO_MODEL, out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    fresh, committed = model_json(out), model_json()
    assert sorted(p.name for p in out.iterdir()) == [WEIGHTS_FILE, "model.json"]
    for key in ("modelTopology", "format", "generatedBy", "weightsManifest"):
        assert fresh[key] == committed[key], key
    assert fresh["userDefinedMetadata"].keys() == committed["userDefinedMetadata"].keys()


@pytest.mark.node
def test_tfjs_loads_the_folder_over_http(model):
    # tf.loadLayersModel(url) is tf.io.browserHTTPRequest: model.json's URL, weight paths relative to it.
    with ModelServer(EXAMPLES) as server:
        seen = load_check(f"{server.url}/models/{FOLDER.name}/model.json")
    assert seen["model_loaded"] is True
    assert seen["userDefinedMetadata"] == model.user_defined_metadata
    ones = np.ones(seen["predict"]["inputs"][0], np.float32)
    np.testing.assert_allclose(model.predict(ones), np.array(seen["predict"]["output"], np.float32), rtol=0, atol=1e-6)
