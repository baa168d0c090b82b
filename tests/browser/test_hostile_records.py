"""Records another script of the page wrote, in the real IndexedDB and localStorage:
every load is a typed pyweb error (or a correct load), and none hangs."""

from __future__ import annotations

import pytest

from pyweb.testing import PyodideError

pytestmark = [pytest.mark.browser, pytest.mark.no_numpy]

# JS: put one raw record under "bad" in both of TF.js's stores, as another script could.
PUT = """async (kind) => {
  const topology = {class_name: 'Sequential', config: {layers: []}};
  const specs = [{name: 'w', shape: [2], dtype: 'float32'}];
  const arts = {modelTopology: topology, weightSpecs: specs, weightData: new ArrayBuffer(8)};
  let deep = []; for (let i = 0; i < 3000; i++) deep = [deep];
  const cyclic = {modelTopology: topology}; cyclic.self = cyclic;
  const records = {
    number_weights: {...arts, weightData: 5},
    true_specs: {...arts, weightSpecs: true},
    short_weights: {...arts, weightData: new ArrayBuffer(3)},
    string_weights: {...arts, weightData: 'AAAA'},
    blob_weights: {...arts, weightData: new Blob(['12345678'])},
    bigint: {...arts, extra: 10n},
    cycle: cyclic,
    deep_topology: {...arts, modelTopology: deep},
    no_artifacts: null,
    bad_shape: {...arts, weightSpecs: [{name: 'w', shape: [2 ** 62, 4], dtype: 'float32'}]},
    duplicate_names: {...arts, weightSpecs: [specs[0], specs[0]], weightData: new ArrayBuffer(16)},
  };
  const info = {dateSaved: kind === 'bad_date' ? 'yesterday' : new Date(), modelTopologyType: 'JSON'};
  const record = {modelPath: 'bad', modelArtifacts: kind in records ? records[kind] : arts, modelArtifactsInfo: info};
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open('tensorflowjs', 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore('models_store', {keyPath: 'modelPath'});
      req.result.createObjectStore('model_info_store', {keyPath: 'modelPath'});
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  // Resolves with null, or the name of the error that kept the record out (the database is
  // closed either way, so the next wipe is not blocked).
  try {
    return await new Promise((resolve) => {
      const tx = db.transaction(['models_store', 'model_info_store'], 'readwrite');
      const put = tx.objectStore('models_store').put(record);
      tx.objectStore('model_info_store').put({modelPath: 'bad', modelArtifactsInfo: info});
      tx.oncomplete = () => resolve(null);
      tx.onabort = () => resolve(String((tx.error || put.error || {name: 'AbortError'}).name));
    });
  } finally {
    db.close();
  }
}"""

KINDS = [
    "number_weights",
    "true_specs",
    "short_weights",
    "string_weights",
    "blob_weights",
    "bigint",
    "cycle",
    "deep_topology",
    "no_artifacts",
    "bad_shape",
    "duplicate_names",
    "bad_date",
]


def test_hostile_indexeddb_records_are_typed_errors(pyodide):
    seen = {}
    refused = {}
    for kind in KINDS:
        pyodide.wipe_storage()
        error = pyodide.run_js(PUT, kind)
        if error is not None:
            refused[kind] = error
        for call in ("await pyweb.aload('indexeddb://bad')", "await pyweb.alist_models('indexeddb://')"):
            try:
                pyodide.run(f"import pyweb\n{call}\nNone")
            except PyodideError as exc:
                assert "PyWebError" in exc.mro, (kind, call, exc)
                seen[(kind, call[12:17])] = exc.type_name
            else:
                seen[(kind, call[12:17])] = "ok"
    # The model itself is broken in these, its info record is fine: listing works.
    loads = {kind: seen[(kind, "aload")] for kind in KINDS}
    assert all(v != "ok" for k, v in loads.items() if k != "bad_date"), loads
    if pyodide.browser_name == "webkit":
        # WebKitGTK's automation session (ephemeral storage) cannot keep a Blob in IndexedDB: the
        # put aborts with UnknownError ("Error preparing Blob/File data to be stored in object
        # store"), nothing is written, and pyweb finds no model there.
        assert refused == {"blob_weights": "UnknownError"}, refused
        assert loads["blob_weights"] == "ModelNotFoundError", loads
    else:
        assert refused == {}, refused
        assert loads["blob_weights"] == "CorruptModelError", loads
    assert loads["bigint"] == "CorruptModelError", loads
    assert seen[("bad_date", "alist")] == "CorruptModelError"


LOCALSTORAGE = {
    "weight_data": "not base64!",
    "weight_specs": "true",
    "model_topology": "[" * 20000 + "]" * 20000,
    "info": '{"dateSaved": 5, "modelTopologyType": "JSON"}',
}


@pytest.mark.parametrize("part", sorted(LOCALSTORAGE))
def test_hostile_localstorage_values_are_typed_errors(pyodide, part):
    pyodide.run("""
        import pyweb
        pyweb.save(pyweb.ModelArtifacts(model_topology={}, weight_specs=[{"name": "w", "shape": [2], "dtype": "float32"}],
                                        weight_data=bytes(8)), "localstorage://bad")
        None
    """)
    pyodide.run_js(
        "([key, value]) => localStorage.setItem(key, value)", [f"tensorflowjs_models/bad/{part}", LOCALSTORAGE[part]]
    )
    call = "pyweb.list_models('localstorage://')" if part == "info" else "pyweb.load('localstorage://bad')"
    with pytest.raises(PyodideError) as info:
        pyodide.run(f"import pyweb\n{call}\nNone")
    assert "CorruptModelError" in info.value.mro
