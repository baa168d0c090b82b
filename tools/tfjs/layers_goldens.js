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

const CASES = [];
function addCase(name, description, build, batch = 4, tokenDim = null, {nlp = false} = {}) {
  CASES.push({name, description, build, batch, tokenDim, nlp});
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
  const inputs = model.inputs.map((t, i) => {
    const shape = [c.batch, ...t.shape.slice(1)];
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(c.tokenDim ? tokens(n, 100 + i, c.tokenDim) : values(n, 100 + i, scale), shape);
  });
  let outputs = model.predict(inputs.length === 1 ? inputs[0] : inputs);
  outputs = Array.isArray(outputs) ? outputs : [outputs];
  const enc = (t) => ({shape: t.shape, values_b64: b64(t.dataSync())});
  write(dir, 'io.json', JSON.stringify({inputs: inputs.map(enc), outputs: outputs.map(enc)}));
  const inner = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  // A nested model also has the node its own constructor made: take its last call's output.
  const probe = tf.model({inputs: model.inputs, outputs: inner.map((l) => l.getOutputAt(l.inboundNodes.length - 1)),
    name: `probe_${c.name}`});
  let each = probe.predict(inputs.length === 1 ? inputs[0] : inputs);
  each = Array.isArray(each) ? each : [each];
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
