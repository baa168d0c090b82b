#!/usr/bin/env node
/**
 * TF.js's side of bench/bench_published.py: one Node process that keeps running, so its loads
 * can take turns with pyweb's in the same run.
 *
 *   node bench/_tfjs_load.js MODEL_DIR [CUSTOM_LAYERS_MODULE]
 *
 * Loads MODEL_DIR (model.json and its shards) the way tools/published/goldens.js times it: read
 * the files, tf.loadLayersModel (cpu backend). After one warm-up load it prints "ready"; then for
 * each line read on stdin it loads the model once and prints the milliseconds of that load. The
 * previous model is disposed before the clock starts.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

console.log = console.info = console.debug = (...args) => console.error(...args);
const tf = require('@tensorflow/tfjs');
tf.enableProdMode();

async function loadFrom(dir) {
  const modelJSON = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
    const specs = manifest.flatMap((g) => g.weights);
    const parts = manifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(dir, p)));
    const all = Buffer.concat(parts);
    return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
  });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

async function main([dir, custom]) {
  await tf.setBackend('cpu');
  if (custom) require(custom).default.setup(tf);
  let model = await loadFrom(dir);  // warm-up: JIT, kernel registration
  process.stdout.write('ready\n');
  for await (const _line of readline.createInterface({input: process.stdin})) {
    model.dispose();
    const start = process.hrtime.bigint();
    model = await loadFrom(dir);
    process.stdout.write(`${Number(process.hrtime.bigint() - start) / 1e6}\n`);
  }
  model.dispose();
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`tfjs load: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 1;
});
