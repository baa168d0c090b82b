"""Conv2D, DepthwiseConv2D, pooling, BatchNormalization, Embedding, LayerNormalization built in pyweb:
configs byte-identical to TF.js, TF.js reading them, weight order, numerics and unsupported options."""

from __future__ import annotations

import numpy as np
import pytest

import pyweb
from pyweb.artifacts import HTTP_WEIGHTS_PATH, to_model_json
from pyweb.layers import (
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Dense,
    DepthwiseConv2D,
    Embedding,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    LayerNormalization,
    MaxPooling2D,
    Model,
    Sequential,
    UnsupportedLayerError,
    load_layers_model,
)
from tests.tfjs_node import load_check

from .helpers import read_io


def _mirror_cnn() -> Sequential:
    return Sequential(
        [
            Conv2D(4, 3, padding="same", activation="relu", input_shape=[20, 19, 3], name="c_same"),
            Conv2D(6, [3, 2], strides=2, padding="same", name="c_stride"),
            MaxPooling2D(3, strides=1, padding="same", name="mp_same"),
            Conv2D(5, 2, dilation_rate=2, use_bias=False, name="c_dil"),
            Conv2D(4, 3, dilation_rate=[1, 2], padding="same", activation="tanh", name="conv2d_Conv2D1"),
            DepthwiseConv2D(
                3, depth_multiplier=2, padding="same", activation="relu6", name="depthwise_conv2d_DepthwiseConv2D1"
            ),
            MaxPooling2D(2, name="max_pooling2d_MaxPooling2D1"),
            AveragePooling2D(3, strides=2, padding="same", name="ap_same"),
            BatchNormalization(name="bn"),
            AveragePooling2D([2, 1], strides=1, name="average_pooling2d_AveragePooling2D1"),
            GlobalAveragePooling2D(name="global_average_pooling2d_GlobalAveragePooling2D1"),
            Dense(3, activation="softmax", name="head"),
        ],
        name="cnn",
    )


def _mirror_embed() -> Model:
    tok = Input(shape=[6], name="tokens")
    e = Embedding(11, 5, name="emb")(tok)
    ln1 = LayerNormalization(epsilon=1e-4, name="ln_last")(e)
    ln2 = LayerNormalization(axis=[1, 2], center=False, name="layer_normalization_LayerNormalization1")(e)
    flat = Flatten(name="flat")(Concatenate(name="cat2")([ln1, ln2]))
    bn = BatchNormalization(center=False, scale=False, epsilon=0.01, name="bn_flat")(flat)
    return Model(inputs=tok, outputs=Dense(4, activation="softmax", name="out")(bn), name="embed")


def _mirror_embed_seq() -> Sequential:
    return Sequential(
        [
            Embedding(7, 3, input_length=4, name="embedding_Embedding1"),
            LayerNormalization(scale=False, name="layer_normalization_LayerNormalization2"),
            Flatten(name="flatten_Flatten2"),
            Dense(2, name="seq_out"),
        ],
        name="embed_seq",
    )


MIRRORS = [("cnn", _mirror_cnn), ("embed", _mirror_embed), ("embed_seq", _mirror_embed_seq)]


@pytest.mark.node
@pytest.mark.parametrize(("case", "build"), MIRRORS)
def test_mirror_gives_identical_model_json(layers_goldens, case, build):
    model = build()
    model.set_weights(load_layers_model(f"file://{layers_goldens / case}").get_weights())
    golden = (layers_goldens / case / "model.json").read_text(encoding="utf-8")
    assert to_model_json(model.to_artifacts(), [HTTP_WEIGHTS_PATH]) == golden
    assert bytes(model.to_artifacts().weight_bytes()) == (layers_goldens / case / "model.weights.bin").read_bytes()
    inputs, expected = read_io(layers_goldens / case)
    np.testing.assert_allclose(model.predict(inputs[0]), expected[0], rtol=1e-5, atol=1e-6)


def _with_weights(model, seed: int):
    """Non-trivial weights: sin-valued, variances in [0.3, 1]."""
    rng = np.random.default_rng(seed)
    weights = []
    for name, w in zip(model.weight_names, model.get_weights()):
        v = rng.uniform(-0.7, 0.7, w.shape)
        weights.append(np.abs(v) + 0.3 if name.endswith("moving_variance") else v)
    model.set_weights(weights)
    return model


@pytest.mark.node
@pytest.mark.parametrize(("case", "build"), MIRRORS)
def test_tfjs_loads_pyweb_model(tmp_path, case, build):
    model = _with_weights(build(), seed=len(case))
    model.save(f"file://{tmp_path / 'm'}")
    report = load_check(tmp_path / "m")
    assert report["model_loaded"]
    assert [w["name"] for w in report["weights"]] == model.weight_names
    shape = report["predict"]["inputs"][0]
    ours = model.predict(np.ones(shape, np.float32))
    np.testing.assert_allclose(ours, np.asarray(report["predict"]["output"], np.float32), rtol=1e-5, atol=1e-6)


def test_weights_trainable_first_like_tfjs():
    model = Sequential([Dense(2, input_shape=[3], name="d"), BatchNormalization(name="bn"), Dense(1, name="e")])
    assert model.weight_names == [
        "d/kernel",
        "d/bias",
        "bn/gamma",
        "bn/beta",
        "e/kernel",
        "e/bias",
        "bn/moving_mean",
        "bn/moving_variance",
    ]
    values = [np.full(w.shape, i, np.float32) for i, w in enumerate(model.get_weights())]
    model.set_weights(values)
    assert [float(w.flat[0]) for w in model.get_weights()] == list(range(8))
    np.testing.assert_array_equal(model.layers[2].weight("moving_variance"), np.full(2, 7, np.float32))


def _naive_conv(x, w, stride, dilation, pads):
    x = np.pad(x.astype(np.float64), ((0, 0), pads[0], pads[1], (0, 0)))
    kh, kw = w.shape[:2]
    oh = (x.shape[1] - (kh - 1) * dilation[0] - 1) // stride[0] + 1
    ow = (x.shape[2] - (kw - 1) * dilation[1] - 1) // stride[1] + 1
    out = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for i in range(oh):
        for j in range(ow):
            patch = x[
                :,
                i * stride[0] : i * stride[0] + (kh - 1) * dilation[0] + 1 : dilation[0],
                j * stride[1] : j * stride[1] + (kw - 1) * dilation[1] + 1 : dilation[1],
                :,
            ]
            out[:, i, j] = np.einsum("bhwc,hwcf->bf", patch, w)
    return out


@pytest.mark.parametrize(
    ("kwargs", "pads"),
    [
        ({"strides": 2, "padding": "same"}, ((1, 1), (0, 1))),  # 7x6 input, 3x3 kernel: the odd pad column goes right
        ({"padding": "valid", "dilation_rate": [2, 1]}, ((0, 0), (0, 0))),
        ({"strides": [1, 3], "padding": "same"}, ((1, 1), (0, 0))),
    ],
)
def test_conv2d_against_naive(kwargs, pads):
    layer = Conv2D(5, 3, use_bias=False, input_shape=[7, 6, 4], seed=3, **kwargs)
    x = np.random.default_rng(0).normal(size=(2, 7, 6, 4)).astype(np.float32)
    got = Sequential([layer]).predict(x)
    want = _naive_conv(x, layer.weight("kernel"), layer.strides, layer.dilation_rate, pads)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_pooling_same_counts_only_valid_cells():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    avg = Sequential([AveragePooling2D(3, strides=2, padding="same", input_shape=[4, 4, 1])]).predict(x)
    # 4 -> 2 outputs, pad 1 at the bottom/right: the last window sees rows/cols 2..3 only.
    assert avg[0, :, :, 0].tolist() == [[5.0, 6.5], [11.0, 12.5]]
    mx = Sequential([MaxPooling2D(3, strides=2, padding="same", input_shape=[4, 4, 1])]).predict(-x)
    assert mx[0, :, :, 0].tolist() == [[0.0, -2.0], [-8.0, -10.0]]


def test_embedding_casts_like_tfjs_and_rejects_bad_index():
    model = Sequential([Embedding(4, 2, input_length=3, name="e")])
    table = np.arange(8, dtype=np.float32).reshape(4, 2)
    model.set_weights([table])
    out = model.predict(np.array([[0.9, 3.7, -0.5]]))
    np.testing.assert_array_equal(out[0], table[[0, 3, 0]])
    with pytest.raises(ValueError):
        model.predict(np.array([[4.0, 0, 0]]))
    config = model.get_config()["layers"][0]["config"]
    assert config["batch_input_shape"] == [None, 3] and "dtype" not in config


def test_layer_normalization_writes_positive_axes_after_build():
    out = LayerNormalization(name="ln")(Input(shape=[6, 4]))
    assert out.layer.get_config()["axis"] == [2]
    assert LayerNormalization(name="x").get_config()["axis"] == -1


def _saved(model, tmp_path, edit):
    artifacts = model.to_artifacts()
    edit(artifacts.model_topology["config"]["layers"])
    pyweb.save(artifacts, f"file://{tmp_path / 'm'}")
    return f"file://{tmp_path / 'm'}"


def _set(index, key, value):
    return lambda layers: layers[index]["config"].__setitem__(key, value)


@pytest.mark.parametrize(
    ("edit", "layer_class", "option"),
    [
        (_set(0, "data_format", "channels_middle"), "Conv2D", "data_format"),
        (_set(0, "padding", "causal"), "Conv2D", "padding"),
        (_set(0, "strides", [2, 2]), "Conv2D", "dilation_rate"),  # strides and dilation both > 1
        (_set(1, "dilation_rate", [2, 2]), "DepthwiseConv2D", "dilation_rate"),  # TF.js ignores it
        (_set(2, "data_format", "NCHW"), "MaxPooling2D", "data_format"),
        (_set(3, "padding", "full"), "AveragePooling2D", "padding"),
        (_set(4, "axis", 1), "BatchNormalization", "axis"),
        (_set(5, "data_format", "channels_middle"), "GlobalAveragePooling2D", "data_format"),
        (_set(1, "groups", 2), "DepthwiseConv2D", "groups"),
    ],
)
def test_unsupported_options_raise_at_load(tmp_path, edit, layer_class, option):
    model = Sequential(
        [
            Conv2D(2, 3, dilation_rate=2, input_shape=[9, 9, 2]),
            DepthwiseConv2D(2),
            MaxPooling2D(),
            AveragePooling2D(),
            BatchNormalization(),
            GlobalAveragePooling2D(),
        ]
    )
    with pytest.raises(UnsupportedLayerError) as info:
        load_layers_model(_saved(model, tmp_path, edit))
    assert (info.value.layer_class, info.value.option) == (layer_class, option)
