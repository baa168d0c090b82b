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
 * OUTDIR/<case>/io.json            {"inputs": [{"shape", "values_b64"}], "outputs": [{"shape", "values_b64"}]}
 *                                  float32 little-endian; outputs of model.predict(inputs)
 */
'use strict';

const fs = require('fs');
const path = require('path');

console.log = console.info = console.debug = (...args) => console.error(...args);
const tf = require('@tensorflow/tfjs');
tf.enableProdMode();
const L = tf.layers;

/** Deterministic float32 values in about [-scale, scale]. */
function values(n, seed, scale = 1) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(Math.sin((i + 1) * 12.9898 + seed * 78.233) * scale);
  return out;
}

function fixWeights(model, seed) {
  model.setWeights(model.weights.map((w, i) => tf.tensor(values(w.shape.reduce((a, b) => a * b, 1), seed + i, 0.7), w.shape)));
}

function b64(arr) {
  return Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength).toString('base64');
}

const CASES = [];
function addCase(name, description, build, batch = 4) {
  CASES.push({name, description, build, batch});
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

function write(dir, file, data) {
  fs.writeFileSync(path.join(dir, file), data);
}

async function runCase(out, c, index) {
  const model = c.build();
  fixWeights(model, index * 10);
  const dir = path.join(out, c.name);
  fs.mkdirSync(dir, {recursive: true});
  // Save through tf.io.http with a fetchFunc that keeps the multipart body instead of sending it.
  let body = null;
  const fetchFunc = async (url, init) => { body = init.body; return new Response('{}', {status: 200}); };
  await model.save(tf.io.http('http://127.0.0.1:1/upload', {fetchFunc}));
  for (const [field, file] of body.entries()) write(dir, field, Buffer.from(await file.arrayBuffer()));
  const scale = c.name === 'wide' ? 10 : 2;
  const inputs = model.inputs.map((t, i) => tf.tensor(values(c.batch * t.shape[1], 100 + i, scale), [c.batch, t.shape[1]]));
  let outputs = model.predict(inputs.length === 1 ? inputs[0] : inputs);
  outputs = Array.isArray(outputs) ? outputs : [outputs];
  const enc = (t) => ({shape: t.shape, values_b64: b64(t.dataSync())});
  write(dir, 'io.json', JSON.stringify({inputs: inputs.map(enc), outputs: outputs.map(enc)}));
  return {case: c.name, description: c.description, inputs: model.inputNames, outputs: outputs.length};
}

async function main(argv) {
  if (argv.length !== 1) {
    process.stderr.write('usage: node tools/tfjs/layers_goldens.js OUTDIR\n');
    return 2;
  }
  await tf.setBackend('cpu');
  fs.mkdirSync(argv[0], {recursive: true});
  const cases = [];
  for (let i = 0; i < CASES.length; i++) cases.push(await runCase(argv[0], CASES[i], i));
  write(argv[0], 'index.json', JSON.stringify({tfjs_version: tf.version.tfjs, cases}));
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`layers_goldens: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 1;
});
