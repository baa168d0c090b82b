"""file:// never reads, follows, writes or deletes outside the model's folder; leftovers get swept."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

import pyweb
from pyweb import _atomic, cli
from pyweb.errors import CorruptModelError, PyWebError
from pyweb.testing.contract import assert_same_model, make_artifacts
from pyweb.weights import TrailingBytesWarning

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="POSIX links")


def _model_json(path, paths, weights=()):
    doc = {"modelTopology": {}, "weightsManifest": [{"paths": paths, "weights": list(weights)}]}
    path.write_text(json.dumps(doc))


@pytest.fixture
def outside(tmp_path):
    o = tmp_path / "o"
    o.mkdir()
    (o / "w.bin").write_bytes(b"secret!!")
    return o


def test_rm_never_deletes_through_a_linked_subfolder(tmp_path, outside, monkeypatch):
    # The reproduction, through the CLI and the API.
    monkeypatch.chdir(tmp_path)
    m = tmp_path / "m"
    m.mkdir()
    (m / "sub").symlink_to(outside)
    _model_json(m / "model.json", ["sub/w.bin"])
    assert cli.main(["rm", "m"]) == 0
    assert (outside / "w.bin").read_bytes() == b"secret!!"
    assert not (m / "model.json").exists()
    _model_json(m / "model.json", ["sub/w.bin"])
    pyweb.remove_model("file://m")
    assert (outside / "w.bin").read_bytes() == b"secret!!"


def test_rm_unlinks_a_linked_weight_file_not_its_target(tmp_path, outside):
    m = tmp_path / "m"
    m.mkdir()
    (m / "weights.bin").symlink_to(outside / "w.bin")
    _model_json(m / "model.json", ["weights.bin"])
    pyweb.remove_model(f"file://{m}")
    assert (outside / "w.bin").read_bytes() == b"secret!!"
    assert not m.exists()  # the link was inside the folder; the folder is gone


@pytest.mark.parametrize("how", ["file", "folder", "model.json"])
def test_load_refuses_links_inside_the_folder(tmp_path, outside, how):
    m = tmp_path / "m"
    m.mkdir()
    if how == "file":
        (m / "weights.bin").symlink_to(outside / "w.bin")
        _model_json(m / "model.json", ["weights.bin"], [{"name": "w", "shape": [2], "dtype": "float32"}])
    elif how == "folder":
        (m / "sub").symlink_to(outside)
        _model_json(m / "model.json", ["sub/w.bin"], [{"name": "w", "shape": [2], "dtype": "float32"}])
    else:
        _model_json(outside / "model.json", ["w.bin"], [{"name": "w", "shape": [2], "dtype": "float32"}])
        (m / "model.json").symlink_to(outside / "model.json")
    with pytest.raises(CorruptModelError) as info:
        pyweb.load(f"file://{m}")
    assert info.value.url == f"file://{m}"
    assert "secret" not in str(info.value)
    # Listing does not count what it cannot read inside the folder either.
    listed = pyweb.list_models(f"file://{tmp_path}")
    if how == "model.json":
        assert f"file://{tmp_path}/m" not in listed
    else:
        assert listed[f"file://{tmp_path}/m"].weight_data_bytes == 0


def test_load_refuses_a_fifo_without_hanging(tmp_path):
    m = tmp_path / "m"
    m.mkdir()
    os.mkfifo(m / "weights.bin")
    _model_json(m / "model.json", ["weights.bin"], [{"name": "w", "shape": [1], "dtype": "float32"}])
    with pytest.raises(CorruptModelError, match="regular file"):
        pyweb.load(f"file://{m}")


def test_a_linked_model_folder_is_followed_and_documented(tmp_path):
    # The folder's own path is the user's: file://latest -> v3 loads, saves and removes v3's model.
    v3 = tmp_path / "v3"
    pyweb.save(make_artifacts(1), f"file://{v3}")
    (tmp_path / "latest").symlink_to(v3)
    assert_same_model(pyweb.load(f"file://{tmp_path}/latest"), make_artifacts(1))
    pyweb.save(make_artifacts(2), f"file://{tmp_path}/latest")
    assert (tmp_path / "latest").is_symlink()
    assert_same_model(pyweb.load(f"file://{v3}"), make_artifacts(2))


@pytest.mark.parametrize("bad", ["a\0b.bin", "", ".", "../o/w.bin", "/etc/hostname", "C:/x.bin", "sub/../../o/w.bin"])
def test_hostile_manifest_paths_are_typed_errors(tmp_path, bad):
    m = tmp_path / "m"
    m.mkdir()
    _model_json(m / "model.json", [bad], [{"name": "w", "shape": [1], "dtype": "float32"}])
    with pytest.raises(CorruptModelError):
        pyweb.load(f"file://{m}")


def test_sizes_are_checked_before_reading(tmp_path):
    # One float32 declared next to a 2 GiB sparse file: refused or trimmed without reading 2 GiB.
    m = tmp_path / "m"
    m.mkdir()
    with open(m / "weights.bin", "wb") as f:
        f.write(b"\0\0\x80\x3f")
        f.truncate(2 << 30)
    _model_json(m / "model.json", ["weights.bin"], [{"name": "w", "shape": [1], "dtype": "float32"}])
    start = time.perf_counter()
    with pytest.warns(TrailingBytesWarning):
        art = pyweb.load(f"file://{m}")
    assert time.perf_counter() - start < 1.0
    assert bytes(art.weight_bytes()) == b"\0\0\x80\x3f"
    assert pyweb.decode_weights(art.weight_data, art.weight_specs)["w"].tolist() == [1.0]
    # Shorter than the specs: refused before any read.
    _model_json(m / "model.json", ["weights.bin"], [{"name": "w", "shape": [2**30], "dtype": "float32"}])
    with pytest.raises(CorruptModelError) as info:
        pyweb.load(f"file://{m}")
    assert info.value.part == "weight_data"


def test_oversized_file_with_a_digest_is_refused(tmp_path):
    pyweb.save(make_artifacts(1), f"file://{tmp_path}/m", integrity=True)
    with open(tmp_path / "m/weights.bin", "ab") as f:
        f.write(b"extra")
    with pytest.raises(CorruptModelError):
        pyweb.load(f"file://{tmp_path}/m")


def _leftovers(parent):
    return sorted(p.name for p in parent.iterdir() if _atomic.is_leftover(p.name))


_KILLED_SAVE = """
import os, signal, sys
import pyweb
from pyweb import _atomic
from pyweb.testing.contract import make_artifacts
real = _atomic.write_all
def die(directory, files, on_progress):
    real(directory, files[:1], on_progress)
    os.kill(os.getpid(), signal.SIGKILL)
_atomic.write_all = die
import pyweb.handlers.file as f
f.write_all = die
pyweb.save(make_artifacts(2), sys.argv[1])
"""


def _killed_save(url):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(_KILLED_SAVE), url], cwd=root)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("then", ["save", "load", "remove", "clean"])
def test_killed_save_leftovers_are_swept(tmp_path, then, capsys):
    url = f"file://{tmp_path}/m"
    pyweb.save(make_artifacts(1), url)
    _killed_save(url)
    assert len(_leftovers(tmp_path)) == 1
    if then == "save":
        pyweb.save(make_artifacts(3), url)
    elif then == "load":
        assert_same_model(pyweb.load(url), make_artifacts(1))  # the old model, whole
    elif then == "remove":
        pyweb.remove_model(url)
    else:
        assert cli.main(["clean", str(tmp_path)]) == 0
        assert "removed 1" in capsys.readouterr().out
    assert _leftovers(tmp_path) == []


_KILLED_BETWEEN_RENAMES = """
import os, signal, sys
import pyweb
from pyweb import _atomic
from pyweb.testing.contract import make_artifacts
_atomic.exchange = lambda a, b: False          # a platform without RENAME_EXCHANGE
real_rename = os.rename
def rename(src, dst):
    real_rename(src, dst)
    if os.path.basename(dst).startswith(".pywebold-"):
        os.kill(os.getpid(), signal.SIGKILL)   # between the two renames: the model's path is empty
os.rename = rename
pyweb.save(make_artifacts(2), sys.argv[1])
"""


def test_killed_between_the_two_renames_keeps_the_old_model(tmp_path):
    url = f"file://{tmp_path}/m"
    pyweb.save(make_artifacts(1), url)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(_KILLED_BETWEEN_RENAMES), url], cwd=root)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "m").exists() and len(_leftovers(tmp_path)) == 2
    assert_same_model(pyweb.load(url), make_artifacts(1))  # the load's sweep puts it back
    assert _leftovers(tmp_path) == []


def test_leftovers_are_swept_through_a_linked_folder_path(tmp_path):
    (tmp_path / "v3").mkdir()
    pyweb.save(make_artifacts(1), f"file://{tmp_path}/v3")
    (tmp_path / "latest").symlink_to(tmp_path / "v3")
    _killed_save(f"file://{tmp_path}/latest")
    assert len(_leftovers(tmp_path)) == 1
    assert_same_model(pyweb.load(f"file://{tmp_path}/latest"), make_artifacts(1))
    assert _leftovers(tmp_path) == []


def test_sibling_names_have_no_dot_after_the_first_character(tmp_path):
    # JupyterLite's /drive takes a folder named like that for a file.
    with _atomic.staging(str(tmp_path / "model")) as tmp:
        assert "." not in os.path.basename(tmp)[1:]


def test_a_live_save_is_never_swept(tmp_path):
    target = str(tmp_path / "m")
    with _atomic.staging(target) as tmp:
        (tmp_path / "x").touch()
        assert _atomic.sweep_stale(target) == []
        assert os.path.isdir(tmp)
    assert _atomic.sweep_stale(target) == [tmp]


def test_racing_first_saves_of_one_new_name_both_succeed(tmp_path, monkeypatch):
    # Save B checks that the new name is free, then save A lands there before B's rename:
    # B must swap A's model out (last writer wins), not fail with "Directory not empty".
    import pyweb.handlers.file as f

    url, target = f"file://{tmp_path}/m", str(tmp_path / "m")
    real_write, real_lexists = _atomic.write_all, os.path.lexists

    def first_wins(directory, files, on_progress):
        real_write(directory, files, on_progress)
        monkeypatch.setattr(f, "write_all", real_write)
        pyweb.save(make_artifacts(5), url)  # A lands first
        monkeypatch.setattr(os.path, "lexists", lambda p: False if p == target else real_lexists(p))

    monkeypatch.setattr(f, "write_all", first_wins)
    pyweb.save(make_artifacts(6), url)  # B
    monkeypatch.setattr(os.path, "lexists", real_lexists)
    assert_same_model(pyweb.load(url), make_artifacts(6))
    assert _leftovers(tmp_path) == []


def test_every_refusal_is_a_pyweb_error(tmp_path, outside):
    # The folder itself a file, model.json a folder, a weight path that is a folder.
    (tmp_path / "f").write_text("x")
    (tmp_path / "d").mkdir()
    (tmp_path / "d/model.json").mkdir()
    (tmp_path / "w").mkdir()
    (tmp_path / "w/weights.bin").mkdir()
    _model_json(tmp_path / "w/model.json", ["weights.bin"], [{"name": "w", "shape": [1], "dtype": "float32"}])
    for url in ("f", "d", "w"):
        with warnings.catch_warnings(), pytest.raises(PyWebError):
            pyweb.load(f"file://{tmp_path}/{url}")
