"""TF.js's NLP layers: EinsumDense and PositionEmbedding, and the ones TF.js itself cannot round-trip."""

from __future__ import annotations

import numpy as np
import pytest

from pyweb.artifacts import HTTP_WEIGHTS_PATH, to_model_json
from pyweb.layers import (
    Add,
    Concatenate,
    EinsumDense,
    Flatten,
    Input,
    Model,
    PositionEmbedding,
    Reshape,
    UnsupportedLayerError,
    load_layers_model,
    model_from_topology,
)
from pyweb.layers.nlp import analyze_einsum, tfjs_einsum

from .helpers import read_io


def _mirror_einsum() -> Model:
    x = Input(shape=[3, 8], name="x")
    heads = EinsumDense("abc,cde->abde", output_shape=[3, 2, 4], bias_axes="de", name="heads")(x)
    bias_mid = EinsumDense("abc,cde->abde", output_shape=[3, 2, 4], bias_axes="d", name="bias_mid")(x)
    merged = EinsumDense("abcd,cde->abe", output_shape=[3, 6], bias_axes="e", activation="tanh", name="merge_heads")(
        heads
    )
    seq = EinsumDense("abc,cd->abd", output_shape=[None, 5], name="seq_nobias")(x)
    dense = EinsumDense("ab,bc->ac", output_shape=7, bias_axes="c", activation="relu", name="dense_like")(
        Flatten(name="flat_x")(x)
    )
    outer = EinsumDense("ab,bc->abc", output_shape=[7, 2], name="no_sum")(dense)
    flat = [Flatten(name=f"flat{i}")(t) for i, t in enumerate([bias_mid, merged, outer])]
    return Model(inputs=x, outputs=[Concatenate(name="cat")(flat), seq], name="einsum")


def _mirror_position_embedding() -> Model:
    x = Input(shape=[4, 6], name="x")
    normal = {"class_name": "RandomNormal", "config": {"mean": 0, "stddev": 0.02, "seed": None}}
    total = Add(name="sum")([x, PositionEmbedding(7, initializer=normal, name="pos")(x)])
    grid = Reshape([2, 2, 6], name="grid")(total)
    return Model(inputs=x, outputs=[total, PositionEmbedding(2, name="pos4")(grid)], name="position_embedding")


@pytest.mark.node
@pytest.mark.parametrize(
    ("case", "build"), [("einsum", _mirror_einsum), ("position_embedding", _mirror_position_embedding)]
)
def test_mirror_gives_tfjs_model_json_and_outputs(layers_goldens, case, build):
    model = build()
    model.set_weights(load_layers_model(f"file://{layers_goldens / case}").get_weights())
    assert to_model_json(model.to_artifacts(), [HTTP_WEIGHTS_PATH]) == (layers_goldens / case / "model.json").read_text(
        encoding="utf-8"
    )
    inputs, expected = read_io(layers_goldens / case)
    for got, want in zip(model.predict(inputs[0]), expected):
        assert got.tobytes() == want.tobytes()


def test_weight_shapes_as_tfjs():
    assert analyze_einsum("abc,cde->abde", "d", [None, 3, 8], [3, 2, 4]) == ([8, 2, 4], [2, 1], [None, 3, 2, 4])
    assert analyze_einsum("abc,cd->abd", None, [None, 3, 8], [None, 5]) == ([8, 5], None, [None, None, 5])
    assert analyze_einsum("abc,cd->abd", "", [None, 3, 8], [3, 5])[1] == []
    with pytest.raises(ValueError):
        analyze_einsum("abc,cd->abd", None, [None, 4, 8], [3, 5])  # axis b: 4 in, 3 out


def test_einsum_sums_in_tfjs_order():
    # Products in float32, each summed axis in turn with a float64 accumulator in index order.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 50, 4)).astype(np.float32)
    k = rng.standard_normal((50, 4, 6)).astype(np.float32)
    prod = (x[..., None] * k[None, None]).astype(np.float32)  # [2, 3, 50, 4, 6]
    inner = np.zeros((2, 3, 4, 6))
    for c in range(50):
        inner += prod[:, :, c]
    inner = inner.astype(np.float32)
    want = np.zeros((2, 3, 6))
    for d in range(4):
        want += inner[:, :, d]
    assert tfjs_einsum("abcd,cde->abe", x, k).tobytes() == want.astype(np.float32).tobytes()


@pytest.mark.parametrize("equation", ["...b,bc->...c", "abc,cd->ad"])
def test_equations_tfjs_cannot_run_are_refused(equation):
    # TF.js 4.22 predict: 'The ellipsis notation ("...") is not supported yet.' and, when the first
    # summed axis is in one operand only, 'Operands could not be broadcast together...'.
    with pytest.raises(UnsupportedLayerError) as info:
        EinsumDense(equation, output_shape=5)
    assert (info.value.layer_class, info.value.option) == ("EinsumDense", "equation")


def test_position_embedding_needs_enough_positions():
    x = Input(shape=[4, 6])
    model = Model(inputs=x, outputs=PositionEmbedding(3, seed=0)(x))
    with pytest.raises(ValueError):
        model.predict(np.zeros((1, 4, 6), np.float32))


@pytest.mark.parametrize(
    "name",
    [
        "MultiHeadAttention",
        "CachedMultiHeadAttention",
        "TransformerDecoder",
        "GPT2Backbone",
        "BytePairTokenizer",
        "StartEndPacker",
    ],
)
def test_layers_tfjs_cannot_round_trip_are_unsupported(name):
    topology = {
        "class_name": "Sequential",
        "config": {
            "name": "s",
            "layers": [{"class_name": name, "config": {"name": "x", "batch_input_shape": [None, 4, 8]}}],
        },
    }
    with pytest.raises(UnsupportedLayerError) as info:
        model_from_topology(topology)
    assert info.value.layer_class == name
