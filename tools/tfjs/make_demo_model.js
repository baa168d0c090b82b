#!/usr/bin/env node
/**
 * The demo page's example model, trained and saved by real TensorFlow.js 4.22.0 (cpu backend).
 *
 * Re-run (it overwrites the committed files):
 *
 *   node tools/tfjs/make_demo_model.js pyweb/demo/page/examples/tfjs-blobs
 *
 * The toy problem is pyweb/demo/page/toy_model.py's: three Gaussian blobs in 2-D centred at (0,2), (-2,-1) and
 * (2,-1), classes ["north", "west", "east"], 60 points each, std 0.6. The points come from a seeded
 * LCG + Box-Muller, so they are the same on every run (not the same points as numpy's generator).
 * The model is tf.sequential Dense(12, relu) -> Dropout(0.1) -> Dense(3, softmax) with seeded
 * glorotUniform kernels, fitted with adam on categorical crossentropy.
 *
 * Every source of randomness is seeded: the data, the kernel initializers, the one shuffle of the
 * training set (fit runs with shuffle: false, since fit's own shuffle uses Math.random) and the
 * Dropout masks (a seeded Dropout draws the same mask for every batch of the same size; harmless here).
 * So a fresh process writes the same bytes as long as V8's Math.exp/log do not change.
 *
 * OUTDIR layout (the converter's, which tf.loadLayersModel(url) / tf.io.browserHTTPRequest loads):
 *   model.json            compact JSON of the artifacts in tfjs-core's getModelJSONForModelArtifacts key
 *                         order (modelTopology, format, generatedBy, convertedBy, weightsManifest,
 *                         userDefinedMetadata); weightsManifest is
 *                         [{"paths": ["group1-shard1of1.bin"], "weights": specs}] and userDefinedMetadata is
 *                         {"classes": [...], "probe": [[x, y], ...],
 *                          "probe_predictions": model.predict(probe).arraySync()}
 *   group1-shard1of1.bin  the weight bytes (float32, little-endian, in spec order)
 */
'use strict';

const fs = require('fs');
const path = require('path');

// Nothing is printed on stdout; TF.js's chatter goes to stderr.
console.log = console.info = console.debug = (...args) => console.error(...args);
const tf = require('@tensorflow/tfjs');
tf.enableProdMode(); // only silences TF.js's own warnings (the "install the node backend" banner)

const CLASSES = ['north', 'west', 'east'];
const CENTERS = [[0, 2], [-2, -1], [2, -1]];
const POINTS_PER_CLASS = 60;
const STD = 0.6;
const EPOCHS = 40;
const WEIGHTS_FILE = 'group1-shard1of1.bin';

/** Uniform floats in (0, 1) from a Numerical Recipes LCG: the same on every engine and run. */
function uniforms(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
}

/** Standard normal pairs by Box-Muller over `next`. */
function normals(next) {
  let spare = null;
  return () => {
    if (spare !== null) {
      const z = spare;
      spare = null;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(next()));
    const theta = 2 * Math.PI * next();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

/** The blobs as {xs: [[x, y]...], ys: [class...]}, shuffled once with the same generator. */
function blobs(seed) {
  const next = uniforms(seed);
  const gauss = normals(next);
  const rows = [];
  CENTERS.forEach(([cx, cy], label) => {
    for (let i = 0; i < POINTS_PER_CLASS; i++) rows.push([[cx + STD * gauss(), cy + STD * gauss()], label]);
  });
  for (let i = rows.length - 1; i > 0; i--) { // Fisher-Yates
    const j = Math.floor(next() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return {xs: rows.map((r) => r[0]), ys: rows.map((r) => r[1])};
}

function buildModel() {
  const model = tf.sequential();
  model.add(tf.layers.dense({units: 12, activation: 'relu', inputShape: [2],
    kernelInitializer: tf.initializers.glorotUniform({seed: 1})}));
  model.add(tf.layers.dropout({rate: 0.1, seed: 3}));
  model.add(tf.layers.dense({units: 3, activation: 'softmax',
    kernelInitializer: tf.initializers.glorotUniform({seed: 2})}));
  model.compile({optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy', metrics: ['accuracy']});
  return model;
}

async function train(model) {
  const {xs, ys} = blobs(20240601);
  const x = tf.tensor2d(xs, [xs.length, 2]);
  const y = tf.oneHot(tf.tensor1d(ys, 'int32'), CLASSES.length);
  const history = await model.fit(x, y, {epochs: EPOCHS, batchSize: 32, shuffle: false, verbose: 0});
  const last = (key) => history.history[key][EPOCHS - 1];
  return {loss: last('loss'), acc: last('acc')};
}

/** model.json's object as tfjs-core io_utils getModelJSONForModelArtifacts builds it (tf.io does not
 *  export it). LayersModel.save sets convertedBy to null, so "convertedBy": null is written, as TF.js does. */
function modelJSONFor(artifacts, weightsManifest) {
  const {modelTopology, format, generatedBy, convertedBy} = artifacts;
  const result = {modelTopology, format, generatedBy, convertedBy, weightsManifest};
  for (const key of ['signature', 'userDefinedMetadata', 'modelInitializer', 'initializerSignature',
    'trainingConfig']) {
    if (artifacts[key] != null) result[key] = artifacts[key];
  }
  return result;
}

/** Save the model with a handler that writes the converter's two files into `out`. */
async function saveInto(model, out) {
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const parts = Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData];
    const data = Buffer.concat(parts.map((b) => Buffer.from(b)));
    const modelJSON = modelJSONFor(artifacts, [{paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs}]);
    fs.mkdirSync(out, {recursive: true});
    fs.writeFileSync(path.join(out, 'model.json'), JSON.stringify(modelJSON));
    fs.writeFileSync(path.join(out, WEIGHTS_FILE), data);
    return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts)};
  }));
}

async function main(argv) {
  if (argv.length !== 1) {
    process.stderr.write('usage: node tools/tfjs/make_demo_model.js OUTDIR\n');
    return 2;
  }
  await tf.setBackend('cpu');
  const model = buildModel();
  const {loss, acc} = await train(model);
  const probe = CENTERS.map((c) => c.slice());
  const predictions = tf.tidy(() => model.predict(tf.tensor2d(probe)).arraySync());
  model.setUserDefinedMetadata({classes: CLASSES, probe, probe_predictions: predictions});
  await saveInto(model, argv[0]);
  process.stderr.write(`make_demo_model: ${EPOCHS} epochs, loss ${loss.toFixed(4)}, accuracy ${acc.toFixed(3)}; ` +
      `wrote ${argv[0]}\n`);
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`make_demo_model: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 1;
});
