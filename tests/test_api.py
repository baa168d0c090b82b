from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import ClassVar

import numpy as np
import pytest

import pyweb
from pyweb import api
from pyweb.errors import (
    CorruptModelError,
    InvalidURLError,
    ModelNotFoundError,
    OperationNotSupportedError,
    QuotaExceededError,
    SyncUnavailableError,
)
from pyweb.testing.contract import assert_same_model, make_artifacts
from pyweb.types import Handler


class AsyncOnly(Handler):
    stored: ClassVar[dict] = {}

    def __init__(self, path):
        self.path = path
        self.url = f"aonly://{path}"

    async def asave(self, artifacts):
        await asyncio.sleep(0)
        AsyncOnly.stored[self.path] = artifacts
        return pyweb.SaveResult(pyweb.artifacts.artifacts_info(artifacts))

    async def aload(self):
        await asyncio.sleep(0)
        return AsyncOnly.stored[self.path]


def test_sync_call_to_async_only_handler_runs_without_a_loop():
    pyweb.register_handler("aonly", AsyncOnly)
    art = make_artifacts()
    pyweb.save(art, "aonly://x")
    assert pyweb.load("aonly://x") is art


def test_sync_call_inside_running_loop_names_the_twin():
    pyweb.register_handler("aonly", AsyncOnly)

    async def inside():
        with pytest.raises(SyncUnavailableError) as exc:
            pyweb.save(make_artifacts(), "aonly://x")
        assert "asave" in str(exc.value)
        await pyweb.asave(make_artifacts(), "aonly://x")  # the twin works

    asyncio.run(inside())


def test_sync_handlers_work_inside_a_running_loop():
    async def inside():
        pyweb.save(make_artifacts(), "memory://a")  # memory is sync underneath: no bridge needed
        return pyweb.load("memory://a")

    assert_same_model(asyncio.run(inside()), make_artifacts())


def test_save_accepts_objects_with_to_artifacts():
    class Model:
        def to_artifacts(self):
            return make_artifacts(4)

    pyweb.save(Model(), "memory://m")
    assert_same_model(pyweb.load("memory://m"), make_artifacts(4))
    with pytest.raises(TypeError):
        pyweb.save(object(), "memory://m")


def test_save_with_quantize_stores_quantized_weights():
    w = np.linspace(-1, 1, 100, dtype=np.float32)
    data, specs = pyweb.encode_weights({"w": w, "i": np.arange(3, dtype=np.int32)})
    pyweb.save(
        pyweb.ModelArtifacts(model_topology={}, weight_specs=specs, weight_data=data), "memory://q", quantize="uint8"
    )
    got = pyweb.load("memory://q")
    assert got.weight_specs[0]["quantization"]["dtype"] == "uint8"
    assert got.weight_bytes().nbytes == 100 + 12
    decoded = pyweb.decode_weights(got.weight_data, got.weight_specs)
    assert np.abs(decoded["w"] - w).max() <= 2 / 255 / 2 + 1e-6
    np.testing.assert_array_equal(decoded["i"], np.arange(3))


def test_copy_model_across_schemes(tmp_path):
    pyweb.save(make_artifacts(1), "memory://src")
    info = pyweb.copy_model("memory://src", f"file://{tmp_path}/dst")
    assert info.weight_data_bytes == make_artifacts(1).weight_bytes().nbytes
    assert_same_model(pyweb.load(f"file://{tmp_path}/dst"), make_artifacts(1))
    assert "memory://src" in pyweb.list_models()


def test_move_model_removes_source_only_after_verified_copy(tmp_path):
    pyweb.save(make_artifacts(2), "memory://src")
    pyweb.move_model("memory://src", "memory://dst")
    assert "memory://src" not in pyweb.list_models()
    assert_same_model(pyweb.load("memory://dst"), make_artifacts(2))


def test_failed_move_keeps_source():
    class LoadOnly(Handler):
        def __init__(self, path):
            self.url = f"ro://{path}"

        def load(self):
            return make_artifacts()

    class Full(Handler):
        def __init__(self, path):
            self.url = f"full://{path}"

        def save(self, artifacts):
            raise QuotaExceededError("no room", url=self.url)

        def load(self):
            raise ModelNotFoundError("nothing here", url=self.url)

    pyweb.register_handler("ro", LoadOnly)
    pyweb.register_handler("full", Full)
    pyweb.save(make_artifacts(3), "memory://src")
    with pytest.raises(OperationNotSupportedError):  # refused before anything is read
        pyweb.move_model("memory://src", "ro://x")
    with pytest.raises(QuotaExceededError):  # the copy itself fails
        pyweb.move_model("memory://src", "full://x")
    assert_same_model(pyweb.load("memory://src"), make_artifacts(3))


def test_move_verifies_bytes_however_each_side_cuts_them():
    stored = {}

    class Shards(Handler):
        """Loads the weights cut into 5-byte shards, as a sharded store would."""

        def __init__(self, path):
            self.path, self.url = path, f"shards://{path}"

        def save(self, artifacts):
            whole = bytes(artifacts.weight_bytes())
            if self.path == "flipped":  # one byte differs: the copy is not the model
                whole = whole[:-1] + bytes([whole[-1] ^ 1])
            cut = [whole[i : i + 5] for i in range(0, len(whole), 5)]
            stored[self.path] = dataclasses.replace(artifacts, weight_data=cut)
            return pyweb.SaveResult(pyweb.artifacts.artifacts_info(artifacts))

        def load(self):
            return stored[self.path]

    pyweb.register_handler("shards", Shards)
    src = make_artifacts(4)
    pyweb.save(src, "memory://src")
    pyweb.move_model("memory://src", "shards://ok")
    assert "memory://src" not in pyweb.list_models()
    assert_same_model(pyweb.load("shards://ok"), src)
    pyweb.save(src, "memory://src")
    with pytest.raises(CorruptModelError):
        pyweb.move_model("memory://src", "shards://flipped")
    assert_same_model(pyweb.load("memory://src"), src)


@pytest.mark.parametrize(
    "a, b, same",
    [
        ([b"ab", b"", b"cde"], [b"a", memoryview(b"bcd"), bytearray(b"e"), b""], True),
        (b"abcde", [b"abc", b"de"], True),
        ([b"abc", b"de"], [b"ab", b"cdf"], False),
        ([b"abc"], [b"abc", b"d"], False),
        (None, [b""], True),
    ],
)
def test_copy_check_compares_shards_without_joining(a, b, same):
    assert api._same_bytes(a, b) is same and api._same_bytes(b, a) is same


def test_copy_and_move_reject_same_url():
    pyweb.save(make_artifacts(), "memory://a")
    for fn in (pyweb.copy_model, pyweb.move_model):
        with pytest.raises(InvalidURLError):
            fn("memory://a", "memory://a")


def test_copy_missing_source():
    with pytest.raises(ModelNotFoundError):
        pyweb.copy_model("memory://none", "memory://b")


def test_async_management_twins():
    async def go():
        await pyweb.asave(make_artifacts(5), "memory://a")
        await pyweb.acopy_model("memory://a", "memory://b")
        await pyweb.amove_model("memory://b", "memory://c")
        listed = await pyweb.alist_models()
        await pyweb.aremove_model("memory://a")
        return listed, await pyweb.alist_models()

    before, after = asyncio.run(go())
    assert set(before) == {"memory://a", "memory://c"}
    assert set(after) == {"memory://c"}


def test_remove_from_scheme_without_store():
    pyweb.register_handler("aonly", AsyncOnly)
    with pytest.raises(OperationNotSupportedError):
        pyweb.remove_model("aonly://x")


@pytest.mark.parametrize("spelling", ["{d}/m/model.json", "{d}/m/", "{d}//m", "{d}/x/../m"])
def test_move_to_the_same_model_spelled_differently_is_refused(tmp_path, spelling):
    pyweb.save(make_artifacts(6), f"file://{tmp_path}/m")
    with pytest.raises(InvalidURLError):
        pyweb.move_model(f"file://{tmp_path}/m", "file://" + spelling.format(d=tmp_path))
    assert_same_model(pyweb.load(f"file://{tmp_path}/m"), make_artifacts(6))


def test_move_to_same_memory_model_with_other_scheme_case_is_refused():
    pyweb.save(make_artifacts(6), "memory://a")
    with pytest.raises(InvalidURLError):
        pyweb.move_model("memory://a", "MEMORY://a")
    assert "memory://a" in pyweb.list_models()


def test_move_and_copy_pass_options_to_each_side(tmp_path):
    pyweb.save(make_artifacts(7), "memory://a")
    pyweb.copy_model("memory://a", f"file://{tmp_path}/c", dst_options={"shard_bytes": 8})
    paths = json.loads((tmp_path / "c" / "model.json").read_text())["weightsManifest"][0]["paths"]
    shards = -(-make_artifacts(7).weight_bytes().nbytes // 8)
    assert paths == [f"group1-shard{i}of{shards}.bin" for i in range(1, shards + 1)]
    pyweb.move_model(f"file://{tmp_path}/c", "memory://b", src_options={"on_progress": lambda f: None})
    assert_same_model(pyweb.load("memory://b"), make_artifacts(7))
    assert not (tmp_path / "c").exists()


def test_loaded_memory_models_share_their_immutable_bytes():
    pyweb.save(make_artifacts(8), "memory://a")
    assert pyweb.load("memory://a").weight_data is pyweb.load("memory://a").weight_data


def test_memory_keeps_shards_as_one_private_copy():
    art = make_artifacts(9)
    whole = bytes(art.weight_bytes())
    art.weight_data = [bytearray(whole[:10]), memoryview(whole)[10:20], whole[20:]]
    pyweb.save(art, "memory://s")
    art.weight_data[0][0] ^= 0xFF  # the caller changes its buffer after the save
    got = pyweb.load("memory://s").weight_data
    assert type(got) is bytes and got == whole


def test_list_models_says_which_stores_it_left_out(monkeypatch):
    # No emulation: the browser stores do not exist here; they are named, silently.
    import warnings

    from pyweb.api import ModelListing

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        listing = pyweb.list_models()
    assert isinstance(listing, ModelListing)
    assert {"localstorage", "indexeddb"} <= set(listing.unreachable)
    # A store that exists but fails is left out with a warning, not an exception.
    from pyweb import emulation
    from pyweb.errors import StorageError, StoreUnavailableWarning
    from pyweb.handlers.local_storage import LocalStorageStore

    def broken(self):
        raise StorageError("SecurityError: storage is disabled")

    with emulation.install():
        monkeypatch.setattr(LocalStorageStore, "list_models", broken)
        with pytest.warns(StoreUnavailableWarning):
            listing = pyweb.list_models()
        assert "SecurityError" in listing.unreachable["localstorage"]
        with pytest.raises(StorageError):  # asked for by URL: the failure is the answer
            pyweb.list_models("localstorage://")


def test_model_artifacts_repr_is_short():
    art = make_artifacts()
    art.weight_data = bytes(10_000_000)
    text = repr(art)
    assert len(text) < 400 and "10,000,000 bytes" in text and "\\x00" not in text


def test_list_models_leaves_out_an_extra_that_is_not_installed(monkeypatch):
    # Without fsspec, fsspec:// is not a store here: not listed, and not reported unreachable.
    import sys

    registry = sys.modules["pyweb.registry"]
    monkeypatch.setitem(sys.modules, "fsspec", None)
    monkeypatch.delitem(registry._loaded, "fsspec", raising=False)
    monkeypatch.delitem(sys.modules, "pyweb.handlers.object_store", raising=False)
    with pytest.raises(pyweb.errors.HandlerUnavailableError):
        pyweb.load("fsspec://memory://m")
    assert "fsspec" not in pyweb.list_models().unreachable
