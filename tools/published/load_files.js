// Load a Layers model from a folder (model.json and its shards) in TF.js the way a page's
// tf.loadLayersModel would, from files read here: shared by tools/published/goldens.js (the
// goldens the tests compare with) and bench/_tfjs_load.js (the benchmark's TF.js side).
'use strict';
const fs = require('fs');
const path = require('path');

async function loadFrom(tf, dir) {
  const modelJSON = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
    const specs = manifest.flatMap((g) => g.weights);
    const parts = manifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(dir, p)));
    const all = Buffer.concat(parts);
    return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
  });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

module.exports = {loadFrom};
