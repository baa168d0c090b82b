"""localstorage://, indexeddb://, http:// and file:// inside Pyodide, in real browsers.

Each test runs once per target (playwright.config.py). All but the
HandlerContract run are marked ``no_numpy``: the handlers move bytes without
numpy, so they also run on Pyodide 314 core. TF.js itself (served at /tfjs/) is loaded into the page to
check that both libraries write the same bytes and read each other's models.
"""

from __future__ import annotations

import contextlib
import json
import socket
import textwrap
import threading
import time

import pytest

import pyweb
from pyweb.server import ModelServer
from tests.browser.page_contract import SERVER_ENV
from tests.browser.test_idb_connection import COUNT
from tests.handlers.test_local_storage_unit import INFO_TAIL, METADATA_TEXT, SPECS_TEXT, TOPOLOGY_TEXT
from tests.test_artifacts import REFERENCE_SPECS, REFERENCE_TOPOLOGY

pytestmark = pytest.mark.browser

# Prepended to the page code: the reference model (tests/test_artifacts.py) with
# weights 0..83 (or any length), built without numpy.
PRELUDE = """
import pyweb
from pyweb import ModelArtifacts

generated_by = "TensorFlow.js tfjs-layers v4.22.0"


def make(seed=0, n=84):
    return ModelArtifacts(
        model_topology=topology, weight_specs=specs, weight_data=bytes((seed + i) % 256 for i in range(n)),
        format="layers-model", generated_by=generated_by, converted_by=None,
    )
"""

# JS: the same model as TF.js's LayersModel.save hands it to a saver.
TFJS_ARTIFACTS = """({topology, specs}) => {
  const data = new Uint8Array(84);
  for (let i = 0; i < 84; i++) data[i] = i;
  return {modelTopology: topology, format: 'layers-model', generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
          convertedBy: null, weightData: data.buffer, weightSpecs: specs};
}"""

# JS: a value as JSON with Dates and buffers spelled out, to compare records.
DESCRIBE = """const describe = (v) => JSON.stringify(v, function (k, x) {
  const raw = this[k];
  if (raw instanceof Date) return 'Date';
  if (raw instanceof ArrayBuffer) return 'ArrayBuffer:' + Array.from(new Uint8Array(raw)).join(',');
  if (ArrayBuffer.isView(raw)) return raw.constructor.name;
  return x;
});"""

READ_IDB_RECORDS = (
    "async (path) => {\n  "
    + DESCRIBE
    + """
  const db = await new Promise((resolve, reject) => {
    const r = indexedDB.open('tensorflowjs', 1);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(new Error(String(r.error)));
  });
  const get = (store) => new Promise((resolve, reject) => {
    const r = db.transaction(store).objectStore(store).get(path);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(new Error(String(r.error)));
  });
  const out = [describe(await get('models_store')), describe(await get('model_info_store'))];
  db.close();
  return out;
}"""
)

LOCAL_STORAGE_ITEMS = "() => Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)]))"

# JS statements: `cost(s)`, what one key or value takes of localStorage's 5,242,880 per origin,
# and `used`, the sum over the store. Chromium and Firefox count UTF-16 units; WebKit counts
# bytes: 1 per character of a string that is all Latin-1, else 2 per unit (tests/browser/test_quota.py).
LS_USED = """
const ua = navigator.userAgent, byteCounted = /AppleWebKit/.test(ua) && !/Chrome\\//.test(ua);
const cost = (s) => (byteCounted && /[^\\u0000-\\u00ff]/.test(s) ? 2 : 1) * s.length;
let used = 0;
for (const k of Object.keys(localStorage)) used += cost(k) + cost(localStorage.getItem(k));
"""


def run(pyodide, code: str, **globals):
    return pyodide.run(PRELUDE + textwrap.dedent(code), topology=REFERENCE_TOPOLOGY, specs=REFERENCE_SPECS, **globals)


@contextlib.contextmanager
def counting_connections(pyodide):
    """A dict that, after the block, holds the IndexedDB connections ``opened`` and ``closed`` in it."""
    counts: dict[str, int] = {}
    pyodide.run_js(COUNT)  # (deleting the database cannot tell: pyweb's connections close on versionchange)
    try:
        yield counts
    finally:
        counts.update(pyodide.run_js("() => globalThis.idbCounts.stop()"))


def load_tfjs(pyodide) -> None:
    if pyodide.run_js("() => typeof tf") == "undefined":
        pyodide.add_script("/tfjs/tf.min.js")
    # tf.io does not export the browser handlers; its router hands them out.
    assert pyodide.run_js("() => tf.io.getSaveHandlers('indexeddb://x').length") == 1


# -- localstorage:// -----------------------------------------------------------------


@pytest.mark.no_numpy
def test_localstorage_round_trip_writes_tfjs_keys_and_values(pyodide):
    date = run(
        pyodide,
        """
        result = pyweb.save(make(), "localstorage://my-model")
        got = pyweb.load("localstorage://my-model")
        assert got.weight_data == bytes(range(84)) and isinstance(got.weight_data, bytes)
        assert got.model_topology == topology and got.weight_specs == specs and got.converted_by is None
        pyweb.artifacts.js_iso(result.model_artifacts_info.date_saved)
    """,
    )
    prefix = "tensorflowjs_models/my-model/"
    assert pyodide.run_js(LOCAL_STORAGE_ITEMS) == {
        prefix + "info": '{"dateSaved":"' + date + '"' + INFO_TAIL,
        prefix + "model_topology": TOPOLOGY_TEXT,
        prefix + "weight_specs": SPECS_TEXT,
        prefix + "weight_data": (  # base64 of bytes 0..83
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v"
            "MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJT"
        ),
        prefix + "model_metadata": METADATA_TEXT,
    }


@pytest.mark.no_numpy
def test_localstorage_matches_tfjs_and_each_loads_the_other(pyodide):
    load_tfjs(pyodide)
    pyodide.run_js(
        f"async (a) => {{ await tf.io.getSaveHandlers('localstorage://from-tfjs')[0].save(({TFJS_ARTIFACTS})(a)); }}",
        {"topology": REFERENCE_TOPOLOGY, "specs": REFERENCE_SPECS},
    )
    run(
        pyodide,
        """
        pyweb.save(make(), "localstorage://from-pyweb")
        got = pyweb.load("localstorage://from-tfjs")
        assert got.weight_data == bytes(range(84)) and got.model_topology == topology
        assert (got.format, got.generated_by, got.converted_by) == ("layers-model", generated_by, None)
    """,
    )
    items = pyodide.run_js(LOCAL_STORAGE_ITEMS)
    for suffix in ("model_topology", "weight_specs", "weight_data", "model_metadata"):
        assert items[f"tensorflowjs_models/from-pyweb/{suffix}"] == items[f"tensorflowjs_models/from-tfjs/{suffix}"]
    ours, theirs = (json.loads(items[f"tensorflowjs_models/{p}/info"]) for p in ("from-pyweb", "from-tfjs"))
    assert list(ours) == list(theirs) and {**ours, "dateSaved": 0} == {**theirs, "dateSaved": 0}
    loaded = pyodide.run_js(
        "async () => { const a = await tf.io.getLoadHandlers('localstorage://from-pyweb')[0].load();"
        " return [Array.from(new Uint8Array(a.weightData)), a.modelTopology, a.weightSpecs, a.format, a.convertedBy]; }"
    )
    assert loaded == [list(range(84)), REFERENCE_TOPOLOGY, REFERENCE_SPECS, "layers-model", None]


@pytest.mark.no_numpy
def test_localstorage_quota_failure_keeps_the_old_model(pyodide):
    # The quota is 5,242,880 UTF-16 units of key + value per origin in Chromium and
    # Firefox, 5,242,880 bytes in WebKit (tests/browser/test_quota.py): fill it to within
    # 1000 of them, so the new model's weights (4000 base64 chars) cannot fit.
    run(pyodide, '_ = pyweb.save(make(1), "localstorage://m")')
    before = pyodide.run_js(LOCAL_STORAGE_ITEMS)
    pyodide.run_js("() => {" + LS_USED + "localStorage.setItem('filler', 'x'.repeat(5242880 - used - 6 - 1000)); }")
    err = run(
        pyodide,
        """
        from pyweb.errors import QuotaExceededError
        try:
            pyweb.save(make(2, n=3000), "localstorage://m")
        except QuotaExceededError as exc:
            err = [exc.url, exc.requested_bytes, exc.available_bytes, isinstance(exc.__cause__, QuotaExceededError)]
        got = pyweb.load("localstorage://m")
        assert got.weight_data == bytes((1 + i) % 256 for i in range(84)), got.weight_data
        err
    """,
    )
    per_char = 1 if pyodide.browser_name == "webkit" else 2  # requested_bytes: the engine's own bytes
    assert err[0] == "localstorage://m" and err[1] > per_char * 4000 and err[2] is None and err[3]
    after = pyodide.run_js(LOCAL_STORAGE_ITEMS)
    after.pop("filler")
    assert after == before


@pytest.mark.no_numpy
def test_localstorage_missing_and_corrupt(pyodide):
    got = run(
        pyodide,
        """
        from pyweb.errors import CorruptModelError, ModelNotFoundError
        out = []
        try:
            pyweb.load("localstorage://nothing")
        except ModelNotFoundError as exc:
            out.append(exc.url)
        pyweb.save(make(), "localstorage://m")
        import js
        js.localStorage.setItem("tensorflowjs_models/m/weight_data", "!!not base64!!")
        try:
            pyweb.load("localstorage://m")
        except CorruptModelError as exc:
            out.append(exc.part)
        out
    """,
    )
    assert got == ["localstorage://nothing", "weight_data"]


# -- indexeddb:// ------------------------------------------------------------------


@pytest.mark.no_numpy
def test_indexeddb_round_trip_async_and_sync(pyodide):
    got = run(
        pyodide,
        """
        from pyodide.ffi import can_run_sync
        await pyweb.asave(make(3), "indexeddb://a/b")
        got = await pyweb.aload("indexeddb://a/b")
        assert got.weight_data == bytes((3 + i) % 256 for i in range(84))
        assert got.model_topology == topology and got.weight_specs == specs and got.format == "layers-model"
        out = [can_run_sync()]
        if can_run_sync():  # JSPI: the sync API blocks on the async handler
            pyweb.save(make(4), "indexeddb://sync")
            out.append(pyweb.load("indexeddb://sync").weight_data[:2] == bytes([4, 5]))
        else:
            try:
                pyweb.load("indexeddb://a/b")
            except pyweb.errors.SyncUnavailableError:
                out.append(True)
        out
    """,
    )
    assert got[1] is True
    assert not pyodide.console_errors, pyodide.console_errors


@pytest.mark.no_numpy
def test_indexeddb_records_match_tfjs_and_each_loads_the_other(pyodide):
    load_tfjs(pyodide)
    pyodide.run_js(
        f"async (a) => {{ await tf.io.getSaveHandlers('indexeddb://from-tfjs')[0].save(({TFJS_ARTIFACTS})(a)); }}",
        {"topology": REFERENCE_TOPOLOGY, "specs": REFERENCE_SPECS},
    )
    run(
        pyodide,
        """
        await pyweb.asave(make(), "indexeddb://from-pyweb")
        got = await pyweb.aload("indexeddb://from-tfjs")
        assert got.weight_data == bytes(range(84)) and got.model_topology == topology and got.weight_specs == specs
        assert (got.format, got.generated_by, got.converted_by) == ("layers-model", generated_by, None)
        listed = await pyweb.alist_models()
        assert listed["indexeddb://from-tfjs"].weight_data_bytes == 84, listed
    """,
    )
    ours = pyodide.run_js(READ_IDB_RECORDS, "from-pyweb")
    theirs = pyodide.run_js(READ_IDB_RECORDS, "from-tfjs")
    assert [r.replace("from-pyweb", "PATH") for r in ours] == [r.replace("from-tfjs", "PATH") for r in theirs]
    assert '"weightData":"ArrayBuffer:0,1,2,' in ours[0] and '"dateSaved":"Date"' in ours[1]
    loaded = pyodide.run_js(f"""async () => {{
      {DESCRIBE}
      const mine = await tf.io.getLoadHandlers('indexeddb://from-pyweb')[0].load();
      const theirs = await tf.io.getLoadHandlers('indexeddb://from-tfjs')[0].load();
      return [describe(mine), describe(theirs), Object.keys(await tf.io.listModels()).sort()];
    }}""")
    assert loaded[0] == loaded[1]
    assert loaded[2] == ["indexeddb://from-pyweb", "indexeddb://from-tfjs"]


@pytest.mark.no_numpy
def test_indexeddb_aborted_save_leaves_the_old_model(pyodide):
    got = run(
        pyodide,
        """
        from pyweb.browser import idb
        from pyweb.errors import StorageError
        await pyweb.asave(make(1), "indexeddb://m")
        out = []
        real_complete, real_put = idb.BrowserIDBTransaction.complete, idb.BrowserIDBTransaction.put

        async def complete_after_abort(self):  # both puts issued, then the transaction aborts
            self.abort()
            await real_complete(self)

        def put_failing_on_info(self, store, value):
            real_put(self, store, value)
            if store == "model_info_store":
                raise StorageError("injected")

        pyweb.env.indexed_db().whole_operations = False  # inject the faults on the request path
        for name, patch in (("complete", complete_after_abort), ("put", put_failing_on_info)):
            setattr(idb.BrowserIDBTransaction, name, patch)
            try:
                await pyweb.asave(make(2, n=200), "indexeddb://m")
            except StorageError as exc:
                out.append([type(exc).__name__, exc.url])
            finally:
                idb.BrowserIDBTransaction.complete, idb.BrowserIDBTransaction.put = real_complete, real_put
        pyweb.env.indexed_db().whole_operations = True
        got = await pyweb.aload("indexeddb://m")
        out.append(got.weight_data == bytes((1 + i) % 256 for i in range(84)))
        out.append((await pyweb.alist_models())["indexeddb://m"].weight_data_bytes)
        out
    """,
    )
    assert got == [["StorageError", "indexeddb://m"], ["StorageError", "indexeddb://m"], True, 84]
    assert not pyodide.console_errors, pyodide.console_errors


# -- both stores ---------------------------------------------------------------------


@pytest.mark.no_numpy
def test_list_and_remove_both_schemes(pyodide):
    got = run(
        pyodide,
        """
        from pyweb.errors import ModelNotFoundError
        pyweb.save(make(), "localstorage://QuxModel")
        pyweb.save(make(), "localstorage://repeat/QuxModel")
        await pyweb.asave(make(), "indexeddb://QuxModel")
        await pyweb.asave(make(), "indexeddb://repeat/QuxModel")
        out = [sorted(await pyweb.alist_models())]
        out.append(pyweb.remove_model("localstorage://QuxModel").weight_data_bytes)
        out.append((await pyweb.aremove_model("indexeddb://QuxModel")).weight_data_bytes)
        out.append(sorted(await pyweb.alist_models()))
        for url in ("localstorage://QuxModel", "indexeddb://QuxModel"):
            try:
                await pyweb.aremove_model(url)
            except ModelNotFoundError as exc:
                out.append(exc.url)
        out
    """,
    )
    assert got == [
        [
            "indexeddb://QuxModel",
            "indexeddb://repeat/QuxModel",
            "localstorage://QuxModel",
            "localstorage://repeat/QuxModel",
        ],
        84,
        84,
        ["indexeddb://repeat/QuxModel", "localstorage://repeat/QuxModel"],
        "localstorage://QuxModel",
        "indexeddb://QuxModel",
    ]


@pytest.mark.no_numpy
def test_weights_cross_the_ffi_as_buffers(pyodide):
    # 16 MiB through IndexedDB and 3 MiB through localStorage. Element-by-element
    # conversion would take about 2.5-6 s per MiB, string crossing ~50 ms per MiB
    # (measured in Pyodide 0.27.7); buffers take milliseconds.
    timings = run(
        pyodide,
        """
        import os, time
        big = make()
        big.weight_data = os.urandom(16 * 1024 * 1024)
        t0 = time.perf_counter()
        await pyweb.asave(big, "indexeddb://big")
        got = await pyweb.aload("indexeddb://big")
        idb_seconds = time.perf_counter() - t0
        assert got.weight_data == big.weight_data
        mid = make()
        mid.weight_data = os.urandom(3 * 1024 * 1024)
        t0 = time.perf_counter()
        pyweb.save(mid, "localstorage://mid")
        got = pyweb.load("localstorage://mid")
        ls_seconds = time.perf_counter() - t0
        assert got.weight_data == mid.weight_data
        [idb_seconds, ls_seconds]
    """,
    )
    print(f"{pyodide.target}: 16 MiB IndexedDB round trip {timings[0]:.3f} s, 3 MiB localStorage {timings[1]:.3f} s")
    assert timings[0] < 5.0 and timings[1] < 1.5


# -- http:// through JS fetch, and file:// in Pyodide's file system ---------------------


@pytest.mark.no_numpy
def test_http_save_and_load_through_browser_fetch(pyodide, tmp_path):
    with ModelServer(tmp_path, cors_origin="*") as server:
        got = run(
            pyodide,
            """
            from pyodide.ffi import can_run_sync
            await pyweb.asave(make(5), base + "/upload/m")
            got = await pyweb.aload(base + "/models/m/model.json")
            out = [bytes(got.weight_bytes()) == bytes((5 + i) % 256 for i in range(84)), got.model_topology == topology]
            if can_run_sync():
                pyweb.save(make(6), base + "/upload/s")
                out.append(bytes(pyweb.load(base + "/models/s/model.json").weight_bytes())[:1] == bytes([6]))
            try:
                await pyweb.aload(base + "/models/missing/model.json")
            except pyweb.errors.ModelNotFoundError as exc:
                out.append(exc.url == base + "/models/missing/model.json")
            out
        """,
            base=server.url,
        )
        host = pyweb.load(f"file://{tmp_path}/m")
    assert all(got), got
    assert bytes(host.weight_bytes()) == bytes((5 + i) % 256 for i in range(84))
    assert host.model_topology == REFERENCE_TOPOLOGY


@pytest.mark.no_numpy
def test_http_timeout_aborts_the_browser_request(pyodide):
    # A server that reads the request and never answers: the timeout cancels
    # the coroutine, which must abort the fetch so the browser closes the socket.
    listener = socket.create_server(("127.0.0.1", 0))
    closed = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        conn.settimeout(20)
        try:
            while conn.recv(65536):
                pass
            closed.set()
        except OSError:
            pass
        finally:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/m/model.json"
        t0 = time.monotonic()
        got = run(
            pyodide,
            """
            try:
                await pyweb.aload(url, timeout=0.5)
            except pyweb.errors.StorageError as exc:
                out = [type(exc).__name__, exc.url, isinstance(exc, TimeoutError), exc.timeout]
            out
        """,
            url=url,
        )
        assert got == ["RequestTimeoutError", url, True, 0.5]
        assert closed.wait(10), "the browser kept the connection open: the fetch was not aborted"
        assert time.monotonic() - t0 < 10
    finally:
        listener.close()


@pytest.mark.no_numpy
def test_file_scheme_in_pyodides_file_system(pyodide):
    got = run(
        pyodide,
        """
        pyweb.save(make(7), "file:///tmp/models/m")
        got = pyweb.load("file:///tmp/models/m")
        import os
        [sorted(os.listdir("/tmp/models/m")), bytes(got.weight_bytes()) == bytes((7 + i) % 256 for i in range(84))]
    """,
    )
    assert got == [["model.json", "weights.bin"], True]


# -- the handler contract against the real stores (it needs numpy) ----------------------


def test_handler_contract_holds_for_the_real_stores(pyodide, tmp_path):
    # tests/browser/page_contract.py (shipped through pyproject's pyweb_bundle) subclasses
    # pyweb.testing.contract for localStorage, IndexedDB, memory://, MEMFS file:// and http://.
    with ModelServer(tmp_path, cors_origin="*") as server:
        pyodide.run("import os; os.environ[name] = url", name=SERVER_ENV, url=server.url)
        can_block = pyodide.run("from pyodide.ffi import can_run_sync; can_run_sync()")
        # Without JSPI (WebKit) a sync test can wait on nothing: no async call style, and no
        # IndexedDB or http:// (async underneath); test_sync_calls_without_jspi_name_the_twin
        # and the async-only tests of this module cover those there.
        only = [] if can_block else ["-k", "not async and not IndexedDB and not HTTP"]
        result = pyodide.run_pytest("tests/browser/page_contract.py", "-q", *only)
    outcomes = result["outcomes"]
    classes = {nodeid.split("::")[1] for nodeid in outcomes}
    stores = ["TestRealLocalStorage", "TestPageMemory", "TestPageFileSystem"]
    assert classes == set(stores + (["TestRealIndexedDB", "TestPageHTTP"] if can_block else []))
    assert len(outcomes) == len(classes) * (16 if can_block else 8) and set(outcomes.values()) == {"passed"}, outcomes


@pytest.mark.no_numpy
def test_sync_calls_without_jspi_name_the_twin(pyodide):
    got = run(
        pyodide,
        """
        from pyodide.ffi import can_run_sync
        from pyweb.errors import SyncUnavailableError
        out = {}
        if not can_run_sync():
            await pyweb.asave(make(1), "indexeddb://sync")
            calls = [("save", "asave", (make(2), "indexeddb://sync")), ("load", "aload", ("indexeddb://sync",)),
                     ("list_models", "alist_models", ("indexeddb://",)), ("remove_model", "aremove_model", ("indexeddb://sync",))]
            for verb, twin, args in calls:
                try:
                    getattr(pyweb, verb)(*args)
                    out[verb] = "returned"
                except SyncUnavailableError as exc:
                    out[verb] = f"pyweb.{twin}(" in str(exc)
            out["kept"] = (await pyweb.aload("indexeddb://sync")).weight_data == make(1).weight_data
        [can_run_sync(), out]
    """,
    )
    can_block, out = got
    if pyodide.browser_name == "webkit":
        assert not can_block
    assert can_block or out == {"save": True, "load": True, "list_models": True, "remove_model": True, "kept": True}


# -- indexeddb:// whole operations: one JS call each (pyweb.browser.idb) ------------------

# Page code: count calls into the JS helpers (wrapping them in place), run
# `body`, then put the helpers back. `counts` holds {helper name: calls}.
COUNTING_IDB_CALLS = """
from pyodide.code import run_js
from pyweb.browser import idb

_helpers = idb._js()
idb.browser_indexed_db()  # made once per page, calling available(): not counted
_wrap = run_js('''(h) => {
  const counts = {}, real = {};
  for (const [k, f] of Object.entries(h)) {
    if (typeof f !== 'function') continue;
    real[k] = f;
    h[k] = function (...a) { counts[k] = (counts[k] || 0) + 1; return f.apply(this, a); };
  }
  return [counts, () => Object.assign(h, real)];
}''')(_helpers)
counts, _unwrap = _wrap[0], _wrap[1]
"""


@pytest.mark.no_numpy
def test_indexeddb_operations_take_one_js_call_each(pyodide):
    with counting_connections(pyodide) as connections:
        got = run(
            pyodide,
            COUNTING_IDB_CALLS
            + textwrap.dedent("""
            assert pyweb.env.indexed_db().whole_operations
            try:
                await pyweb.asave(make(5), "indexeddb://m")
                loaded = await pyweb.aload("indexeddb://m")
                listed = await pyweb.alist_models("indexeddb://")
                removed = await pyweb.aremove_model("indexeddb://m")
                calls = counts.to_py()
            finally:
                _unwrap()
                pyweb.env.indexed_db().close_connections()
            out = [calls, loaded.weight_data == bytes((5 + i) % 256 for i in range(84)),
                   listed["indexeddb://m"].weight_data_bytes, removed.weight_data_bytes]
            out
        """),
        )
    # load and remove read one record each; no open/transaction/put/get/complete from Python
    assert got[0] == {"saveRecords": 1, "getRecord": 2, "getAllRecords": 1, "deleteRecords": 1}
    assert got[1:] == [True, 84, 84]
    assert connections == {"opened": 1, "closed": 1}  # one kept for all five, closed by close_connections()
    assert not pyodide.console_errors, pyodide.console_errors


@pytest.mark.no_numpy
def test_indexeddb_request_failing_inside_the_one_call_save_leaves_the_old_model(pyodide):
    # The info record loses its key: its put throws DataError in JS after the
    # model's put was issued, so the helper aborts the transaction. Neither
    # store may change, in either browser.
    got = run(
        pyodide,
        """
        from pyweb.errors import StorageError
        from pyweb.handlers import indexed_db as ib

        await pyweb.asave(make(1), "indexeddb://m")
        real = ib.IndexedDBHandler._records

        def keyless_info(self, artifacts, info):
            model, info_record = real(self, artifacts, info)
            del info_record["modelPath"]
            return model, info_record

        ib.IndexedDBHandler._records = keyless_info
        try:
            assert pyweb.env.indexed_db().whole_operations
            await pyweb.asave(make(2, n=200), "indexeddb://m")
            out = ["saved?"]
        except StorageError as exc:
            out = [type(exc).__name__, exc.url, exc.__cause__.name]
        finally:
            ib.IndexedDBHandler._records = real
        out.append((await pyweb.aload("indexeddb://m")).weight_data == bytes((1 + i) % 256 for i in range(84)))
        out.append((await pyweb.alist_models())["indexeddb://m"].weight_data_bytes)
        out
    """,
    )
    assert got == ["StorageError", "indexeddb://m", "DataError", True, 84]
    records = pyodide.run_js(READ_IDB_RECORDS, "m")
    assert '"weightData":"ArrayBuffer:1,2,3,' in records[0] and '"weightDataBytes":84' in records[1]
    assert not pyodide.console_errors, pyodide.console_errors


@pytest.mark.no_numpy
def test_indexeddb_save_failing_in_python_gives_up_its_open_connection(pyodide):
    # The one-call save opens the database while Python encodes the records;
    # when encoding throws, supply(None) gives up: nothing is written and the
    # connection is released (with idle_seconds 0, closed once open).
    with counting_connections(pyodide) as connections:
        got = run(
            pyodide,
            """
            from pyweb.browser import idb

            pyweb.env.indexed_db().idle_seconds = 0  # a connection per operation, as counted below
            await pyweb.asave(make(1), "indexeddb://m")
            real = idb.encode_record

            def model_record_only(value):  # the model record is encoded and copied, then the info fails
                if "modelArtifacts" not in value:
                    raise RuntimeError("injected")
                return real(value)

            idb.encode_record = model_record_only
            try:
                await pyweb.asave(make(2, n=200), "indexeddb://m")
                out = ["saved?"]
            except RuntimeError as exc:
                out = [exc.args[0]]
            finally:
                idb.encode_record = real
            out.append((await pyweb.aload("indexeddb://m")).weight_data == bytes((1 + i) % 256 for i in range(84)))
            del pyweb.env.indexed_db().idle_seconds
            out
        """,
        )
    assert got == ["injected", True]
    # the load, issued before the give-up reached JS, shares the given-up save's open; all are closed
    assert connections == {"opened": 2, "closed": 2}
    records = pyodide.run_js(READ_IDB_RECORDS, "m")
    assert '"weightData":"ArrayBuffer:1,2,3,' in records[0] and '"weightDataBytes":84' in records[1]
    assert not pyodide.console_errors, pyodide.console_errors


@pytest.mark.no_numpy
def test_indexeddb_quota_abort_through_the_one_call_save(pyodide, small_idb_quota):
    # Chromium reports the quota failure only as the transaction's abort, with
    # an error object Pyodide cannot await (it hangs): the helper
    # must reject with a fresh DOMException, or this await hangs. Firefox fails
    # the request. The quota page: pyweb.testing.quota.
    page = small_idb_quota(2 * 1024 * 1024)
    got = run(
        page,
        COUNTING_IDB_CALLS
        + textwrap.dedent("""
        import os
        from pyweb.errors import QuotaExceededError
        try:
            await pyweb.asave(make(1), "indexeddb://m")
            big = make(2)
            big.weight_data = os.urandom(6 * 1024 * 1024)  # random: Chromium compresses IDB values
            try:
                await pyweb.asave(big, "indexeddb://m")
                out = ["saved?"]
            except QuotaExceededError as exc:
                out = [exc.url, exc.requested_bytes]
            out.append((await pyweb.aload("indexeddb://m")).weight_data == bytes((1 + i) % 256 for i in range(84)))
            out.append(counts.to_py())
        finally:
            _unwrap()
        out
    """),
    )
    assert got == ["indexeddb://m", 1038 + 245 + 6 * 1024 * 1024, True, {"saveRecords": 2, "getRecord": 1}]
    assert not page.console_errors, page.console_errors


@pytest.mark.no_numpy
def test_indexeddb_newer_database_fails_every_one_call_operation(pyodide):
    # A newer database on disk makes open() fail with VersionError; the
    # rejection reaches Python as a pyweb error instead of hanging the await.
    pyodide.run_js("""() => new Promise((resolve, reject) => {
      const r = indexedDB.open('tensorflowjs', 2);
      r.onsuccess = () => { r.result.close(); resolve(); };
      r.onerror = () => reject(new Error(String(r.error)));
    })""")
    got = run(
        pyodide,
        """
        out = []
        for op in (lambda: pyweb.asave(make(), "indexeddb://x"), lambda: pyweb.aload("indexeddb://x"),
                   lambda: pyweb.alist_models("indexeddb://"), lambda: pyweb.aremove_model("indexeddb://x")):
            try:
                await op()
                out.append("no error")
            except pyweb.errors.StorageError as exc:
                out.append([type(exc).__name__, exc.url, exc.__cause__.name])
        out
    """,
    )
    assert got == [
        ["StorageError", "indexeddb://x", "VersionError"],
        ["StorageError", "indexeddb://x", "VersionError"],
        ["StorageError", "indexeddb://", "VersionError"],
        ["StorageError", "indexeddb://x", "VersionError"],
    ]
    assert not pyodide.console_errors, pyodide.console_errors
