"""downloads:// in CPython: the folder emulation, TF.js's names and bytes, the single-file form.

What a real browser receives is checked in tests/browser/test_downloads_uploads.py
(Chromium and Firefox); here the same files land in a folder.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os

import pytest

import pyweb
import pyweb.emulation
from pyweb.artifacts import EMBEDDED_WEIGHTS_KEY, to_model_json
from pyweb.emulation.downloads import FolderDownloads, sanitize_name, split_extension
from pyweb.errors import (
    ArtifactError,
    CorruptModelError,
    InvalidURLError,
    OperationNotSupportedError,
    RuntimeUnavailableError,
    StorageError,
)
from pyweb.handlers.downloads import DownloadsHandler, DownloadTarget, download_files
from pyweb.testing.contract import RoundTripTests, assert_same_model, make_artifacts
from tests.test_artifacts import reference_artifacts


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "Downloads"


@pytest.fixture
def emulation(folder):
    with pyweb.emulation.install(downloads_dir=folder) as em:
        yield em


def names(folder):
    return sorted(p.name for p in folder.iterdir())


class Recorder:
    """A DownloadTarget test double: keeps what it was given."""

    def __init__(self):
        self.calls = []

    def download(self, files, *, deliver="gesture"):
        self.calls.append([(name, bytes(data), mime) for name, data, mime in files])


# -- names and bytes -------------------------------------------------------------------


def test_two_files_with_tfjs_names_bytes_and_info(emulation, folder):
    result = pyweb.save(reference_artifacts(), "downloads://my-model")
    assert names(folder) == ["my-model.json", "my-model.weights.bin"]
    text = (folder / "my-model.json").read_bytes()
    assert len(text) == 1462  # the reference example (tests/test_artifacts.py), byte for byte
    assert text == to_model_json(reference_artifacts(), ["./my-model.weights.bin"]).encode()
    assert json.loads(text)["weightsManifest"][0]["paths"] == ["./my-model.weights.bin"]
    assert (folder / "my-model.weights.bin").read_bytes() == bytes(84)
    info = result.model_artifacts_info
    assert (info.model_topology_bytes, info.weight_specs_bytes, info.weight_data_bytes) == (1038, 245, 84)


@pytest.mark.parametrize(
    ("path", "prefix"),
    [("test-model", "test-model"), ("downloads://test-model", "test-model"), ("", "model"), ("downloads://", "model")],
)
def test_prefix_as_tfjs_strips_the_scheme_again_and_defaults_to_model(path, prefix):
    handler = DownloadsHandler(path)
    assert (handler.json_name, handler.weights_name, handler.url) == (
        f"{prefix}.json",
        f"{prefix}.weights.bin",
        f"downloads://{prefix}",
    )


def test_clicks_are_json_first_then_weights_with_their_types():
    target = Recorder()
    pyweb.save(make_artifacts(), DownloadsHandler("m", target=target))
    assert [(name, mime) for name, _, mime in target.calls[0]] == [
        ("m.json", "application/json"),
        ("m.weights.bin", "application/octet-stream"),
    ]


def test_shards_are_joined_into_one_weights_file(emulation, folder):
    art = make_artifacts()
    whole = bytes(art.weight_bytes())
    art.weight_data = [whole[:5], memoryview(whole)[5:17], bytearray(whole[17:])]
    pyweb.save(art, "downloads://sharded")
    assert (folder / "sharded.weights.bin").read_bytes() == whole


def test_topology_only_downloads_only_the_json_whose_manifest_still_lists_the_path(emulation, folder):
    result = pyweb.save(pyweb.ModelArtifacts(model_topology={"a": 1}), "downloads://topo")
    assert names(folder) == ["topo.json"]
    assert (folder / "topo.json").read_bytes() == (
        b'{"modelTopology":{"a":1},"convertedBy":null,"weightsManifest":[{"paths":["./topo.weights.bin"]}]}'
    )
    info = result.model_artifacts_info
    assert (info.weight_specs_bytes, info.weight_data_bytes) == (0, 0)


def test_specs_without_data_download_only_the_json():
    files = download_files(pyweb.ModelArtifacts(model_topology={}, weight_specs=[]), "m")
    assert [name for name, _, _ in files] == ["m.json"]
    assert json.loads(files[0][1])["weightsManifest"] == [{"paths": ["./m.weights.bin"], "weights": []}]


def test_binary_topology_is_refused_and_nothing_is_downloaded(emulation, folder):
    with pytest.raises(ArtifactError):
        pyweb.save(pyweb.ModelArtifacts(model_topology=b"\x08\x01"), "downloads://bin")
    assert not folder.exists() or names(folder) == []


def test_async_save_writes_the_same_files(emulation, folder):
    asyncio.run(pyweb.asave(make_artifacts(), "downloads://a"))
    assert names(folder) == ["a.json", "a.weights.bin"]


def test_async_save_awaits_a_targets_adownload():
    class AsyncTarget(Recorder):
        async def adownload(self, files, *, deliver="gesture"):
            await asyncio.sleep(0)
            self.calls.append(["async", *[name for name, _, _ in files]])

    target = AsyncTarget()
    asyncio.run(pyweb.asave(make_artifacts(), DownloadsHandler("m", target=target)))
    assert target.calls == [["async", "m.json", "m.weights.bin"]]
    assert isinstance(target, DownloadTarget)


# -- single file -------------------------------------------------------------------------


def test_single_file_is_the_two_file_json_plus_one_base64_key(emulation, folder):
    art = make_artifacts(3)
    pyweb.save(art, "downloads://solo", single_file=True)
    assert names(folder) == ["solo.json"]
    doc = json.loads((folder / "solo.json").read_bytes())
    assert list(doc)[-1] == EMBEDDED_WEIGHTS_KEY
    assert base64.b64decode(doc.pop(EMBEDDED_WEIGHTS_KEY), validate=True) == bytes(art.weight_bytes())
    two_file_json = download_files(art, "solo")[0][1]
    assert json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode() == two_file_json


def test_single_file_loads_back_by_upload_and_by_file_scheme(emulation, folder):
    want = make_artifacts(4)
    pyweb.save(want, "downloads://solo", single_file=True)
    uploaded = pyweb.load(pyweb.browser_files([folder / "solo.json"]))
    assert_same_model(uploaded, want)
    assert isinstance(uploaded.weight_data, list) and len(uploaded.weight_data) == 1
    assert_same_model(pyweb.load(f"file://{folder}/solo.json"), want)


def test_single_file_of_a_topology_only_model_has_no_embedded_key():
    ((name, data, _),) = download_files(pyweb.ModelArtifacts(model_topology={}), "t", single_file=True)
    assert name == "t.json" and EMBEDDED_WEIGHTS_KEY.encode() not in data


def test_a_corrupt_embedded_copy_is_a_corrupt_model(tmp_path):
    ((_, data, _),) = download_files(make_artifacts(), "bad", single_file=True)
    (tmp_path / "bad.json").write_bytes(data.replace(b'"pywebWeightsData":"', b'"pywebWeightsData":"!'))
    with pytest.raises(CorruptModelError) as exc:
        pyweb.load(f"file://{tmp_path}/bad.json")
    assert exc.value.part == "model.json"


# -- loading back, the emulation's folder --------------------------------------------------


def test_file_scheme_loads_a_downloaded_pair_from_its_folder(emulation, folder):
    want = make_artifacts(5)
    pyweb.save(want, "downloads://pair")
    assert_same_model(pyweb.load(f"file://{folder}/pair.json"), want)
    assert_same_model(pyweb.load(pyweb.browser_files([folder / "pair.json", folder / "pair.weights.bin"])), want)


class TestDownloadsLoadBackByUpload(RoundTripTests):
    """The contract's round trip through the user's hands: saved by downloads://, loaded by browser_files."""

    @pytest.fixture
    def model_url(self, emulation):
        return lambda name: f"downloads://{name}"

    @pytest.fixture
    def load_from(self, folder):
        return lambda url: pyweb.browser_files(sorted(folder.glob(f"{url.removeprefix('downloads://')}.*")))


def test_repeated_names_are_numbered_as_firefox_numbers_them(emulation, folder):
    for _ in range(3):
        pyweb.save(make_artifacts(), "downloads://dup")
    assert names(folder) == [
        "dup(1).json",
        "dup(2).json",
        "dup.json",
        "dup.weights(1).bin",
        "dup.weights(2).bin",
        "dup.weights.bin",
    ]
    assert [p.name for p in emulation.downloads.history[:2]] == ["dup.json", "dup.weights.bin"]


def test_unsafe_names_are_sanitised_as_firefox_does(emulation, folder):
    pyweb.save(make_artifacts(), "downloads://../a/b:c")
    assert names(folder) == ["_a_b_c.json", "_a_b_c.weights.bin"]


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("a/b.json", "a_b.json"),
        ("../up.json", "_up.json"),
        (" sp .json", "sp .json"),
        ("q?.bin", "q_.bin"),
        ("tab\t.json", "tab_.json"),
        (".weights.bin", "weights.bin"),
        ("ünï.json", "ünï.json"),
        ("", "download"),
    ],
)
def test_sanitize_name_matches_firefox(name, stored):
    assert sanitize_name(name) == stored  # measured in Firefox ESR 153 (tests/browser checks the pairs too)


@pytest.mark.parametrize(
    ("name", "parts"),
    [("m.weights.bin", ("m.weights", ".bin")), ("a.tar.gz", ("a", ".tar.gz")), ("noext", ("noext", ""))],
)
def test_split_extension_as_firefox(name, parts):
    assert split_extension(name) == parts


def test_json_without_extension_gets_one(tmp_path):
    FolderDownloads(tmp_path).download([("noext", b"{}", "application/json"), ("raw", b"", "application/octet-stream")])
    assert names(tmp_path) == ["noext.json", "raw"]


def test_a_failed_download_removes_what_it_wrote(tmp_path):
    target = FolderDownloads(tmp_path)
    with pytest.raises(TypeError):
        target.download([("m.json", b"{}", "application/json"), ("m.weights.bin", object(), "x")])
    assert names(tmp_path) == [] and target.history == []


def test_an_unwritable_folder_is_a_storage_error(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(StorageError):
        FolderDownloads(tmp_path / "file" / "sub").download([("m.json", b"{}", "application/json")])


# -- what downloads:// does not do ---------------------------------------------------------


def test_without_emulation_or_target_it_names_the_fix():
    with pytest.raises(RuntimeUnavailableError) as exc:
        pyweb.save(make_artifacts(), "downloads://m")
    assert "pyweb.emulation.install" in str(exc.value)


def test_uninstall_takes_downloads_away_again(folder):
    em = pyweb.emulation.install(downloads_dir=folder)
    em.uninstall()
    with pytest.raises(RuntimeUnavailableError):
        pyweb.save(make_artifacts(), "downloads://m")
    with pyweb.emulation.install(), pytest.raises(RuntimeUnavailableError):  # no downloads_dir: still unavailable
        pyweb.save(make_artifacts(), "downloads://m")


def test_load_is_not_supported(emulation):
    with pytest.raises(OperationNotSupportedError):
        pyweb.load("downloads://m")
    with pytest.raises(OperationNotSupportedError):
        asyncio.run(DownloadsHandler("m").aload())


def test_registered_lazily_as_a_builtin_without_a_store():
    assert "downloads" in pyweb.registry
    assert pyweb.registry["downloads"] == "pyweb.handlers.downloads:DownloadsHandler"
    assert not hasattr(DownloadsHandler, "open_store") and not getattr(DownloadsHandler, "global_store", False)
    with pytest.raises(OperationNotSupportedError):
        pyweb.list_models("downloads://x")


def test_an_empty_url_path_is_refused_by_the_router_but_not_by_the_handler():
    with pytest.raises(InvalidURLError):  # urls.py rejects empty paths for every scheme
        pyweb.save(make_artifacts(), "downloads://", target=Recorder())
    assert DownloadsHandler("").prefix == "model"


def test_browser_dom_module_needs_pyodide():
    with pytest.raises(RuntimeUnavailableError):
        import pyweb.browser.dom  # noqa: F401


def test_emulated_downloads_do_not_touch_the_working_directory(emulation, folder, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pyweb.save(make_artifacts(), "downloads://here")
    assert sorted(os.listdir(tmp_path)) == ["Downloads"]
