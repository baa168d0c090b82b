#!/usr/bin/env node
/**
 * What TensorFlow.js 4.22 itself does with the NLP classes it registers: for each one, build it in a model,
 * predict, save (model.json + weights), tf.loadLayersModel the saved model and predict again. The evidence
 * for which of them pyweb implements (those that make the whole trip) and which it leaves out.
 *
 *   node tools/tfjs/nlp_roundtrip.js
 *
 * Prints one JSON line per class: {"class", "require": error of tf.loadLayersModel on the CommonJS bundle
 * (require('@tensorflow/tfjs')), "steps": [{"step", "ok", "detail"}]} with TF.js loaded from its ES modules
 * (re-run under node --import tools/tfjs/tfjs_esm.mjs, which explains why).
 */
'use strict';

console.log = console.info = console.warn = console.debug = (...args) => console.error(...args);
const path = require('path');
const ESM = globalThis.pywebTfjsEsm != null;

const CLASSES = ['EinsumDense', 'PositionEmbedding', 'MultiHeadAttention', 'CachedMultiHeadAttention',
  'TransformerDecoder', 'GPT2Backbone', 'GPT2CausalLM', 'BytePairTokenizer', 'GPT2Tokenizer', 'GPT2Preprocessor',
  'StartEndPacker', 'Backbone', 'Preprocessor'];

/** tf.loadLayersModel on the CommonJS bundle: a one-layer model.json naming the class. */
async function requireBundleError(tf, className) {
  const topology = {class_name: 'Sequential', config: {name: 's', layers: [
    {class_name: className, config: {name: 'x', trainable: true, batch_input_shape: [null, 4, 8]}}]}};
  try {
    await tf.loadLayersModel(tf.io.fromMemory({modelTopology: topology, weightSpecs: [], weightData: new ArrayBuffer(0)}));
    return null;
  } catch (e) {
    return `${e.constructor.name}: ${e.message.split('\n')[0]}`;
  }
}

/** Models built with the ES-module TF.js: [inputs to predict, () => model]. */
function builders(tf) {
  const vocabulary = new Map([['<|endoftext|>', 0], ['butter', 1], ['fly', 2]]);
  const merges = ['b u', 't t', 'e r', 'bu tt', 'butt er', 'f l', 'fl y'];
  const seq = () => tf.input({shape: [3, 8]});
  const one = (layer, input = seq(), kwargs) => tf.model({inputs: input, outputs: layer.apply(input, kwargs)});
  const x = () => tf.ones([2, 3, 8]);
  const text = () => tf.tensor([['butterfly']]);
  const strIn = () => tf.input({shape: [1], dtype: 'string'});
  const tokens = () => [tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'), tf.tensor2d([[1, 1, 1]], [1, 3], 'int32')];
  const backbone = () => new tf.nlp.GPT2Backbone({vocabularySize: 10, numLayers: 1, numHeads: 2, hiddenDim: 8,
    intermediateDim: 6, maxSequenceLength: 5});
  return {
    EinsumDense: [x, () => one(new tf.nlp.EinsumDense({equation: 'abc,cd->abd', outputShape: [3, 5], biasAxes: 'd'}))],
    PositionEmbedding: [x, () => one(new tf.nlp.PositionEmbedding({sequenceLength: 5}))],
    MultiHeadAttention: [x, () => { const q = seq(); return one(new tf.nlp.MultiHeadAttention({numHeads: 2, keyDim: 4}), q, {value: q}); }],
    CachedMultiHeadAttention: [x, () => { const q = seq(); return one(new tf.nlp.CachedMultiHeadAttention({numHeads: 2, keyDim: 4}), q, {value: q}); }],
    TransformerDecoder: [x, () => one(new tf.nlp.TransformerDecoder({numHeads: 2, intermediateDim: 6}))],
    GPT2Backbone: [tokens, backbone],
    GPT2CausalLM: [tokens, () => new tf.nlp.GPT2CausalLM({backbone: backbone()})],
    BytePairTokenizer: [text, () => one(new tf.nlp.BytePairTokenizer({vocabulary, merges}), strIn())],
    GPT2Tokenizer: [text, () => one(new tf.nlp.GPT2Tokenizer({vocabulary, merges}), strIn())],
    GPT2Preprocessor: [text, () => one(new tf.nlp.GPT2Preprocessor({tokenizer: new tf.nlp.GPT2Tokenizer({vocabulary, merges}), sequenceLength: 4}), strIn())],
    StartEndPacker: [() => tf.tensor1d([1, 2, 3], 'int32'), () => one(new tf.nlp.StartEndPacker({sequenceLength: 5, startValue: 7, endValue: 8}), tf.input({batchShape: [3], dtype: 'int32'}))],
  };
}

async function trip(tf, className, builder) {
  if (builder === undefined) {
    return [{step: 'build', ok: false, detail: 'a base class: exercised through GPT2Backbone and GPT2Preprocessor'}];
  }
  const [inputs, build] = builder;
  const steps = [];
  const run = async (step, f) => {
    try {
      const detail = await f();
      steps.push({step, ok: true, detail: detail === undefined ? null : detail});
      return true;
    } catch (e) {
      steps.push({step, ok: false, detail: `${e.constructor.name}: ${String(e.message).split('\n')[0]}`});
      return false;
    }
  };
  let model; let artifacts; let before;
  const nums = (t) => {
    const values = Array.from((Array.isArray(t) ? t[0] : t).dataSync()).map(Number);
    if (values.some(Number.isNaN)) throw new Error('the output is NaN');
    return values.slice(0, 4);
  };
  if (!await run('build', () => { model = build(); return `${model.weights.length} weights in model.weights`; })) return steps;
  await run('predict', () => { before = nums(model.predict(inputs())); return before; });
  if (!await run('save', async () => {
    await model.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return {modelArtifactsInfo: {}}; }));
    return `${artifacts.weightSpecs.length} weights saved: ${artifacts.weightSpecs.map((s) => s.name).join(', ')}`;
  })) return steps;
  let loaded;
  if (!await run('loadLayersModel', async () => { loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts)); })) return steps;
  await run('predict after load', () => {
    const after = nums(loaded.predict(inputs()));
    if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error(`differs: ${before} then ${after}`);
    return after;
  });
  return steps;
}

async function main() {
  if (!ESM) {
    const tf = require('@tensorflow/tfjs');
    const errors = {};
    for (const c of CLASSES) errors[c] = await requireBundleError(tf, c);
    const child = require('child_process').spawnSync(process.execPath,
        ['--import', path.join(__dirname, 'tfjs_esm.mjs'), __filename], {stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8'});
    for (const line of child.stdout.trim().split('\n')) {
      const entry = JSON.parse(line);
      process.stdout.write(`${JSON.stringify({class: entry.class, require: errors[entry.class], steps: entry.steps})}\n`);
    }
    return child.status;
  }
  const tf = globalThis.pywebTfjsEsm;
  await tf.setBackend('cpu');
  const b = builders(tf);
  const more = {
    GPT2Backbone: 'models/gpt2/gpt2_backbone', GPT2CausalLM: 'models/gpt2/gpt2_causal_lm',
    GPT2Tokenizer: 'models/gpt2/gpt2_tokenizer', GPT2Preprocessor: 'models/gpt2/gpt2_preprocessor',
    BytePairTokenizer: 'tokenizers', StartEndPacker: 'preprocessing/start_end_packer', Backbone: 'models/backbone',
    Preprocessor: 'models/preprocessor'};
  // The same specifiers tfjs_esm.mjs uses, so these modules share its one TF.js instance.
  for (const [name, file] of Object.entries(more)) {
    tf.nlp[name] = (await import(`@tensorflow/tfjs-layers/dist/layers/nlp/${file}`))[name];
  }
  for (const c of CLASSES) process.stdout.write(`${JSON.stringify({class: c, steps: await trip(tf, c, b[c])})}\n`);
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`nlp_roundtrip: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 1;
});
