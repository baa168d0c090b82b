#!/usr/bin/env node
/**
 * Save a small Layers model from real TensorFlow.js 4.22.0 to an http(s) URL, the way a page's
 * `model.save('http://…/upload/NAME')` does: a multipart POST built by TF.js with Node 20's global
 * fetch/FormData/Blob. pyweb's tests point it at `pyweb serve` and then load the upload in Python.
 *
 *   node tools/tfjs/save_http.js URL [TOKEN]
 *
 * Prints one JSON object: {"status": <HTTP status>, "weights": [{"name", "shape", "dtype",
 * "values_b64"}]} with the weights TF.js posted (raw little-endian float32 bytes). With TOKEN, the
 * request carries `Authorization: Bearer TOKEN`. Exits 1 with a message on stderr when the save fails.
 */
'use strict';

console.log = console.info = console.debug = (...args) => console.error(...args);
const tf = require('@tensorflow/tfjs');
tf.enableProdMode();

// Deterministic weights: the test compares what Python loads with what TF.js sent.
function fill(shape, seed) {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Float32Array.from({length: n}, (_, i) => Math.sin(seed * 31 + i) * 0.5);
  return tf.tensor(values, shape);
}

function buildModel() {
  const model = tf.sequential();
  model.add(tf.layers.dense({units: 4, inputShape: [3], activation: 'relu'}));
  model.add(tf.layers.dense({units: 2, activation: 'softmax'}));
  model.setWeights(model.weights.map((w, i) => fill(w.shape, i + 1)));
  return model;
}

async function main() {
  const [url, token] = process.argv.slice(2);
  if (!url) {
    process.stderr.write('usage: node save_http.js URL [TOKEN]\n');
    process.exit(2);
  }
  const model = buildModel();
  const requestInit = token ? {headers: {Authorization: `Bearer ${token}`}} : {};
  const result = await model.save(tf.io.http(url, {requestInit}));
  const weights = model.weights.map((w) => ({
    name: w.originalName,
    shape: w.shape,
    dtype: w.dtype,
    values_b64: Buffer.from(w.read().dataSync().buffer).toString('base64'),
  }));
  process.stdout.write(JSON.stringify({status: result.responses[0].status, weights}) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
