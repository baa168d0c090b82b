"""Real TensorFlow.js 4.22 and pyweb in the same page, on the same storage.

TF.js (``node_modules/@tensorflow/tfjs/dist/tf.min.js``, served at /tfjs/) is
loaded into the Pyodide test page, so both libraries read and write the very
same localStorage and IndexedDB. Layers models built by TF.js (a conv net with
4-D kernels, and a dense model with userDefinedMetadata) and by pyweb (numpy
weights, a Sequential/Dense topology) cross in both directions; weights are
compared as bytes, never as rounded numbers.

Runs on the Pyodide builds with numpy (decode_weights needs it). TF.js runs on
its cpu backend: headless browsers may give WebGL float16 textures, and this
file tests storage, not kernels.
"""

from __future__ import annotations

import base64
import json
import re
import textwrap

import numpy as np
import pytest

pytestmark = pytest.mark.browser

GENERATED_BY = "TensorFlow.js tfjs-layers v4.22.0"

# A plain JSON object as TF.js keeps it; the values probe JSON text details
# that must come out byte-identical from both libraries: non-ASCII and astral
# characters (not escaped by JSON.stringify), exponent forms (1e-7, 1e+21),
# integer-like keys (JS lists them first, ascending), nulls and -0.
METADATA = {
    "note": "h\u00e9llo w\u00f6rld \u2713 \U0001f600",
    "tiny": 1e-7,
    "big": 1e21,
    "frac": 0.1,
    "list": [1, 2.5, None, True, "x"],
    "nested": {"b": 1, "a": {"2": "two", "1": "one"}},
}

# JS, evaluated once per page: TF.js models with fixed weights and helpers
# that report weights as bytes (base64).
HELPERS_JS = """(metadata) => {
  const b64 = (u8) => (typeof u8.toBase64 === 'function')
    ? u8.toBase64()
    : btoa(Array.from(u8, (c) => String.fromCharCode(c)).join(''));
  const bytesOf = (typed) => new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  // Deterministic, non-dyadic float32 values: every bit of the mantissa matters.
  const values = (n, seed) => Float32Array.from(
    {length: n}, (_, j) => Math.sin(seed * 7.31 + j * 0.613) * (1 + (j % 5)));
  const BUILDERS = {
    convnet() {
      const m = tf.sequential({name: 'interop_convnet'});
      m.add(tf.layers.conv2d({name: 'conv', inputShape: [5, 5, 2], filters: 3, kernelSize: 3, activation: 'relu'}));
      m.add(tf.layers.flatten({name: 'flat'}));
      m.add(tf.layers.dense({name: 'head', units: 4}));
      return m;
    },
    meta() {
      const m = tf.sequential({name: 'interop_meta'});
      m.add(tf.layers.dense({name: 'd1', inputShape: [3], units: 2, activation: 'tanh'}));
      m.setUserDefinedMetadata(metadata);
      return m;
    },
  };
  const weights = (m) => {
    const tensors = m.getWeights();
    return m.weights.map((v, i) => ({
      name: v.originalName, shape: v.shape, dtype: tensors[i].dtype, b64: b64(bytesOf(tensors[i].dataSync())),
    }));
  };
  const build = (kind) => {
    const m = BUILDERS[kind]();
    const init = m.weights.map((v, i) => tf.tensor(values(v.shape.reduce((a, b) => a * b, 1), i + 1), v.shape));
    m.setWeights(init);
    init.forEach((t) => t.dispose());
    return m;
  };
  globalThis.interop = {
    // TF.js saves a fresh model of this kind to each URL; returns what it holds.
    async save(kind, urls) {
      const m = build(kind);
      try {
        for (const url of urls) await m.save(url);
        return {weights: weights(m), topology: m.toJSON(null, false), metadata: m.getUserDefinedMetadata() ?? null};
      } finally { m.dispose(); }
    },
    // tf.loadLayersModel, then its weights and predict(ones).
    async load(url, inputShape) {
      const m = await tf.loadLayersModel(url);
      try {
        const x = tf.ones(inputShape);
        const y = m.predict(x);
        const out = {weights: weights(m), predict: Array.from(y.dataSync()),
                     metadata: m.getUserDefinedMetadata() ?? null};
        tf.dispose([x, y]);
        return out;
      } finally { m.dispose(); }
    },
    async loadError(url) {
      try { (await tf.loadLayersModel(url)).dispose(); return null; } catch (e) { return String(e.message || e); }
    },
    // tf.io.listModels with dates as ISO text (localStorage keeps text, IndexedDB a Date).
    async list() {
      const out = {};
      for (const [url, info] of Object.entries(await tf.io.listModels())) {
        const date = info.dateSaved instanceof Date ? info.dateSaved.toISOString() : info.dateSaved;
        out[url] = {...info, dateSaved: date, dateIsDate: info.dateSaved instanceof Date};
      }
      return out;
    },
    localStorageItems: () => Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)])),
    // Both IndexedDB records of a path as JSON text: ArrayBuffers as base64,
    // Dates tagged, undefined-valued keys kept visible, key order as stored.
    async idbRecords(path) {
      const db = await new Promise((resolve, reject) => {
        const r = indexedDB.open('tensorflowjs', 1);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(new Error(String(r.error)));
      });
      const describe = (v) => JSON.stringify(v, function (k, x) {
        const raw = this[k];
        if (raw === undefined && k !== '') return '<undefined>';
        if (raw instanceof Date) return 'Date:' + (isNaN(raw) ? 'invalid' : 'valid');
        if (raw instanceof ArrayBuffer) return 'ArrayBuffer:' + b64(new Uint8Array(raw));
        if (ArrayBuffer.isView(raw)) return 'View:' + raw.constructor.name;
        return x;
      });
      try {
        const tx = db.transaction(['models_store', 'model_info_store']);
        const get = (store) => new Promise((resolve, reject) => {
          const r = tx.objectStore(store).get(path);
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => reject(new Error(String(r.error)));
        });
        const [model, info] = [await get('models_store'), await get('model_info_store')];
        return {
          model: describe(model), info: describe(info),
          dates: [model, info].map((r) => r?.modelArtifactsInfo?.dateSaved?.toISOString()),
        };
      } finally { db.close(); }
    },
  };
}"""

# Python prepended to the page code: weights out of artifacts as comparable
# bytes, and a Sequential of two Dense layers built from numpy weights.
PRELUDE = '''
import numpy as np
import pyweb


def weights_of(art):
    decoded = pyweb.decode_weights(art.weight_data, art.weight_specs)
    return [{"name": name, "shape": list(a.shape), "dtype": str(a.dtype), "data": np.ascontiguousarray(a).tobytes()}
            for name, a in decoded.items()]


def dense_layer(name, units, activation, batch_input_shape=None):
    config = {
        "units": units, "activation": activation, "use_bias": True,
        "kernel_initializer": {"class_name": "Zeros", "config": {}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None, "name": name, "trainable": True,
    }
    if batch_input_shape is not None:
        config.update(batch_input_shape=batch_input_shape, dtype="float32")
    return {"class_name": "Dense", "config": config}


def dense_model(seed):
    """pyweb's own model: Dense(3 -> 5, relu), Dense(5 -> 2); numpy weights."""
    rng = np.random.default_rng(seed)
    weights = {
        "dense_Dense1/kernel": rng.standard_normal((3, 5)).astype(np.float32),
        "dense_Dense1/bias": rng.standard_normal(5).astype(np.float32),
        "dense_Dense2/kernel": rng.standard_normal((5, 2)).astype(np.float32),
        "dense_Dense2/bias": rng.standard_normal(2).astype(np.float32),
    }
    data, specs = pyweb.encode_weights(weights)
    layers = [dense_layer("dense_Dense1", 5, "relu", [None, 3]), dense_layer("dense_Dense2", 2, "linear")]
    topology = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": layers},
                "keras_version": "tfjs-layers 4.22.0", "backend": "tensor_flow.js"}
    art = pyweb.ModelArtifacts(model_topology=topology, weight_specs=specs, weight_data=data,
                               format="layers-model", generated_by="pyweb tests", converted_by=None,
                               user_defined_metadata={"saved_by": "pyweb"})
    return art, weights


def forward(weights, x):
    h = np.maximum(x @ weights["dense_Dense1/kernel"] + weights["dense_Dense1/bias"], 0)
    return h @ weights["dense_Dense2/kernel"] + weights["dense_Dense2/bias"]
'''

INFO_FIELDS = ("modelTopologyType", "modelTopologyBytes", "weightSpecsBytes", "weightDataBytes")
ISO_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
DATE_SAVED = re.compile(r'"dateSaved":"[^"]*"')


@pytest.fixture(autouse=True)
def tfjs(pyodide):
    """TF.js and the helpers in the page: added once, and again only after a page restart."""
    if pyodide.run_js("() => typeof tf === 'undefined' || typeof interop === 'undefined'"):
        if pyodide.run_js("() => typeof tf") == "undefined":
            pyodide.add_script("/tfjs/tf.min.js")
        pyodide.run_js(HELPERS_JS, METADATA)
        assert pyodide.run_js("async () => { await tf.setBackend('cpu'); return tf.version.tfjs; }") == "4.22.0"
    return pyodide


def run(pyodide, code: str, **globals):
    return pyodide.run(PRELUDE + textwrap.dedent(code), **globals)


def tfjs_save(pyodide, kind: str, *urls: str) -> dict:
    return pyodide.run_js("([kind, urls]) => interop.save(kind, urls)", [kind, list(urls)])


def tfjs_weights(saved: dict) -> list[tuple]:
    return [(w["name"], w["shape"], w["dtype"], base64.b64decode(w["b64"])) for w in saved["weights"]]


def pyweb_weights(listed: list[dict]) -> list[tuple]:
    return [(w["name"], w["shape"], w["dtype"], w["data"]) for w in listed]


# -- TF.js saves, pyweb loads ----------------------------------------------------------

LOADS = {
    "localstorage-sync": ("localstorage://tfjs-ls", "art = pyweb.load(url)"),
    "localstorage-async": ("localstorage://tfjs-ls", "art = await pyweb.aload(url)"),
    "indexeddb-async": ("indexeddb://tfjs-idb", "art = await pyweb.aload(url)"),
}


@pytest.mark.parametrize("route", list(LOADS))
@pytest.mark.parametrize("kind", ["convnet", "meta"])
def test_pyweb_loads_what_tfjs_saved(pyodide, kind, route):
    url, load = LOADS[route]
    saved = tfjs_save(pyodide, kind, url)
    got = run(
        pyodide,
        load
        + textwrap.dedent("""
        [weights_of(art), art.model_topology, art.user_defined_metadata,
         [art.format, art.generated_by, art.converted_by]]
    """),
        url=url,
    )
    weights, topology, metadata, head = got
    assert pyweb_weights(weights) == tfjs_weights(saved)  # names, order, shapes, dtype, bytes
    if kind == "convnet":
        assert [w[1] for w in tfjs_weights(saved)] == [[3, 3, 2, 3], [3], [27, 4], [4]]
    assert topology == saved["topology"]
    assert metadata == saved["metadata"] == (METADATA if kind == "meta" else None)
    assert head == ["layers-model", GENERATED_BY, None]


# -- pyweb saves, TF.js loads ----------------------------------------------------------


@pytest.mark.parametrize("url", ["localstorage://py-ls", "indexeddb://py-idb"], ids=["localstorage", "indexeddb"])
def test_tfjs_loads_what_pyweb_saved(pyodide, url):
    ours = run(
        pyodide,
        """
        art, weights = dense_model(7)
        if url.startswith("localstorage://"):
            pyweb.save(art, url)
        else:
            await pyweb.asave(art, url)
        [weights_of(art), forward(weights, np.ones((1, 3), np.float32)).ravel().tolist()]
    """,
        url=url,
    )
    theirs = pyodide.run_js("(url) => interop.load(url, [1, 3])", url)
    assert tfjs_weights(theirs) == pyweb_weights(ours[0])
    assert [w["name"] for w in ours[0]] == [
        "dense_Dense1/kernel",
        "dense_Dense1/bias",
        "dense_Dense2/kernel",
        "dense_Dense2/bias",
    ]
    np.testing.assert_allclose(theirs["predict"], ours[1], rtol=1e-6)
    assert theirs["metadata"] == {"saved_by": "pyweb"}


# -- the same model, written by each library: the same bytes -----------------------------


@pytest.mark.parametrize("kind", ["convnet", "meta"])
def test_localstorage_values_are_byte_identical(pyodide, kind):
    tfjs_save(pyodide, kind, "localstorage://tfjs-ls")
    run(pyodide, '_ = pyweb.save(pyweb.load("localstorage://tfjs-ls"), "localstorage://py-ls")')
    items = pyodide.run_js("() => interop.localStorageItems()")
    assert sorted(items) == sorted(
        f"tensorflowjs_models/{p}/{s}"
        for p in ("tfjs-ls", "py-ls")
        for s in ("info", "model_topology", "weight_specs", "weight_data", "model_metadata")
    )
    for suffix in ("info", "model_topology", "weight_specs", "weight_data", "model_metadata"):
        theirs, ours = items[f"tensorflowjs_models/tfjs-ls/{suffix}"], items[f"tensorflowjs_models/py-ls/{suffix}"]
        if suffix == "info":
            dates = [json.loads(text)["dateSaved"] for text in (theirs, ours)]
            assert all(ISO_DATE.fullmatch(d) for d in dates), dates
            theirs, ours = (DATE_SAVED.sub('"dateSaved":"D"', text) for text in (theirs, ours))
        assert ours == theirs, suffix
    if kind == "meta":
        assert '"userDefinedMetadata":' in items["tensorflowjs_models/py-ls/model_metadata"]


@pytest.mark.parametrize("kind", ["convnet", "meta"])
def test_indexeddb_records_are_identical(pyodide, kind):
    tfjs_save(pyodide, kind, "indexeddb://tfjs-idb")
    run(pyodide, '_ = await pyweb.asave(await pyweb.aload("indexeddb://tfjs-idb"), "indexeddb://py-idb")')
    theirs = pyodide.run_js("(p) => interop.idbRecords(p)", "tfjs-idb")
    ours = pyodide.run_js("(p) => interop.idbRecords(p)", "py-idb")
    for store in ("model", "info"):
        # JSON text compared exactly (key order too), the path and the date's value aside.
        assert ours[store].replace('"py-idb"', '"P"') == theirs[store].replace('"tfjs-idb"', '"P"'), store
    assert '"weightData":"ArrayBuffer:' in ours["model"] and '"dateSaved":"Date:valid"' in ours["info"]
    assert all(ISO_DATE.fullmatch(d) for d in theirs["dates"] + ours["dates"])
    assert ours["dates"][0] == ours["dates"][1]  # one info, in both records


# -- model management across the two libraries ------------------------------------------


def test_listings_agree(pyodide):
    tfjs_save(pyodide, "convnet", "localstorage://tfjs-ls", "indexeddb://tfjs/idb")
    tfjs_save(pyodide, "meta", "indexeddb://tfjs-meta")
    ours = run(
        pyodide,
        """
        from pyweb.artifacts import info_to_json
        art, _ = dense_model(3)
        pyweb.save(art, "localstorage://py/ls")
        await pyweb.asave(art, "indexeddb://py-idb")
        {url: info_to_json(info) for url, info in (await pyweb.alist_models()).items()}
    """,
    )
    theirs = pyodide.run_js("() => interop.list()")
    assert (
        sorted(ours)
        == sorted(theirs)
        == [
            "indexeddb://py-idb",
            "indexeddb://tfjs-meta",
            "indexeddb://tfjs/idb",
            "localstorage://py/ls",
            "localstorage://tfjs-ls",
        ]
    )
    for url, info in theirs.items():
        assert {k: ours[url][k] for k in INFO_FIELDS} == {k: info[k] for k in INFO_FIELDS}, url
        assert ours[url]["dateSaved"] == info["dateSaved"], url  # to the millisecond
        assert info["dateIsDate"] == url.startswith("indexeddb://")
    # Same model in both stores: same byte counts.
    assert {k: theirs["indexeddb://tfjs/idb"][k] for k in INFO_FIELDS} == {
        k: theirs["localstorage://tfjs-ls"][k] for k in INFO_FIELDS
    }


def test_model_moved_by_pyweb_loads_in_tfjs(pyodide):
    saved = tfjs_save(pyodide, "convnet", "localstorage://a")
    listed = run(
        pyodide,
        """
        out = [await pyweb.amove_model("localstorage://a", "indexeddb://b")]
        out.append(sorted(await pyweb.alist_models()))
        [out[0].weight_data_bytes, out[1]]
    """,
    )
    assert listed == [sum(len(w[3]) for w in tfjs_weights(saved)), ["indexeddb://b"]]
    assert sorted(pyodide.run_js("() => interop.list()")) == ["indexeddb://b"]
    assert pyodide.run_js("() => Object.keys(localStorage)") == []
    loaded = pyodide.run_js("(url) => interop.load(url, [1, 5, 5, 2])", "indexeddb://b")
    assert tfjs_weights(loaded) == tfjs_weights(saved)

    listed = run(
        pyodide,
        """
        _ = await pyweb.amove_model("indexeddb://b", "localstorage://a")
        sorted(await pyweb.alist_models())
    """,
    )
    assert listed == ["localstorage://a"]
    assert sorted(pyodide.run_js("() => interop.list()")) == ["localstorage://a"]
    assert "Cannot find model" in pyodide.run_js("(url) => interop.loadError(url)", "indexeddb://b")
    loaded = pyodide.run_js("(url) => interop.load(url, [1, 5, 5, 2])", "localstorage://a")
    assert tfjs_weights(loaded) == tfjs_weights(saved)


def test_tfjs_removes_models_pyweb_saved(pyodide):
    run(
        pyodide,
        """
        art, _ = dense_model(5)
        pyweb.save(art, "localstorage://py-ls")
        _ = await pyweb.asave(art, "indexeddb://py-idb")
    """,
    )
    removed = pyodide.run_js("""async () => [
      (await tf.io.removeModel('localstorage://py-ls')).weightDataBytes,
      (await tf.io.removeModel('indexeddb://py-idb')).weightDataBytes,
      Object.keys(await tf.io.listModels()),
      Object.keys(localStorage),
    ]""")
    assert removed == [(3 * 5 + 5 + 5 * 2 + 2) * 4, (3 * 5 + 5 + 5 * 2 + 2) * 4, [], []]
    got = run(
        pyodide,
        """
        out = [await pyweb.alist_models()]
        for url in ("localstorage://py-ls", "indexeddb://py-idb"):
            try:
                await pyweb.aload(url)
            except pyweb.errors.ModelNotFoundError as exc:
                out.append(exc.url)
        out
    """,
    )
    assert got == [{}, "localstorage://py-ls", "indexeddb://py-idb"]


def test_pyweb_removes_models_tfjs_saved(pyodide):
    tfjs_save(pyodide, "meta", "localstorage://tfjs-ls", "indexeddb://tfjs-idb")
    got = run(
        pyodide,
        """
        [pyweb.remove_model("localstorage://tfjs-ls").weight_data_bytes,
         (await pyweb.aremove_model("indexeddb://tfjs-idb")).weight_data_bytes,
         await pyweb.alist_models()]
    """,
    )
    assert got == [(3 * 2 + 2) * 4, (3 * 2 + 2) * 4, {}]
    assert pyodide.run_js("async () => [Object.keys(await tf.io.listModels()), Object.keys(localStorage)]") == [[], []]
    for url in ("localstorage://tfjs-ls", "indexeddb://tfjs-idb"):
        assert pyodide.run_js("(url) => interop.loadError(url)", url) is not None
    # Both IndexedDB records are gone, not only the info TF.js lists.
    assert pyodide.run_js("(p) => interop.idbRecords(p)", "tfjs-idb")["model"] is None
