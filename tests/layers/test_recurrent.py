"""Recurrent layers, wrappers and masks built in pyweb: options, states, shapes, configs."""

from __future__ import annotations

import numpy as np
import pytest

from pyweb.artifacts import HTTP_WEIGHTS_PATH, to_model_json
from pyweb.errors import CorruptModelError
from pyweb.layers import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    Dense,
    Embedding,
    GRUCell,
    Input,
    LSTMCell,
    Masking,
    Model,
    Sequential,
    SimpleRNN,
    SimpleRNNCell,
    TimeDistributed,
    UnsupportedLayerError,
    load_layers_model,
    model_from_topology,
)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def _lstm_topology(**options):
    return {
        "class_name": "Sequential",
        "config": {
            "name": "s",
            "layers": [
                {
                    "class_name": options.pop("class_name", "LSTM"),
                    "config": {"units": 2, "batch_input_shape": [None, 3, 2], **options},
                }
            ],
        },
    }


@pytest.mark.parametrize(
    ("class_name", "option", "value"),
    [
        ("GRU", "reset_after", True),  # TF.js refuses it too
        ("LSTM", "time_major", True),  # Keras-only; would change what the axes mean
    ],
)
def test_options_refused_by_name(class_name, option, value):
    with pytest.raises(UnsupportedLayerError) as info:
        model_from_topology(_lstm_topology(class_name=class_name, **{option: value}))
    assert (info.value.layer_class, info.value.option) == (class_name, option)


def test_keras_defaults_and_ignored_options_accepted():
    model = model_from_topology(
        _lstm_topology(
            class_name="GRU", reset_after=False, time_major=False, implementation=1, dropout=0.5, unroll=True
        )
    )
    assert model.predict(_x(2, 3, 2)).shape == (2, 2)


def test_bidirectional_merge_mode_checked():
    with pytest.raises(ValueError):
        Bidirectional(LSTM(2), merge_mode="max")
    topology = {
        "class_name": "Sequential",
        "config": {
            "name": "s",
            "layers": [
                {
                    "class_name": "Bidirectional",
                    "config": {
                        "merge_mode": "max",
                        "batch_input_shape": [None, 3, 2],
                        "layer": {"class_name": "LSTM", "config": {"units": 2}},
                    },
                }
            ],
        },
    }
    with pytest.raises(CorruptModelError):
        model_from_topology(topology)


def test_return_state_shapes_and_outputs():
    inp = Input(shape=[5, 3])
    seq, h, c = LSTM(4, return_sequences=True, return_state=True, seed=1)(inp)
    assert (seq.shape, h.shape, c.shape) == ((None, 5, 4), (None, 4), (None, 4))
    out, _fh, _fc, _bh, bc = Bidirectional(LSTM(2, return_state=True, seed=2))(inp)
    assert out.shape == (None, 4) and bc.shape == (None, 2)
    fwd, bwd = Bidirectional(GRU(3, return_sequences=True, seed=3), merge_mode=None)(inp)
    assert fwd.shape == bwd.shape == (None, 5, 3)
    model = Model(inputs=inp, outputs=[seq, h, c, fwd])
    got = model.predict(_x(2, 5, 3))
    np.testing.assert_array_equal(got[0][:, -1], got[1])  # the last output is h


def test_initial_state_equals_stateful_start():
    x, h0, c0 = _x(2, 4, 3), _x(2, 3, seed=1), _x(2, 3, seed=2)
    seq, h, c = Input(shape=[4, 3]), Input(shape=[3]), Input(shape=[3])
    lstm = LSTM(3, seed=5)
    fed = Model(inputs=[seq, h, c], outputs=lstm([seq, h, c]))
    stateful = Sequential([LSTM(3, stateful=True, batch_input_shape=[2, 4, 3])])
    stateful.set_weights(fed.get_weights())
    stateful.layers[-1].reset_states([h0, c0])
    np.testing.assert_array_equal(fed.predict([x, h0, c0]), stateful.predict(x))


def test_stateful_keeps_states_between_predicts():
    x1, x2 = _x(2, 3, 4), _x(2, 5, 4, seed=1)
    stateful = Sequential([GRU(3, stateful=True, batch_input_shape=[2, None, 4], seed=0)])
    plain = Sequential([GRU(3, input_shape=[None, 4])])
    plain.set_weights(stateful.get_weights())
    first = stateful.predict(x1)
    np.testing.assert_array_equal(first, plain.predict(x1))
    # The second call continues where the first ended: as one call on both sequences.
    np.testing.assert_array_equal(stateful.predict(x2), plain.predict(np.concatenate([x1, x2], axis=1)))
    layer = stateful.layers[-1]
    layer.reset_states()
    np.testing.assert_array_equal(stateful.predict(x1), first)
    assert [s.shape for s in layer.states] == [(2, 3)]
    with pytest.raises(ValueError):
        layer.reset_states([np.zeros((3, 3))])
    with pytest.raises(AttributeError):
        plain.layers[-1].reset_states()


def test_stateful_needs_a_batch_size():
    with pytest.raises(ValueError):
        Sequential([LSTM(2, stateful=True, input_shape=[3, 2])])


def test_masked_steps_keep_previous_output():
    x = _x(2, 5, 3)
    x[0, 3:] = 0  # padding at the end: masked steps leave the output alone
    model = Sequential([Masking(input_shape=[5, 3]), SimpleRNN(4, return_sequences=True, seed=0)])
    seq = model.predict(x)
    np.testing.assert_array_equal(seq[0, 3], seq[0, 2])
    np.testing.assert_array_equal(seq[0, 4], seq[0, 2])
    short = Sequential([SimpleRNN(4, return_sequences=True, input_shape=[3, 3])])
    short.set_weights(model.get_weights())
    np.testing.assert_array_equal(short.predict(x[:1, :3])[0], seq[0, :3])


def test_mask_zero_follows_tokens_not_indices():
    emb = Embedding(5, 2, mask_zero=True, input_length=4, seed=0)
    model = Sequential([emb, LSTM(2, seed=1)])
    tokens = np.array([[1, 2, 0, 0], [1, 2, 0.25, 0]], np.float32)  # 0.25 looks up row 0, unmasked
    out = model.predict(tokens)
    assert not np.array_equal(out[0], out[1])
    unmasked = Sequential([Embedding(5, 2), LSTM(2)])
    unmasked.set_weights(model.get_weights())
    np.testing.assert_array_equal(unmasked.predict(tokens[:, :2])[0], out[0])


def test_weight_names_follow_tfjs():
    inp = Input(shape=[4, 3])
    stack = RNN([SimpleRNNCell(2), GRUCell(2)], name="stack")
    bidi = Bidirectional(LSTM(2, name="enc"), name="bi")
    td = TimeDistributed(Dense(2), name="td")
    model = Model(inputs=inp, outputs=[stack(inp), bidi(inp), td(inp)])
    assert model.weight_names == [
        "stack/RNNCell_0/kernel",
        "stack/RNNCell_0/recurrent_kernel",
        "stack/RNNCell_0/bias",
        "stack/RNNCell_1/kernel",
        "stack/RNNCell_1/recurrent_kernel",
        "stack/RNNCell_1/bias",
        "bi/forward_enc/kernel",
        "bi/forward_enc/recurrent_kernel",
        "bi/forward_enc/bias",
        "bi/backward_enc/kernel",
        "bi/backward_enc/recurrent_kernel",
        "bi/backward_enc/bias",
        "td/kernel",
        "td/bias",
    ]
    assert [w.shape for w in stack.get_weights()] == [(3, 2), (2, 2), (2,), (2, 6), (2, 6), (6,)]


def _model_json(model):
    return to_model_json(model.to_artifacts(), [HTTP_WEIGHTS_PATH])


def test_nested_configs_round_trip(tmp_path):
    inp = Input(shape=[4, 3], name="x")
    a = RNN(LSTMCell(3, unit_forget_bias=True), return_sequences=True, name="cell_rnn")(inp)
    b = Bidirectional(GRU(2, return_sequences=True), merge_mode="ave", name="bi")(a)
    c = TimeDistributed(Dense(2, activation="relu"), name="td")(b)
    d = RNN([SimpleRNNCell(2), LSTMCell(2)], go_backwards=True, name="stack")(c)
    model = Model(inputs=inp, outputs=d, name="nested")
    model.save(f"file://{tmp_path / 'm'}")
    loaded = load_layers_model(f"file://{tmp_path / 'm'}")
    assert _model_json(loaded) == _model_json(model)
    assert loaded.to_artifacts().weight_bytes() == model.to_artifacts().weight_bytes()
    x = _x(3, 4, 3)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    config = model.to_json()["config"]["layers"]
    assert config[1]["config"]["cell"]["class_name"] == "LSTMCell"
    assert config[2]["config"]["layer"]["config"]["reset_after"] is False
    assert config[4]["config"]["cell"]["class_name"] == "StackedRNNCells"


def test_unit_forget_bias_and_orthogonal_initializers():
    lstm = LSTM(3, unit_forget_bias=True, input_shape=[2, 4], seed=0)
    bias = lstm.weight("bias")
    np.testing.assert_array_equal(bias[3:6], 1)
    np.testing.assert_array_equal(np.delete(bias, range(3, 6)), 0)
    rk = lstm.weight("recurrent_kernel")
    assert rk.shape == (3, 12)
    np.testing.assert_allclose(rk @ rk.T, np.eye(3), atol=1e-5)
