#!/usr/bin/env node
/**
 * Report what real TensorFlow.js 4.22.0 sees when it loads a model, so pyweb's tests can check that
 * TF.js reads pyweb's output exactly as pyweb meant it.
 *
 *   node tools/tfjs/load_check.js SOURCE
 *
 * SOURCE is an http(s) URL of a model.json (loaded with tf.io.http(url).load() and, for layers
 * models, tf.loadLayersModel(url)), or a local model.json path or a directory holding model.json
 * (files read with fs, turned into artifacts by tf.io.getModelArtifactsForJSON, then loaded with
 * tf.loadLayersModel(tf.io.fromMemory(artifacts))). Weight paths are resolved the way each TF.js
 * loader does: URL prefix + path for http, path.join(dir of model.json, path) for files.
 *
 * Prints one JSON object on stdout (JSON.stringify, so undefined fields are absent and null stays):
 *   {
 *     "source": "http" | "file",
 *     "format", "generatedBy", "convertedBy", "userDefinedMetadata", "trainingConfig": as loaded,
 *     "weight_data_bytes": int,
 *     "weights": [{"name", "dtype", "shape", "values_b64"}],   in spec order, from tf.io.decodeWeights;
 *         values_b64 is base64 of the raw little-endian bytes of dataSync() (complex64 interleaved,
 *         bool one byte each), or for string tensors a list with the base64 of each element's bytes
 *     "model_loaded": bool,        true once tf.loadLayersModel succeeded; false for non-layers models
 *     "predict": {"inputs": [[1, ...inputShape], ...], "output": nested list(s)}   layers models only
 *   }
 * Exits 1 with a message on stderr when loading fails, 2 on bad usage.
 */
'use strict';

const fs = require('fs');
const path = require('path');

// stdout carries exactly one JSON document; anything chatty goes to stderr.
console.log = console.info = console.debug = (...args) => console.error(...args);

const tf = require('@tensorflow/tfjs');
tf.enableProdMode(); // silences TF.js's own warnings, e.g. the "install the node backend" banner

function b64(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function isHttp(source) {
  return /^https?:\/\//.test(source);
}

function isLayersModel(artifacts) {
  if (artifacts.format != null) return artifacts.format === 'layers-model';
  const topology = artifacts.modelTopology;
  // Old layers saves have no format; graph models carry a GraphDef ("node") instead of class_name.
  if (topology == null || topology instanceof ArrayBuffer) return false;
  return 'class_name' in topology || 'model_config' in topology;
}

function modelJsonPath(source) {
  return fs.statSync(source).isDirectory() ? path.join(source, 'model.json') : source;
}

/** Concatenate every shard in manifest order, as tfjs-node's file loader does. */
function readShards(dir, manifest) {
  const specs = [];
  const buffers = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const joined = Buffer.concat(buffers);
  return [specs, joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength)];
}

function fileArtifacts(source) {
  const jsonPath = modelJsonPath(source);
  const modelJSON = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => readShards(path.dirname(jsonPath), manifest));
}

async function loadArtifacts(source) {
  return isHttp(source) ? tf.io.http(source).load() : fileArtifacts(source);
}

async function loadModel(source, artifacts) {
  return tf.loadLayersModel(isHttp(source) ? source : tf.io.fromMemory(artifacts));
}

async function weightEntry(spec, tensor) {
  const values = tensor.dtype === 'string' ? (await tensor.bytes()).map(b64) : b64(tensor.dataSync());
  return {name: spec.name, dtype: tensor.dtype, shape: tensor.shape, values_b64: values};
}

async function decodedWeights(artifacts) {
  if (artifacts.weightSpecs == null) return [];
  const tensors = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
  const entries = [];
  for (const spec of artifacts.weightSpecs) entries.push(await weightEntry(spec, tensors[spec.name]));
  return entries;
}

function weightDataBytes(data) {
  if (data == null) return 0;
  return (Array.isArray(data) ? data : [data]).reduce((n, b) => n + b.byteLength, 0);
}

function predictOnes(model) {
  const inputs = model.inputs.map((t) => [1, ...t.shape.slice(1)]);
  const out = model.predict(inputs.map((shape) => tf.ones(shape)));
  return {inputs, output: Array.isArray(out) ? out.map((t) => t.arraySync()) : out.arraySync()};
}

async function check(source) {
  const artifacts = await loadArtifacts(source);
  const report = {
    source: isHttp(source) ? 'http' : 'file',
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    userDefinedMetadata: artifacts.userDefinedMetadata,
    trainingConfig: artifacts.trainingConfig,
    weight_data_bytes: weightDataBytes(artifacts.weightData),
    weights: await decodedWeights(artifacts),
    model_loaded: false,
  };
  if (isLayersModel(artifacts)) {
    const model = await loadModel(source, artifacts);
    report.model_loaded = true;
    report.predict = predictOnes(model);
  }
  return report;
}

async function main(argv) {
  if (argv.length !== 1) {
    process.stderr.write('usage: node tools/tfjs/load_check.js SOURCE  (http(s) URL of model.json, or a local path)\n');
    return 2;
  }
  await tf.setBackend('cpu');
  process.stdout.write(JSON.stringify(await check(argv[0])) + '\n');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`load_check: loading ${process.argv[2]} failed: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  },
);
