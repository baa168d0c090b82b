from __future__ import annotations

import hashlib
import itertools
import json
import os

import numpy as np
import pytest

import pyweb
from pyweb import _atomic
from pyweb.errors import ArtifactError, CorruptModelError, ModelNotFoundError, StorageError
from pyweb.handlers import file as file_module
from pyweb.handlers.file import FileHandler, FileStore
from pyweb.testing.contract import HandlerContract, assert_same_model, make_artifacts

_ids = itertools.count()
_U8 = {"dtype": "uint8", "min": 0.0, "scale": 1.0}  # one byte per element, any value


class TestFile(HandlerContract):
    @pytest.fixture
    def model_url(self, tmp_path):
        return lambda name: f"file://{tmp_path}/{name}"

    @pytest.fixture
    def list_url(self, tmp_path):
        return f"file://{tmp_path}"

    @pytest.fixture
    def fail_next_save(self, monkeypatch):
        def arm():
            real = _atomic.write_file
            calls = []

            def fail_after_first(path, parts, progress):
                calls.append(path)
                if len(calls) > 1:
                    raise OSError(28, "No space left on device")
                real(path, parts, progress)

            monkeypatch.setattr(_atomic, "write_file", fail_after_first)

        return arm


def _tree(root):
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, root).replace(os.sep, "/")] = os.path.getsize(path)
    return out


def _converter_model(tmp_path, arrays, cuts, *, json_name="model.json"):
    """A converter-style dir: two groups, shards in subdirectories, Python json separators."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    data, specs = pyweb.encode_weights(arrays)
    groups, pos, k = [], 0, 0
    for g, (n_specs, sizes) in enumerate(cuts, 1):
        paths = []
        for i, size in enumerate(sizes, 1):
            rel = f"shards/g{g}/group{g}-shard{i}of{len(sizes)}"  # old converters: no .bin
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_bytes(data[pos : pos + size])
            pos += size
            paths.append(rel if i > 1 else "./" + rel)
        groups.append({"paths": paths, "weights": specs[k : k + n_specs]})
        k += n_specs
    doc = {
        "format": "graph-model",
        "generatedBy": "2.x",
        "convertedBy": "TensorFlow.js Converter v4.22.0",
        "modelTopology": {"node": []},
        "weightsManifest": groups,
    }
    (tmp_path / json_name).write_text(json.dumps(doc))
    return data, specs


# -- save layout -------------------------------------------------------------------


def test_node_layout_bytes(tmp_path):
    art = pyweb.ModelArtifacts(
        model_topology={"class_name": "Sequential", "config": {"layers": []}},
        weight_specs=[{"name": "w", "shape": [2], "dtype": "float32"}],
        weight_data=np.array([1.5, -2], dtype="<f4").tobytes(),
        format="layers-model",
        generated_by="TensorFlow.js tfjs-layers v4.22.0",
        converted_by=None,
        training_config={"loss": "mean_squared_error"},
        signature={"s": 1},
        user_defined_metadata={"b": 1.0, "2": True},
        model_initializer={"never": "written by tfjs-node"},
    )
    pyweb.save(art, f"file://{tmp_path}/m")
    assert _tree(tmp_path) == {"m/model.json": len((tmp_path / "m/model.json").read_bytes()), "m/weights.bin": 8}
    assert (tmp_path / "m/weights.bin").read_bytes() == b"\x00\x00\xc0\x3f\x00\x00\x00\xc0"
    assert (tmp_path / "m/model.json").read_bytes() == (
        b'{"modelTopology":{"class_name":"Sequential","config":{"layers":[]}},'
        b'"weightsManifest":[{"paths":["weights.bin"],"weights":[{"name":"w","shape":[2],"dtype":"float32"}]}],'
        b'"format":"layers-model","generatedBy":"TensorFlow.js tfjs-layers v4.22.0","convertedBy":null,'
        b'"trainingConfig":{"loss":"mean_squared_error"},"signature":{"s":1},"userDefinedMetadata":{"2":true,"b":1},'
        b'"modelInitializer":{"never":"written by tfjs-node"}}'
    )


def test_tfjs_node_test_case_16_zero_bytes(tmp_path):
    # tfjs-node file_system_test: save creates the dir, paths ['weights.bin'], 16 zero bytes.
    art = pyweb.ModelArtifacts(
        model_topology={},
        weight_specs=[{"name": "x", "shape": [4], "dtype": "float32"}],
        weight_data=bytes(16),
        training_config={"loss": "x"},
    )
    info = pyweb.save(art, f"file://{tmp_path}/new").model_artifacts_info
    assert info.weight_data_bytes == 16
    doc = json.loads((tmp_path / "new/model.json").read_text())
    assert doc["weightsManifest"][0]["paths"] == ["weights.bin"]
    assert (tmp_path / "new/weights.bin").read_bytes() == bytes(16)
    assert pyweb.load(f"file://{tmp_path}/new").training_config == {"loss": "x"}


@pytest.mark.parametrize(
    "nbytes, shard_bytes, sizes",
    [(10, 4, [4, 4, 2]), (8, 4, [4, 4]), (3, 4, [3]), (0, 4, [])],
)
def test_sharding_names_and_sizes(tmp_path, nbytes, shard_bytes, sizes):
    data = bytes(range(nbytes))
    art = pyweb.ModelArtifacts(
        model_topology={},
        weight_specs=[{"name": "b", "shape": [nbytes], "dtype": "float32", "quantization": _U8}],
        weight_data=data,
    )
    pyweb.save(art, f"file://{tmp_path}/m", shard_bytes=shard_bytes)
    names = [f"group1-shard{i}of{len(sizes)}.bin" for i in range(1, len(sizes) + 1)]
    doc = json.loads((tmp_path / "m/model.json").read_text())
    assert doc["weightsManifest"][0]["paths"] == names
    assert _tree(tmp_path / "m") == {
        "model.json": os.path.getsize(tmp_path / "m/model.json"),
        **dict(zip(names, sizes)),
    }
    assert bytes(pyweb.load(f"file://{tmp_path}/m").weight_bytes()) == data


def test_list_weight_data_is_written_as_one_file(tmp_path):
    art = make_artifacts(1)
    whole = bytes(art.weight_bytes())
    art.weight_data = [whole[:5], memoryview(whole[5:20]), bytearray(whole[20:])]
    pyweb.save(art, f"file://{tmp_path}/m")
    assert (tmp_path / "m/weights.bin").read_bytes() == whole


def test_integrity_digests_written_and_checked(tmp_path):
    art = make_artifacts(2)
    pyweb.save(art, f"file://{tmp_path}/m", shard_bytes=32, integrity=True)
    group = json.loads((tmp_path / "m/model.json").read_text())["weightsManifest"][0]
    assert list(group) == ["paths", "weights", "sha256"]
    assert group["sha256"] == [hashlib.sha256((tmp_path / "m" / p).read_bytes()).hexdigest() for p in group["paths"]]
    assert_same_model(pyweb.load(f"file://{tmp_path}/m"), art)
    shard = tmp_path / "m" / group["paths"][1]
    shard.write_bytes(b"\xff" + shard.read_bytes()[1:])
    with pytest.raises(CorruptModelError) as err:
        pyweb.load(f"file://{tmp_path}/m")
    assert err.value.part == group["paths"][1]


def test_topology_only_model_has_no_manifest(tmp_path):
    pyweb.save(pyweb.ModelArtifacts(model_topology={"t": 1}, format="layers-model"), f"file://{tmp_path}/m")
    assert sorted(os.listdir(tmp_path / "m")) == ["model.json"]
    got = pyweb.load(f"file://{tmp_path}/m")
    assert got.model_topology == {"t": 1} and got.weight_data is None and got.weight_specs is None


def test_binary_topology_refused(tmp_path):
    with pytest.raises(ArtifactError):
        pyweb.save(
            pyweb.ModelArtifacts(model_topology=b"\x08\x01", weight_specs=[], weight_data=b""), f"file://{tmp_path}/m"
        )
    assert not (tmp_path / "m").exists()


def test_creates_missing_parents(tmp_path):
    pyweb.save(make_artifacts(), f"file://{tmp_path}/a/b/c")
    assert (tmp_path / "a/b/c/model.json").is_file()


def test_path_that_is_a_file_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(StorageError) as err:
        pyweb.save(make_artifacts(), f"file://{tmp_path}/f")
    assert err.value.url == f"file://{tmp_path}/f"
    assert (tmp_path / "f").read_text() == "x"


def test_refuses_to_replace_dir_with_foreign_files(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m/notes.txt").write_text("mine")
    with pytest.raises(StorageError):
        pyweb.save(make_artifacts(), f"file://{tmp_path}/m")
    pyweb.save(make_artifacts(), f"file://{tmp_path}/other")
    (tmp_path / "other/extra.bin").write_bytes(b"x")
    with pytest.raises(StorageError):
        pyweb.save(make_artifacts(), f"file://{tmp_path}/other")
    assert (tmp_path / "m/notes.txt").read_text() == "mine"
    assert (tmp_path / "other/extra.bin").read_bytes() == b"x"
    assert sorted(os.listdir(tmp_path)) == ["m", "other"]  # no temp dirs left


def test_replaces_empty_dir_and_previous_converter_model(tmp_path):
    (tmp_path / "empty").mkdir()
    pyweb.save(make_artifacts(1), f"file://{tmp_path}/empty")
    _converter_model(tmp_path / "conv", {"a": np.ones(5, np.float32)}, [(1, [12, 8])])
    want = make_artifacts(2)
    pyweb.save(want, f"file://{tmp_path}/conv")
    assert sorted(_tree(tmp_path / "conv")) == ["model.json", "weights.bin"]
    assert_same_model(pyweb.load(f"file://{tmp_path}/conv"), want)


def test_keyboard_interrupt_mid_save_keeps_old_model(tmp_path, monkeypatch):
    old = make_artifacts(1)
    pyweb.save(old, f"file://{tmp_path}/m")
    real = _atomic.write_file

    def interrupt_second(path, parts, progress):
        if os.path.basename(path) == "model.json":
            raise KeyboardInterrupt
        real(path, parts, progress)

    monkeypatch.setattr(_atomic, "write_file", interrupt_second)
    with pytest.raises(KeyboardInterrupt):
        pyweb.save(make_artifacts(2, n=40), f"file://{tmp_path}/m", shard_bytes=64)
    assert os.listdir(tmp_path) == ["m"]
    assert_same_model(pyweb.load(f"file://{tmp_path}/m"), old)


def test_overwrite_without_atomic_exchange(tmp_path, monkeypatch):
    monkeypatch.setattr(_atomic, "exchange", lambda a, b: False)
    pyweb.save(make_artifacts(1), f"file://{tmp_path}/m")
    want = make_artifacts(2, n=7)
    pyweb.save(want, f"file://{tmp_path}/m", shard_bytes=50)
    assert os.listdir(tmp_path) == ["m"]
    assert_same_model(pyweb.load(f"file://{tmp_path}/m"), want)


def test_failed_swap_without_atomic_exchange_puts_old_model_back(tmp_path, monkeypatch):
    # Two renames: the old model out of the way, the new one in. If the second
    # fails, the first is undone and the new model's directory removed.
    monkeypatch.setattr(_atomic, "exchange", lambda a, b: False)
    old = make_artifacts(1)
    pyweb.save(old, f"file://{tmp_path}/m")
    real, calls = os.rename, []

    def fail_second(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(os, "rename", fail_second)
    with pytest.raises(StorageError):
        pyweb.save(make_artifacts(2, n=7), f"file://{tmp_path}/m")
    monkeypatch.undo()
    assert len(calls) == 3  # out of the way, the failed swap, back again
    assert os.listdir(tmp_path) == ["m"]
    assert_same_model(pyweb.load(f"file://{tmp_path}/m"), old)


def test_save_progress_rises_to_one(tmp_path):
    seen = []
    pyweb.save(make_artifacts(), f"file://{tmp_path}/m", on_progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)


# -- load --------------------------------------------------------------------------


def test_load_converter_multi_group_multi_path(tmp_path):
    arrays = {"a": np.arange(6, dtype=np.float32), "b": np.arange(3, dtype=np.int32), "c": np.ones(2, np.float32)}
    data, specs = _converter_model(tmp_path, arrays, [(2, [10, 20, 6]), (1, [8])])
    for url in (f"file://{tmp_path}", f"file://{tmp_path}/model.json"):
        got = pyweb.load(url)
        assert got.format == "graph-model" and got.converted_by == "TensorFlow.js Converter v4.22.0"
        assert got.weight_specs == specs
        assert bytes(got.weight_bytes()) == data
        out = pyweb.decode_weights(got.weight_data, got.weight_specs)
        for name, arr in arrays.items():
            np.testing.assert_array_equal(out[name], arr)


def test_load_other_json_name(tmp_path):
    data, _ = _converter_model(tmp_path, {"a": np.ones(3, np.float32)}, [(1, [12])], json_name="my-model.json")
    assert bytes(pyweb.load(f"file://{tmp_path}/my-model.json").weight_bytes()) == data


def test_relative_and_home_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    want = make_artifacts(3)
    pyweb.save(want, "file://rel/m")
    assert (tmp_path / "rel/m/model.json").is_file()
    assert_same_model(pyweb.load(f"file://{tmp_path}/rel/m"), want)
    pyweb.save(want, "file://~/models/x")
    assert_same_model(pyweb.load(f"file://{tmp_path}/home/models/x/model.json"), want)
    assert list(pyweb.list_models("file://rel")) == ["file://rel/m"]


def test_save_to_model_json_path_saves_into_its_dir(tmp_path):
    want = make_artifacts(4)
    pyweb.save(want, f"file://{tmp_path}/m/model.json")
    assert sorted(os.listdir(tmp_path / "m")) == ["model.json", "weights.bin"]
    assert_same_model(pyweb.load(f"file://{tmp_path}/m/model.json"), want)
    with pytest.raises(ValueError):
        pyweb.save(want, f"file://{tmp_path}/m/other.json")


@pytest.mark.parametrize("bad", ["../outside.bin", "/etc/passwd", "a/../../x.bin", "..", ""])
def test_manifest_path_escape_rejected(tmp_path, bad):
    (tmp_path / "outside.bin").write_bytes(bytes(4))
    (tmp_path / "m").mkdir()
    doc = {"modelTopology": {}, "weightsManifest": [{"paths": [bad], "weights": []}]}
    (tmp_path / "m/model.json").write_text(json.dumps(doc))
    with pytest.raises(CorruptModelError) as err:
        pyweb.load(f"file://{tmp_path}/m")
    assert err.value.part == bad


def test_missing_shard_is_corrupt(tmp_path):
    pyweb.save(make_artifacts(), f"file://{tmp_path}/m", shard_bytes=40)
    os.remove(tmp_path / "m/group1-shard2of3.bin")
    with pytest.raises(CorruptModelError) as err:
        pyweb.load(f"file://{tmp_path}/m")
    assert err.value.part == "group1-shard2of3.bin"


def test_unparsable_model_json_is_corrupt(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m/model.json").write_text("{not json")
    with pytest.raises(CorruptModelError) as err:
        pyweb.load(f"file://{tmp_path}/m")
    assert err.value.part == "model.json"


def test_missing_model_json_is_not_found(tmp_path):
    (tmp_path / "m").mkdir()
    with pytest.raises(ModelNotFoundError) as err:
        pyweb.load(f"file://{tmp_path}/m/model.json")
    assert err.value.url == f"file://{tmp_path}/m/model.json"


def test_load_gives_one_buffer_that_decodes_to_views(tmp_path):
    arrays = {f"w{i}": np.random.default_rng(i).standard_normal((64, 33)).astype(np.float32) for i in range(3)}
    data, specs = pyweb.encode_weights(arrays)
    pyweb.save(
        pyweb.ModelArtifacts(model_topology={}, weight_specs=specs, weight_data=data),
        f"file://{tmp_path}/m",
        shard_bytes=5000,
    )
    got = pyweb.load(f"file://{tmp_path}/m")
    assert isinstance(got.weight_data, memoryview) and not got.weight_data.readonly
    assert got.weight_data.nbytes == len(data)
    out = pyweb.decode_weights(got.weight_data, got.weight_specs)
    backing = np.frombuffer(got.weight_data, np.uint8)
    for name, arr in arrays.items():
        assert np.shares_memory(out[name], backing)
        np.testing.assert_array_equal(out[name], arr)


def test_load_without_mmap_falls_back_to_bytearray(tmp_path, monkeypatch):
    want = make_artifacts(7)
    pyweb.save(want, f"file://{tmp_path}/m")
    monkeypatch.setitem(__import__("sys").modules, "mmap", None)  # as in a Pyodide build without mmap
    got = pyweb.load(f"file://{tmp_path}/m")
    assert isinstance(got.weight_data.obj, bytearray)
    assert_same_model(got, want)


def test_load_progress_monotonic_ending_at_one(tmp_path, monkeypatch):
    monkeypatch.setattr(file_module, "CHUNK", 7)
    monkeypatch.setattr(_atomic, "CHUNK", 7)
    pyweb.save(make_artifacts(n=10), f"file://{tmp_path}/m", shard_bytes=30)
    seen = []
    pyweb.load(f"file://{tmp_path}/m", on_progress=seen.append)
    assert len(seen) > 5 and seen == sorted(seen) and seen[-1] == 1.0 and seen.count(1.0) == 1
    seen.clear()
    pyweb.save(pyweb.ModelArtifacts(model_topology={}), f"file://{tmp_path}/t")
    pyweb.load(f"file://{tmp_path}/t", on_progress=seen.append)
    assert seen == [1.0]


# -- store -------------------------------------------------------------------------


def test_list_recursive_sorted_with_user_spelling(tmp_path, monkeypatch):
    for name in ["b", "a", "a/inner", "c/deep/er"]:
        pyweb.save(make_artifacts(), f"file://{tmp_path}/root/{name}")
    with pytest.raises(StorageError):  # replacing "a" would destroy the model nested in it
        pyweb.save(make_artifacts(), f"file://{tmp_path}/root/a")
    (tmp_path / "root/not-a-model").mkdir()
    listed = pyweb.list_models(f"file://{tmp_path}/root/")
    assert list(listed) == [f"file://{tmp_path}/root/{n}" for n in ["a", "a/inner", "b", "c/deep/er"]]
    monkeypatch.chdir(tmp_path)
    assert list(pyweb.list_models("file://root/a")) == ["file://root/a", "file://root/a/inner"]
    for url in listed:
        pyweb.load(url)


def test_list_info_from_files(tmp_path):
    art = make_artifacts(5)
    saved = pyweb.save(art, f"file://{tmp_path}/m", shard_bytes=16).model_artifacts_info
    info = FileStore(str(tmp_path)).list_models()[f"{tmp_path}/m"]
    assert info.date_saved.tzinfo is not None
    assert info.date_saved.timestamp() == pytest.approx(os.path.getmtime(tmp_path / "m/model.json"))
    assert (info.model_topology_bytes, info.weight_specs_bytes, info.weight_data_bytes) == (
        saved.model_topology_bytes,
        saved.weight_specs_bytes,
        saved.weight_data_bytes,
    )


def test_list_skips_leftover_temp_dirs(tmp_path):
    pyweb.save(make_artifacts(), f"file://{tmp_path}/m")
    pyweb.save(make_artifacts(), f"file://{tmp_path}/.m.pyweb-tmp-0a1b2c3d")
    assert list(pyweb.list_models(f"file://{tmp_path}")) == [f"file://{tmp_path}/m"]


def test_list_missing_dir_raises(tmp_path):
    with pytest.raises(ModelNotFoundError):
        pyweb.list_models(f"file://{tmp_path}/nope")


def test_remove_deletes_only_model_files(tmp_path):
    _converter_model(tmp_path / "m", {"a": np.ones(4, np.float32)}, [(1, [10, 6])])
    (tmp_path / "m/keep.txt").write_text("keep")
    info = pyweb.remove_model(f"file://{tmp_path}/m")
    assert info.weight_data_bytes == 16
    assert _tree(tmp_path) == {"m/keep.txt": 4}
    pyweb.save(make_artifacts(), f"file://{tmp_path}/n")
    pyweb.remove_model(f"file://{tmp_path}/n/model.json")
    assert not (tmp_path / "n").exists()
    with pytest.raises(ModelNotFoundError):
        pyweb.remove_model(f"file://{tmp_path}/n")


def test_copy_and_move_between_file_and_memory(tmp_path):
    want = make_artifacts(6)
    pyweb.save(want, "memory://src")
    pyweb.copy_model("memory://src", f"file://{tmp_path}/a")
    pyweb.move_model(f"file://{tmp_path}/a", f"file://{tmp_path}/b")
    assert not (tmp_path / "a").exists()
    assert_same_model(pyweb.load(f"file://{tmp_path}/b"), want)


def test_handler_options_validated():
    with pytest.raises(ValueError):
        FileHandler("x", shard_bytes=0)
    assert FileHandler.global_store is False
    assert isinstance(FileHandler.open_store("/tmp"), FileStore)
