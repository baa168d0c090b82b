#!/usr/bin/env node
/**
 * Golden Layers models from real TensorFlow.js 4.22.0 (cpu backend), for pyweb.layers' tests.
 *
 *   node tools/tfjs/layers_goldens.js OUTDIR
 *
 * Runs in a fresh process, so default names start at 1 (dense_Dense1, sequential_1, model1, input1).
 * Weights and inputs come from a fixed generator (no randomness), so every run writes the same bytes.
 *
 * OUTDIR/index.json: {"tfjs_version", "cases": [{"case", "description", "inputs": [name...],
 *                      "outputs": int}]}
 * OUTDIR/<case>/model.json         exactly what tf.io.http(url).save() POSTs as model.json
 * OUTDIR/<case>/model.weights.bin  the weight bytes
 * OUTDIR/<case>/layer_outputs.json {"layers": [{"name", "shape", "values_b64"}]}: every non-input layer's
 *                                  output on the same inputs (layers with one output, in model.layers order;
 *                                  a nested model's output from its last call, the one in this model)
 * OUTDIR/<case>/resaved.json       model.json after tf.loadLayersModel of the saved model and save again
 *                                  (done after every case is built, so default names are unaffected)
 * OUTDIR/<case>/io.json            {"inputs": [{"shape", "values_b64"}], "outputs": [{"shape", "values_b64"}]}
 *                                  float32 little-endian; outputs of model.predict(inputs)
 *
 * Cases added with {nlp: true} use TF.js's NLP layers (tf.nlp.EinsumDense...), which no prebuilt TF.js bundle
 * contains: they run in a child process on TF.js built from its ES modules (node --import tfjs_esm.mjs, which
 * explains why), numbered and seeded as if in this process's list.
 */
'use strict';

const fs = require('fs');
const path = require('path');

console.log = console.info = console.debug = (...args) => console.error(...args);
// Under tfjs_esm.mjs (the child that runs the {nlp: true} cases) TF.js comes from its ES modules.
const ESM = globalThis.pywebTfjsEsm != null;
const tf = ESM ? globalThis.pywebTfjsEsm : require('@tensorflow/tfjs');
tf.enableProdMode();
const L = tf.layers;

/** Deterministic float32 values in about [-scale, scale]. */
function values(n, seed, scale = 1) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(Math.sin((i + 1) * 12.9898 + seed * 78.233) * scale);
  return out;
}

function fixWeights(model, seed) {
  model.setWeights(model.weights.map((w, i) => {
    let v = values(w.shape.reduce((a, b) => a * b, 1), seed + i, 0.7);
    // A variance must be positive; keep it away from 1 so the division matters.
    if (w.originalName.endsWith('/moving_variance')) v = v.map((x) => Math.fround(Math.abs(x) + 0.3));
    return tf.tensor(v, w.shape);
  }));
}

/** Token ids for an Embedding input: integers below `dim` stored as floats, with fractions TF.js
 *  truncates (x.25 -> x, -0.5 -> 0). */
function tokens(n, seed, dim) {
  return values(n, seed).map((v, i) => (i % 7 === 3 ? -0.5 : Math.floor(Math.abs(v) * dim) % dim + 0.25));
}

function b64(arr) {
  return Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength).toString('base64');
}

/** Sequences of `steps` rows of `width` values in which padding rows are exact zeros: row b keeps its first
 *  `steps - b % steps` rows (the rest are padding), and row 1 also has one zero row in the middle. */
function padded(batch, steps, width, seed) {
  const v = values(batch * steps * width, seed, 2);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const pad = t >= steps - (b % steps) || (b === 1 && t === 1);
      if (pad) v.fill(0, (b * steps + t) * width, (b * steps + t + 1) * width);
    }
  }
  return tf.tensor(v, [batch, steps, width]);
}

/** Token ids padded with zeros as padded() pads rows; some tokens are 0.25 (index 0, but not masked). */
function paddedTokens(batch, steps, dim, seed) {
  const v = tokens(batch * steps, seed, dim).map((x, i) => (i % 5 === 2 ? 0.25 : Math.abs(Math.trunc(x)) || 1));
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) if (t >= steps - (b % steps) || (b === 1 && t === 1)) v[b * steps + t] = 0;
  }
  return tf.tensor(v, [batch, steps]);
}

const CASES = [];
/** `makeInputs(batch)`: the inputs, when the default generated ones will not do.
 *  `direct`: every layer takes the model's one input; outputs come from calling each layer on the input
 *  tensor, because TF.js 4.22's Resizing (and CenterCrop's upsizing) fail inside model.predict: they hand
 *  the list of inputs, not the tensor, to tf.image.
 *  `nlp`: the case runs in the child on TF.js's ES modules (see above). */
function addCase(name, description, build, batch = 4, tokenDim = null,
                 {makeInputs = null, direct = false, nlp = false} = {}) {
  CASES.push({name, description, build, batch, tokenDim, makeInputs, direct, nlp});
}

addCase('mlp', 'Sequential Dense relu/tanh/softmax, default names', () => {
  const m = tf.sequential();
  m.add(L.dense({units: 8, inputShape: [5], activation: 'relu'}));
  m.add(L.dense({units: 6, activation: 'tanh', kernelInitializer: 'glorotUniform'}));
  m.add(L.dense({units: 3, activation: 'softmax'}));
  return m;
});

addCase('wide', 'Dense with 300 inputs (several 48-wide matmul blocks), no bias, input scale 10', () => {
  const m = tf.sequential({name: 'wide'});
  m.add(L.dense({units: 17, inputShape: [300], useBias: false, name: 'big'}));
  m.add(L.dense({units: 5, name: 'small'}));
  return m;
}, 8);

const ACTS = ['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh', 'softmax', 'softplus',
  'softsign', 'swish', 'gelu'];
addCase('activations', 'Functional: Dense then every activation as an Activation layer, concatenated', () => {
  const inp = tf.input({shape: [6], name: 'x'});
  const h = L.dense({units: 7, name: 'pre'}).apply(inp);
  const outs = ACTS.map((a) => L.activation({activation: a, name: `act_${a}`}).apply(h));
  const cat = L.concatenate({name: 'cat'}).apply(outs);
  return tf.model({inputs: inp, outputs: cat, name: 'acts'});
});

addCase('functional', 'Two inputs, Add, Concatenate, Dropout, Reshape, Flatten, two outputs', () => {
  const a = tf.input({shape: [4]});
  const b = tf.input({shape: [4], name: 'b'});
  const s = L.add().apply([a, b]);
  const d = L.dropout({rate: 0.3}).apply(L.dense({units: 6, activation: 'elu'}).apply(s));
  const r = L.flatten().apply(L.reshape({targetShape: [3, 2]}).apply(d));
  const c = L.concatenate().apply([r, b]);
  return tf.model({inputs: [a, b], outputs: [L.dense({units: 2, activation: 'sigmoid'}).apply(c), s]});
});

addCase('cnn', 'Sequential CNN: conv2d same/strided/dilated, depthwise, max/avg pooling same+valid, ' +
    'batchnorm, global average pooling, dense', () => {
  const m = tf.sequential({name: 'cnn'});
  m.add(L.conv2d({filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [20, 19, 3],
    name: 'c_same'}));
  m.add(L.conv2d({filters: 6, kernelSize: [3, 2], strides: 2, padding: 'same', name: 'c_stride'}));
  m.add(L.maxPooling2d({poolSize: 3, strides: 1, padding: 'same', name: 'mp_same'}));
  m.add(L.conv2d({filters: 5, kernelSize: 2, dilationRate: 2, useBias: false, name: 'c_dil'}));
  m.add(L.conv2d({filters: 4, kernelSize: 3, dilationRate: [1, 2], padding: 'same', activation: 'tanh'}));
  m.add(L.depthwiseConv2d({kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu6'}));
  m.add(L.maxPooling2d({poolSize: 2}));
  m.add(L.averagePooling2d({poolSize: 3, strides: 2, padding: 'same', name: 'ap_same'}));
  m.add(L.batchNormalization({name: 'bn'}));
  m.add(L.averagePooling2d({poolSize: [2, 1], strides: 1}));
  m.add(L.globalAveragePooling2d({}));
  m.add(L.dense({units: 3, activation: 'softmax', name: 'head'}));
  return m;
}, 3);

addCase('embed', 'Functional: Embedding, LayerNormalization (last axis; axes [1,2] without beta), ' +
    'Concatenate, Flatten, BatchNormalization without gamma/beta, Dense', () => {
  const tok = tf.input({shape: [6], name: 'tokens'});
  const e = L.embedding({inputDim: 11, outputDim: 5, name: 'emb'}).apply(tok);
  const ln1 = L.layerNormalization({epsilon: 1e-4, name: 'ln_last'}).apply(e);
  const ln2 = L.layerNormalization({axis: [1, 2], center: false}).apply(e);
  const flat = L.flatten({name: 'flat'}).apply(L.concatenate({name: 'cat2'}).apply([ln1, ln2]));
  const bn = L.batchNormalization({center: false, scale: false, epsilon: 0.01, name: 'bn_flat'}).apply(flat);
  return tf.model({inputs: tok, outputs: L.dense({units: 4, activation: 'softmax', name: 'out'}).apply(bn),
    name: 'embed'});
}, 5, 11);

addCase('embed_seq', 'Sequential starting with Embedding(inputLength) and no inputShape, LayerNormalization ' +
    'without gamma, Flatten, Dense', () => {
  const m = tf.sequential({name: 'embed_seq'});
  m.add(L.embedding({inputDim: 7, outputDim: 3, inputLength: 4}));
  m.add(L.layerNormalization({scale: false}));
  m.add(L.flatten({}));
  m.add(L.dense({units: 2, name: 'seq_out'}));
  return m;
}, 4, 7);

addCase('advanced_acts', 'Functional: ReLU (plain, maxValue), LeakyReLU (default, alpha), PReLU (full, sharedAxes), ' +
    'ELU, ThresholdedReLU, Softmax (default axis 1, axes [1,2]), concatenated', () => {
  const inp = tf.input({shape: [6], name: 'x'});
  const h = L.dense({units: 8, name: 'pre'}).apply(inp);
  const flat = [
    L.reLU({name: 'relu'}).apply(h),
    L.reLU({maxValue: 0.5, name: 'relu_max'}).apply(h),
    L.leakyReLU({name: 'leaky'}).apply(h),
    L.leakyReLU({alpha: 0.1, name: 'leaky_01'}).apply(h),
    L.prelu({name: 'prelu'}).apply(h),
    L.elu({name: 'elu'}).apply(h),
    L.thresholdedReLU({theta: 0.2, name: 'thresholded'}).apply(h),
    L.softmax({name: 'softmax'}).apply(h),
  ];
  const grid = L.reshape({targetShape: [4, 2], name: 'grid'}).apply(h);
  const shared = L.prelu({sharedAxes: [1], name: 'prelu_shared'}).apply(grid);
  const both = L.softmax({axis: [1, 2], name: 'softmax_12'}).apply(grid);
  const gridFlat = [shared, both].map((t, i) => L.flatten({name: `grid_flat${i}`}).apply(t));
  return tf.model({inputs: inp, outputs: L.concatenate({name: 'cat'}).apply([...flat, ...gridFlat]),
    name: 'advanced_acts'});
});

addCase('image_ops', 'Functional on 7x6x3 images: ZeroPadding2D, Cropping2D, UpSampling2D nearest/bilinear, ' +
    'GlobalMaxPooling2D and GlobalAveragePooling2D, channels last and first', () => {
  const img = tf.input({shape: [7, 6, 3], name: 'img'});
  const pad = L.zeroPadding2d({padding: [[1, 2], [0, 1]], name: 'pad'}).apply(img);
  const crop = L.cropping2D({cropping: [[1, 0], [2, 1]], name: 'crop'}).apply(pad);
  const up = L.upSampling2d({size: [2, 3], name: 'up_nearest'}).apply(crop);
  const bil = L.upSampling2d({size: [3, 2], interpolation: 'bilinear', name: 'up_bilinear'}).apply(crop);
  const padFirst = L.zeroPadding2d({padding: 1, dataFormat: 'channelsFirst', name: 'pad_first'}).apply(img);
  const upFirst = L.upSampling2d({size: [2, 2], dataFormat: 'channelsFirst', interpolation: 'bilinear',
    name: 'up_first'}).apply(padFirst);
  const outs = [
    L.globalMaxPooling2d({name: 'gmax'}).apply(up),
    L.globalAveragePooling2d({name: 'gavg'}).apply(bil),
    L.globalMaxPooling2d({dataFormat: 'channelsFirst', name: 'gmax_first'}).apply(upFirst),
    L.globalAveragePooling2d({dataFormat: 'channelsFirst', name: 'gavg_first'}).apply(
        L.cropping2D({cropping: 1, dataFormat: 'channelsFirst', name: 'crop_first'}).apply(upFirst)),
    L.flatten({name: 'flat_bil'}).apply(bil),
  ];
  return tf.model({inputs: img, outputs: L.concatenate({name: 'cat'}).apply(outs), name: 'image_ops'});
}, 2);

addCase('merge_seq', 'Two inputs [3,4] and [4]: Multiply/Average/Maximum/Minimum (rank broadcast), Permute, ' +
    'RepeatVector, global 1-D pooling, noise layers (identity at inference)', () => {
  const seq = tf.input({shape: [3, 4], name: 'seq'});
  const vec = tf.input({shape: [4], name: 'vec'});
  const noisy = L.alphaDropout({rate: 0.2, name: 'alpha_drop'}).apply(
      L.gaussianDropout({rate: 0.3, name: 'gauss_drop'}).apply(L.gaussianNoise({stddev: 0.5, name: 'noise'}).apply(seq)));
  const sp = L.spatialDropout1d({rate: 0.2, name: 'spatial'}).apply(noisy);
  const rep = L.repeatVector({n: 3, name: 'repeat'}).apply(vec);
  const merged = [
    L.multiply({name: 'mul'}).apply([sp, vec]),
    L.average({name: 'avg'}).apply([sp, rep, vec]),
    L.maximum({name: 'max'}).apply([sp, rep]),
    L.minimum({name: 'min'}).apply([vec, sp, rep]),
  ];
  const perm = L.permute({dims: [2, 1], name: 'perm'}).apply(L.concatenate({axis: 1, name: 'stack'}).apply(merged));
  const pooled = [L.globalAveragePooling1d({name: 'gap1'}).apply(perm), L.globalMaxPooling1d({name: 'gmp1'}).apply(perm)];
  return tf.model({inputs: [seq, vec], outputs: [L.concatenate({name: 'pooled'}).apply(pooled), perm],
    name: 'merge_seq'});
});

addCase('conv1d_seq', 'Sequential on [11, 3] sequences: Conv1D same/strided valid/dilated, MaxPooling1D and ' +
    'AveragePooling1D same and valid', () => {
  const m = tf.sequential({name: 'conv1d_seq'});
  m.add(L.conv1d({filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [11, 3], name: 'c1_same'}));
  m.add(L.conv1d({filters: 5, kernelSize: 2, strides: 2, name: 'c1_stride'}));
  m.add(L.conv1d({filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh', name: 'c1_dil'}));
  m.add(L.maxPooling1d({poolSize: 2, padding: 'same', name: 'mp1_same'}));
  m.add(L.averagePooling1d({poolSize: 3, strides: 1, padding: 'same', name: 'ap1_same'}));
  m.add(L.averagePooling1d({poolSize: 2, name: 'ap1_valid'}));
  m.add(L.conv1d({filters: 2, kernelSize: 1, useBias: false, name: 'c1_point'}));
  m.add(L.maxPooling1d({poolSize: 1, strides: 1, name: 'mp1_one'}));
  return m;
}, 3);

addCase('conv3d_vol', 'Functional on [5, 6, 4, 2] volumes: Conv3D same/strided/dilated, channels first, ' +
    'MaxPooling3D/AveragePooling3D same and valid (a pool smaller than its stride: TF.js 3-D padding < 0)', () => {
  const vol = tf.input({shape: [5, 6, 4, 2], name: 'vol'});
  const a = L.conv3d({filters: 3, kernelSize: 2, padding: 'same', activation: 'relu', name: 'c3_same'}).apply(vol);
  const b = L.conv3d({filters: 4, kernelSize: [3, 2, 2], strides: [2, 1, 2], padding: 'same', name: 'c3_stride'}).apply(a);
  const c = L.conv3d({filters: 2, kernelSize: 2, dilationRate: [2, 1, 1], name: 'c3_dil'}).apply(a);
  const d = L.conv3d({filters: 3, kernelSize: [1, 3, 2], strides: 2, padding: 'same', dataFormat: 'channelsFirst',
    name: 'c3_first'}).apply(vol);
  const outs = [
    L.maxPooling3d({poolSize: 2, padding: 'same', name: 'mp3_same'}).apply(b),
    L.averagePooling3d({poolSize: [2, 3, 1], strides: 1, padding: 'same', name: 'ap3_same'}).apply(c),
    L.averagePooling3d({poolSize: [1, 2, 2], strides: 2, padding: 'same', name: 'ap3_shift'}).apply(a),
    L.maxPooling3d({poolSize: [1, 1, 2], strides: [2, 2, 1], padding: 'same', name: 'mp3_shift'}).apply(a),
    L.maxPooling3d({poolSize: [2, 1, 1], dataFormat: 'channelsFirst', name: 'mp3_first'}).apply(d),
    L.averagePooling3d({poolSize: 2, strides: 1, padding: 'same', dataFormat: 'channelsFirst',
      name: 'ap3_first'}).apply(d),
  ];
  return tf.model({inputs: vol, outputs: outs.map((t, i) => L.flatten({name: `flat3_${i}`}).apply(t)),
    name: 'conv3d_vol'});
}, 2);

addCase('conv_transpose', 'Functional: Conv2DTranspose (same/valid, strides 2 and [2,3], a kernel smaller than ' +
    'its stride, channels first) on [5, 4, 3]; Conv3DTranspose (same/valid, channels first) on [3, 4, 3, 2]', () => {
  const img = tf.input({shape: [5, 4, 3], name: 'img'});
  const vol = tf.input({shape: [3, 4, 3, 2], name: 'vol'});
  const outs = [
    L.conv2dTranspose({filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 't2_same'}),
    L.conv2dTranspose({filters: 3, kernelSize: [3, 2], strides: [2, 3], name: 't2_valid'}),
    L.conv2dTranspose({filters: 2, kernelSize: 2, padding: 'same', name: 't2_unit'}),
    L.conv2dTranspose({filters: 2, kernelSize: [1, 2], strides: 3, useBias: false, name: 't2_gap'}),
    L.conv2dTranspose({filters: 4, kernelSize: 3, strides: [1, 2], padding: 'same', dataFormat: 'channelsFirst',
      name: 't2_first'}),
  ].map((l) => l.apply(img));
  const outs3 = [
    L.conv3dTranspose({filters: 2, kernelSize: [2, 3, 2], strides: [2, 1, 2], padding: 'same', name: 't3_same'}),
    L.conv3dTranspose({filters: 3, kernelSize: 2, strides: [1, 2, 3], activation: 'tanh', name: 't3_valid'}),
    L.conv3dTranspose({filters: 2, kernelSize: [1, 2, 2], strides: 2, padding: 'same', dataFormat: 'channelsFirst',
      name: 't3_first'}),
  ].map((l) => l.apply(vol));
  return tf.model({inputs: [img, vol], outputs: [...outs, ...outs3], name: 'conv_transpose'});
}, 2);

addCase('separable_first', 'Functional on [9, 8, 3]: SeparableConv2D (a depthwise initializer, strided valid, ' +
    'dilated, channels first without bias; TF.js 4.22 does not save depthMultiplier, so it stays 1 here), and Conv2D, DepthwiseConv2D, ' +
    'MaxPooling2D, AveragePooling2D channels first', () => {
  const img = tf.input({shape: [9, 8, 3], name: 'img'});
  const outs = [
    L.separableConv2d({filters: 4, kernelSize: 3, padding: 'same', activation: 'relu',
      depthwiseInitializer: 'heNormal', name: 's_same'}),
    L.separableConv2d({filters: 3, kernelSize: [2, 3], strides: 2, name: 's_stride'}),
    L.separableConv2d({filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same', name: 's_dil'}),
    L.separableConv2d({filters: 5, kernelSize: 2, strides: [1, 2], useBias: false, dataFormat: 'channelsFirst',
      name: 's_first'}),
    L.conv2d({filters: 4, kernelSize: [3, 2], strides: 2, padding: 'same', dataFormat: 'channelsFirst',
      activation: 'relu', name: 'c_first'}),
    L.depthwiseConv2d({kernelSize: 3, depthMultiplier: 2, padding: 'same', dataFormat: 'channelsFirst',
      name: 'dw_first'}),
    L.maxPooling2d({poolSize: 3, strides: 2, padding: 'same', dataFormat: 'channelsFirst', name: 'mp_first'}),
    L.averagePooling2d({poolSize: [2, 3], strides: 1, padding: 'same', dataFormat: 'channelsFirst',
      name: 'ap_first'}),
  ].map((l) => l.apply(img));
  return tf.model({inputs: img, outputs: outs, name: 'separable_first'});
}, 2);

addCase('dot_merge', 'Dot: vectors (axes 1, normalized, negative axis), sequences [3,4]x[5,4] (axes 2), [3,4]x[3,6] ' +
    '(axes 1, normalized), sequence with vector ([2,1])', () => {
  const a = tf.input({shape: [4], name: 'a'});
  const b = tf.input({shape: [4], name: 'b'});
  const s = tf.input({shape: [3, 4], name: 's'});
  const t = tf.input({shape: [5, 4], name: 't'});
  const u = tf.input({shape: [3, 6], name: 'u'});
  const outs = [
    L.dot({axes: 1, name: 'dot_vec'}).apply([a, b]),
    L.dot({axes: -1, normalize: true, name: 'cos_vec'}).apply([a, b]),
    L.dot({axes: 2, name: 'dot_seq'}).apply([s, t]),
    L.dot({axes: [1, 1], normalize: true, name: 'cos_seq'}).apply([s, u]),
    L.dot({axes: [2, 1], name: 'dot_mixed'}).apply([s, a]),
    L.dot({axes: [1, 2], name: 'dot_mixed_rev'}).apply([b, t]),
  ];
  return tf.model({inputs: [a, b, s, t, u], outputs: outs, name: 'dot_merge'});
}, 3);

addCase('preprocess', 'Rescaling, Resizing (bilinear/nearest, with and without cropToAspectRatio, up and down), ' +
    'CenterCrop (crop, a 1-column margin, upsizing) on [7, 6, 3] images', () => {
  const img = tf.input({shape: [7, 6, 3], name: 'img'});
  const outs = [
    L.rescaling({scale: 1 / 255, offset: -0.25, name: 'rescale'}).apply(img),
    L.rescaling({scale: 0.5, name: 'halve'}).apply(img),
    L.resizing({height: 5, width: 9, name: 'rs_bilinear'}).apply(img),
    L.resizing({height: 4, width: 4, interpolation: 'nearest', name: 'rs_nearest'}).apply(img),
    L.resizing({height: 10, width: 4, cropToAspectRatio: true, name: 'rs_bilinear_crop'}).apply(img),
    L.resizing({height: 3, width: 11, interpolation: 'nearest', cropToAspectRatio: true, name: 'rs_nearest_crop'}).apply(img),
    L.centerCrop({height: 4, width: 3, name: 'crop'}).apply(img),
    L.centerCrop({height: 7, width: 5, name: 'crop_margin'}).apply(img),
    L.centerCrop({height: 9, width: 4, name: 'crop_upsize'}).apply(img),
    L.centerCrop({height: 1, width: 1, name: 'crop_pixel'}).apply(img),
  ];
  return tf.model({inputs: img, outputs: outs, name: 'preprocess'});
}, 2, null, {direct: true});

addCase('category', 'CategoryEncoding multi_hot (default), count, one_hot on [batch, 1] token ids ' +
    '(fractions truncated); each behind a Reshape because TF.js 4.22 CategoryEncoding.computeOutputShape ' +
    'overwrites its input\'s shape', () => {
  const ids = tf.input({shape: [5], name: 'ids'});
  const one = tf.input({shape: [1], name: 'one'});
  const fresh = (t, n, name) => L.reshape({targetShape: [n], name}).apply(t);
  const outs = [
    L.categoryEncoding({numTokens: 6, name: 'multi'}).apply(fresh(ids, 5, 'ids_a')),
    L.categoryEncoding({numTokens: 6, outputMode: 'count', name: 'count'}).apply(fresh(ids, 5, 'ids_b')),
    L.categoryEncoding({numTokens: 7, outputMode: 'oneHot', name: 'onehot'}).apply(fresh(one, 1, 'one_a')),
  ];
  return tf.model({inputs: [ids, one], outputs: outs, name: 'category'});
}, 4, 6);

addCase('random_resize', 'RandomWidth (seeded; nearest with [lower, upper] and no seed): TF.js resizes by a ' +
    'random factor even in predict, so only the model.json round trip is compared', () => {
  const img = tf.input({shape: [6, 5, 2], name: 'img'});
  const outs = [
    L.randomWidth({factor: 0.3, seed: 7, name: 'rand_w'}).apply(img),
    L.randomWidth({factor: [-0.2, 0.4], interpolation: 'nearest', name: 'rand_w2'}).apply(img),
  ];
  return tf.model({inputs: img, outputs: outs, name: 'random_resize'});
}, 1, null, {direct: true});

addCase('rnn_simple', 'Sequential SimpleRNN: returnSequences, then goBackwards with relu and no bias, Dense', () => {
  const m = tf.sequential({name: 'rnn_simple'});
  m.add(L.simpleRNN({units: 5, returnSequences: true, inputShape: [6, 3], name: 'srnn_seq'}));
  m.add(L.simpleRNN({units: 4, goBackwards: true, activation: 'relu', useBias: false, name: 'srnn_back'}));
  m.add(L.dense({units: 2, name: 'head'}));
  return m;
});

addCase('rnn_lstm', 'Sequential LSTM: returnSequences (unroll, dropout), then goBackwards with unitForgetBias, ' +
    'sigmoid recurrent activation, implementation 2; default names', () => {
  const m = tf.sequential();
  m.add(L.lstm({units: 4, returnSequences: true, unroll: true, dropout: 0.3, recurrentDropout: 0.2,
    inputShape: [7, 3]}));
  m.add(L.lstm({units: 3, goBackwards: true, unitForgetBias: true, recurrentActivation: 'sigmoid',
    implementation: 2}));
  return m;
});

addCase('rnn_gru', 'Sequential GRU: returnSequences, then goBackwards without bias, then relu/sigmoid', () => {
  const m = tf.sequential({name: 'rnn_gru'});
  m.add(L.gru({units: 4, returnSequences: true, inputShape: [6, 3], name: 'gru_seq'}));
  m.add(L.gru({units: 3, goBackwards: true, useBias: false, returnSequences: true, name: 'gru_back'}));
  m.add(L.gru({units: 2, activation: 'relu', recurrentActivation: 'sigmoid', name: 'gru_relu'}));
  return m;
});

addCase('rnn_state', 'Functional returnState: LSTM (sequences + h + c), GRU and SimpleRNN (output + h), ' +
    'states as model outputs, fed on, and as the initialState of another LSTM', () => {
  const inp = tf.input({shape: [5, 3], name: 'seq'});
  const [seq, h, c] = L.lstm({units: 4, returnSequences: true, returnState: true, name: 'lstm_st'}).apply(inp);
  const [g, gh] = L.gru({units: 3, returnState: true, name: 'gru_st'}).apply(seq);
  const [s, sh] = L.simpleRNN({units: 2, returnState: true, goBackwards: true, name: 'srnn_st'}).apply(seq);
  const cat = L.concatenate({name: 'cat_states'}).apply([h, c, gh, sh]);
  const dec = L.lstm({units: 4, goBackwards: true, name: 'lstm_init'}).apply(inp, {initialState: [h, c]});
  return tf.model({inputs: inp, outputs: [L.dense({units: 2, name: 'head'}).apply(cat), g, s, seq, c, dec],
    name: 'rnn_state'});
});

addCase('rnn_cells', 'Generic RNN layers: RNN(LSTMCell) with returnSequences, RNN([SimpleRNNCell, GRUCell]) ' +
    '(StackedRNNCells) goBackwards, RNN(StackedRNNCells[GRUCell, LSTMCell]) with returnState', () => {
  const inp = tf.input({shape: [6, 3], name: 'seq'});
  const a = L.rnn({cell: L.lstmCell({units: 4}), returnSequences: true, name: 'rnn_lstm'}).apply(inp);
  const b = L.rnn({cell: [L.simpleRNNCell({units: 3}), L.gruCell({units: 2, activation: 'relu'})],
    returnSequences: true, goBackwards: true, name: 'rnn_stack'}).apply(a);
  const [c, ...states] = L.rnn({cell: L.stackedRNNCells({cells: [L.gruCell({units: 3}), L.lstmCell({units: 2})]}),
    returnState: true, name: 'rnn_stack_state'}).apply(b);
  return tf.model({inputs: inp, outputs: [c, ...states], name: 'rnn_cells'});
});

addCase('bidirectional', 'Bidirectional over LSTM/GRU/SimpleRNN with mergeMode concat, sum, mul, ave and null, ' +
    'returnSequences and returnState', () => {
  const inp = tf.input({shape: [5, 3], name: 'seq'});
  const b1 = L.bidirectional({layer: L.lstm({units: 3, returnSequences: true}), name: 'bi_concat'}).apply(inp);
  const b2 = L.bidirectional({layer: L.gru({units: 2, returnSequences: true}), mergeMode: 'sum',
    name: 'bi_sum'}).apply(b1);
  const b3 = L.bidirectional({layer: L.simpleRNN({units: 2}), mergeMode: 'mul', name: 'bi_mul'}).apply(b1);
  const b4 = L.bidirectional({layer: L.lstm({units: 2}), mergeMode: 'ave', name: 'bi_ave'}).apply(b2);
  const [f5, r5] = L.bidirectional({layer: L.simpleRNN({units: 2, returnSequences: true}), mergeMode: null,
    name: 'bi_none'}).apply(b1);
  const [o6, ...s6] = L.bidirectional({layer: L.lstm({units: 2, returnState: true}), name: 'bi_state'}).apply(b1);
  return tf.model({inputs: inp, outputs: [b3, b4, f5, r5, o6, ...s6], name: 'bidirectional'});
});

addCase('time_distributed', 'TimeDistributed(Dense) on [5, 4] and TimeDistributed(Conv2D), ' +
    'TimeDistributed(Flatten) on [3, 6, 5, 2] frames, then an LSTM', () => {
  const seq = tf.input({shape: [5, 4], name: 'seq'});
  const frames = tf.input({shape: [3, 6, 5, 2], name: 'frames'});
  const d = L.timeDistributed({layer: L.dense({units: 3, activation: 'tanh'}), name: 'td_dense'}).apply(seq);
  const conv = L.timeDistributed({layer: L.conv2d({filters: 2, kernelSize: 3, padding: 'same'}),
    name: 'td_conv'}).apply(frames);
  const flat = L.timeDistributed({layer: L.flatten(), name: 'td_flat'}).apply(conv);
  const enc = L.lstm({units: 2, name: 'frames_lstm'}).apply(flat);
  return tf.model({inputs: [seq, frames], outputs: [d, enc], name: 'time_distributed'});
}, 3);

addCase('mask_embed_lstm', 'Embedding(maskZero) on zero-padded tokens -> LSTM (sequences) -> Dropout -> ' +
    'LSTM -> RepeatVector -> LSTM (gets the stale mask, as TF.js passes it) ', () => {
  const m = tf.sequential({name: 'mask_embed_lstm'});
  m.add(L.embedding({inputDim: 9, outputDim: 4, maskZero: true, inputLength: 6, name: 'emb'}));
  m.add(L.lstm({units: 3, returnSequences: true, name: 'lstm_seq'}));
  m.add(L.dropout({rate: 0.2, name: 'drop'}));
  m.add(L.lstm({units: 3, name: 'lstm_last'}));
  m.add(L.repeatVector({n: 6, name: 'repeat'}));
  m.add(L.lstm({units: 2, returnSequences: true, goBackwards: true, name: 'lstm_dec'}));
  return m;
}, 6, null, {makeInputs: (batch) => [paddedTokens(batch, 6, 9, 300)]});

addCase('mask_gru', 'Masking -> Dense (carries the mask) -> GRU goBackwards with sequences -> Bidirectional ' +
    'SimpleRNN; Masking(maskValue 0.5) -> TimeDistributed(Dense) -> LSTM; padded rows of zeros', () => {
  const inp = tf.input({shape: [6, 3], name: 'seq'});
  const masked = L.masking({name: 'mask'}).apply(inp);
  const dense = L.dense({units: 4, activation: 'relu', name: 'dense_masked'}).apply(masked);
  const g = L.gru({units: 3, returnSequences: true, goBackwards: true, name: 'gru_masked'}).apply(dense);
  const bi = L.bidirectional({layer: L.simpleRNN({units: 2}), name: 'bi_masked'}).apply(g);
  const other = L.masking({maskValue: 0.5, name: 'mask_half'}).apply(inp);
  const td = L.timeDistributed({layer: L.dense({units: 2}), name: 'td_masked'}).apply(other);
  const l = L.lstm({units: 2, name: 'lstm_masked'}).apply(td);
  return tf.model({inputs: inp, outputs: [bi, l, g], name: 'mask_gru'});
}, 6, null, {makeInputs: (batch) => [padded(batch, 6, 3, 400)]});

/** A custom layer, registered as a page would: x * scale * factor + shift, with a non-trainable shift. */
class ScaleShift extends tf.layers.Layer {
  constructor(config) {
    super(config);
    this.factor = config.factor == null ? 2 : config.factor;
  }
  build(inputShape) {
    const n = inputShape[inputShape.length - 1];
    this.scale = this.addWeight('scale', [n], 'float32', tf.initializers.ones());
    this.shift = this.addWeight('shift', [n], 'float32', tf.initializers.zeros(), undefined, false);
    this.built = true;
  }
  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.add(tf.mul(tf.mul(x, this.scale.read()), this.factor), this.shift.read());
    });
  }
  getConfig() {
    return Object.assign({factor: this.factor}, super.getConfig());
  }
}
ScaleShift.className = 'ScaleShift';
tf.serialization.registerClass(ScaleShift);

addCase('custom_layer', 'Sequential Dense then a custom ScaleShift layer (registerClass; a trainable and a ' +
    'non-trainable weight, a config key of its own)', () => {
  const m = tf.sequential({name: 'custom'});
  m.add(L.dense({units: 4, inputShape: [3], name: 'pre'}));
  m.add(new ScaleShift({factor: 3, name: 'scale_shift'}));
  return m;
});

addCase('nested_seq', 'Sequential whose first layer is a Sequential, then Dense, a functional model and a ' +
    'Sequential with BatchNormalization as layers (saved weights: every trainable one, then the moving stats)', () => {
  const first = tf.sequential({name: 'first'});
  first.add(L.dense({units: 4, inputShape: [5], activation: 'relu', name: 'f1'}));
  const fin = tf.input({shape: [3], name: 'fin'});
  const func = tf.model({inputs: fin, outputs: L.dense({units: 3, activation: 'tanh', name: 'fd'}).apply(fin),
    name: 'func'});
  const bnSeq = tf.sequential({name: 'bn_seq'});
  bnSeq.add(L.batchNormalization({inputShape: [3], name: 'bn'}));
  bnSeq.add(L.dense({units: 2, name: 'bd'}));
  const m = tf.sequential({name: 'nested_seq'});
  m.add(first);
  m.add(L.dense({units: 3, name: 'mid'}));
  m.add(func);
  m.add(bnSeq);
  m.add(L.batchNormalization({name: 'bn_out'}));
  return m;
});

addCase('nested_functional', 'Functional with two inputs and two outputs calling a two-input functional model, a ' +
    'Sequential with BatchNormalization, and a functional model that calls a Sequential (nested two deep)', () => {
  const a = tf.input({shape: [4], name: 'a'});
  const b = tf.input({shape: [4], name: 'b'});
  const ia = tf.input({shape: [4], name: 'ia'});
  const ib = tf.input({shape: [4], name: 'ib'});
  const pair = tf.model({inputs: [ia, ib], name: 'pair',
    outputs: L.dense({units: 5, name: 'pd'}).apply(L.concatenate({name: 'pc'}).apply([ia, ib]))});
  const stats = tf.sequential({name: 'stats'});
  stats.add(L.dense({units: 3, inputShape: [5], name: 'sd'}));
  stats.add(L.batchNormalization({name: 'sbn'}));
  const innerMost = tf.sequential({name: 'inner_most'});
  innerMost.add(L.dense({units: 2, inputShape: [3], activation: 'elu', name: 'id'}));
  const deepIn = tf.input({shape: [3], name: 'deep_in'});
  const deep = tf.model({inputs: deepIn, name: 'deep',
    outputs: L.dense({units: 2, activation: 'sigmoid', name: 'dd'}).apply(innerMost.apply(deepIn))});
  const p = pair.apply([a, b]);
  const out = deep.apply(stats.apply(p));
  return tf.model({inputs: [a, b], outputs: [out, L.dense({units: 2, name: 'side'}).apply(p)],
    name: 'nested_functional'});
});

addCase('einsum', 'EinsumDense (tf.nlp): Dense-like ab,bc->ac with relu, per-position abc,cd->abd without bias (output size null), ' +
    'attention-style projections abc,cde->abde (bias de, and bias d only) and abcd,cde->abe (two summed axes, ' +
    'tanh), and ab,bc->abc (nothing summed)', () => {
  const E = tf.nlp.EinsumDense;
  const x = tf.input({shape: [3, 8], name: 'x'});
  const heads = new E({equation: 'abc,cde->abde', outputShape: [3, 2, 4], biasAxes: 'de', name: 'heads'}).apply(x);
  const biasMid = new E({equation: 'abc,cde->abde', outputShape: [3, 2, 4], biasAxes: 'd', name: 'bias_mid'})
      .apply(x);
  const merged = new E({equation: 'abcd,cde->abe', outputShape: [3, 6], biasAxes: 'e', activation: 'tanh',
    name: 'merge_heads'}).apply(heads);
  const seq = new E({equation: 'abc,cd->abd', outputShape: [null, 5], name: 'seq_nobias'}).apply(x);
  const dense = new E({equation: 'ab,bc->ac', outputShape: 7, biasAxes: 'c', activation: 'relu', name: 'dense_like'})
      .apply(L.flatten({name: 'flat_x'}).apply(x));
  const outer = new E({equation: 'ab,bc->abc', outputShape: [7, 2], name: 'no_sum'}).apply(dense);
  const flat = [biasMid, merged, outer].map((t, i) => L.flatten({name: `flat${i}`}).apply(t));
  return tf.model({inputs: x, outputs: [L.concatenate({name: 'cat'}).apply(flat), seq], name: 'einsum'});
}, 4, null, {nlp: true});

addCase('position_embedding', 'PositionEmbedding (tf.nlp): sequence 4 of 7 positions added to the input (as GPT-2 ' +
    'does, RandomNormal initializer), and on a rank-4 input', () => {
  const x = tf.input({shape: [4, 6], name: 'x'});
  const pos = new tf.nlp.PositionEmbedding({sequenceLength: 7, name: 'pos',
    initializer: tf.initializers.randomNormal({stddev: 0.02})}).apply(x);
  const sum = L.add({name: 'sum'}).apply([x, pos]);
  const grid = L.reshape({targetShape: [2, 2, 6], name: 'grid'}).apply(sum);
  const pos4 = new tf.nlp.PositionEmbedding({sequenceLength: 2, name: 'pos4'}).apply(grid);
  return tf.model({inputs: x, outputs: [sum, pos4], name: 'position_embedding'});
}, 3, null, {nlp: true});

addCase('conv_lstm', 'Sequential ConvLSTM2D: same padding with returnSequences; kernel [2, 3], strides [2, 1], ' +
    'valid, goBackwards, unitForgetBias, sigmoid recurrent activation; dilation 2, same, relu, no bias', () => {
  const m = tf.sequential({name: 'conv_lstm'});
  m.add(L.convLstm2d({filters: 3, kernelSize: 3, padding: 'same', returnSequences: true, inputShape: [4, 7, 6, 2],
    name: 'clstm_seq'}));
  m.add(L.convLstm2d({filters: 2, kernelSize: [2, 3], strides: [2, 1], goBackwards: true, unitForgetBias: true,
    recurrentActivation: 'sigmoid', returnSequences: true, name: 'clstm_back'}));
  m.add(L.convLstm2d({filters: 2, kernelSize: 2, dilationRate: 2, padding: 'same', activation: 'relu',
    useBias: false, name: 'clstm_dil'}));
  return m;
}, 2);

/** Frames [batch, steps, rows, cols, channels] padded as padded() pads rows (whole frames of zeros), and
 *  row 1's frame 1 with zero pixels only in its first image row (a mask that varies across the image). */
function paddedFrames(batch, steps, rows, cols, channels, seed) {
  const frame = rows * cols * channels;
  const v = values(batch * steps * frame, seed, 2);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const start = (b * steps + t) * frame;
      if (t >= steps - (b % steps)) v.fill(0, start, start + frame);
      if (b === 1 && t === 1) v.fill(0, start, start + cols * channels);
    }
  }
  return tf.tensor(v, [batch, steps, rows, cols, channels]);
}

addCase('conv_lstm_state', 'Functional ConvLSTM2D: returnState (sequences + h + c) as outputs, the sequence ' +
    'into a goBackwards ConvLSTM2D; channelsFirst; Masking (per-pixel mask) -> ConvLSTM2D; Bidirectional (ave)', () => {
  const inp = tf.input({shape: [3, 5, 4, 2], name: 'frames'});
  const [seq, h, c] = L.convLstm2d({filters: 2, kernelSize: 3, padding: 'same', returnSequences: true,
    returnState: true, name: 'clstm_st'}).apply(inp);
  // TF.js 4.22 cannot take an initialState here (ConvRNN2D's computeOutputShape reads only one shape).
  const dec = L.convLstm2d({filters: 2, kernelSize: 3, padding: 'same', goBackwards: true,
    name: 'clstm_back'}).apply(seq);
  const first = L.convLstm2d({filters: 2, kernelSize: 2, dataFormat: 'channelsFirst', returnSequences: true,
    name: 'clstm_first'}).apply(inp);
  const masked = L.masking({name: 'mask'}).apply(inp);
  const m = L.convLstm2d({filters: 3, kernelSize: [3, 1], padding: 'same', name: 'clstm_masked'}).apply(masked);
  const bi = L.bidirectional({layer: L.convLstm2d({filters: 2, kernelSize: 2, padding: 'same', name: 'clstm_bi'}),
    mergeMode: 'ave', name: 'bi_clstm'}).apply(inp);
  return tf.model({inputs: inp, outputs: [seq, h, c, dec, first, m, bi], name: 'conv_lstm_state'});
}, 3, null, {makeInputs: (batch) => [paddedFrames(batch, 3, 5, 4, 2, 500)]});

function write(dir, file, data) {
  fs.writeFileSync(path.join(dir, file), data);
}

/** The multipart fields tf.io.http(url).save() would POST, without sending them. */
async function httpBody(model) {
  let body = null;
  const fetchFunc = async (url, init) => { body = init.body; return new Response('{}', {status: 200}); };
  await model.save(tf.io.http('http://127.0.0.1:1/upload', {fetchFunc}));
  const fields = {};
  for (const [field, file] of body.entries()) fields[field] = Buffer.from(await file.arrayBuffer());
  return fields;
}

async function runCase(out, c, index) {
  const model = c.build();
  fixWeights(model, index * 10);
  const dir = path.join(out, c.name);
  fs.mkdirSync(dir, {recursive: true});
  for (const [field, data] of Object.entries(await httpBody(model))) write(dir, field, data);
  const scale = c.name === 'wide' ? 10 : 2;
  const inputs = c.makeInputs ? c.makeInputs(c.batch) : model.inputs.map((t, i) => {
    const shape = [c.batch, ...t.shape.slice(1)];
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(c.tokenDim ? tokens(n, 100 + i, c.tokenDim) : values(n, 100 + i, scale), shape);
  });
  const inner = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  let outputs;
  let each;
  if (c.direct) {
    each = inner.map((l) => l.apply(inputs[0]));
    outputs = model.outputLayers.map((l) => each[inner.indexOf(l)]);
  } else {
    outputs = model.predict(inputs.length === 1 ? inputs[0] : inputs);
    outputs = Array.isArray(outputs) ? outputs : [outputs];
    // A nested model also has the node its own constructor made: take a layer's last call's output, and
    // of a layer with several outputs (an RNN with returnState) the first.
    const last = (l) => {
      const out = l.getOutputAt(l.inboundNodes.length - 1);
      return Array.isArray(out) ? out[0] : out;
    };
    const probe = tf.model({inputs: model.inputs, outputs: inner.map(last), name: `probe_${c.name}`});
    each = probe.predict(inputs.length === 1 ? inputs[0] : inputs);
    each = Array.isArray(each) ? each : [each];
  }
  const enc = (t) => ({shape: t.shape, values_b64: b64(t.dataSync())});
  write(dir, 'io.json', JSON.stringify({inputs: inputs.map(enc), outputs: outputs.map(enc)}));
  write(dir, 'layer_outputs.json', JSON.stringify({layers: inner.map((l, i) => ({name: l.name, ...enc(each[i])}))}));
  return {case: c.name, description: c.description, inputs: model.inputNames, outputs: outputs.length};
}

/** Load OUTDIR/<case> back into TF.js and save it again: what a TF.js round trip writes. */
async function resave(dir) {
  const modelJSON = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const data = fs.readFileSync(path.join(dir, 'model.weights.bin'));
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJSON, async () => [
    modelJSON.weightsManifest.flatMap((g) => g.weights),
    data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)]);
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  write(dir, 'resaved.json', (await httpBody(model))['model.json']);
}

const NLP_INDEX = 'index.nlp.json';

/** Run the {nlp: true} cases in a child on TF.js's ES modules; their index entries, by case name. */
function runNlpChild(out) {
  const preload = path.join(__dirname, 'tfjs_esm.mjs');
  const child = require('child_process').spawnSync(process.execPath, ['--import', preload, __filename, out],
      {stdio: ['ignore', 'inherit', 'inherit']});
  if (child.status !== 0) throw new Error(`the NLP cases failed in the ES-module child (exit ${child.status})`);
  const entries = JSON.parse(fs.readFileSync(path.join(out, NLP_INDEX), 'utf8'));
  fs.unlinkSync(path.join(out, NLP_INDEX));
  return new Map(entries.map((e) => [e.case, e]));
}

async function main(argv) {
  if (argv.length !== 1) {
    process.stderr.write('usage: node tools/tfjs/layers_goldens.js OUTDIR\n');
    return 2;
  }
  await tf.setBackend('cpu');
  fs.mkdirSync(argv[0], {recursive: true});
  const cases = [];
  for (let i = 0; i < CASES.length; i++) {
    if (CASES[i].nlp === ESM) cases.push(await runCase(argv[0], CASES[i], i));
  }
  for (const c of cases) await resave(path.join(argv[0], c.case));
  if (ESM) {
    write(argv[0], NLP_INDEX, JSON.stringify(cases));
    return 0;
  }
  const nlp = CASES.some((c) => c.nlp) ? runNlpChild(argv[0]) : new Map();
  const ordered = CASES.map((c) => (c.nlp ? nlp.get(c.name) : cases.find((e) => e.case === c.name)));
  write(argv[0], 'index.json', JSON.stringify({tfjs_version: tf.version.tfjs, cases: ordered}));
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`layers_goldens: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 1;
});
