"""Models built in pyweb: names, topology bytes, weights API, errors, summary, and TF.js reading them."""

from __future__ import annotations

import base64
import pickle
import subprocess
import sys

import numpy as np
import pytest

import pyweb
from pyweb.artifacts import HTTP_WEIGHTS_PATH, to_model_json
from pyweb.errors import ArtifactError
from pyweb.layers import (
    Activation,
    Add,
    Concatenate,
    Dense,
    Dropout,
    Flatten,
    Input,
    Model,
    Reshape,
    Sequential,
    UnsupportedLayerError,
    WeightMismatchError,
    load_layers_model,
)
from tests.tfjs_node import load_check

from .helpers import read_io, ulps


def _mirror_mlp() -> Sequential:
    return Sequential(
        [
            Dense(8, input_shape=[5], activation="relu", name="dense_Dense1"),
            Dense(6, activation="tanh", kernel_initializer="glorot_uniform", name="dense_Dense2"),
            Dense(3, activation="softmax", name="dense_Dense3"),
        ],
        name="sequential_1",
    )


def _mirror_functional() -> Model:
    a, b = Input(shape=[4], name="input1"), Input(shape=[4], name="b")
    s = Add(name="add_Add1")([a, b])
    d = Dropout(0.3, name="dropout_Dropout1")(Dense(6, activation="elu", name="dense_Dense4")(s))
    r = Flatten(name="flatten_Flatten1")(Reshape([3, 2], name="reshape_Reshape1")(d))
    c = Concatenate(name="concatenate_Concatenate1")([r, b])
    out = Dense(2, activation="sigmoid", name="dense_Dense5")(c)
    return Model(inputs=[a, b], outputs=[out, s], name="model1")


@pytest.mark.node
@pytest.mark.parametrize(("case", "build"), [("mlp", _mirror_mlp), ("functional", _mirror_functional)])
def test_mirror_gives_identical_model_json(layers_goldens, case, build):
    model = build()
    model.set_weights(load_layers_model(f"file://{layers_goldens / case}").get_weights())
    golden = (layers_goldens / case / "model.json").read_text(encoding="utf-8")
    assert to_model_json(model.to_artifacts(), [HTTP_WEIGHTS_PATH]) == golden
    inputs, expected = read_io(layers_goldens / case)
    got = model.predict(inputs if len(inputs) > 1 else inputs[0])
    assert ulps(got if case == "mlp" else got[0], expected[0]).max() <= 1


@pytest.mark.node
@pytest.mark.parametrize("build", [_mirror_mlp, _mirror_functional])
def test_tfjs_loads_pyweb_model(tmp_path, build):
    model = build()
    model.save(f"file://{tmp_path / 'm'}")
    report = load_check(tmp_path / "m")
    assert report["model_loaded"] and report["format"] == "layers-model"
    assert [w["name"] for w in report["weights"]] == list(model.weight_names)
    ones = [np.ones(shape, np.float32) for shape in report["predict"]["inputs"]]
    ours = model.predict(ones if len(ones) > 1 else ones[0])
    ours = ours if isinstance(ours, list) else [ours]
    theirs = report["predict"]["output"]
    theirs = theirs if len(ours) > 1 else [theirs]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, np.asarray(b, np.float32), rtol=1e-6, atol=1e-7)
    for w, ref in zip(report["weights"], model.get_weights()):
        assert base64.b64decode(w["values_b64"]) == ref.astype("<f4").tobytes()


def test_default_names_and_seeded_init():
    code = (
        "from pyweb.layers import *\n"
        "m = Sequential([Dense(4, input_shape=[3], seed=1), Dense(2, seed=2)])\n"
        "inp = Input(shape=[2]); f = Model(inputs=inp, outputs=Dense(1)(inp))\n"
        "print(m.name, m.weight_names, f.name, f.layers[0].name, m.get_weights()[0].sum())"
    )

    def run():
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    first = run()
    assert first.split()[:6] == [
        "sequential_1",
        "['dense_Dense1/kernel',",
        "'dense_Dense1/bias',",
        "'dense_Dense2/kernel',",
        "'dense_Dense2/bias']",
        "model1",
    ]
    assert first.split()[6] == "input1"
    assert run() == first  # seeded kernels are reproducible


def test_new_layers_have_weights_at_once_zero_bias():
    model = Sequential([Dense(4, input_shape=[3], kernel_initializer="glorot_uniform", seed=0)])
    kernel, bias = model.get_weights()
    assert kernel.shape == (3, 4) and kernel.dtype == np.float32
    assert np.all(np.abs(kernel) <= np.sqrt(6 / 7)) and not bias.any()


def test_set_weights_checks_shapes_and_count():
    model = Sequential([Dense(4, input_shape=[3]), Dense(2)])
    with pytest.raises(WeightMismatchError) as info:
        model.set_weights([np.zeros((3, 4)), np.zeros(4), np.zeros((4, 3)), np.zeros(2)])
    assert info.value.reason == "shape" and isinstance(info.value, ValueError)
    with pytest.raises(WeightMismatchError) as info:
        model.set_weights([np.zeros((3, 4))])
    assert info.value.reason == "count"
    weights = [np.full(w.shape, 0.5, np.float32) for w in model.get_weights()]
    model.set_weights(weights)
    np.testing.assert_array_equal(model.get_weights()[2], weights[2])


def _saved(model, tmp_path, edit=None):
    artifacts = model.to_artifacts()
    if edit:
        edit(artifacts)
    pyweb.save(artifacts, f"file://{tmp_path / 'm'}")
    return f"file://{tmp_path / 'm'}"


def test_unsupported_layer_class_and_option(tmp_path):
    model = Sequential([Dense(2, input_shape=[3])])

    def keras_only(a):  # a Keras layer TF.js does not have
        a.model_topology["config"]["layers"][0]["class_name"] = "ConvLSTM1D"

    with pytest.raises(UnsupportedLayerError) as info:
        load_layers_model(_saved(model, tmp_path, keras_only))
    assert info.value.layer_class == "ConvLSTM1D" and isinstance(info.value, ArtifactError)

    def option(a):
        a.model_topology["config"]["layers"][0]["config"]["activation"] = "mish"

    with pytest.raises(UnsupportedLayerError) as info:
        load_layers_model(_saved(model, tmp_path, option))
    assert (info.value.layer_class, info.value.option) == ("Dense", "activation")
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.layer_class, copy.option) == ("Dense", "activation")


def _keras_export(tmp_path, edit):
    """A functional Conv2D + ReLU model whose config is edited as a Keras 2.x export would be."""
    from pyweb.layers import Conv2D, ReLU

    inp = Input(shape=[5, 5, 2], name="img")
    model = Model(inputs=inp, outputs=ReLU(max_value=6, name="relu6")(Conv2D(3, 3, name="conv", seed=0)(inp)))
    before = to_model_json(model.to_artifacts(), [HTTP_WEIGHTS_PATH])

    def apply(artifacts):
        edit({e["name"]: e["config"] for e in artifacts.model_topology["config"]["layers"]})

    return _saved(model, tmp_path, apply), before


def test_keras_keys_at_their_defaults_and_keys_tfjs_ignores_load(tmp_path):
    def keras(cfg):
        cfg["img"]["ragged"] = False
        cfg["conv"]["groups"] = 1
        cfg["conv"]["kernel_initializer"]["shared_object_id"] = 7
        cfg["conv"]["renorm"] = True  # not a Conv2D key at all: TF.js ignores it
        cfg["relu6"].update(negative_slope=0.0, threshold=0)

    url, before = _keras_export(tmp_path, keras)
    model = load_layers_model(url)
    # What TF.js would save after loading it: the ignored keys are gone.
    assert to_model_json(model.to_artifacts(), [HTTP_WEIGHTS_PATH]) == before


@pytest.mark.parametrize(
    ("layer", "option", "value"),
    [
        ("img", "ragged", True),
        ("conv", "groups", 3),
        ("conv", "groups", True),
        ("relu6", "negative_slope", 0.1),
        ("relu6", "threshold", 1.5),
    ],
)
def test_keras_options_that_change_results_are_refused_by_name(tmp_path, layer, option, value):
    url, _ = _keras_export(tmp_path, lambda cfg: cfg[layer].update({option: value}))
    with pytest.raises(UnsupportedLayerError) as info:
        load_layers_model(url)
    assert info.value.option == option and repr(value) in str(info.value)
    assert info.value.layer_class == {"img": "InputLayer", "conv": "Conv2D", "relu6": "ReLU"}[layer]


@pytest.mark.parametrize(
    ("reason", "edit"),
    [
        ("extra", lambda s: s.append({"name": "nope/kernel", "shape": [1], "dtype": "float32"})),
        ("missing", lambda s: s.pop()),
        ("shape", lambda s: s[1].update(shape=[1, 2])),
    ],
)
def test_strict_weight_matching(tmp_path, reason, edit):
    model = Sequential([Dense(2, input_shape=[3])])

    def change(a):
        edit(a.weight_specs)
        if reason == "extra":
            a.weight_data = bytes(a.weight_bytes()) + b"\0" * 4
        if reason == "missing":
            a.weight_data = bytes(a.weight_bytes())[:-8]

    with pytest.raises(WeightMismatchError) as info:
        load_layers_model(_saved(model, tmp_path, change))
    assert info.value.reason == reason


def test_model_config_wrapper_and_async(tmp_path):
    import asyncio

    model = Sequential([Dense(2, input_shape=[3], seed=0)])

    def wrap(a):
        a.model_topology = {"model_config": a.model_topology}

    url = _saved(model, tmp_path, wrap)
    loaded = asyncio.run(pyweb.aload_layers_model(url))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    asyncio.run(loaded.asave(f"file://{tmp_path / 'copy'}"))
    np.testing.assert_array_equal(load_layers_model(f"file://{tmp_path / 'copy'}").predict(x), model.predict(x))


def test_predict_checks_inputs():
    model = Sequential([Dense(2, input_shape=[3])])
    with pytest.raises(ValueError):
        model.predict(np.ones((2, 4)))
    assert model.predict(np.ones((5, 3), dtype=np.float64)).dtype == np.float32


def test_summary(capsys):
    model = Sequential(
        [Dense(4, input_shape=[3], name="d1"), Activation("relu", name="a1"), Dense(2, name="d2")], name="s"
    )
    assert model.summary() is None
    out = capsys.readouterr().out.splitlines()
    assert out[0] == 'Model: "s"'
    assert out[4].startswith("d1 (Dense)") and "[null,4]" in out[4] and out[4].split()[-1] == "16"
    assert "Total params: 26" in out and "Trainable params: 26" in out


def test_import_pyweb_does_not_import_numpy():
    code = "import sys, pyweb; assert 'numpy' not in sys.modules; pyweb.layers.Dense; print('ok')"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False).stdout.strip() == "ok"
    )
