"""pyweb.browser_files in CPython: TF.js's browserFiles pairing rules on (name, bytes) pairs and paths.

The cases follow the pairing cases of TF.js's own browserFiles tests (tfjs-core's io module);
real File objects from an <input type=file> are tested in tests/browser.
"""

from __future__ import annotations

import asyncio
import json

import pytest

import pyweb
import pyweb.emulation
from pyweb.errors import ArtifactError, CorruptModelError, ModelNotFoundError, OperationNotSupportedError
from pyweb.handlers.browser_files import BrowserFilesHandler, js_basename, pair_weight_files
from pyweb.handlers.downloads import download_files
from pyweb.testing.contract import assert_same_model, make_artifacts

TOPOLOGY = {"class_name": "Sequential", "config": {"name": "s", "layers": []}}
SPECS = [
    {"name": "a", "shape": [2], "dtype": "float32"},
    {"name": "b", "shape": [1], "dtype": "int32"},
    {"name": "c", "shape": [3], "dtype": "float32"},
    {"name": "d", "shape": [1], "dtype": "float32"},
]


def model_json(manifest, **extra) -> bytes:
    return json.dumps({"modelTopology": TOPOLOGY, "weightsManifest": manifest, **extra}).encode()


def load(files):
    return pyweb.load(pyweb.browser_files(files))


# -- pairing, as TF.js's browser_files_test.ts ---------------------------------------------


def test_one_group_one_path():
    art = load(
        [
            ("model.json", model_json([{"paths": ["weights.1.bin"], "weights": SPECS[:1]}])),
            ("weights.1.bin", b"\x01" * 8),
        ]
    )
    assert art.model_topology == TOPOLOGY and art.weight_specs == SPECS[:1]
    assert art.weight_data == [b"\x01" * 8]


def test_one_group_two_paths_in_folders_are_matched_by_basename():
    text = model_json([{"paths": ["dir1/weights.1.bin", "dir2/weights.2.bin"], "weights": SPECS[:2]}])
    art = load([("model.json", text), ("weights.2.bin", b"\x02" * 4), ("weights.1.bin", b"\x01" * 8)])
    assert art.weight_data == [b"\x01" * 8, b"\x02" * 4]  # manifest order, not upload order
    assert bytes(art.weight_bytes()) == b"\x01" * 8 + b"\x02" * 4


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reversed"])
def test_two_groups_four_paths_in_any_file_order(reverse):
    manifest = [
        {"paths": ["w1.bin", "w2.bin"], "weights": SPECS[:2]},
        {"paths": ["w3.bin", "w4.bin"], "weights": SPECS[2:]},
    ]
    weights = [("w1.bin", b"\x01" * 4), ("w2.bin", b"\x02" * 8), ("w3.bin", b"\x03" * 12), ("w4.bin", b"\x04" * 4)]
    art = load([("model.json", model_json(manifest)), *(weights[::-1] if reverse else weights)])
    assert art.weight_specs == SPECS
    assert art.weight_data == [data for _, data in weights]
    assert art.weights_manifest == manifest


def test_json_only_gives_the_topology_and_no_weights():
    art = load([("model.json", model_json([{"paths": ["w.bin"], "weights": SPECS[:1]}], format="layers-model"))])
    assert art.model_topology == TOPOLOGY
    assert art.weight_specs is None and art.weight_data is None
    assert art.format == "layers-model"  # kept (TF.js drops it), see the module docstring


def test_metadata_comes_through():
    want = make_artifacts(2)
    (_, text, _), (_, weights, _) = download_files(want, "m")
    assert_same_model(load([("m.json", text), ("m.weights.bin", weights)]), want)


# -- errors ------------------------------------------------------------------------------------


def test_more_files_than_paths_is_a_count_mismatch():
    text = model_json([{"paths": ["w.bin"], "weights": SPECS[:1]}])
    with pytest.raises(ArtifactError) as exc:
        load([("model.json", text), ("w.bin", b"1234"), ("extra.bin", b"")])
    assert type(exc.value) is ArtifactError  # the model is fine; the upload has a file too many


def test_a_path_no_file_has_is_a_missing_part():
    text = model_json([{"paths": ["w1.bin", "w2.bin"], "weights": SPECS[:2]}])
    with pytest.raises(CorruptModelError) as exc:
        load([("model.json", text), ("w1.bin", b"1234"), ("other.bin", b"1234")])
    assert exc.value.part == "w2.bin"


def test_duplicate_basenames_in_the_manifest_are_corrupt():
    text = model_json([{"paths": ["dir1/w.bin", "dir2/w.bin"], "weights": SPECS[:2]}])
    with pytest.raises(CorruptModelError) as exc:
        load([("my.json", text), ("w.bin", b"1234"), ("w.bin", b"5678")])
    assert exc.value.part == "my.json"


def test_missing_model_topology():
    with pytest.raises(CorruptModelError) as exc:
        load([("model.json", json.dumps({"weightsManifest": []}).encode())])
    assert exc.value.part == "model.json"


def test_missing_weights_manifest():
    with pytest.raises(CorruptModelError) as exc:
        load([("x.json", json.dumps({"modelTopology": TOPOLOGY}).encode())])
    assert exc.value.part == "x.json"


@pytest.mark.parametrize("text", [b"{not json", b"[1, 2]", b"\x00\x01\x02"], ids=["invalid", "array", "binary"])
def test_unparsable_json(text):
    with pytest.raises(CorruptModelError) as exc:
        load([("bad.json", text), ("w.bin", b"")])
    assert exc.value.part == "bad.json"


@pytest.mark.parametrize("files", [[], None], ids=["empty", "none"])
def test_no_files_at_all(files):
    with pytest.raises(ArtifactError):
        pyweb.browser_files(files)


def test_weights_before_json_fails_on_the_json():
    want = make_artifacts()
    (_, text, _), (_, weights, _) = download_files(want, "m")
    with pytest.raises(CorruptModelError) as exc:
        load([("m.weights.bin", weights), ("m.json", text)])
    assert exc.value.part == "m.weights.bin"


@pytest.mark.parametrize("bad", [42, ("a.json",), ("a.json", "text"), b"raw"], ids=["int", "short", "str", "bytes"])
def test_items_of_the_wrong_kind(bad):
    with pytest.raises(TypeError):
        pyweb.browser_files([bad])


def test_a_single_item_instead_of_a_list():
    with pytest.raises(TypeError):
        pyweb.browser_files(("model.json", b"{}"))


def test_save_is_not_supported():
    handler = pyweb.browser_files([("m.json", b"{}")])
    with pytest.raises(OperationNotSupportedError):
        pyweb.save(make_artifacts(), handler)
    assert handler.can_load and not handler.can_save


# -- single file, paths, async ---------------------------------------------------------------


def test_single_file_form_loads_whole():
    want = make_artifacts(6)
    ((name, data, _),) = download_files(want, "solo", single_file=True)
    art = load([(name, data)])
    assert_same_model(art, want)
    assert art.weight_data == [bytes(want.weight_bytes())]


def test_weight_files_win_over_an_embedded_copy():
    want = make_artifacts(7)
    ((_, data, _),) = download_files(make_artifacts(8), "x", single_file=True)  # other weights embedded
    art = load([("x.json", data), ("x.weights.bin", bytes(want.weight_bytes()))])
    assert bytes(art.weight_bytes()) == bytes(want.weight_bytes())


def test_paths_are_read_on_load_and_named_by_basename(tmp_path):
    want = make_artifacts(9)
    for name, data, _ in download_files(want, "disk"):
        (tmp_path / name).write_bytes(data)
    handler = pyweb.browser_files([str(tmp_path / "disk.json"), tmp_path / "disk.weights.bin"])
    assert handler.names == ["disk.json", "disk.weights.bin"]
    assert_same_model(pyweb.load(handler), want)


def test_unreadable_paths(tmp_path):
    with pytest.raises(ModelNotFoundError):
        load([tmp_path / "nothing.json"])
    (_, text, _), _ = download_files(make_artifacts(), "m")
    (tmp_path / "m.json").write_bytes(text)
    (tmp_path / "m.weights.bin").mkdir()  # named right, cannot be read
    with pytest.raises(CorruptModelError) as exc:
        load([tmp_path / "m.json", tmp_path / "m.weights.bin"])
    assert exc.value.part == "m.weights.bin"


def test_async_load_gives_the_same():
    want = make_artifacts(10)
    files = [(name, data) for name, data, _ in download_files(want, "m")]
    assert_same_model(asyncio.run(pyweb.aload(pyweb.browser_files(files))), want)


def test_bytes_like_contents_are_accepted():
    want = make_artifacts(11)
    (_, text, _), (_, weights, _) = download_files(want, "m")
    art = load([("m.json", bytearray(text)), ("m.weights.bin", memoryview(bytes(weights)))])
    assert_same_model(art, want)


def test_upload_round_trip_of_an_emulated_download(tmp_path):
    want = make_artifacts(12)
    with pyweb.emulation.install(downloads_dir=tmp_path) as em:
        pyweb.save(want, "downloads://trip")
        json_path, weights_path = em.downloads.history
    assert_same_model(load([json_path, weights_path]), want)


def test_public_function_and_class():
    handler = pyweb.browser_files([("m.json", b"{}")])
    assert isinstance(handler, BrowserFilesHandler) and handler.url == "m.json"
    assert "browser_files" in pyweb.__all__


# -- pure helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "base"),
    [
        ("foo.bin", "foo.bin"),
        ("/foo.bin", "foo.bin"),
        ("a/b/foo.bin", "foo.bin"),
        ("a/foo/", "foo"),
        ("a/foo//", "foo"),
        ("  a/my file.bin ", "my file.bin"),
        ("./x.weights.bin", "x.weights.bin"),
    ],
)
def test_basename_as_tfjs(path, base):
    assert js_basename(path) == base


def test_pairing_a_repeated_upload_name_uses_the_last_file():
    assert pair_weight_files([{"paths": ["w.bin"], "weights": []}], ["w.bin"]) == [0]
    with pytest.raises(ArtifactError):  # then the counts differ, as in TF.js
        pair_weight_files([{"paths": ["w.bin"], "weights": []}], ["w.bin", "w.bin"])
