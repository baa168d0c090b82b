"""ConvLSTM2D and ConvLSTM2DCell built in pyweb: refusals, shapes, states, layouts, configs."""

from __future__ import annotations

import numpy as np
import pytest

from pyweb.artifacts import HTTP_WEIGHTS_PATH, to_model_json
from pyweb.layers import (
    RNN,
    ConvLSTM2D,
    ConvLSTM2DCell,
    Input,
    LSTMCell,
    Model,
    Sequential,
    UnsupportedLayerError,
    load_layers_model,
    model_from_topology,
)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def _topology(class_name="ConvLSTM2D", **options):
    config = {"filters": 2, "kernel_size": [2, 2], "batch_input_shape": [None, 3, 5, 4, 2], **options}
    return {
        "class_name": "Sequential",
        "config": {"name": "s", "layers": [{"class_name": class_name, "config": config}]},
    }


_CONV_CELL = {"class_name": "ConvLSTM2DCell", "config": {"filters": 2, "kernel_size": 3}}


@pytest.mark.parametrize(
    ("class_name", "option", "value", "options"),
    [
        ("ConvLSTM2D", "unroll", True, {}),  # TF.js: not possible with convolutional RNNs
        ("ConvLSTM2DCell", "padding", "causal", {}),  # TF.js: unknown padding parameter
        ("ConvLSTM2DCell", "data_format", "channels_middle", {}),
        ("ConvLSTM2DCell", "dilation_rate", 2, {"strides": 2}),  # tfjs-core conv2d: strides or dilations must be 1
        ("ConvLSTM2DCell", "kernel_size", [2, 0], {}),
        ("RNN", "cell", _CONV_CELL, {}),  # the generic RNN's states are vectors
        ("StackedRNNCells", "cells", [_CONV_CELL], {}),
    ],
)
def test_options_refused_by_name(class_name, option, value, options):
    layer_class = "RNN" if class_name in ("RNN", "StackedRNNCells") else "ConvLSTM2D"
    options = {**options, option: value}
    if class_name == "StackedRNNCells":
        options = {"cell": {"class_name": class_name, "config": options}}
    elif class_name == "RNN":
        options = {"cell": value}
    with pytest.raises(UnsupportedLayerError) as info:
        model_from_topology(_topology(layer_class, **options))
    assert (info.value.layer_class, info.value.option) == (class_name, option)


def test_shapes_follow_strides_padding_and_layout():
    inp = Input(shape=[3, 7, 6, 2])
    seq, h, c = ConvLSTM2D(4, [2, 3], strides=[2, 1], return_sequences=True, return_state=True)(inp)
    assert (seq.shape, h.shape, c.shape) == ((None, 3, 3, 4, 4), (None, 3, 4, 4), (None, 3, 4, 4))
    assert ConvLSTM2D(2, 3, padding="same", dilation_rate=2)(inp).shape == (None, 7, 6, 2)
    first = ConvLSTM2D(5, 2, data_format="channels_first")(inp)  # channels 7, image 6 x 2
    assert first.shape == (None, 5, 5, 1)
    layer = ConvLSTM2D(3, 3, input_shape=[2, 6, 6, 4], seed=0)
    assert [w.shape for w in layer.get_weights()] == [(3, 3, 4, 12), (3, 3, 3, 12), (12,)]
    model = Model(inputs=inp, outputs=[seq, h, c])
    got = model.predict(_x(2, 3, 7, 6, 2))
    np.testing.assert_array_equal(got[0][:, -1], got[1])  # the last output is h


def test_channels_first_is_channels_last_transposed():
    x = _x(2, 3, 6, 5, 2)
    last = Sequential([ConvLSTM2D(3, [3, 2], padding="same", return_sequences=True, input_shape=[3, 6, 5, 2], seed=0)])
    first = Sequential(
        [
            ConvLSTM2D(
                3, [3, 2], padding="same", return_sequences=True, data_format="channels_first", input_shape=[3, 2, 6, 5]
            )
        ]
    )
    first.set_weights(last.get_weights())
    got = first.predict(np.moveaxis(x, -1, 2))
    np.testing.assert_array_equal(np.moveaxis(got, 2, -1), last.predict(x))


def test_a_1x1_kernel_makes_each_pixel_an_lstm():
    # Same gates and weight layout as LSTMCell; not bit-equal, as TF.js adds the bias before the recurrent
    # term here and after it in LSTMCell.
    conv = ConvLSTM2DCell(3, 1, unit_forget_bias=True, seed=0)
    conv.build((None, 2, 2, 4))
    lstm = LSTMCell(3)
    lstm.build((None, 4))
    kernel, recurrent, bias = conv.get_weights()
    lstm.set_weights([kernel[0, 0], recurrent[0, 0], bias])
    x, h, c = _x(5, 2, 2, 4), _x(5, 2, 2, 3, seed=1), _x(5, 2, 2, 3, seed=2)
    out, (_, c1) = conv.step(x, [h, c])
    flat, (_, flat_c) = lstm.step(x.reshape(-1, 4), [h.reshape(-1, 3), c.reshape(-1, 3)])
    np.testing.assert_allclose(out.reshape(-1, 3), flat, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(c1.reshape(-1, 3), flat_c, rtol=1e-6, atol=1e-7)


def test_initial_state_stateful_and_reset():
    x1, x2 = _x(2, 2, 5, 4, 1), _x(2, 3, 5, 4, 1, seed=1)
    h0, c0 = _x(2, 5, 4, 2, seed=2), _x(2, 5, 4, 2, seed=3)
    seq, h, c = Input(shape=[None, 5, 4, 1]), Input(shape=[5, 4, 2]), Input(shape=[5, 4, 2])
    fed = Model(inputs=[seq, h, c], outputs=ConvLSTM2D(2, 3, padding="same", seed=4)([seq, h, c]))
    stateful = Sequential([ConvLSTM2D(2, 3, padding="same", stateful=True, batch_input_shape=[2, None, 5, 4, 1])])
    stateful.set_weights(fed.get_weights())
    layer = stateful.layers[-1]
    assert [s.shape for s in layer.states] == [(2, 5, 4, 2)] * 2
    layer.reset_states([h0, c0])
    np.testing.assert_array_equal(stateful.predict(x1), fed.predict([x1, h0, c0]))
    # The next call goes on from there: as one call on both sequences.
    both = fed.predict([np.concatenate([x1, x2], axis=1), h0, c0])
    np.testing.assert_array_equal(stateful.predict(x2), both)
    with pytest.raises(ValueError):
        layer.reset_states([h0[:, :4], c0])
    with pytest.raises(ValueError):  # the states' image size must be known
        Sequential([ConvLSTM2D(2, 3, stateful=True, batch_input_shape=[2, 3, None, 4, 1])])


def test_config_round_trip(tmp_path):
    inp = Input(shape=[3, 6, 5, 2], name="frames")
    seq, h, c = ConvLSTM2D(
        3,
        [3, 2],
        padding="same",
        return_sequences=True,
        return_state=True,
        unit_forget_bias=True,
        recurrent_activation="sigmoid",
        name="enc",
    )(inp)
    back = ConvLSTM2D(
        2, 2, strides=2, go_backwards=True, use_bias=False, data_format="channels_first", dropout=0.2, name="back"
    )(seq)
    model = Model(inputs=inp, outputs=[back, h, c], name="clstm")
    model.save(f"file://{tmp_path / 'm'}")
    loaded = load_layers_model(f"file://{tmp_path / 'm'}")

    def as_json(m):
        return to_model_json(m.to_artifacts(), [HTTP_WEIGHTS_PATH])

    assert as_json(loaded) == as_json(model)
    assert loaded.to_artifacts().weight_bytes() == model.to_artifacts().weight_bytes()
    assert model.weight_names == [
        "enc/kernel",
        "enc/recurrent_kernel",
        "enc/bias",
        "back/kernel",
        "back/recurrent_kernel",
    ]
    x = _x(2, 3, 6, 5, 2)
    for a, b in zip(loaded.predict(x), model.predict(x)):
        np.testing.assert_array_equal(a, b)
    config = model.to_json()["config"]["layers"][1]["config"]
    assert list(config)[-11:] == [
        "filters",
        "kernel_size",
        "padding",
        "data_format",
        "dilation_rate",
        "strides",
        "return_sequences",
        "return_state",
        "go_backwards",
        "stateful",
        "unroll",
    ]
    assert "units" not in config and "cell" not in config and config["unit_forget_bias"] is True
    assert RNN.spatial_cells is False and ConvLSTM2D.spatial_cells is True
