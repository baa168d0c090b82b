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

const readline = require('readline');

console.log = console.info = console.debug = (...args) => console.error(...args);
const tf = require('@tensorflow/tfjs');
const files = require('../tools/published/load_files');
tf.enableProdMode();

async function main([dir, custom]) {
  await tf.setBackend('cpu');
  if (custom) require(custom).default.setup(tf);
  let model = await files.loadFrom(tf, dir);  // warm-up: JIT, kernel registration
  process.stdout.write('ready\n');
  for await (const _line of readline.createInterface({input: process.stdin})) {
    model.dispose();
    const start = process.hrtime.bigint();
    model = await files.loadFrom(tf, dir);
    process.stdout.write(`${Number(process.hrtime.bigint() - start) / 1e6}\n`);
  }
  model.dispose();
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`tfjs load: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 1;
});
