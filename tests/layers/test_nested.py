"""Models used as layers of other models: topology bytes, node numbering and weight order as TF.js 4.22 writes them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pyweb.artifacts import HTTP_WEIGHTS_PATH, to_model_json
from pyweb.layers import (
    Add,
    BatchNormalization,
    Concatenate,
    Dense,
    Input,
    Model,
    Sequential,
    load_layers_model,
    model_from_topology,
)

from .helpers import read_io


def _mirror_nested_seq() -> Sequential:
    first = Sequential([Dense(4, input_shape=[5], activation="relu", name="f1")], name="first")
    fin = Input(shape=[3], name="fin")
    func = Model(inputs=fin, outputs=Dense(3, activation="tanh", name="fd")(fin), name="func")
    bn_seq = Sequential([BatchNormalization(input_shape=[3], name="bn"), Dense(2, name="bd")], name="bn_seq")
    return Sequential([first, Dense(3, name="mid"), func, bn_seq, BatchNormalization(name="bn_out")], name="nested_seq")


def _mirror_nested_functional() -> Model:
    a, b = Input(shape=[4], name="a"), Input(shape=[4], name="b")
    ia, ib = Input(shape=[4], name="ia"), Input(shape=[4], name="ib")
    pair = Model(inputs=[ia, ib], outputs=Dense(5, name="pd")(Concatenate(name="pc")([ia, ib])), name="pair")
    stats = Sequential([Dense(3, input_shape=[5], name="sd"), BatchNormalization(name="sbn")], name="stats")
    inner_most = Sequential([Dense(2, input_shape=[3], activation="elu", name="id")], name="inner_most")
    deep_in = Input(shape=[3], name="deep_in")
    deep = Model(inputs=deep_in, outputs=Dense(2, activation="sigmoid", name="dd")(inner_most(deep_in)), name="deep")
    p = pair([a, b])
    return Model(inputs=[a, b], outputs=[deep(stats(p)), Dense(2, name="side")(p)], name="nested_functional")


@pytest.mark.node
@pytest.mark.parametrize(
    ("case", "build"), [("nested_seq", _mirror_nested_seq), ("nested_functional", _mirror_nested_functional)]
)
def test_mirror_gives_tfjs_model_json_and_outputs(layers_goldens, case, build):
    model = build()
    model.set_weights(load_layers_model(f"file://{layers_goldens / case}").get_weights())
    assert to_model_json(model.to_artifacts(), [HTTP_WEIGHTS_PATH]) == (layers_goldens / case / "model.json").read_text(
        encoding="utf-8"
    )
    assert bytes(model.to_artifacts().weight_bytes()) == (layers_goldens / case / "model.weights.bin").read_bytes()
    inputs, expected = read_io(layers_goldens / case)
    got = model.predict(inputs if len(inputs) > 1 else inputs[0])
    for g, e in zip(got if isinstance(got, list) else [got], expected):
        assert g.tobytes() == e.tobytes()


def test_frozen_nested_model_saves_its_weights_with_the_non_trainable_ones():
    frozen = Sequential([Dense(3, input_shape=[4], name="zd"), BatchNormalization(name="zbn")], name="frozen")
    frozen.trainable = False
    outer = Sequential([Dense(4, input_shape=[2], name="pre"), frozen, BatchNormalization(name="post")])
    # What TF.js 4.22 saves for the same model (frozen.trainable = false).
    assert outer.weight_names == [
        "pre/kernel",
        "pre/bias",
        "post/gamma",
        "post/beta",
        "zd/kernel",
        "zd/bias",
        "zbn/gamma",
        "zbn/beta",
        "zbn/moving_mean",
        "zbn/moving_variance",
        "post/moving_mean",
        "post/moving_variance",
    ]
    outer.set_weights(outer.get_weights())


def _shared() -> tuple[Model, Sequential]:
    shared = Sequential([Dense(2, input_shape=[2], name="sh_d")], name="shared")
    a, b = Input(shape=[2], name="a"), Input(shape=[2], name="b")
    return Model(inputs=[a, b], outputs=Add(name="sum")([shared(a), shared(b)]), name="f"), shared


def test_nested_model_called_twice_is_numbered_from_1():
    model, shared = _shared()
    layers = model.get_config()["layers"]
    # TF.js 4.22's config for the same model: a nested model's calls are nodes 1, 2 (node 0 is its own graph).
    assert [[entry["name"], entry["inbound_nodes"]] for entry in layers] == [
        ["a", []],
        ["b", []],
        ["shared", [[["a", 0, 0, {}]], [["b", 0, 0, {}]]]],
        ["sum", [[["shared", 1, 0, {}], ["shared", 2, 0, {}]]]],
    ]
    kernel = np.array([[1.3, -1.2], [-0.8, -0.3]], np.float32)
    shared.set_weights([kernel, np.zeros(2, np.float32)])
    x, y = np.array([[1, 2]], np.float32), np.array([[3, -1]], np.float32)
    np.testing.assert_array_equal(model.predict([x, y]), x @ kernel + y @ kernel)
    again = model_from_topology(json.loads(json.dumps(model.to_json())))
    assert again.get_config() == model.get_config()
    assert again.weight_names == ["sh_d/kernel", "sh_d/bias"]


def test_keras_functional_class_name_kept_when_nested():
    inner_in = Input(shape=[3], name="inner_in")
    inner = Model(inputs=inner_in, outputs=Dense(2, name="k")(inner_in), name="inner")
    x = Input(shape=[3], name="x")
    topology = Model(inputs=x, outputs=inner(x), name="outer").to_json()
    topology["config"]["layers"][1]["class_name"] = "Functional"  # as Keras 2.4+ writes it
    model = model_from_topology(topology)
    assert model.layers[1].class_name == "Functional"
    assert model.to_json()["config"]["layers"][1]["class_name"] == "Functional"


def test_nested_model_needs_its_number_of_inputs():
    _, shared = _shared()
    with pytest.raises(ValueError):
        shared([Input(shape=[2]), Input(shape=[2])])
