"""pyweb.layers against real TF.js: load TF.js models, predict, and write byte-identical model.json."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

import pyweb
from pyweb.artifacts import HTTP_WEIGHTS_PATH, to_model_json
from pyweb.layers import InputLayer, Model, load_layers_model

from .helpers import read_io, ulps

pytestmark = pytest.mark.node

CASES = ["mlp", "wide", "activations", "functional", "cnn", "embed", "embed_seq"]
#: Cases made only of Dense (+ bias/identity layers), held to 1 ulp.
DENSE_ONLY = {"wide"}


@pytest.mark.parametrize("case", CASES)
def test_predict_matches_tfjs(layers_goldens, case):
    model = load_layers_model(f"file://{layers_goldens / case}")
    inputs, expected = read_io(layers_goldens / case)
    got = model.predict(inputs if len(inputs) > 1 else inputs[0])
    got = got if isinstance(got, list) else [got]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.dtype == np.float32 and g.shape == e.shape
        if case in DENSE_ONLY:
            assert ulps(g, e).max() <= 1
        else:
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_every_layer_matches_tfjs(layers_goldens, case):
    model = load_layers_model(f"file://{layers_goldens / case}")
    inputs, _ = read_io(layers_goldens / case)
    expected = json.loads((layers_goldens / case / "layer_outputs.json").read_text())["layers"]
    inner = [layer for layer in model.layers if not isinstance(layer, InputLayer)]
    probe = Model(inputs=model.inputs, outputs=[layer.inbound_nodes[0].outputs[0] for layer in inner])
    got = probe.predict(inputs if len(inputs) > 1 else inputs[0])
    for layer, g, e in zip(inner, got if isinstance(got, list) else [got], expected):
        assert layer.name == e["name"]
        want = np.frombuffer(base64.b64decode(e["values_b64"]), "<f4").reshape(e["shape"])
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6, err_msg=f"{case}/{layer.name}")


@pytest.mark.parametrize("case", CASES)
def test_resave_gives_tfjs_bytes(layers_goldens, case):
    # What TF.js writes after loading this model and saving it again. It equals model.json except
    # that a reloaded Embedding gains "dtype" (TF.js's Layer constructor sets it from batch_input_shape).
    golden = (layers_goldens / case / "resaved.json").read_text(encoding="utf-8")
    model = load_layers_model(f"file://{layers_goldens / case}")
    artifacts = model.to_artifacts()
    assert to_model_json(artifacts, [HTTP_WEIGHTS_PATH]) == golden
    assert bytes(artifacts.weight_bytes()) == (layers_goldens / case / "model.weights.bin").read_bytes()


def test_dict_and_list_inputs(layers_goldens):
    model = load_layers_model(f"file://{layers_goldens / 'functional'}")
    inputs, _ = read_io(layers_goldens / "functional")
    by_list = model.predict(inputs)
    by_dict = model.predict(dict(zip(model.input_names, inputs)))
    for a, b in zip(by_list, by_dict):
        np.testing.assert_array_equal(a, b)


def test_training_config_carried_through(layers_goldens, tmp_path):
    artifacts = pyweb.load(f"file://{layers_goldens / 'mlp'}")
    artifacts.training_config = {"loss": "mean_squared_error", "metrics": {}, "optimizer_config": {
        "class_name": "SGD", "config": {"learningRate": 0.1}}}
    pyweb.save(artifacts, f"file://{tmp_path / 'm'}")
    model = pyweb.load_layers_model(f"file://{tmp_path / 'm'}")
    assert model.to_artifacts().training_config == artifacts.training_config
    assert json.loads(to_model_json(model.to_artifacts(), [HTTP_WEIGHTS_PATH]))["trainingConfig"]["loss"] == (
        "mean_squared_error")
