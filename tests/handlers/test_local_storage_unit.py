"""localstorage:// handler logic against a tiny in-test StorageLike.

The browser-faithful stand-in (quota, key order) is pyweb.emulation's, run
through the HandlerContract elsewhere; here a dict is enough to pin the keys
and values TF.js writes, the rollback and the error data.
"""

from __future__ import annotations

import base64
import json

import pytest

import pyweb
import pyweb.env
from pyweb.errors import ArtifactError, CorruptModelError, ModelNotFoundError, QuotaExceededError, StorageError
from pyweb.handlers.local_storage import LocalStorageHandler, LocalStorageStore, model_keys, requested_bytes
from tests.test_artifacts import REFERENCE_SPECS, REFERENCE_TOPOLOGY, reference_artifacts

# What TF.js 4.22's BrowserLocalStorage writes for the reference model
# (tests/test_artifacts.py), dateSaved apart.
TOPOLOGY_TEXT = (
    '{"class_name":"Sequential","config":{"name":"sequential_1","layers":[{"class_name":"Dense","config":{"units":4,'
    '"activation":"relu","use_bias":true,"kernel_initializer":{"class_name":"VarianceScaling","config":{"scale":1,'
    '"mode":"fan_avg","distribution":"normal","seed":null}},"bias_initializer":{"class_name":"Zeros","config":{}},'
    '"kernel_regularizer":null,"bias_regularizer":null,"activity_regularizer":null,"kernel_constraint":null,'
    '"bias_constraint":null,"name":"dense_Dense1","trainable":true,"batch_input_shape":[null,3],"dtype":"float32"}},'
    '{"class_name":"Dense","config":{"units":1,"activation":"linear","use_bias":true,"kernel_initializer":'
    '{"class_name":"VarianceScaling","config":{"scale":1,"mode":"fan_avg","distribution":"normal","seed":null}},'
    '"bias_initializer":{"class_name":"Zeros","config":{}},"kernel_regularizer":null,"bias_regularizer":null,'
    '"activity_regularizer":null,"kernel_constraint":null,"bias_constraint":null,"name":"dense_Dense2",'
    '"trainable":true}}]},"keras_version":"tfjs-layers 4.22.0","backend":"tensor_flow.js"}'
)
SPECS_TEXT = (
    '[{"name":"dense_Dense1/kernel","shape":[3,4],"dtype":"float32"},{"name":"dense_Dense1/bias","shape":[4],'
    '"dtype":"float32"},{"name":"dense_Dense2/kernel","shape":[4,1],"dtype":"float32"},{"name":"dense_Dense2/bias",'
    '"shape":[1],"dtype":"float32"}]'
)
INFO_TAIL = ',"modelTopologyType":"JSON","modelTopologyBytes":1038,"weightSpecsBytes":245,"weightDataBytes":84}'
METADATA_TEXT = '{"format":"layers-model","generatedBy":"TensorFlow.js tfjs-layers v4.22.0","convertedBy":null}'
PREFIX = "tensorflowjs_models/my-model/"
GENERATED_BY = "TensorFlow.js tfjs-layers v4.22.0"


class DictStorage:
    """StorageLike over a dict: insertion-ordered keys, optional failures."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}
        self.writes: list[str] = []
        self.fail_on_write: int | None = None  # 1-based index of the setItem to fail
        self.error: Exception = QuotaExceededError("full")

    @property
    def length(self) -> int:
        return len(self.items)

    def key(self, index: int) -> str | None:
        keys = list(self.items)
        return keys[index] if 0 <= index < len(keys) else None

    def getItem(self, key):  # noqa: N802
        return self.items.get(key)

    def setItem(self, key, value):  # noqa: N802
        self.writes.append(key)
        if self.fail_on_write is not None and len(self.writes) == self.fail_on_write:
            raise self.error
        self.items[key] = str(value)

    def removeItem(self, key):  # noqa: N802
        self.items.pop(key, None)


class FastStorage(DictStorage):
    """With the optional base64 fast paths, counting their use."""

    def __init__(self) -> None:
        super().__init__()
        self.fast_calls: list[str] = []

    def set_base64(self, key, data):
        self.fast_calls.append("set")
        self.setItem(key, base64.b64encode(data).decode())

    def get_base64(self, key):
        self.fast_calls.append("get")
        text = self.items.get(key)
        return None if text is None else base64.b64decode(text)


class GetBase64Storage(DictStorage):
    """With only the get_base64 fast path: StorageLike makes each one optional."""

    def get_base64(self, key):
        text = self.items.get(key)
        return None if text is None else base64.b64decode(text)


@pytest.fixture(params=[DictStorage, FastStorage, GetBase64Storage], ids=["plain", "fast", "get-only"])
def storage(request):
    return request.param()


def handler(storage, path="my-model"):
    return LocalStorageHandler(path, storage=storage)


def test_reference_model_keys_and_values_are_tfjs_bytes(storage):
    result = handler(storage).save(reference_artifacts())
    suffixes = ("info", "model_topology", "weight_specs", "weight_data", "model_metadata")
    assert list(storage.items) == [PREFIX + s for s in suffixes]
    assert storage.writes == list(storage.items)  # written in TF.js's order
    info = storage.items[PREFIX + "info"]
    date = json.loads(info)["dateSaved"]
    assert info == '{"dateSaved":"' + date + '"' + INFO_TAIL
    assert date == pyweb.artifacts.js_iso(result.model_artifacts_info.date_saved)
    assert storage.items[PREFIX + "model_topology"] == TOPOLOGY_TEXT
    assert storage.items[PREFIX + "weight_specs"] == SPECS_TEXT
    assert storage.items[PREFIX + "weight_data"] == "A" * 112  # base64 of 84 zero bytes
    assert storage.items[PREFIX + "model_metadata"] == METADATA_TEXT


def test_round_trip_returns_one_buffer(storage):
    art = reference_artifacts()
    art.weight_data = [b"\x01" * 40, b"\x02" * 44]  # shards are joined
    handler(storage).save(art)
    got = handler(storage).load()
    assert got.weight_data == b"\x01" * 40 + b"\x02" * 44 and isinstance(got.weight_data, bytes)
    assert got.model_topology == REFERENCE_TOPOLOGY and got.weight_specs == REFERENCE_SPECS
    assert (got.format, got.generated_by, got.converted_by) == ("layers-model", GENERATED_BY, None)


def test_fast_path_is_used_when_the_store_offers_it():
    storage = FastStorage()
    handler(storage).save(reference_artifacts())
    handler(storage).load()
    assert storage.fast_calls.count("set") == 1 and storage.fast_calls.count("get") >= 1


def test_metadata_follows_tfjs_null_rules(storage):
    art = reference_artifacts()
    art.user_defined_metadata = {}
    art.model_initializer = {"i": 1}
    art.initializer_signature = None
    art.training_config = {"loss": "mean_squared_error"}
    art.signature = {"s": 1}
    handler(storage).save(art)
    meta = storage.items[PREFIX + "model_metadata"]
    assert list(json.loads(meta)) == [
        "format",
        "generatedBy",
        "convertedBy",
        "signature",
        "userDefinedMetadata",
        "modelInitializer",
        "trainingConfig",
    ]
    got = handler(storage).load()
    assert got.user_defined_metadata == {} and got.initializer_signature is None
    assert got.training_config == {"loss": "mean_squared_error"}


def test_absent_converted_by_and_no_weights(storage):
    art = pyweb.ModelArtifacts(model_topology={"t": 1}, weight_specs=[], absent_keys=frozenset({"convertedBy"}))
    handler(storage).save(art)
    assert storage.items[PREFIX + "model_metadata"] == "{}"
    assert storage.items[PREFIX + "weight_data"] == ""
    got = handler(storage).load()
    assert got.weight_data == b"" and "convertedBy" in got.absent_keys


def test_v0_model_without_metadata_loads(storage):
    handler(storage).save(reference_artifacts())
    del storage.items[PREFIX + "model_metadata"]
    got = handler(storage).load()
    assert got.format is None and got.generated_by is None and got.converted_by is None


def test_failed_save_restores_previous_model(storage):
    old = reference_artifacts()
    old.weight_data = bytes(range(84))
    handler(storage).save(old)
    before = dict(storage.items)
    storage.writes.clear()
    storage.fail_on_write = 4  # weight_data
    new = reference_artifacts()
    new.format = "graph-model"
    with pytest.raises(QuotaExceededError):
        handler(storage).save(new)
    assert storage.items == before
    storage.fail_on_write = None
    assert handler(storage).load().weight_data == bytes(range(84))


@pytest.mark.parametrize("fail_on", [1, 2, 3, 4, 5])
def test_failed_first_save_leaves_no_keys(storage, fail_on):
    storage.items["other"] = "kept"
    storage.fail_on_write = fail_on
    storage.error = StorageError("disk on fire")
    with pytest.raises(StorageError) as info:
        handler(storage).save(reference_artifacts())
    assert type(info.value) is StorageError  # non-quota errors pass through unchanged
    assert storage.items == {"other": "kept"}


def test_quota_error_carries_sizes(storage):
    storage.fail_on_write = 3
    storage.error = QuotaExceededError("full", available_bytes=1234)
    with pytest.raises(QuotaExceededError) as info:
        handler(storage).save(reference_artifacts())
    err = info.value
    assert err.url == "localstorage://my-model"
    assert err.available_bytes == 1234
    info_len = len('{"dateSaved":"2024-01-02T03:04:05.067Z"' + INFO_TAIL)
    values = info_len + len(TOPOLOGY_TEXT) + len(SPECS_TEXT) + 112 + len(METADATA_TEXT)
    keys = sum(len(PREFIX + s) for s in ("info", "model_topology", "weight_specs", "weight_data", "model_metadata"))
    assert err.requested_bytes == 2 * (keys + values)
    assert isinstance(err, OSError)


def test_requested_bytes_counts_utf16_units_and_base64_length():
    keys = {"a": "k"}
    assert requested_bytes(keys, {}, 0) == 2
    assert requested_bytes(keys, {"x": "é😀"}, 0) == 2 * (1 + 1 + 2)  # the emoji is a surrogate pair
    assert requested_bytes(keys, {}, 1) == 2 * (1 + 4)
    assert requested_bytes(keys, {}, 4) == 2 * (1 + 8)


def test_requested_bytes_in_webkits_own_bytes():
    keys = {"a": "k"}
    assert requested_bytes(keys, {}, 0, engine="webkit") == 1
    assert requested_bytes(keys, {"x": "é"}, 0, engine="webkit") == 1 + 1  # Latin-1: 1 byte a character
    assert requested_bytes(keys, {"x": "é😀"}, 0, engine="webkit") == 1 + 2 * 3  # else 2 a UTF-16 unit
    assert requested_bytes(keys, {}, 4, engine="webkit") == 1 + 8  # base64 is ASCII
    assert requested_bytes(keys, {"x": "é😀"}, 4, engine="firefox") == requested_bytes(keys, {"x": "é😀"}, 4)


def test_quota_error_on_a_webkit_store_counts_its_bytes():
    with pytest.raises(QuotaExceededError) as info:
        store = pyweb.emulation.FakeLocalStorage(engine="webkit", quota_units=1000)
        LocalStorageHandler("模型", storage=store).save(reference_artifacts())
    roomy = pyweb.emulation.FakeLocalStorage(engine="webkit")  # the same save where it fits: what it took
    LocalStorageHandler("模型", storage=roomy).save(reference_artifacts())
    assert info.value.requested_bytes == roomy.used_units  # WebKit's bytes (keys here: 2 a unit; the rest: 1)
    assert "WebKit allows 5,242,880 bytes" in str(info.value)


@pytest.mark.parametrize(
    ("drop", "part"),
    [("model_topology", "model_topology"), ("weight_specs", "weight_specs"), ("weight_data", "weight_data")],
)
def test_missing_parts_are_corrupt(storage, drop, part):
    handler(storage).save(reference_artifacts())
    del storage.items[PREFIX + drop]
    with pytest.raises(CorruptModelError) as info:
        handler(storage).load()
    assert info.value.part == part and info.value.url == "localstorage://my-model"


def test_checks_run_in_tfjs_order(storage):
    handler(storage).save(reference_artifacts())
    for suffix in ("model_topology", "weight_specs", "weight_data"):
        del storage.items[PREFIX + suffix]
    with pytest.raises(CorruptModelError) as info:
        handler(storage).load()
    assert info.value.part == "model_topology"
    storage.items[PREFIX + "info"] = storage.items[PREFIX + "info"].replace('"JSON"', '"GraphDef"')
    with pytest.raises(ArtifactError) as info:
        handler(storage).load()
    assert not isinstance(info.value, CorruptModelError)
    del storage.items[PREFIX + "info"]
    with pytest.raises(ModelNotFoundError):
        handler(storage).load()


def test_bad_stored_text_is_corrupt(storage):
    handler(storage).save(reference_artifacts())
    storage.items[PREFIX + "weight_data"] = "not base64!"
    with pytest.raises(CorruptModelError) as info:
        handler(storage).load()
    assert info.value.part == "weight_data"
    storage.items[PREFIX + "weight_specs"] = "{nope"
    with pytest.raises(CorruptModelError) as info:
        handler(storage).load()
    assert info.value.part == "weight_specs"


def test_binary_topology_is_refused(storage):
    with pytest.raises(ArtifactError):
        handler(storage).save(pyweb.ModelArtifacts(model_topology=b"\x08\x01"))
    assert storage.items == {}


def test_none_topology_is_written_as_tfjs_undefined(storage):
    handler(storage).save(pyweb.ModelArtifacts(weight_specs=[], weight_data=b""))
    assert storage.items[PREFIX + "model_topology"] == "undefined"
    assert handler(storage).load().model_topology is None


def test_list_and_remove(storage):
    for path in ("QuxModel", "repeat/QuxModel", "my/model/1"):
        handler(storage, path).save(reference_artifacts())
    storage.items["tensorflowjs_models/info"] = "x"  # too few segments: not a model
    storage.items["unrelated/info"] = "x"
    store = LocalStorageStore(storage)
    listed = store.list_models()
    assert sorted(listed) == ["QuxModel", "my/model/1", "repeat/QuxModel"]
    assert listed["QuxModel"].weight_data_bytes == 84
    info = store.remove_model("localstorage://QuxModel")
    assert info.model_topology_bytes == 1038
    assert not any(k in storage.items for k in model_keys("QuxModel").values())
    assert sorted(store.list_models()) == ["my/model/1", "repeat/QuxModel"]
    with pytest.raises(ModelNotFoundError):
        store.remove_model("QuxModel")


def test_through_the_public_api(storage):
    pyweb.env.set_platform("local_storage", storage)
    try:
        pyweb.save(reference_artifacts(), "localstorage://api/model")
        assert "localstorage://api/model" in pyweb.list_models()
        assert pyweb.load("localstorage://api/model").weight_specs == REFERENCE_SPECS
        assert pyweb.remove_model("localstorage://api/model").weight_data_bytes == 84
        assert pyweb.list_models("localstorage://") == {}
    finally:
        pyweb.env.set_platform("local_storage", None)


def test_without_a_store_cpython_says_what_to_do():
    with pytest.raises(pyweb.errors.RuntimeUnavailableError):
        pyweb.load("localstorage://x")
    assert not any(url.startswith("localstorage://") for url in pyweb.list_models())


def test_explicit_null_format_survives_a_round_trip(storage):
    art = reference_artifacts()
    art.format, art.null_keys = None, frozenset({"format"})
    handler(storage).save(art)
    assert storage.items[PREFIX + "model_metadata"].startswith('{"format":null,"generatedBy"')
    handler(storage, "copy").save(handler(storage).load())
    assert storage.items["tensorflowjs_models/copy/model_metadata"] == storage.items[PREFIX + "model_metadata"]
