"""indexeddb:// handler logic against a tiny in-test IDBFactoryLike.

The browser-faithful stand-in is pyweb.emulation's (run through the
HandlerContract elsewhere); this fake only records what the handler asks
for: which transactions, which records, and commits all or nothing. Also
here: the browser layer's pure parts (the JS error table, the record codec).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import importlib

import pytest

import pyweb
import pyweb.env
from pyweb.browser._errors import JS_ERROR_TABLE, error_class, make_error
from pyweb.browser._records import TAG_BUFFER, TAG_DATE, decode_record, encode_record
from pyweb.errors import (
    ArtifactError,
    CorruptModelError,
    ModelNotFoundError,
    PyWebError,
    QuotaExceededError,
    RuntimeUnavailableError,
    StorageError,
)
from pyweb.handlers.indexed_db import IndexedDBHandler, IndexedDBStore, upgrade_database
from tests.test_artifacts import REFERENCE_SPECS, REFERENCE_TOPOLOGY, reference_artifacts


class FakeRequest:
    def __init__(self) -> None:
        self.result = None


class FakeTransaction:
    def __init__(self, db: FakeDB, stores: list[str], mode: str) -> None:
        self.db, self.stores, self.mode = db, list(stores), mode
        self.ops: list[tuple] = []
        self.aborted = False

    def _check(self, store: str, write: bool) -> None:
        assert store in self.stores and not self.aborted
        assert not write or self.mode == "readwrite"

    def put(self, store, value):
        self._check(store, True)
        if self.db.factory.fail_put:
            raise self.db.factory.fail_put
        self.ops.append(("put", store, _clone(value)))

    def get(self, store, key):
        self._check(store, False)
        request = FakeRequest()
        self.ops.append(("get", store, key, request))
        return request

    def get_all(self, store):
        self._check(store, False)
        request = FakeRequest()
        self.ops.append(("get_all", store, None, request))
        return request

    def delete(self, store, key):
        self._check(store, True)
        self.ops.append(("delete", store, key))

    def abort(self):
        self.aborted = True

    async def complete(self):
        factory = self.db.factory
        if self.aborted:
            raise StorageError("AbortError")
        if factory.fail_commit and any(op[0] in ("put", "delete") for op in self.ops):
            error, factory.fail_commit = factory.fail_commit, None
            raise error
        data = self.db.data
        for op in self.ops:
            if op[0] == "put":
                data[op[1]][op[2]["modelPath"]] = op[2]
            elif op[0] == "delete":
                data[op[1]].pop(op[2], None)
            elif op[0] == "get":
                op[3].result = copy.deepcopy(data[op[1]].get(op[2]))
            else:
                op[3].result = copy.deepcopy(list(data[op[1]].values()))


def _clone(value):
    # Stand-in for structured clone: a deep copy, buffers become bytes.
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return value


class FakeDB:
    def __init__(self, factory: FakeFactory, data: dict) -> None:
        self.factory, self.data = factory, data
        self.key_paths: dict[str, str] = {}

    @property
    def object_store_names(self):
        return list(self.data)

    def create_object_store(self, name, *, key_path):
        self.data[name] = {}
        self.factory.key_paths[name] = key_path

    def transaction(self, stores, mode="readonly"):
        tx = FakeTransaction(self, stores, mode)
        self.factory.transactions.append(tx)
        return tx

    def close(self):
        self.factory.open_connections -= 1


class FakeFactory:
    def __init__(self) -> None:
        self.databases: dict[tuple[str, int], dict] = {}
        self.key_paths: dict[str, str] = {}
        self.transactions: list[FakeTransaction] = []
        self.open_connections = 0
        self.fail_commit: Exception | None = None
        self.fail_put: Exception | None = None

    async def open(self, name, version, upgrade):
        new = (name, version) not in self.databases
        data = self.databases.setdefault((name, version), {})
        db = FakeDB(self, data)
        if new:
            upgrade(db, 0)
        self.open_connections += 1
        return db

    async def delete_database(self, name):
        self.databases = {k: v for k, v in self.databases.items() if k[0] != name}

    def store(self, name):
        return self.databases[("tensorflowjs", 1)][name]


@pytest.fixture
def factory():
    return FakeFactory()


def run(coro):
    return asyncio.run(coro)


def save(factory, art, path="my-model"):
    return run(IndexedDBHandler(path, factory=factory).asave(art))


def load(factory, path="my-model"):
    return run(IndexedDBHandler(path, factory=factory).aload())


def test_database_and_stores_are_tfjs(factory):
    save(factory, reference_artifacts())
    assert list(factory.databases) == [("tensorflowjs", 1)]
    assert factory.key_paths == {"models_store": "modelPath", "model_info_store": "modelPath"}


def test_records_are_shaped_as_tfjs_writes_them(factory):
    result = save(factory, reference_artifacts())
    record = factory.store("models_store")["my-model"]
    assert list(record) == ["modelPath", "modelArtifacts", "modelArtifactsInfo"]
    arts = record["modelArtifacts"]
    assert list(arts) == ["modelTopology", "format", "generatedBy", "convertedBy", "weightData", "weightSpecs"]
    assert arts["modelTopology"] == REFERENCE_TOPOLOGY and arts["weightSpecs"] == REFERENCE_SPECS
    assert arts["convertedBy"] is None and arts["weightData"] == bytes(84)
    info = record["modelArtifactsInfo"]
    assert list(info) == ["dateSaved", "modelTopologyType", "modelTopologyBytes", "weightSpecsBytes", "weightDataBytes"]
    assert isinstance(info["dateSaved"], dt.datetime) and info["dateSaved"].tzinfo is not None
    assert info["dateSaved"] == result.model_artifacts_info.date_saved
    sizes = [info[k] for k in ("modelTopologyType", "modelTopologyBytes", "weightSpecsBytes", "weightDataBytes")]
    assert sizes == ["JSON", 1038, 245, 84]
    assert factory.store("model_info_store")["my-model"] == {"modelPath": "my-model", "modelArtifactsInfo": info}


def test_save_is_one_transaction_over_both_stores(factory):
    save(factory, reference_artifacts())
    (tx,) = factory.transactions
    assert tx.mode == "readwrite" and sorted(tx.stores) == ["model_info_store", "models_store"]
    assert [(op[0], op[1]) for op in tx.ops] == [("put", "models_store"), ("put", "model_info_store")]
    assert factory.open_connections == 0


def test_absent_weight_data_is_stored_as_an_empty_buffer(factory):
    save(factory, pyweb.ModelArtifacts(model_topology={"t": 1}, weight_specs=[]))
    record = factory.store("models_store")["my-model"]
    assert record["modelArtifacts"]["weightData"] == b""
    assert record["modelArtifactsInfo"]["weightDataBytes"] == 0


def test_round_trip(factory):
    art = reference_artifacts()
    art.weight_data = [bytes(range(40)), bytes(range(44))]
    art.user_defined_metadata = {"k": [1, 2]}
    save(factory, art)
    got = load(factory)
    assert bytes(got.weight_bytes()) == bytes(range(40)) + bytes(range(44))
    assert got.model_topology == REFERENCE_TOPOLOGY and got.weight_specs == REFERENCE_SPECS
    assert got.user_defined_metadata == {"k": [1, 2]} and got.converted_by is None and got.format == "layers-model"


def test_aborted_save_keeps_the_old_model(factory):
    save(factory, reference_artifacts())
    factory.fail_commit = QuotaExceededError("QuotaExceededError")
    new = reference_artifacts()
    new.weight_data = bytes(range(84))
    with pytest.raises(QuotaExceededError) as info:
        save(factory, new)
    assert info.value.url == "indexeddb://my-model"
    assert info.value.requested_bytes == 1038 + 245 + 84
    assert load(factory).weight_data == bytes(84)
    assert factory.open_connections == 0


def test_put_that_throws_aborts_the_transaction(factory):
    factory.fail_put = StorageError("DataCloneError")
    with pytest.raises(StorageError):
        save(factory, reference_artifacts())
    assert factory.transactions[-1].aborted
    assert factory.store("models_store") == {} and factory.store("model_info_store") == {}


def test_other_errors_get_the_url(factory):
    save(factory, reference_artifacts())
    factory.fail_commit = StorageError("UnknownError")
    with pytest.raises(StorageError) as info:
        save(factory, reference_artifacts())
    assert info.value.url == "indexeddb://my-model"


def test_missing_model(factory):
    with pytest.raises(ModelNotFoundError) as info:
        load(factory, "nope")
    assert info.value.url == "indexeddb://nope"


def test_reads_a_record_tfjs_wrote(factory):
    run(factory.open("tensorflowjs", 1, upgrade_database))
    when = dt.datetime(2024, 1, 2, 3, 4, 5, 67000, tzinfo=dt.UTC)
    info = {
        "dateSaved": when,
        "modelTopologyType": "JSON",
        "modelTopologyBytes": 1038,
        "weightSpecsBytes": 245,
        "weightDataBytes": 84,
    }
    factory.store("models_store")["tfjs"] = {
        "modelPath": "tfjs",
        "modelArtifacts": {
            "modelTopology": REFERENCE_TOPOLOGY,
            "format": "layers-model",
            "generatedBy": "TensorFlow.js tfjs-layers v4.22.0",
            "convertedBy": None,
            "weightData": bytes(84),
            "weightSpecs": REFERENCE_SPECS,
        },
        "modelArtifactsInfo": info,
    }
    factory.store("model_info_store")["tfjs"] = {"modelPath": "tfjs", "modelArtifactsInfo": info}
    got = load(factory, "tfjs")
    assert got.weight_data == bytes(84) and got.generated_by == "TensorFlow.js tfjs-layers v4.22.0"
    listed = run(IndexedDBStore(factory).alist_models())
    assert listed["tfjs"].date_saved == when and listed["tfjs"].weight_data_bytes == 84


def test_list_and_remove(factory):
    for path in ("a", "b/c"):
        save(factory, reference_artifacts(), path)
    store = IndexedDBStore(factory)
    assert sorted(run(store.alist_models())) == ["a", "b/c"]
    factory.transactions.clear()
    info = run(store.aremove_model("indexeddb://a"))
    assert info.weight_data_bytes == 84
    deletes = [tx for tx in factory.transactions if tx.mode == "readwrite"]
    assert len(deletes) == 1 and sorted(op[1] for op in deletes[0].ops) == ["model_info_store", "models_store"]
    assert sorted(run(store.alist_models())) == ["b/c"]
    with pytest.raises(ModelNotFoundError):
        load(factory, "a")
    with pytest.raises(ModelNotFoundError):
        run(store.aremove_model("a"))
    assert factory.open_connections == 0


def test_remove_of_a_missing_model_deletes_nothing(factory):
    save(factory, reference_artifacts(), "x")
    del factory.store("model_info_store")["x"]  # a model record without info: TF.js too says "not found"
    with pytest.raises(ModelNotFoundError):
        run(IndexedDBStore(factory).aremove_model("x"))
    assert "x" in factory.store("models_store")


def test_binary_topology_is_refused(factory):
    with pytest.raises(ArtifactError):
        save(factory, pyweb.ModelArtifacts(model_topology=b"\x08\x01"))


def test_corrupt_record(factory):
    save(factory, reference_artifacts())
    factory.store("models_store")["my-model"]["modelArtifacts"] = "junk"
    with pytest.raises(CorruptModelError):
        load(factory)


def test_sync_api_runs_through_run_sync(factory):
    pyweb.env.set_platform("indexed_db", factory)
    try:
        pyweb.save(reference_artifacts(), "indexeddb://sync")
        assert pyweb.load("indexeddb://sync").weight_specs == REFERENCE_SPECS
        assert "indexeddb://sync" in pyweb.list_models()
        pyweb.remove_model("indexeddb://sync")
        assert pyweb.list_models("indexeddb://") == {}
    finally:
        pyweb.env.set_platform("indexed_db", None)


def test_sync_api_inside_a_running_loop_names_the_twin(factory):
    async def inside():
        with pytest.raises(pyweb.errors.SyncUnavailableError, match="aload"):
            IndexedDBHandler("x", factory=factory).load()

    run(inside())


# -- the browser layer's pure parts ---------------------------------------------

# Every DOMException name IndexedDB (W3C IndexedDB 3.0) and Web Storage (HTML
# "Web storage") can raise.
SPEC_ERROR_NAMES = [
    "QuotaExceededError",
    "AbortError",
    "ConstraintError",
    "DataCloneError",
    "DataError",
    "InvalidAccessError",
    "InvalidStateError",
    "NotFoundError",
    "ReadOnlyError",
    "TransactionInactiveError",
    "UnknownError",
    "VersionError",
    "TimeoutError",
    "SecurityError",
]


@pytest.mark.parametrize("name", SPEC_ERROR_NAMES)
def test_js_error_table_covers_every_storage_error(name):
    assert name in JS_ERROR_TABLE
    cls = JS_ERROR_TABLE[name]
    assert issubclass(cls, PyWebError)
    err = make_error(name, "boom", url="indexeddb://m")
    assert type(err) is cls and err.url == "indexeddb://m"


def test_js_error_table_specifics():
    assert error_class("QuotaExceededError") is QuotaExceededError
    assert error_class("SomethingNew") is StorageError and error_class(None) is StorageError
    assert issubclass(error_class("InvalidCharacterError"), CorruptModelError)
    assert all(issubclass(cls, (StorageError, CorruptModelError)) for cls in JS_ERROR_TABLE.values())
    # Chromium's IDB quota abort has an empty message; the name still says it.
    assert "QuotaExceededError" in str(make_error("QuotaExceededError", "", action="IndexedDB transaction"))


def test_browser_modules_fail_cleanly_outside_pyodide():
    for name in ("pyweb.browser.ffi", "pyweb.browser.storage", "pyweb.browser.idb", "pyweb.browser.fetch"):
        with pytest.raises(RuntimeUnavailableError):
            importlib.import_module(name)


def test_record_codec_round_trips_buffers_dates_and_nulls():
    when = dt.datetime(2024, 1, 2, 3, 4, 5, 67000, tzinfo=dt.UTC)
    value = {"modelPath": "m", "a": {"weightData": memoryview(b"\x00\x01"), "n": None, "l": [1.5, {"d": when}]}}
    text, buffers = encode_record(value)
    assert text == (
        '{"modelPath":"m","a":{"weightData":{"\\u0000pyweb:buffer":0},"n":null,'
        '"l":[1.5,{"d":{"\\u0000pyweb:date":"2024-01-02T03:04:05.067Z"}}]}}'
    )
    assert [bytes(b) for b in buffers] == [b"\x00\x01"]
    back = decode_record(text, [b"\x00\x01"])
    assert back == {"modelPath": "m", "a": {"weightData": b"\x00\x01", "n": None, "l": [1.5, {"d": when}]}}
    assert decode_record(None, []) is None
    assert TAG_BUFFER.startswith("\x00") and TAG_DATE.startswith("\x00")
