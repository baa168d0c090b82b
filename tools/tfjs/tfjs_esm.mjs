/**
 * Preload (node --import tools/tfjs/tfjs_esm.mjs script.js) that puts a TensorFlow.js 4.22 namespace on
 * globalThis.pywebTfjsEsm, built from TF.js's ES-module sources with its NLP layers reachable as tf.nlp.
 *
 * Why: TF.js 4.22 ships EinsumDense, PositionEmbedding, MultiHeadAttention... in tfjs-layers/dist/layers/nlp/,
 * but none of its prebuilt bundles (tf.node.js, tf.js, tf.min.js, tf.es2017.js, tf.fesm.js, tf-layers.node.js)
 * contains them, tf.layers has no factory for them and require('@tensorflow/tfjs') cannot deserialize them
 * ("Unknown layer: EinsumDense"). An application reaches them only by importing those modules through a
 * bundler; tfjs_esm_hooks.mjs resolves the imports the same way, so the whole of TF.js here (core, CPU
 * backend, layers) is one instance built from the ES modules, as in such an application.
 */
import {createRequire, register} from 'node:module';

register('./tfjs_esm_hooks.mjs', import.meta.url);
// tfjs-core's Node platform calls require('util') from its ES module (a bundler would provide it).
globalThis.require = createRequire(import.meta.url);

const core = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-cpu');
await import('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops');
const layers = await import('@tensorflow/tfjs-layers');
const nlp = '@tensorflow/tfjs-layers/dist/layers/nlp';
const {EinsumDense} = await import(`${nlp}/einsum_dense`);
const {MultiHeadAttention} = await import(`${nlp}/multihead_attention`);
const {CachedMultiHeadAttention} = await import(`${nlp}/modeling/cached_multihead_attention`);
const {PositionEmbedding} = await import(`${nlp}/modeling/position_embedding`);
const {TransformerDecoder} = await import(`${nlp}/modeling/transformer_decoder`);

globalThis.pywebTfjsEsm = {
  ...core, ...layers,
  version: {tfjs: core.version_core},
  nlp: {EinsumDense, MultiHeadAttention, CachedMultiHeadAttention, PositionEmbedding, TransformerDecoder},
};
