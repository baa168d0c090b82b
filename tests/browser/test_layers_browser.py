"""pyweb.layers and real TensorFlow.js 4.22 in one page: models cross both ways and predict alike.

TF.js (``tf.min.js``, cpu backend) and Pyodide share the page, so they share its
localStorage and IndexedDB. Every case below is built twice, with the same
names and configs: in TF.js (``JS_BUILDERS``) and in pyweb (``PY_BUILDERS``).
The cases together use a class of every module of pyweb.layers (every class is
checked against TF.js under Node, in tests/layers/test_goldens.py) and every activation;
conv, pooling, normalization and embedding cases take part only when
``pyweb.layers`` has their classes (the list is built from what exists, so no
test is ever skipped).

- TF.js builds a case with fixed weights, saves it to ``indexeddb://`` and
  ``localstorage://``; ``await pyweb.aload_layers_model`` loads it and
  ``predict`` agrees with TF.js's ``model.predict`` on fixed inputs.
- pyweb builds a case with numpy weights and saves it (``await
  model.asave`` / ``model.save``); ``tf.loadLayersModel`` loads it and TF.js's
  ``predict`` agrees with pyweb's.
- The pyweb twin of a TF.js model, given its weights and saved to
  localStorage, writes the same ``model_topology`` value, byte for byte (and
  the same weight specs, weight data and metadata: the whole of model.json).

Agreement: within 1 ulp for the Dense-only cases (TF.js's CPU matmul sums in
float64 and pyweb does too); within ``RTOL`` relative for the others.
"""

from __future__ import annotations

import base64
import textwrap
from dataclasses import dataclass

import numpy as np
import pytest

import pyweb.layers
from tests.layers.helpers import class_names, ulps

pytestmark = pytest.mark.browser

#: Relative tolerance for cases that are not Dense-only.
RTOL = 1e-5
#: Activations as TF.js spells them, in the order both builders use.
JS_ACTIVATIONS = [
    "linear",
    "relu",
    "relu6",
    "elu",
    "selu",
    "sigmoid",
    "hardSigmoid",
    "tanh",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "gelu",
]
#: The same, as pyweb (and the saved config) spells them.
ACTIVATIONS = [
    "linear",
    "relu",
    "relu6",
    "elu",
    "selu",
    "sigmoid",
    "hard_sigmoid",
    "tanh",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "gelu",
]


@dataclass(frozen=True)
class Case:
    """A model built alike in TF.js and pyweb, and the inputs it is run on."""

    name: str
    needs: tuple[str, ...]  #: pyweb.layers classes the case uses
    inputs: tuple[tuple[int, ...], ...]  #: input shapes without the batch axis
    batch: int = 4
    scale: float = 2.0  #: inputs lie in [-scale, scale]
    vocab: int | None = None  #: integer-valued inputs in [0, vocab) instead
    dense_only: bool = False  #: held to 1 ulp

    @property
    def available(self) -> bool:
        return all(hasattr(pyweb.layers, name) for name in self.needs)


CORE = ("InputLayer", "Dense")
ALL_CASES = [
    Case("dense", CORE, ((300,),), batch=8, scale=10.0, dense_only=True),
    Case("dense_functional", CORE, ((120,),), batch=6, scale=4.0, dense_only=True),
    Case("dense_activations", CORE, ((5,),)),
    Case("activation_layers", (*CORE, "Activation", "Concatenate"), ((6,),)),
    Case("core", (*CORE, "Reshape", "Dropout", "Flatten", "Activation"), ((12,),)),
    Case("merge", (*CORE, "Add", "Concatenate", "Reshape", "Flatten", "Dropout"), ((6,), (6,), (2, 3))),
    Case("reshape_infer", (*CORE, "Reshape"), ((5,),)),
    Case("conv2d", (*CORE, "Conv2D", "Flatten"), ((9, 9, 2),), batch=3),
    Case("depthwise", (*CORE, "DepthwiseConv2D", "Flatten"), ((8, 8, 3),), batch=3),
    Case("maxpool", (*CORE, "MaxPooling2D", "Flatten"), ((9, 9, 2),), batch=3),
    Case("avgpool", (*CORE, "AveragePooling2D", "Flatten"), ((9, 9, 2),), batch=3),
    Case("globalavgpool", (*CORE, "GlobalAveragePooling2D"), ((5, 6, 3),), batch=3),
    Case("batchnorm", (*CORE, "BatchNormalization", "Flatten"), ((3, 4),)),
    Case("embedding", (*CORE, "Embedding", "Flatten"), ((6,),), vocab=11),
    Case("layernorm", (*CORE, "LayerNormalization", "Flatten"), ((2, 5),)),
    Case("sequence", (*CORE, "Embedding", "Bidirectional", "LSTM", "GRU", "RNN", "SimpleRNNCell"), ((7,),), vocab=9),
    Case("masked_steps", (*CORE, "Masking", "TimeDistributed", "GaussianNoise", "SimpleRNN"), ((5, 3),)),
    Case(
        "image_family",
        (
            *CORE,
            "Rescaling",
            "Conv2DTranspose",
            "ReLU",
            "ZeroPadding2D",
            "UpSampling2D",
            "Conv1D",
            "Reshape",
            "MaxPooling1D",
            "GlobalMaxPooling1D",
        ),
        ((4, 4, 2),),
        batch=3,
    ),
    Case("conv_lstm", (*CORE, "ConvLSTM2D", "Flatten"), ((3, 5, 5, 2),), batch=2),
]
CASES = {case.name: case for case in ALL_CASES if case.available}
STORES = {"indexeddb": "indexeddb://layers-{}", "localstorage": "localstorage://layers-{}"}

# JS, evaluated once per page: the TF.js half of every case, fixed weights,
# save/load/predict helpers; tensors cross as base64 of float32 bytes.
HELPERS_JS = """(ACTS) => {
  const L = tf.layers;
  const b64 = (u8) => (typeof u8.toBase64 === 'function')
    ? u8.toBase64() : btoa(Array.from(u8, (c) => String.fromCharCode(c)).join(''));
  const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const encode = (t) => {
    const d = t.dataSync();
    return {shape: t.shape, dtype: t.dtype, b64: b64(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))};
  };
  const tensors = (inputs) => inputs.map(({shape, b64: s}) => tf.tensor(new Float32Array(unb64(s).buffer), shape));
  // Fixed, non-dyadic weights; moving variances stay positive.
  const weightValues = (v, seed) => {
    const n = v.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const x = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 0.7;
      out[i] = /moving_variance$/.test(v.originalName) ? Math.abs(x) + 0.5 : x;
    }
    return out;
  };
  const seq = (name, layers) => {
    const m = tf.sequential({name});
    layers.forEach((layer) => m.add(layer));
    return m;
  };
  const BUILDERS = {
    dense: () => seq('dense_seq', [
      L.inputLayer({inputShape: [300], name: 'dense_in'}),
      L.dense({units: 17, activation: 'relu', name: 'd1'}),
      L.dense({units: 9, useBias: false, name: 'd2'}),
      L.dense({units: 5, name: 'd3'}),
    ]),
    dense_functional() {
      const x = tf.input({shape: [120], name: 'x'});
      const h = L.dense({units: 24, activation: 'relu', name: 'h'}).apply(x);
      const y1 = L.dense({units: 6, name: 'y1'}).apply(h);
      const y2 = L.dense({units: 3, activation: 'relu', useBias: false, name: 'y2'}).apply(x);
      return tf.model({inputs: x, outputs: [y1, y2], name: 'dense_fn'});
    },
    dense_activations: () => seq('dense_acts', ACTS.map((a, i) => L.dense(
      {units: 6, activation: a, name: `dense_act${i}`, ...(i === 0 ? {inputShape: [5]} : {})}))),
    activation_layers() {
      const x = tf.input({shape: [6], name: 'act_in'});
      const h = L.dense({units: 7, name: 'act_pre'}).apply(x);
      const outs = ACTS.map((a, i) => L.activation({activation: a, name: `act${i}`}).apply(h));
      return tf.model({inputs: x, outputs: L.concatenate({name: 'act_cat'}).apply(outs), name: 'act_fn'});
    },
    core: () => seq('core_seq', [
      L.reshape({targetShape: [3, 4], inputShape: [12], name: 'core_reshape'}),
      L.dense({units: 5, activation: 'relu', name: 'core_dense3d'}),
      L.dropout({rate: 0.25, name: 'core_drop'}),
      L.flatten({name: 'core_flat'}),
      L.dense({units: 4, name: 'core_dense'}),
      L.activation({activation: 'softmax', name: 'core_softmax'}),
    ]),
    merge() {
      const a = tf.input({shape: [6], name: 'a'});
      const b = tf.input({shape: [6], name: 'b'});
      const c = tf.input({shape: [2, 3], name: 'c'});
      const s = L.add({name: 'sum3'}).apply([a, b, L.dense({units: 6, activation: 'tanh', name: 'mix'}).apply(a)]);
      const r = L.reshape({targetShape: [2, 3], name: 'to2d'}).apply(s);
      const rows = L.concatenate({axis: 1, name: 'rows'}).apply([r, c]);
      const cols = L.concatenate({name: 'cols'}).apply([r, c]);
      const f = L.flatten({name: 'flat_rows'}).apply(rows);
      const g = L.flatten({name: 'flat_cols'}).apply(L.dropout({rate: 0.5, name: 'drop'}).apply(cols));
      const both = L.concatenate({name: 'both'}).apply([f, g]);
      const head = L.dense({units: 3, activation: 'sigmoid', name: 'head'}).apply(both);
      return tf.model({inputs: [a, b, c], outputs: [head, s], name: 'merge_fn'});
    },
    // TF.js saves the -1 as null and leaves that dimension unknown downstream
    // (a Dense after it cannot build), so the reshape is the model's output.
    reshape_infer: () => seq('infer_seq', [
      L.dense({units: 12, inputShape: [5], name: 'infer_dense'}),
      L.reshape({targetShape: [3, -1], name: 'infer_reshape'}),
    ]),
    conv2d: () => seq('conv_seq', [
      L.conv2d({inputShape: [9, 9, 2], filters: 4, kernelSize: 3, activation: 'relu', name: 'conv_valid'}),
      L.conv2d({filters: 3, kernelSize: [2, 3], strides: 2, padding: 'same', name: 'conv_stride'}),
      L.conv2d({filters: 2, kernelSize: 2, dilationRate: 2, padding: 'same', useBias: false, activation: 'elu',
                name: 'conv_dilated'}),
      L.flatten({name: 'conv_flat'}),
      L.dense({units: 3, name: 'conv_head'}),
    ]),
    depthwise: () => seq('dw_seq', [
      L.depthwiseConv2d({inputShape: [8, 8, 3], kernelSize: 3, depthMultiplier: 2, padding: 'same',
                         activation: 'relu', name: 'dw_same'}),
      L.depthwiseConv2d({kernelSize: 2, strides: 2, name: 'dw_stride'}),
      L.flatten({name: 'dw_flat'}),
      L.dense({units: 2, name: 'dw_head'}),
    ]),
    maxpool: () => seq('maxpool_seq', [
      L.maxPooling2d({inputShape: [9, 9, 2], poolSize: 2, name: 'max_valid'}),
      L.maxPooling2d({poolSize: 3, strides: 2, padding: 'same', name: 'max_same'}),
      L.flatten({name: 'max_flat'}),
      L.dense({units: 2, name: 'max_head'}),
    ]),
    avgpool: () => seq('avgpool_seq', [
      L.averagePooling2d({inputShape: [9, 9, 2], poolSize: 3, strides: 1, padding: 'same', name: 'avg_same'}),
      L.averagePooling2d({poolSize: [2, 3], name: 'avg_valid'}),
      L.flatten({name: 'avg_flat'}),
      L.dense({units: 2, name: 'avg_head'}),
    ]),
    globalavgpool: () => seq('gap_seq', [
      L.globalAveragePooling2d({inputShape: [5, 6, 3], name: 'gap'}),
      L.dense({units: 2, name: 'gap_head'}),
    ]),
    batchnorm: () => seq('bn_seq', [
      L.batchNormalization({inputShape: [3, 4], epsilon: 0.01, name: 'bn_eps'}),
      L.flatten({name: 'bn_flat'}),
      L.batchNormalization({center: false, name: 'bn_nocenter'}),
      L.dense({units: 3, name: 'bn_head'}),
    ]),
    embedding: () => seq('emb_seq', [
      L.embedding({inputShape: [6], inputDim: 11, outputDim: 4, name: 'emb'}),
      L.flatten({name: 'emb_flat'}),
      L.dense({units: 3, name: 'emb_head'}),
    ]),
    layernorm: () => seq('ln_seq', [
      L.layerNormalization({inputShape: [2, 5], name: 'ln_3d'}),
      L.flatten({name: 'ln_flat'}),
      L.dense({units: 8, name: 'ln_dense'}),
      L.layerNormalization({epsilon: 0.01, name: 'ln_eps'}),
      L.dense({units: 2, name: 'ln_head'}),
    ]),
    // Recurrent layers, a wrapper and a cell through the generic RNN, behind a mask from Embedding.
    sequence: () => seq('rnn_seq', [
      L.embedding({inputShape: [7], inputDim: 9, outputDim: 4, maskZero: true, name: 'rnn_emb'}),
      L.bidirectional({layer: L.lstm({units: 3, returnSequences: true, name: 'rnn_lstm'}), name: 'rnn_bi'}),
      L.gru({units: 4, returnSequences: true, goBackwards: true, name: 'rnn_gru'}),
      L.rnn({cell: L.simpleRNNCell({units: 2, name: 'rnn_cell'}), name: 'rnn_generic'}),
      L.dense({units: 2, name: 'rnn_head'}),
    ]),
    // Masking (rows of zeros are skipped), a TimeDistributed Dense, inference-time noise (none).
    masked_steps: () => seq('mask_seq', [
      L.masking({inputShape: [5, 3], maskValue: 0, name: 'mask'}),
      L.gaussianNoise({stddev: 0.5, name: 'mask_noise'}),
      L.timeDistributed({layer: L.dense({units: 4, activation: 'tanh', name: 'mask_td_dense'}), name: 'mask_td'}),
      L.simpleRNN({units: 3, name: 'mask_rnn'}),
      L.dense({units: 2, name: 'mask_head'}),
    ]),
    // Rescaling, a transposed convolution, ReLU with a cap, padding, upsampling, then 1-D convolution and pooling.
    image_family: () => seq('img_seq', [
      L.rescaling({inputShape: [4, 4, 2], scale: 0.5, offset: 0.25, name: 'img_rescale'}),
      L.conv2dTranspose({filters: 3, kernelSize: 3, strides: 2, padding: 'same', name: 'img_up_conv'}),
      L.reLU({maxValue: 0.6, name: 'img_relu'}),
      L.zeroPadding2d({padding: [[1, 0], [0, 2]], name: 'img_pad'}),
      L.upSampling2d({size: [1, 2], interpolation: 'bilinear', name: 'img_upsample'}),
      L.reshape({targetShape: [9, 60], name: 'img_rows'}),
      L.conv1d({filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'img_conv1d'}),
      L.maxPooling1d({poolSize: 2, name: 'img_pool1d'}),
      L.globalMaxPooling1d({name: 'img_gmp'}),
      L.dense({units: 2, name: 'img_head'}),
    ]),
    conv_lstm: () => seq('convlstm_seq', [
      L.convLstm2d({inputShape: [3, 5, 5, 2], filters: 2, kernelSize: 3, padding: 'same', name: 'convlstm'}),
      L.flatten({name: 'convlstm_flat'}),
      L.dense({units: 2, name: 'convlstm_head'}),
    ]),
  };
  const build = (kind) => {
    const m = BUILDERS[kind]();
    const values = m.weights.map((v, i) => tf.tensor(weightValues(v, i + 1), v.shape));
    m.setWeights(values);
    tf.dispose(values);
    return m;
  };
  const predict = (m, inputs) => {
    const xs = tensors(inputs);
    let ys = m.predict(xs.length === 1 ? xs[0] : xs);
    ys = Array.isArray(ys) ? ys : [ys];
    const out = ys.map(encode);
    tf.dispose([...xs, ...ys]);
    return out;
  };
  globalThis.layersInterop = {
    builders: Object.keys(BUILDERS),
    // TF.js builds a case, saves it to every URL, and predicts on the inputs.
    async save(kind, urls, inputs) {
      const m = build(kind);
      try {
        for (const url of urls) await m.save(url);
        return {outputs: predict(m, inputs), topology: m.toJSON(null, false)};
      } finally { m.dispose(); }
    },
    // tf.loadLayersModel, then predict on the inputs.
    async load(url, inputs) {
      const m = await tf.loadLayersModel(url);
      try {
        return {outputs: predict(m, inputs), weightNames: m.weights.map((v) => v.originalName)};
      } finally { m.dispose(); }
    },
    localStorageItems: () => Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)])),
  };
}"""

# Python prepended to the page code: the pyweb half of every case (the same
# names and configs as the TF.js half), numpy weights, array transport.
# ACTIVATIONS comes in with run()'s globals.
PRELUDE = '''
import numpy as np
import pyweb
from pyweb import layers as L


def arrays(encoded):
    return [np.frombuffer(data, "<f4").reshape(shape) for shape, data in encoded]


def predict(model, encoded):
    xs = arrays(encoded)
    ys = model.predict(xs if len(xs) > 1 else xs[0])
    return [[list(y.shape), str(y.dtype), y.astype("<f4").tobytes()] for y in (ys if isinstance(ys, list) else [ys])]


def set_numpy_weights(model, seed):
    """Fixed numpy weights; moving variances stay positive."""
    rng = np.random.default_rng(seed)
    values = []
    for name, w in zip(model.weight_names, model.get_weights()):
        v = rng.uniform(-0.7, 0.7, w.shape).astype(np.float32)
        values.append(np.abs(v) + np.float32(0.5) if name.endswith("moving_variance") else v)
    model.set_weights(values)


def build_dense():
    return L.Sequential([
        L.InputLayer(input_shape=[300], name="dense_in"),
        L.Dense(17, activation="relu", name="d1"),
        L.Dense(9, use_bias=False, name="d2"),
        L.Dense(5, name="d3"),
    ], name="dense_seq")


def build_dense_functional():
    x = L.Input(shape=[120], name="x")
    h = L.Dense(24, activation="relu", name="h")(x)
    y1 = L.Dense(6, name="y1")(h)
    y2 = L.Dense(3, activation="relu", use_bias=False, name="y2")(x)
    return L.Model(inputs=x, outputs=[y1, y2], name="dense_fn")


def build_dense_activations():
    return L.Sequential([L.Dense(6, activation=a, name=f"dense_act{i}", **({"input_shape": [5]} if i == 0 else {}))
                         for i, a in enumerate(ACTIVATIONS)], name="dense_acts")


def build_activation_layers():
    x = L.Input(shape=[6], name="act_in")
    h = L.Dense(7, name="act_pre")(x)
    outs = [L.Activation(a, name=f"act{i}")(h) for i, a in enumerate(ACTIVATIONS)]
    return L.Model(inputs=x, outputs=L.Concatenate(name="act_cat")(outs), name="act_fn")


def build_core():
    return L.Sequential([
        L.Reshape([3, 4], input_shape=[12], name="core_reshape"),
        L.Dense(5, activation="relu", name="core_dense3d"),
        L.Dropout(0.25, name="core_drop"),
        L.Flatten(name="core_flat"),
        L.Dense(4, name="core_dense"),
        L.Activation("softmax", name="core_softmax"),
    ], name="core_seq")


def build_merge():
    a, b, c = L.Input(shape=[6], name="a"), L.Input(shape=[6], name="b"), L.Input(shape=[2, 3], name="c")
    s = L.Add(name="sum3")([a, b, L.Dense(6, activation="tanh", name="mix")(a)])
    r = L.Reshape([2, 3], name="to2d")(s)
    rows = L.Concatenate(axis=1, name="rows")([r, c])
    cols = L.Concatenate(name="cols")([r, c])
    f = L.Flatten(name="flat_rows")(rows)
    g = L.Flatten(name="flat_cols")(L.Dropout(0.5, name="drop")(cols))
    both = L.Concatenate(name="both")([f, g])
    head = L.Dense(3, activation="sigmoid", name="head")(both)
    return L.Model(inputs=[a, b, c], outputs=[head, s], name="merge_fn")


def build_reshape_infer():
    return L.Sequential([
        L.Dense(12, input_shape=[5], name="infer_dense"),
        L.Reshape([3, -1], name="infer_reshape"),
    ], name="infer_seq")


def build_conv2d():
    return L.Sequential([
        L.Conv2D(4, 3, activation="relu", input_shape=[9, 9, 2], name="conv_valid"),
        L.Conv2D(3, [2, 3], strides=2, padding="same", name="conv_stride"),
        L.Conv2D(2, 2, dilation_rate=2, padding="same", use_bias=False, activation="elu", name="conv_dilated"),
        L.Flatten(name="conv_flat"),
        L.Dense(3, name="conv_head"),
    ], name="conv_seq")


def build_depthwise():
    return L.Sequential([
        L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu", input_shape=[8, 8, 3],
                          name="dw_same"),
        L.DepthwiseConv2D(2, strides=2, name="dw_stride"),
        L.Flatten(name="dw_flat"),
        L.Dense(2, name="dw_head"),
    ], name="dw_seq")


def build_maxpool():
    return L.Sequential([
        L.MaxPooling2D(pool_size=2, input_shape=[9, 9, 2], name="max_valid"),
        L.MaxPooling2D(pool_size=3, strides=2, padding="same", name="max_same"),
        L.Flatten(name="max_flat"),
        L.Dense(2, name="max_head"),
    ], name="maxpool_seq")


def build_avgpool():
    return L.Sequential([
        L.AveragePooling2D(pool_size=3, strides=1, padding="same", input_shape=[9, 9, 2], name="avg_same"),
        L.AveragePooling2D(pool_size=[2, 3], name="avg_valid"),
        L.Flatten(name="avg_flat"),
        L.Dense(2, name="avg_head"),
    ], name="avgpool_seq")


def build_globalavgpool():
    return L.Sequential([
        L.GlobalAveragePooling2D(input_shape=[5, 6, 3], name="gap"),
        L.Dense(2, name="gap_head"),
    ], name="gap_seq")


def build_batchnorm():
    return L.Sequential([
        L.BatchNormalization(epsilon=0.01, input_shape=[3, 4], name="bn_eps"),
        L.Flatten(name="bn_flat"),
        L.BatchNormalization(center=False, name="bn_nocenter"),
        L.Dense(3, name="bn_head"),
    ], name="bn_seq")


def build_embedding():
    return L.Sequential([
        L.Embedding(11, 4, input_shape=[6], name="emb"),
        L.Flatten(name="emb_flat"),
        L.Dense(3, name="emb_head"),
    ], name="emb_seq")


def build_layernorm():
    return L.Sequential([
        L.LayerNormalization(input_shape=[2, 5], name="ln_3d"),
        L.Flatten(name="ln_flat"),
        L.Dense(8, name="ln_dense"),
        L.LayerNormalization(epsilon=0.01, name="ln_eps"),
        L.Dense(2, name="ln_head"),
    ], name="ln_seq")


def build_sequence():
    return L.Sequential([
        L.Embedding(9, 4, mask_zero=True, input_shape=[7], name="rnn_emb"),
        L.Bidirectional(L.LSTM(3, return_sequences=True, name="rnn_lstm"), name="rnn_bi"),
        L.GRU(4, return_sequences=True, go_backwards=True, name="rnn_gru"),
        L.RNN(L.SimpleRNNCell(2, name="rnn_cell"), name="rnn_generic"),
        L.Dense(2, name="rnn_head"),
    ], name="rnn_seq")


def build_masked_steps():
    return L.Sequential([
        L.Masking(0, input_shape=[5, 3], name="mask"),
        L.GaussianNoise(0.5, name="mask_noise"),
        L.TimeDistributed(L.Dense(4, activation="tanh", name="mask_td_dense"), name="mask_td"),
        L.SimpleRNN(3, name="mask_rnn"),
        L.Dense(2, name="mask_head"),
    ], name="mask_seq")


def build_image_family():
    return L.Sequential([
        L.Rescaling(0.5, offset=0.25, input_shape=[4, 4, 2], name="img_rescale"),
        L.Conv2DTranspose(3, 3, strides=2, padding="same", name="img_up_conv"),
        L.ReLU(max_value=0.6, name="img_relu"),
        L.ZeroPadding2D([[1, 0], [0, 2]], name="img_pad"),
        L.UpSampling2D([1, 2], interpolation="bilinear", name="img_upsample"),
        L.Reshape([9, 60], name="img_rows"),
        L.Conv1D(4, 3, padding="same", activation="relu", name="img_conv1d"),
        L.MaxPooling1D(2, name="img_pool1d"),
        L.GlobalMaxPooling1D(name="img_gmp"),
        L.Dense(2, name="img_head"),
    ], name="img_seq")


def build_conv_lstm():
    return L.Sequential([
        L.ConvLSTM2D(2, 3, padding="same", input_shape=[3, 5, 5, 2], name="convlstm"),
        L.Flatten(name="convlstm_flat"),
        L.Dense(2, name="convlstm_head"),
    ], name="convlstm_seq")


PY_BUILDERS = {name[len("build_"):]: f for name, f in dict(globals()).items() if name.startswith("build_")}
'''


@pytest.fixture(autouse=True)
def tfjs(pyodide):
    """TF.js (cpu backend) and the helpers in the page: once, and again only after a page restart."""
    if pyodide.run_js("() => typeof tf === 'undefined' || typeof layersInterop === 'undefined'"):
        if pyodide.run_js("() => typeof tf") == "undefined":
            pyodide.add_script("/tfjs/tf.min.js")
        pyodide.run_js(HELPERS_JS, JS_ACTIVATIONS)
        assert pyodide.run_js("async () => { await tf.setBackend('cpu'); return tf.version.tfjs; }") == "4.22.0"
    return pyodide


def run(pyodide, code: str, **globals):
    return pyodide.run(PRELUDE + textwrap.dedent(code), ACTIVATIONS=ACTIVATIONS, **globals)


def case_inputs(case: Case) -> list[np.ndarray]:
    """Fixed inputs: a sine sequence in [-scale, scale], or integers below ``vocab``."""
    out = []
    for i, shape in enumerate(case.inputs):
        n = case.batch * int(np.prod(shape))
        if case.vocab:
            values = (np.arange(n) * 7 + 3 * i) % case.vocab
        else:
            values = np.sin((np.arange(n) + 1) * 12.9898 + (100 + i) * 78.233) * case.scale
        out.append(values.astype(np.float32).reshape(case.batch, *shape))
    return out


def for_js(xs: list[np.ndarray]) -> list[dict]:
    return [{"shape": list(x.shape), "b64": base64.b64encode(x.astype("<f4").tobytes()).decode()} for x in xs]


def for_py(xs: list[np.ndarray]) -> list[list]:
    return [[list(x.shape), x.astype("<f4").tobytes()] for x in xs]


def from_js(outputs: list[dict]) -> list[np.ndarray]:
    assert all(o["dtype"] == "float32" for o in outputs)
    return [np.frombuffer(base64.b64decode(o["b64"]), "<f4").reshape(o["shape"]) for o in outputs]


def from_py(outputs: list[list]) -> list[np.ndarray]:
    assert all(dtype == "float32" for _, dtype, _ in outputs)
    return [np.frombuffer(data, "<f4").reshape(shape) for shape, _, data in outputs]


def assert_agree(case: Case, ours: list[np.ndarray], theirs: list[np.ndarray]) -> None:
    """pyweb's outputs against TF.js's: 1 ulp for Dense-only cases, else RTOL."""
    assert len(ours) == len(theirs)
    for mine, ref in zip(ours, theirs):
        assert mine.shape == ref.shape and mine.dtype == ref.dtype == np.float32
        assert np.isfinite(ref).all()
        # Shown with the failure (or with -rP): how far apart the two are.
        rel = np.abs(mine.astype(np.float64) - ref) / np.maximum(np.abs(ref), np.finfo(np.float32).tiny)
        print(
            f"{case.name} {list(ref.shape)}: max {int(ulps(mine, ref).max())} ulp, max rel {rel.max():.3g}, "
            f"max abs {np.abs(mine.astype(np.float64) - ref).max():.3g}"
        )
        if case.dense_only:
            np.testing.assert_array_max_ulp(mine, ref, maxulp=1)
        else:
            np.testing.assert_allclose(mine, ref, rtol=RTOL, atol=0)


# -- the case tables -------------------------------------------------------------------------


def test_cases_cover_every_layer_and_activation(pyodide):
    """Both halves define every case; the cases in play use every class pyweb loads."""
    assert pyodide.run_js("() => layersInterop.builders") == [c.name for c in ALL_CASES]
    assert run(pyodide, "list(PY_BUILDERS)") == [c.name for c in ALL_CASES]
    assert sorted(ACTIVATIONS) == sorted(pyweb.layers.ACTIVATIONS)
    used = {"Sequential", "Model"}
    for case in CASES.values():
        saved = pyodide.run_js("([k, xs]) => layersInterop.save(k, [], xs)", [case.name, for_js(case_inputs(case))])
        used |= class_names(saved["topology"])
    assert "InputLayer" in used and {"Sequential", "Model"} <= used
    # Every module of layer code runs here at least once (each class is checked against TF.js in
    # tests/layers/test_goldens.py, under Node); nlp's classes are in no prebuilt TF.js bundle.
    families = {cls.__module__ for name, cls in pyweb.layers.LAYER_CLASSES.items() if name in used}
    all_families = {cls.__module__ for cls in pyweb.layers.LAYER_CLASSES.values()} - {"pyweb.layers.nlp"}
    assert not all_families - families, f"no case uses a class of {sorted(all_families - families)}: add a case"


# -- TF.js saves, pyweb loads and predicts ------------------------------------------------------


@pytest.mark.parametrize("store", list(STORES))
@pytest.mark.parametrize("kind", list(CASES))
def test_pyweb_predicts_tfjs_models(pyodide, kind, store):
    case = CASES[kind]
    url = STORES[store].format(kind)
    xs = case_inputs(case)
    saved = pyodide.run_js("([k, urls, xs]) => layersInterop.save(k, urls, xs)", [kind, [url], for_js(xs)])
    got = run(
        pyodide,
        """
        model = await pyweb.aload_layers_model(url)
        predict(model, inputs)
    """,
        url=url,
        inputs=for_py(xs),
    )
    assert_agree(case, from_py(got), from_js(saved["outputs"]))


# -- pyweb saves, TF.js loads and predicts ------------------------------------------------------


@pytest.mark.parametrize("store", list(STORES))
@pytest.mark.parametrize("kind", list(CASES))
def test_tfjs_predicts_pyweb_models(pyodide, kind, store):
    case = CASES[kind]
    url = STORES[store].format(kind)
    xs = case_inputs(case)
    ours = run(
        pyodide,
        """
        model = PY_BUILDERS[kind]()
        set_numpy_weights(model, 7)
        if url.startswith("indexeddb://"):
            await model.asave(url)
        else:
            model.save(url)
        [predict(model, inputs), model.weight_names]
    """,
        kind=kind,
        url=url,
        inputs=for_py(xs),
    )
    theirs = pyodide.run_js("([url, xs]) => layersInterop.load(url, xs)", [url, for_js(xs)])
    assert theirs["weightNames"] == ours[1]
    assert_agree(case, from_py(ours[0]), from_js(theirs["outputs"]))


# -- the same model written by each library: the same bytes ---------------------------------------

MODEL_JSON_PARTS = ("model_topology", "weight_specs", "weight_data", "model_metadata")


@pytest.mark.parametrize("kind", list(CASES))
def test_mirror_writes_tfjs_topology(pyodide, kind):
    case = CASES[kind]
    pyodide.run_js(
        "([k, urls, xs]) => layersInterop.save(k, urls, xs)",
        [kind, ["localstorage://tfjs-mirror"], for_js(case_inputs(case))],
    )
    run(
        pyodide,
        """
        model = PY_BUILDERS[kind]()
        model.set_weights(pyweb.load_layers_model("localstorage://tfjs-mirror").get_weights())
        _ = model.save("localstorage://py-mirror")
    """,
        kind=kind,
    )
    items = pyodide.run_js("() => layersInterop.localStorageItems()")
    for part in MODEL_JSON_PARTS:
        theirs = items[f"tensorflowjs_models/tfjs-mirror/{part}"]
        ours = items[f"tensorflowjs_models/py-mirror/{part}"]
        assert ours == theirs, part
