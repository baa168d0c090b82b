"""Conv1D/3D, transposed and separable convolutions, 1-D/3-D pooling, Dot and preprocessing built in
pyweb: what the TF.js goldens cannot show (causal padding, depth multipliers TF.js does not save),
a transposed convolution against a direct scatter, and options refused by name."""

from __future__ import annotations

import numpy as np
import pytest

from pyweb.layers import (
    CategoryEncoding,
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv2D,
    Dot,
    Input,
    MaxPooling1D,
    Model,
    SeparableConv2D,
    Sequential,
    UnsupportedLayerError,
    layer_from_config,
)

RNG = np.random.default_rng(5)


def _x(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def test_separable_is_depthwise_then_pointwise_bit_for_bit():
    sep = SeparableConv2D(4, 3, depth_multiplier=2, padding="same", input_shape=[7, 6, 3], seed=1)
    model = Sequential([sep])
    dw = DepthwiseConv2D(3, depth_multiplier=2, padding="same", use_bias=False, input_shape=[7, 6, 3])
    pw = Conv2D(4, 1)
    chain = Sequential([dw, pw])
    kernel, pointwise, bias = model.get_weights()
    chain.set_weights([kernel, pointwise, bias])
    x = _x(2, 7, 6, 3)
    assert model.predict(x).tobytes() == chain.predict(x).tobytes()
    # TF.js 4.22 leaves depth_multiplier out of its config (its resave cannot load); pyweb writes it.
    assert sep.get_config()["depth_multiplier"] == 2
    assert "depth_multiplier" not in SeparableConv2D(4, 3).get_config()


def test_causal_conv1d_is_valid_conv_of_left_padded_sequence():
    causal = Sequential([Conv1D(3, 3, dilation_rate=2, padding="causal", input_shape=[9, 2], seed=2)])
    valid = Sequential([Conv1D(3, 3, dilation_rate=2, input_shape=[13, 2])])
    valid.set_weights(causal.get_weights())
    x = _x(2, 9, 2)
    got = causal.predict(x)
    assert got.shape == (2, 9, 3)
    assert got.tobytes() == valid.predict(np.pad(x, ((0, 0), (4, 0), (0, 0)))).tobytes()


@pytest.mark.parametrize(("kernel", "strides", "padding"), [(3, 2, "same"), ((3, 2), (2, 3), "valid"), (1, 3, "valid")])
def test_conv2d_transpose_against_scatter(kernel, strides, padding):
    layer = Conv2DTranspose(2, kernel, strides=strides, padding=padding, use_bias=False, input_shape=[4, 5, 3], seed=4)
    x = _x(1, 4, 5, 3)
    got = Sequential([layer]).predict(x)
    w = layer.weight("kernel").astype(np.float64)  # [kh, kw, filters, in]
    (kh, kw), (sh, sw) = layer.kernel_size, layer.strides
    full = np.zeros((1, (4 - 1) * sh + kh, (5 - 1) * sw + kw, 2))
    for i in range(4):
        for j in range(5):
            full[:, i * sh : i * sh + kh, j * sw : j * sw + kw] += np.einsum("bc,hwfc->bhwf", x[:, i, j], w)
    out_h, out_w = got.shape[1:3]
    top = max(0, (full.shape[1] - out_h)) // 2 if padding == "same" else 0
    left = max(0, (full.shape[2] - out_w)) // 2 if padding == "same" else 0
    want = np.zeros((1, out_h, out_w, 2))
    crop = full[:, top : top + out_h, left : left + out_w]
    want[:, : crop.shape[1], : crop.shape[2]] = crop
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_dot_shapes_follow_tfjs():
    a, s, t = Input(shape=[4]), Input(shape=[3, 4]), Input(shape=[5, 4])
    assert Dot(1)([a, a]).shape == (None, 1)
    assert Dot(2)([s, t]).shape == (None, 3, 5)
    assert Dot([2, 1])([s, a]).shape == (None, 3)
    model = Model(inputs=[s, t], outputs=Dot(-1, normalize=True)([s, t]))
    x, y = _x(2, 3, 4), _x(2, 5, 4)
    cos = np.einsum("bik,bjk->bij", x, y) / np.linalg.norm(x, axis=-1)[..., None] / np.linalg.norm(y, axis=-1)[:, None]
    np.testing.assert_allclose(model.predict([x, y]), cos, rtol=1e-5, atol=1e-6)


def test_category_encoding_modes():
    ids = np.array([[0.9, 2, 2], [5.5, 0, 1]], np.float32)
    assert CategoryEncoding(6).call(ids).tolist() == [[1, 0, 1, 0, 0, 0], [1, 1, 0, 0, 0, 1]]
    assert CategoryEncoding(6, output_mode="count").call(ids).tolist() == [[1, 0, 2, 0, 0, 0], [1, 1, 0, 0, 0, 1]]
    assert CategoryEncoding(3, output_mode="one_hot").call(np.array([[2], [0]])).tolist() == [[0, 0, 1], [1, 0, 0]]
    with pytest.raises(ValueError):
        CategoryEncoding(6).call(np.array([[6.0]]))


def _entry(class_name, **config):
    return {"class_name": class_name, "config": config}


@pytest.mark.parametrize(
    ("entry", "option"),
    [
        (_entry("Conv1D", filters=2, kernel_size=3, data_format="channels_first"), "data_format"),
        (_entry("Conv2DTranspose", filters=2, kernel_size=3, dilation_rate=[2, 2]), "dilation_rate"),
        (_entry("Conv2DTranspose", filters=2, kernel_size=3, output_padding=[1, 1]), "output_padding"),
        (_entry("Conv3DTranspose", filters=2, kernel_size=3, padding="causal"), "padding"),
        (_entry("SeparableConv2D", filters=2, kernel_size=3, data_format="channels_first"), "data_format"),
        (_entry("SeparableConv2D", filters=2, kernel_size=3, kernel_initializer="ones"), "kernel_initializer"),
        (_entry("DepthwiseConv2D", kernel_size=3, dilation_rate=2), "dilation_rate"),
        (_entry("Conv3D", filters=2, kernel_size=3, strides=2, dilation_rate=2), "dilation_rate"),
        (_entry("MaxPooling1D", pool_size=2, data_format="channels_first"), "data_format"),
        (_entry("AveragePooling3D", pool_size=2, padding="causal"), "padding"),
        (_entry("CategoryEncoding", num_tokens=3, output_mode="tf_idf"), "output_mode"),
        (_entry("Resizing", height=3, width=3, interpolation="bicubic"), "interpolation"),
        (_entry("Dot", axes=[1, 2, 3]), "axes"),
    ],
)
def test_options_refused_by_name(entry, option):
    with pytest.raises(UnsupportedLayerError) as info:
        layer_from_config(entry)
    assert (info.value.layer_class, info.value.option) == (entry["class_name"], option)


def test_keras_defaults_accepted():
    layer = layer_from_config(_entry("MaxPooling1D", pool_size=2, data_format="channels_last", name="p"))
    assert isinstance(layer, MaxPooling1D) and "data_format" not in layer.get_config()
    conv = layer_from_config(_entry("Conv2DTranspose", filters=2, kernel_size=3, output_padding=None, name="t"))
    assert "dilation_rate" not in conv.get_config()
