#!/usr/bin/env node
/**
 * Run the published models of tools/published/models.json in real TensorFlow.js 4.22 (cpu backend).
 *
 *   node tools/published/goldens.js OUTDIR PACKAGES [ID...]
 *
 * PACKAGES is where tools/published/fetch.py unpacked the npm tarballs. For each model (or only the
 * IDs given), OUTDIR/<id>/ gets:
 *   model/          the model as a folder pyweb loads with file://: model.json and its shards, copied
 *                   byte for byte (or, for a model a package ships as JS bundles, decoded from them)
 *   weights.json    {"weights": [{"name", "shape"}]} in model.weights order, as TF.js holds them
 *   weights.f32     those weights after TF.js's dequantization, float32 little-endian, concatenated
 *   io.json         {"input": {"shape", "values_b64"}, "output": {"shape", "values_b64"}}: predict()
 *   timing.json     {"load_ms": [...], "layers": n}: wall time of reading the files and
 *                   tf.loadLayersModel, one warm-up load first
 *   resaved.json    the model.json TF.js writes when it saves the loaded model (tf.io.http's body)
 * A model whose package registers custom layer classes (entry "custom_layers": the package's module
 * whose default export has setup(tf)) gets them registered first, as the package does in a page.
 */
'use strict';

const fs = require('fs');
const path = require('path');

console.log = console.info = console.debug = (...args) => console.error(...args);
const tf = require('@tensorflow/tfjs');
const files = require('./load_files');
tf.enableProdMode();

const CATALOGUE = path.join(__dirname, 'models.json');
const LOAD_RUNS = 5;

function packageDir(root, spec) {
  return path.resolve(root, spec.replace(/\//g, '+'), 'package');
}

/** Deterministic float32 values in [0, range]. */
function values(n, range) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround((Math.sin((i + 1) * 12.9898) + 1) / 2 * range);
  return out;
}

function b64(arr) {
  return Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength).toString('base64');
}

/** Write the model as files into dir: copies, or decoded from a package's JS bundles. */
function materialize(entry, pkg, dir) {
  fs.rmSync(dir, {recursive: true, force: true});
  fs.mkdirSync(dir, {recursive: true});
  const src = path.join(pkg, entry.model);
  if (!entry.bundle) {
    const modelJSON = JSON.parse(fs.readFileSync(src, 'utf8'));
    fs.copyFileSync(src, path.join(dir, 'model.json'));
    for (const group of modelJSON.weightsManifest) {
      for (const p of group.paths) fs.copyFileSync(path.join(path.dirname(src), p), path.join(dir, p));
    }
    return;
  }
  // nsfwjs ships model.json and each shard as a browserified module (shards as base64 strings).
  const modelJSON = require(src);
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJSON));
  for (const group of modelJSON.weightsManifest) {
    for (const p of group.paths) {
      const data = require(path.join(path.dirname(src), `${p}.min.js`));
      fs.writeFileSync(path.join(dir, p), Buffer.from(data, 'base64'));
    }
  }
}

async function runModel(entry, root, out) {
  const pkg = packageDir(root, entry.package);
  if (entry.custom_layers) require(path.join(pkg, entry.custom_layers)).default.setup(tf);
  const dir = path.join(out, entry.id);
  materialize(entry, pkg, path.join(dir, 'model'));

  (await files.loadFrom(tf, path.join(dir, 'model'))).dispose();  // warm-up: JIT, kernel registration
  const loadMs = [];
  let model;
  for (let i = 0; i < LOAD_RUNS; i++) {
    if (model) model.dispose();
    const start = process.hrtime.bigint();
    model = await files.loadFrom(tf, path.join(dir, 'model'));
    loadMs.push(Number(process.hrtime.bigint() - start) / 1e6);
  }

  const weights = model.weights.map((w) => ({name: w.originalName, shape: w.shape}));
  const data = model.weights.map((w) => Buffer.from(w.read().dataSync().buffer));
  fs.writeFileSync(path.join(dir, 'weights.json'), JSON.stringify({weights}));
  fs.writeFileSync(path.join(dir, 'weights.f32'), Buffer.concat(data));

  const n = entry.input.reduce((a, b) => a * b, 1);
  const input = tf.tensor(values(n, entry.range), entry.input);
  const output = model.predict(input);
  const enc = (t) => ({shape: t.shape, values_b64: b64(t.dataSync())});
  fs.writeFileSync(path.join(dir, 'io.json'), JSON.stringify({input: enc(input), output: enc(output)}));
  fs.writeFileSync(path.join(dir, 'timing.json'), JSON.stringify({load_ms: loadMs, layers: model.layers.length}));
  let body;
  const fetchFunc = async (url, init) => { body = init.body; return new Response('{}', {status: 200}); };
  await model.save(tf.io.http('http://127.0.0.1:1/upload', {fetchFunc}));
  for (const [field, file] of body.entries()) {
    if (field === 'model.json') fs.writeFileSync(path.join(dir, 'resaved.json'), Buffer.from(await file.arrayBuffer()));
  }
  model.dispose();
  return entry.id;
}

async function main(argv) {
  if (argv.length < 2) {
    process.stderr.write('usage: node tools/published/goldens.js OUTDIR PACKAGES [ID...]\n');
    return 2;
  }
  await tf.setBackend('cpu');
  const [out, root, ...ids] = argv;
  const catalogue = JSON.parse(fs.readFileSync(CATALOGUE, 'utf8'));
  const done = [];
  for (const entry of catalogue.models) {
    if (ids.length && !ids.includes(entry.id)) continue;
    done.push(await runModel(entry, root, out));
  }
  fs.writeFileSync(path.join(out, 'index.json'), JSON.stringify({tfjs_version: tf.version.tfjs, models: done}));
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`published goldens: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 1;
});
