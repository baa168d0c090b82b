"""pyweb.layers against real TF.js: load TF.js models, predict, and write byte-identical model.json."""

from __future__ import annotations

import base64
import json
import shutil

import numpy as np
import pytest

import pyweb
from pyweb.artifacts import HTTP_WEIGHTS_PATH, to_model_json
from pyweb.layers import (
    LAYER_CLASSES,
    InputLayer,
    Layer,
    Model,
    UnsupportedLayerError,
    load_layers_model,
    register_layer,
)

from .helpers import class_names, read_io, ulps

pytestmark = pytest.mark.node

RNN_CASES = [
    "rnn_simple",
    "rnn_lstm",
    "rnn_gru",
    "rnn_state",
    "rnn_cells",
    "bidirectional",
    "time_distributed",
    "mask_embed_lstm",
    "mask_gru",
    "conv_lstm",
    "conv_lstm_state",
]
CASES = [
    "mlp",
    "wide",
    "activations",
    "functional",
    "cnn",
    "embed",
    "embed_seq",
    "advanced_acts",
    "image_ops",
    "merge_seq",
    "conv1d_seq",
    "conv3d_vol",
    "conv_transpose",
    "separable_first",
    "dot_merge",
    "preprocess",
    "category",
    *RNN_CASES,
    "nested_seq",
    "nested_functional",
    "einsum",
    "position_embedding",
]
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


def _every_layer(case_dir):
    """(layer name, pyweb output, TF.js output) for every non-input layer of a golden case."""
    model = load_layers_model(f"file://{case_dir}")
    inputs, _ = read_io(case_dir)
    expected = json.loads((case_dir / "layer_outputs.json").read_text())["layers"]
    inner = [layer for layer in model.layers if not isinstance(layer, InputLayer)]
    probe = Model(inputs=model.inputs, outputs=[layer.inbound_nodes[0].outputs[0] for layer in inner])
    got = probe.predict(inputs if len(inputs) > 1 else inputs[0])
    for layer, g, e in zip(inner, got if isinstance(got, list) else [got], expected):
        assert layer.name == e["name"]
        yield layer.name, g, np.frombuffer(base64.b64decode(e["values_b64"]), "<f4").reshape(e["shape"])


@pytest.mark.parametrize("case", CASES)
def test_every_layer_matches_tfjs(layers_goldens, case):
    for name, got, want in _every_layer(layers_goldens / case):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"{case}/{name}")


#: The cases of the activation, image and merge layers: every layer bit-exact but these (max ulps),
#: where TF.js's Math.exp/Math.log differ from numpy's by an ulp (softmax over two axes, and what
#: concatenates it).
EXACT_BUT = {
    "advanced_acts": {"softmax_12": 2, "grid_flat1": 2, "cat": 2},
    "image_ops": {},
    "merge_seq": {},
    "conv1d_seq": {},
    "conv3d_vol": {},
    "conv_transpose": {},
    "separable_first": {},
    "dot_merge": {},
    "preprocess": {},
    "category": {},
    # Recurrent layers (ConvLSTM2D too), wrappers, masks: every step in TF.js's float32 order, bit-exact.
    **{case: {} for case in RNN_CASES},
    "nested_seq": {},
    "nested_functional": {},
    "einsum": {},
    "position_embedding": {},
}


@pytest.mark.parametrize("case", EXACT_BUT)
def test_layers_exact_or_within_stated_ulps(layers_goldens, case):
    for name, got, want in _every_layer(layers_goldens / case):
        assert got.shape == want.shape
        assert int(ulps(got, want).max()) <= EXACT_BUT[case].get(name, 0), f"{case}/{name}"


#: Cases whose TF.js resave depends on the process: TF.js rebuilds a StackedRNNCells from its cells
#: alone and numbers its new name by how many were made before; pyweb keeps the stored name, so
#: the model saves back exactly as it was loaded.
RESAVED_AS = {"rnn_cells": "model.json"}


@pytest.mark.parametrize("case", CASES)
def test_resave_gives_tfjs_bytes(layers_goldens, case):
    # What TF.js writes after loading this model and saving it again. It equals model.json except
    # that a reloaded Embedding gains "dtype" (TF.js's Layer constructor sets it from batch_input_shape).
    golden = (layers_goldens / case / RESAVED_AS.get(case, "resaved.json")).read_text(encoding="utf-8")
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
    artifacts.training_config = {
        "loss": "mean_squared_error",
        "metrics": {},
        "optimizer_config": {"class_name": "SGD", "config": {"learningRate": 0.1}},
    }
    pyweb.save(artifacts, f"file://{tmp_path / 'm'}")
    model = pyweb.load_layers_model(f"file://{tmp_path / 'm'}")
    assert model.to_artifacts().training_config == artifacts.training_config
    assert json.loads(to_model_json(model.to_artifacts(), [HTTP_WEIGHTS_PATH]))["trainingConfig"]["loss"] == (
        "mean_squared_error"
    )


class ScaleShift(Layer):
    """The custom layer layers_goldens.js registers in TF.js, written for pyweb: x * scale * factor + shift."""

    class_name = "ScaleShift"
    config_keys = ("factor",)

    def __init__(self, factor: float = 2, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.add_weight("scale", np.ones(input_shape[-1]))
        self.add_weight("shift", np.zeros(input_shape[-1]), trainable=False)

    def call(self, inputs):
        return inputs * self.weight("scale") * np.float32(self.factor) + self.weight("shift")

    def layer_config(self):
        return {"factor": self.factor}


def test_custom_layer_tfjs_saved_loads_once_registered(layers_goldens):
    url = f"file://{layers_goldens / 'custom_layer'}"
    with pytest.raises(UnsupportedLayerError) as info:
        load_layers_model(url)
    assert info.value.layer_class == "ScaleShift"
    register_layer(ScaleShift)
    try:
        model = load_layers_model(url)
        inputs, expected = read_io(layers_goldens / "custom_layer")
        assert model.predict(inputs[0]).tobytes() == expected[0].tobytes()
        # TF.js's weight order: trainable first, each layer in creation order.
        assert model.layers[-1].weight_names == ["scale_shift/scale", "scale_shift/shift"]
        golden = (layers_goldens / "custom_layer" / "resaved.json").read_text(encoding="utf-8")
        assert to_model_json(model.to_artifacts(), [HTTP_WEIGHTS_PATH]) == golden
    finally:
        LAYER_CLASSES.pop("ScaleShift")


def test_readme_custom_layer_example_loads_the_tfjs_model(layers_goldens, tmp_path, monkeypatch):
    from tests.test_readme import readme_example

    shutil.copytree(layers_goldens / "custom_layer", tmp_path / "model-saved-by-tfjs")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    try:
        exec(compile(readme_example("**Custom layers.**"), "README.md", "exec"), namespace)
        inputs, expected = read_io(layers_goldens / "custom_layer")
        assert namespace["model"].predict(inputs[0]).tobytes() == expected[0].tobytes()
    finally:
        LAYER_CLASSES.pop("ScaleShift", None)


def test_random_width_round_trips_and_refuses_to_predict(layers_goldens):
    # TF.js 4.22 resizes by a random factor in predict as well, so only the model.json round trip is comparable.
    case = layers_goldens / "random_resize"
    model = load_layers_model(f"file://{case}")
    assert to_model_json(model.to_artifacts(), [HTTP_WEIGHTS_PATH]) == (case / "resaved.json").read_text("utf-8")
    inputs, _ = read_io(case)
    with pytest.raises(UnsupportedLayerError) as info:
        model.predict(inputs[0])
    assert (info.value.layer_class, info.value.option) == ("RandomWidth", "factor")


def test_goldens_use_every_layer_class_pyweb_loads(layers_goldens):
    # What TF.js itself saved: each class pyweb registers is checked against TF.js somewhere above.
    used = set()
    for case_dir in layers_goldens.iterdir():
        if (case_dir / "model.json").is_file():
            used |= class_names(json.loads((case_dir / "model.json").read_text())["modelTopology"])
    # ConvLSTM2DCell is registered (as TF.js registers it) but never saved: ConvLSTM2D's config does not
    # name its cell, and TF.js cannot run the cell in a generic RNN.
    missing = set(LAYER_CLASSES) - used - {"ConvLSTM2DCell"}
    assert not missing, f"no TF.js golden uses {sorted(missing)}: add a case to tools/tfjs/layers_goldens.js"
