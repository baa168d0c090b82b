#!/usr/bin/env node
/**
 * Write golden files produced by real TensorFlow.js 4.22.0, for pyweb's byte-for-byte interop tests.
 *
 *   node tools/tfjs/make_goldens.js OUTDIR
 *
 * Everything is deterministic: weights come from a fixed integer generator (no random init), nothing
 * depends on time, and every file is written in a fixed order. Runs on the cpu backend in a fresh
 * process, so TF.js's global name counters start at 1 (dense_Dense1, sequential_1, ...).
 *
 * OUTDIR layout
 * -------------
 * index.json                        describes every case (schema below)
 * model_<case>.artifacts.json       JSON.stringify(ModelArtifacts minus weightData), as handed to a save handler
 * model_<case>.weights.bin          the artifacts' weightData
 * model_<case>.http.model.json      the `model.json` part tf.io.http(...).save() POSTs, byte for byte
 * model_<case>.http.weights.bin     the `model.weights.bin` part it POSTs (absent if it sent none)
 * encode_<case>.weights.bin         tf.io.encodeWeights(...).data
 * encode_<case>.specs.json          JSON.stringify(tf.io.encodeWeights(...).specs)
 * decode_<case>.weights.bin         raw (often quantized) bytes fed to tf.io.decodeWeights
 * decode_<case>.specs.json          the specs fed to tf.io.decodeWeights
 * decode_<case>.decoded.json        [{name, dtype, shape, values_b64}] of what decodeWeights returned
 * json_cases.json                   JSON.stringify goldens (format below)
 *
 * index.json
 * ----------
 * {
 *   "tfjs_version": "4.22.0", "node_version": "v20...", "backend": "cpu",
 *   "models": [{
 *     "case": str, "description": str,
 *     "files": {"artifacts", "weights", "http_model_json", "http_weights"?: file names},
 *     "artifacts_info": {"modelTopologyType", "modelTopologyBytes", "weightSpecsBytes", "weightDataBytes"},
 *                       (tf.io.getModelArtifactsInfoForJSON without the dateSaved)
 *     "http": {"url", "method", "parts": [{"field", "filename", "type", "bytes"}]},
 *     "http_weights_equal_artifacts": bool,
 *     "predict": {"inputs": [[1, ...inputShape], ...], "output": nested list(s) from model.predict(ones)},
 *     "reference_model_json": {"expected_bytes": int, "matches": bool}     (reference case only)
 *   }],
 *   "encode": [{
 *     "case", "description", "group": str|null,
 *     "files": {"weights", "specs"},
 *     "inputs": [{"name", "dtype", "shape", "values_b64"}]   numeric: raw little-endian bytes of the
 *                 values (complex64 interleaved re/im float32, bool one byte each); string: a list with
 *                 the base64 of each element's bytes
 *   }],
 *   "decode": [{"case", "description", "files": {"weights", "specs", "decoded"}}],
 *   "json": {"file": "json_cases.json", "count": int}
 * }
 *
 * json_cases.json
 * ---------------
 * An array of {"id", "text", "expected"}. `text` is JSON in the dialect Python's json.loads reads
 * (it also accepts NaN, Infinity, -Infinity), so the consumer does `js_dumps(json.loads(text))`.
 * `expected` is JSON.stringify of the same text evaluated as a JS expression; the two parsers agree on
 * the value (1.0 -> 1, -0.0 -> -0, "\ud800" -> a lone surrogate, object keys in text order), except
 * that JS then moves array-index keys first, which is exactly what the goldens pin.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const vm = require('vm');

const tf = requireQuietTf();

// ---------------------------------------------------------------------------------------------------
// Setup and small helpers

/** Load TF.js with its console chatter off (the Node "install our node backend" banner, etc.). */
function requireQuietTf() {
  const lib = require('@tensorflow/tfjs');
  // PROD only gates TF.js's own console.warn/log calls; numerics and checks are unchanged.
  lib.enableProdMode();
  return lib;
}

/** Deterministic uint32 stream (Numerical Recipes LCG): same values on every engine and run. */
function lcg(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
}

/** n float32 values in [-1, 1) that use all mantissa bits. */
function floatValues(n, next) {
  return Float32Array.from({length: n}, () => (next() >>> 8) / 2 ** 23 - 1);
}

function b64(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function u8(typedArray) {
  return new Uint8Array(typedArray.buffer, typedArray.byteOffset, typedArray.byteLength);
}

function concatBytes(parts) {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(u8(p)))));
}

class Out {
  constructor(dir) {
    this.dir = dir;
    fs.mkdirSync(dir, {recursive: true});
  }

  bytes(name, data) {
    const view = data instanceof ArrayBuffer ? new Uint8Array(data) : u8(data);
    fs.writeFileSync(path.join(this.dir, name), view);
    return name;
  }

  text(name, text) {
    fs.writeFileSync(path.join(this.dir, name), text, 'utf8');
    return name;
  }

  /** Compact, as TF.js writes JSON; `pretty` only for the human-facing index. */
  json(name, value, pretty = false) {
    return this.text(name, pretty ? JSON.stringify(value, null, 2) + '\n' : JSON.stringify(value));
  }
}

// ---------------------------------------------------------------------------------------------------
// Layers models

// Never contacted: the fetchFunc below answers instead. It only shows up in index.json.
const UPLOAD_URL = 'http://127.0.0.1:1/upload';

// Reference §13: the 1462-byte model.json the downloads saver writes for this exact model in a fresh
// process. The HTTP saver differs only in the weights path.
const REFERENCE_MODEL_JSON =
  '{"modelTopology":{"class_name":"Sequential","config":{"name":"sequential_1","layers":[{"class_name":"Dense","config":{"units":4,"activation":"relu","use_bias":true,"kernel_initializer":{"class_name":"VarianceScaling","config":{"scale":1,"mode":"fan_avg","distribution":"normal","seed":null}},"bias_initializer":{"class_name":"Zeros","config":{}},"kernel_regularizer":null,"bias_regularizer":null,"activity_regularizer":null,"kernel_constraint":null,"bias_constraint":null,"name":"dense_Dense1","trainable":true,"batch_input_shape":[null,3],"dtype":"float32"}},{"class_name":"Dense","config":{"units":1,"activation":"linear","use_bias":true,"kernel_initializer":{"class_name":"VarianceScaling","config":{"scale":1,"mode":"fan_avg","distribution":"normal","seed":null}},"bias_initializer":{"class_name":"Zeros","config":{}},"kernel_regularizer":null,"bias_regularizer":null,"activity_regularizer":null,"kernel_constraint":null,"bias_constraint":null,"name":"dense_Dense2","trainable":true}}]},"keras_version":"tfjs-layers 4.22.0","backend":"tensor_flow.js"},"format":"layers-model","generatedBy":"TensorFlow.js tfjs-layers v4.22.0","convertedBy":null,"weightsManifest":[{"paths":["./my-model.weights.bin"],"weights":[{"name":"dense_Dense1/kernel","shape":[3,4],"dtype":"float32"},{"name":"dense_Dense1/bias","shape":[4],"dtype":"float32"},{"name":"dense_Dense2/kernel","shape":[4,1],"dtype":"float32"},{"name":"dense_Dense2/bias","shape":[1],"dtype":"float32"}]}]}';

/** Replace every weight (initializers are random) with fixed values. */
function setFixedWeights(model, seed) {
  const next = lcg(seed);
  const values = model.weights.map((w) => tf.tensor(floatValues(tf.util.sizeFromShape(w.shape), next), w.shape));
  model.setWeights(values);
}

/** Give Adam its slot variables (one real step), then overwrite them with fixed values. */
async function setFixedOptimizerWeights(model, x, y, seed) {
  await model.trainOnBatch(x, y);
  const next = lcg(seed);
  const current = await model.optimizer.getWeights();
  // current[0] is Adam's int32 "iter" count; the rest are its m/v slots.
  const fixed = current.map(({name, tensor}, i) => ({
    name,
    tensor: i === 0 ? tf.scalar(7, 'int32') : tf.tensor(floatValues(tensor.size, next), tensor.shape),
  }));
  await model.optimizer.setWeights(fixed);
}

function buildReferenceDense() {
  // Must be the first layers built in the process so the default names match the reference.
  const model = tf.sequential();
  model.add(tf.layers.dense({units: 4, inputShape: [3], activation: 'relu'}));
  model.add(tf.layers.dense({units: 1}));
  setFixedWeights(model, 1);
  return model;
}

/** Metadata that exercises every JSON.stringify rule pyweb must copy. */
function trickyMetadata() {
  const m = {};
  // Insertion order b, 2, a, 1: JS writes "1","2" first.
  m.b = 'b';
  m['2'] = 2;
  m.a = 'a';
  m['1'] = 1;
  m.strings = ['Жёлтый 正常', '🙂 emoji', 'quote " backslash \\ slash /', 'new\nline\ttab', 'ls\u2028ps\u2029',
    'ctl\u0001\u001f\u007f', 'lone \ud83d high'];
  m.numbers = [1e-7, 1e21, 0.000001, 1.5, -0, 1e20, 123456789012345680000, 0.1 + 0.2, 5e-324, -1e-7, 2 ** 53 + 2];
  m.nested = {z: {'10': true, '9': null, x: []}, '0': {}};
  return m;
}

async function buildMetadataModel() {
  const model = tf.sequential();
  model.add(tf.layers.dense({units: 3, inputShape: [2], activation: 'tanh'}));
  model.add(tf.layers.dense({units: 2}));
  model.compile({optimizer: tf.train.adam(0.001), loss: 'meanSquaredError', metrics: ['accuracy']});
  setFixedWeights(model, 2);
  await setFixedOptimizerWeights(model, tf.ones([2, 2]), tf.zeros([2, 2]), 3);
  model.setUserDefinedMetadata(trickyMetadata());
  return model;
}

function buildFunctional() {
  // Two branches so the topology has inbound_nodes fan-in; conv2d gives a 4-D kernel; the non-ASCII
  // model name makes UTF-8 byte counts differ from string lengths.
  const input = tf.input({shape: [4, 4, 2]});
  const conv = tf.layers.conv2d({filters: 3, kernelSize: 2, activation: 'relu'}).apply(input);
  const a = tf.layers.dense({units: 4}).apply(tf.layers.flatten().apply(conv));
  const b = tf.layers.dense({units: 4, useBias: false}).apply(tf.layers.flatten().apply(input));
  const merged = tf.layers.concatenate().apply([a, b]);
  const output = tf.layers.dense({units: 2, activation: 'softmax'}).apply(merged);
  const model = tf.model({inputs: input, outputs: output, name: 'функц_模型🙂'});
  setFixedWeights(model, 4);
  return model;
}

function buildNoWeights() {
  const model = tf.sequential();
  model.add(tf.layers.flatten({inputShape: [2, 2]}));
  return model;
}

async function captureArtifacts(model, saveConfig) {
  let captured;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    captured = artifacts;
    return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts)};
  }), saveConfig);
  return captured;
}

/** Save through tf.io.http with a fetch stand-in that keeps the FormData parts TF.js built. */
async function captureHttpSave(model, saveConfig) {
  const requests = [];
  const fetchFunc = async (url, init) => {
    requests.push({url, init});
    return new Response('{}', {status: 200});
  };
  await model.save(tf.io.http(UPLOAD_URL, {fetchFunc}), saveConfig);
  if (requests.length !== 1) throw new Error(`expected one POST, got ${requests.length}`);
  const {url, init} = requests[0];
  const parts = [];
  for (const [field, file] of init.body.entries()) {
    parts.push({field, filename: file.name, type: file.type, data: Buffer.from(await file.arrayBuffer())});
  }
  return {url, method: init.method, parts};
}

function predictOnes(model) {
  const inputs = model.inputs.map((t) => [1, ...t.shape.slice(1)]);
  const out = model.predict(inputs.map((shape) => tf.ones(shape)));
  return {inputs, output: Array.isArray(out) ? out.map((t) => t.arraySync()) : out.arraySync()};
}

function infoWithoutDate(artifacts) {
  const {dateSaved, ...info} = tf.io.getModelArtifactsInfoForJSON(artifacts); // eslint-disable-line no-unused-vars
  return info;
}

async function writeModelCase(out, name, description, model, saveConfig = {}) {
  const prefix = `model_${name}`;
  const artifacts = await captureArtifacts(model, saveConfig);
  const http = await captureHttpSave(model, saveConfig);
  const files = {
    artifacts: out.json(`${prefix}.artifacts.json`, {...artifacts, weightData: undefined}),
    weights: out.bytes(`${prefix}.weights.bin`, artifacts.weightData),
  };
  const jsonPart = http.parts.find((p) => p.field === 'model.json');
  const weightsPart = http.parts.find((p) => p.field === 'model.weights.bin');
  files.http_model_json = out.bytes(`${prefix}.http.model.json`, jsonPart.data);
  if (weightsPart) files.http_weights = out.bytes(`${prefix}.http.weights.bin`, weightsPart.data);
  return {
    case: name,
    description,
    files,
    artifacts_info: infoWithoutDate(artifacts),
    http: {
      url: http.url,
      method: http.method,
      parts: http.parts.map(({field, filename, type, data}) => ({field, filename, type, bytes: data.length})),
    },
    http_weights_equal_artifacts: Boolean(weightsPart) && weightsPart.data.equals(Buffer.from(artifacts.weightData)),
    predict: predictOnes(model),
  };
}

function checkReference(entry, out) {
  const expected = REFERENCE_MODEL_JSON.replace('./my-model.weights.bin', './model.weights.bin');
  const got = fs.readFileSync(path.join(out.dir, entry.files.http_model_json), 'utf8');
  entry.reference_model_json = {expected_bytes: Buffer.byteLength(expected), matches: got === expected};
  if (!entry.reference_model_json.matches) {
    process.stderr.write('warning: reference model.json (§13) differs from what TF.js wrote\n');
  }
  return entry;
}

async function modelCases(out) {
  // Built in this order so TF.js's per-class name counters give stable, reference-matching names.
  const reference = buildReferenceDense();
  const cases = [checkReference(await writeModelCase(out, 'dense_reference',
    'Reference §13 example: sequential dense(4, relu, inputShape [3]) + dense(1), default names', reference), out)];
  cases.push(await writeModelCase(out, 'metadata_optimizer',
    'userDefinedMetadata with integer-like keys, unicode and JS number formats; Adam trainingConfig; ' +
    'includeOptimizer adds group "optimizer" specs', await buildMetadataModel(), {includeOptimizer: true}));
  cases.push(await writeModelCase(out, 'functional_conv',
    'tf.model with two branches (conv2d, dense), concatenate, softmax; non-ASCII model name',
    buildFunctional()));
  cases.push(await writeModelCase(out, 'no_weights',
    'sequential with only a flatten layer: empty weightSpecs and 0-byte weightData', buildNoWeights()));
  return cases;
}

// ---------------------------------------------------------------------------------------------------
// tf.io.encodeWeights

const enc = new TextEncoder();

function f32(values) {
  return new Float32Array(values);
}

function f32bits(bits) {
  return new Float32Array(new Uint32Array(bits).buffer);
}

/** One weight: a tensor plus the exact input bytes the Python side rebuilds it from. */
function weight(name, dtype, shape, values) {
  if (dtype === 'string') {
    const bytes = values.map((v) => (typeof v === 'string' ? enc.encode(v) : v));
    return {name, dtype, shape, tensor: tf.tensor(bytes, shape, 'string'), values_b64: bytes.map(b64)};
  }
  if (dtype === 'complex64') {
    const [re, im] = values;
    const interleaved = Float32Array.from({length: re.length * 2}, (_, i) => (i % 2 ? im : re)[i >> 1]);
    return {name, dtype, shape, tensor: tf.complex(tf.tensor(re, shape), tf.tensor(im, shape)),
      values_b64: b64(interleaved)};
  }
  const typed = dtype === 'bool' ? Uint8Array.from(values) : values;
  return {name, dtype, shape, tensor: tf.tensor(typed, shape, dtype), values_b64: b64(u8(typed))};
}

function encodeCaseDefs() {
  const next = lcg(5);
  return [
    ['float32_special', 'NaN (incl. a payload), ±Inf, ±0, subnormals, extremes', [
      weight('x', 'float32', [12], f32bits([0x7fc00000, 0x7fa00001, 0xffc00000, 0x7f800000, 0xff800000, 0x80000000,
        0x00000000, 0x00000001, 0x007fffff, 0x7f7fffff, 0x3dcccccd, 0xbfc00000])),
    ]],
    ['float32_shapes', 'scalar, 2-D and 4-D float32 in list order (not name order)', [
      weight('z/scalar', 'float32', [], f32([42.5])),
      weight('a/matrix', 'float32', [2, 3], floatValues(6, next)),
      weight('m/kernel', 'float32', [2, 1, 2, 3], floatValues(12, next)),
    ]],
    ['int32', 'int32 extremes', [
      weight('i', 'int32', [6], new Int32Array([-2147483648, 2147483647, 0, -1, 1, 65536])),
      weight('s', 'int32', [], new Int32Array([-7])),
    ]],
    ['bool', 'bool, one byte per element', [weight('b', 'bool', [2, 3], [1, 0, 0, 1, 1, 0])]],
    ['complex64', 'complex64 interleaved re/im', [
      weight('c', 'complex64', [3], [f32([1, -0, NaN]), f32([2, Infinity, 0.5])]),
      weight('c2', 'complex64', [1, 2], [f32([1, 2]), f32([1, 2])]),
    ]],
    ['string', "strings: '', ASCII, Cyrillic, CJK, emoji, escapes; 2-D and scalar", [
      weight('s', 'string', [7], ['', 'a', 'bc', 'здраво', '正常', '🙂', 'q"\\\n\u0000']),
      weight('s2', 'string', [2, 2], ['def', 'g', '', 'поздрав']),
      weight('s0', 'string', [], ['hello']),
    ]],
    ['string_bytes', 'string tensors holding raw non-UTF-8 bytes', [
      weight('raw', 'string', [3], [new Uint8Array([0xff, 0x00, 0x80]), new Uint8Array([]), new Uint8Array([0xc3])]),
    ]],
    ['zero_size', '0-element tensors of every dtype: 0 bytes each', [
      weight('f', 'float32', [0], f32([])),
      weight('f2', 'float32', [2, 0, 3], f32([])),
      weight('i', 'int32', [0, 4], new Int32Array([])),
      weight('b', 'bool', [0], []),
      weight('s', 'string', [0], []),
      weight('c', 'complex64', [0], [f32([]), f32([])]),
    ]],
    ['mixed_unaligned', 'mixed dtypes back to back: float32 and int32 at odd offsets', [
      weight('b', 'bool', [1], [1]),
      weight('f', 'float32', [2], f32([1.5, -2.25])),
      weight('s', 'string', [2], ['x', 'yz']),
      weight('i', 'int32', [2], new Int32Array([3, -4])),
      weight('c', 'complex64', [1], [f32([0.5]), f32([-0.5])]),
      weight('scalar', 'float32', [], f32([-0])),
    ]],
    ['empty', 'no tensors at all', []],
  ];
}

async function writeEncodeCase(out, [name, description, weights], group) {
  const prefix = `encode_${name}`;
  const list = weights.map(({name: n, tensor}) => ({name: n, tensor}));
  const {data, specs} = await tf.io.encodeWeights(list, group);
  return {
    case: name,
    description,
    group: group ?? null,
    files: {weights: out.bytes(`${prefix}.weights.bin`, data), specs: out.json(`${prefix}.specs.json`, specs)},
    inputs: weights.map(({name: n, dtype, shape, values_b64}) => ({name: n, dtype, shape, values_b64})),
  };
}

async function encodeCases(out) {
  const defs = encodeCaseDefs();
  const cases = [];
  for (const def of defs) cases.push(await writeEncodeCase(out, def));
  const grouped = ['optimizer_group', 'group "optimizer" appended to every spec', defs[2][2]];
  cases.push(await writeEncodeCase(out, grouped, 'optimizer'));
  return cases;
}

// ---------------------------------------------------------------------------------------------------
// tf.io.decodeWeights (quantized and mixed inputs)

function u16(values) {
  return new Uint16Array(values);
}

function u8s(values) {
  return new Uint8Array(values);
}

/** A spec with TF.js's key order; `quantization` and `group` only when given. */
function spec(name, dtype, shape, quantization, group) {
  return {name, shape, dtype, ...(quantization && {quantization}), ...(group && {group})};
}

function affine(dtype, min, scale, extra = {}) {
  return {dtype, min, scale, ...extra};
}

function lengthPrefixed(texts) {
  return concatBytes(texts.flatMap((t) => [new Uint32Array([enc.encode(t).length]), enc.encode(t)]));
}

/** Each case: [name, description, [[spec, raw bytes], ...], trailing bytes after the last weight?]. */
function decodeCaseDefs() {
  const next = lcg(6);
  const q16 = u16([0, 1, 2, 65535, 32768, 12345, ...Array.from({length: 10}, () => next() >>> 16)]);
  const converterScale = (2.5 + 1.2345678) / 255;
  return [
    ['uint8_reference', 'reference §2: uint8 [0,48,255], min -1, scale 0.1, as int32 and float32', [
      [spec('i', 'int32', [3], affine('uint8', -1, 0.1)), u8s([0, 48, 255])],
      [spec('f', 'float32', [3], affine('uint8', -1, 0.1)), u8s([0, 48, 255])],
    ]],
    ['uint8_negative_ties', 'Math.round ties toward +Inf: -2.5 -> -2, -0.5 -> -0, 0.5 -> 1', [
      [spec('t', 'int32', [6], affine('uint8', -3.5, 1)), u8s([0, 1, 3, 4, 5, 255])],
      [spec('h', 'int32', [2, 3], affine('uint8', -1.25, 0.25)), u8s([0, 1, 2, 3, 7, 11])],
    ]],
    ['uint8_converter_like', 'uint8 to float32, converter-style min/scale (inexact) and original_dtype', [
      [spec('w', 'float32', [4, 4], affine('uint8', -1.2345678, converterScale, {original_dtype: 'float32'})),
        Uint8Array.from({length: 16}, (_, i) => (i * 17) % 256)],
    ]],
    ['uint16', 'uint16 to float32 and int32, incl. 0 and 65535, many .5 ties', [
      [spec('f', 'float32', [16], affine('uint16', -0.123456789, 3.7e-6)), q16],
      [spec('i', 'int32', [41], affine('uint16', -10.5, 0.5)), u16(Array.from({length: 41}, (_, i) => i))],
      [spec('big', 'int32', [4], affine('uint16', -1e6, 30.5)), u16([0, 1, 32767, 65535])],
    ]],
    ['float16_all', 'float16 to float32 for all 65536 bit patterns, in order', [
      [spec('h', 'float32', [256, 256], {dtype: 'float16'}), u16(Array.from({length: 65536}, (_, i) => i))],
    ]],
    ['mixed_groups', 'quantized weights between plain ones, some in group "optimizer" (groups do not matter)', [
      [spec('a', 'float32', [2]), f32([0.25, -1])],
      [spec('q', 'int32', [3], affine('uint8', -1, 0.5)), u8s([0, 3, 5])],
      [spec('s', 'string', [2]), lengthPrefixed(['x', 'ж'])],
      [spec('h', 'float32', [3], {dtype: 'float16'}), u16([13312, 14336, 14848])],
      [spec('i', 'int32', [1], null, 'optimizer'), new Int32Array([-9])],
      [spec('u', 'float32', [2], affine('uint16', 0.5, 0.001), 'optimizer'), u16([1, 999])],
      [spec('b', 'bool', [2]), u8s([1, 0])],
      [spec('c', 'complex64', [1]), f32([3, -4])],
    ]],
    ['trailing_bytes', 'extra bytes after the last weight are ignored by TF.js (no length check)', [
      [spec('f', 'float32', [2]), f32([1, 2])],
    ], u8s([1, 2, 3])],
  ];
}

async function decodedEntry(spec, tensor) {
  const data = spec.dtype === 'string' ? (await tensor.bytes()).map(b64) : b64(tensor.dataSync());
  return {name: spec.name, dtype: tensor.dtype, shape: tensor.shape, values_b64: data};
}

async function writeDecodeCase(out, [name, description, rows, trailing = new Uint8Array(0)]) {
  const prefix = `decode_${name}`;
  const specs = rows.map(([spec]) => spec);
  const data = concatBytes([...rows.map(([, bytes]) => bytes), trailing]);
  const tensors = tf.io.decodeWeights(data.buffer, specs);
  const decoded = [];
  for (const spec of specs) decoded.push(await decodedEntry(spec, tensors[spec.name]));
  return {
    case: name,
    description,
    files: {
      weights: out.bytes(`${prefix}.weights.bin`, data),
      specs: out.json(`${prefix}.specs.json`, specs),
      decoded: out.json(`${prefix}.decoded.json`, decoded),
    },
  };
}

async function decodeCases(out) {
  const cases = [];
  for (const def of decodeCaseDefs()) cases.push(await writeDecodeCase(out, def));
  return cases;
}

// ---------------------------------------------------------------------------------------------------
// JSON.stringify goldens

function allControlChars() {
  const hex = (c) => '\\u' + c.toString(16).padStart(4, '0');
  return '"' + Array.from({length: 32}, (_, c) => hex(c)).join('') + '\\u007f"';
}

// Written with String.raw so "\u0001" etc. reach the file as JSON escapes, not raw characters.
const JSON_TEXTS = [
  // numbers
  ['int', '1'], ['float_integral', '1.0'], ['neg_zero_int', '-0'], ['neg_zero', '-0.0'], ['zero', '0'],
  ['hundred', '100.0'], ['1e-7', '1e-7'], ['1.5e-7', '1.5e-7'], ['neg_1e-7', '-1e-7'], ['1e-6', '1e-6'],
  ['0.000001', '0.000001'], ['0.00001', '0.00001'], ['123e-20', '123e-20'], ['2.5e-8', '2.5e-8'],
  ['1e16', '1e16'], ['1e20', '1e20'], ['1e21', '1e21'], ['1.5e21', '1.5e21'], ['1e100', '1e100'],
  ['123456789012345680000', '123456789012345680000.0'], ['max', '1.7976931348623157e308'],
  ['min_subnormal', '5e-324'], ['subnormal', '1e-320'], ['min_normal', '2.2250738585072014e-308'],
  ['0.1', '0.1'], ['0.1+0.2', '0.30000000000000004'], ['4.35', '4.35'], ['123.456e5', '123.456e5'],
  ['2**53+2', '9007199254740994'], ['2**53+2_float', '9007199254740994.0'], ['-1.5', '-1.5'],
  ['overflow', '1e400'], ['nan', 'NaN'], ['inf', 'Infinity'], ['neg_inf', '-Infinity'],
  ['non_finite_array', '[NaN, Infinity, -Infinity, -0.0, 1.0]'],
  ['non_finite_object', '{"n": NaN, "i": Infinity}'],
  // keys
  ['int_keys', '{"b": 1, "2": 2, "a": 3, "1": 4}'],
  ['index_like_keys', '{"x": 0, "4294967295": 1, "4294967294": 2, "9007199254740991": 3, "01": 4, "-1": 5, ' +
    '"1.5": 6, "00": 7, " 1": 8, "1e3": 9, "0": 10, "10": 11, "9": 12, "": 13, "-0": 14, "+1": 15}'],
  ['index_key_with_newline', String.raw`{"a": 1, "1\n": 2, "2": 3, "7 ": 4}`],
  ['nested', '{"z": {"10": 1, "9": 2, "x": [1, {"3": null, "c": true}]}, "1": [], "y": {}}'],
  ['empties', '[[], {}, "", [[]], [{}]]'],
  ['literals', '[true, false, null]'],
  ['unicode_keys', String.raw`{"ключ": 1, "键🙂": 2, "\n": 3, "\ud800": 4}`],
  // strings
  ['empty_string', '""'], ['control_chars', allControlChars()],
  ['named_escapes', String.raw`"\b\f\n\r\t"`], ['separators', String.raw`"\u2028\u2029"`],
  ['separators_raw', '"\u2028 \u2029"'], ['quote_backslash_slash', String.raw`"\" \\ \/ /"`],
  ['lone_high', String.raw`"\ud800"`], ['lone_low', String.raw`"\udfff"`], ['lone_inside', String.raw`"a\udc00b"`],
  ['reversed_pair', String.raw`"\udc00\ud800"`], ['max_pair', String.raw`"\udbff\udfff"`],
  ['emoji_escaped', String.raw`"\ud83d\ude42"`], ['emoji_raw', '"🙂 👍🏽"'], ['non_ascii', '"здраво 正常 é"'],
  ['bom_nel_nbsp_ffff', String.raw`"\ufeff\u0085\u00a0\uffff"`], ['del', String.raw`"\u007f"`],
  ['model_like', String.raw`{"modelTopology": {"class_name": "Sequential", "config": {"name": "s\u00e9q"}}, ` +
    String.raw`"format": "layers-model", "convertedBy": null, "weightsManifest": [{"paths": ["./model.weights.bin"], ` +
    String.raw`"weights": [{"name": "w", "shape": [], "dtype": "float32", ` +
    String.raw`"quantization": {"dtype": "uint8", "min": -1.0, "scale": 0.1}}]}]}`],
];

function jsonCase([id, text]) {
  // A JSON text is also a JS expression with the same value; eval handles NaN/Infinity, which
  // JSON.parse rejects but Python's json.loads accepts.
  const value = vm.runInNewContext(`(${text})`);
  const expected = JSON.stringify(value);
  if (!/NaN|Infinity/.test(text) && JSON.stringify(JSON.parse(text)) !== expected) {
    throw new Error(`json case ${id}: JSON.parse and eval disagree`);
  }
  return {id, text, expected};
}

function jsonCases(out) {
  const cases = JSON_TEXTS.map(jsonCase);
  return {file: out.json('json_cases.json', cases, true), count: cases.length};
}

// ---------------------------------------------------------------------------------------------------

async function main(argv) {
  if (argv.length !== 1) {
    process.stderr.write('usage: node tools/tfjs/make_goldens.js OUTDIR\n');
    return 2;
  }
  await tf.setBackend('cpu');
  const out = new Out(argv[0]);
  const index = {tfjs_version: tf.version.tfjs, node_version: process.version, backend: tf.getBackend()};
  index.models = await modelCases(out); // first: relies on fresh layer-name counters
  index.encode = await encodeCases(out);
  index.decode = await decodeCases(out);
  index.json = jsonCases(out);
  out.json('index.json', index, true);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`make_goldens failed: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
