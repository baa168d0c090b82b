/**
 * Module resolution hooks that load TensorFlow.js 4.22 from its ES-module sources (node_modules/@tensorflow/
 * <package>/dist/**.js) as a bundler such as webpack or rollup would: extensionless relative imports gain ".js"
 * (or "/index.js"), "@tensorflow/<package>" resolves to the package's "module" entry, and seedrandom, a CommonJS
 * package whose named export `alea` Node cannot detect, is re-exported by name.
 *
 * Registered by tfjs_esm.mjs; see there for why.
 */
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));
const SEEDRANDOM = 'pyweb-tfjs-esm:seedrandom';

function fileIfExists(candidates) {
  return candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'seedrandom') return {url: SEEDRANDOM, shortCircuit: true};
  let target = null;
  if (specifier.startsWith('@tensorflow/')) {
    const [scope, name, ...rest] = specifier.split('/');
    const root = path.join(NODE_MODULES, scope, name);
    if (rest.length === 0) {
      target = path.join(root, JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).module);
    } else {
      target = path.join(root, ...rest);
    }
  } else if (specifier.startsWith('.') && context.parentURL && context.parentURL.includes('/@tensorflow/')) {
    target = path.resolve(path.dirname(fileURLToPath(context.parentURL)), specifier);
  }
  if (target === null) return nextResolve(specifier, context);
  const file = fileIfExists([target, `${target}.js`, path.join(target, 'index.js')]);
  if (!file) return nextResolve(specifier, context);
  return {url: pathToFileURL(file).href, format: 'module', shortCircuit: true};
}

export async function load(url, context, nextLoad) {
  if (url === SEEDRANDOM) {
    const source = `import {createRequire} from 'node:module';
const seedrandom = createRequire(${JSON.stringify(NODE_MODULES)})('seedrandom');
export const alea = seedrandom.alea;
export default seedrandom;`;
    return {format: 'module', source, shortCircuit: true};
  }
  return nextLoad(url, context);
}
