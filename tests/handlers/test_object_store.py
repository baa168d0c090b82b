"""Object stores through fsspec: the contract against a real S3 protocol server and fsspec's memory filesystem.

The S3 server is moto's standalone one (``moto[server]``) on a loopback port,
reached by s3fs through the standard ``AWS_*`` environment variables.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import logging
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

# fsspec, s3fs and moto[server] are in the dev extra: missing, this module fails to import (no silent skip).
import fsspec
import moto.server as moto_server
import pytest
import s3fs  # noqa: F401  (the s3:// backend under test)

import pyweb
from pyweb import _object_layout as layout
from pyweb.cli import main
from pyweb.errors import CorruptModelError, HandlerUnavailableError, ModelNotFoundError, StorageError
from pyweb.handlers import _object_io
from pyweb.testing.contract import HandlerContract, assert_same_model, make_artifacts

BUCKET = "pyweb-tests"
_ids = itertools.count()


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on 127.0.0.1, one bucket; the AWS_* variables point s3fs at it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("AWS_PROFILE", raising=False)
        fsspec.filesystem("s3", skip_instance_cache=True).mkdir(BUCKET)
        yield env
    server.stop()


@pytest.fixture
def s3(s3_server):
    """A blocking s3fs client for looking at the bucket."""
    return fsspec.filesystem("s3", skip_instance_cache=True)


def _keys(fs, prefix):
    fs.invalidate_cache()
    return sorted(k[len(prefix) + 1 :] for k in fs.find(prefix))


# -- the contract, twice --------------------------------------------------------------


class TestS3(HandlerContract):
    @pytest.fixture
    def model_url(self, s3_server):
        folder = f"s3://{BUCKET}/models/t{next(_ids)}"
        return lambda name: f"{folder}/{name}"

    @pytest.fixture
    def list_url(self, s3_server):
        return f"s3://{BUCKET}/models"

    @pytest.fixture
    def fail_next_save(self, monkeypatch):
        def arm():
            real = _object_io.AsyncMover.put

            async def fail_at_commit(self, key, views):
                if key.endswith("/model.json"):
                    raise OSError(28, "No space left on device")
                await real(self, key, views)

            monkeypatch.setattr(_object_io.AsyncMover, "put", fail_at_commit)

        return arm


class TestFsspecMemory(HandlerContract):
    @pytest.fixture
    def model_url(self):
        folder = f"fsspec://memory://pyweb-tests/t{next(_ids)}"
        return lambda name: f"{folder}/{name}"

    @pytest.fixture
    def list_url(self):
        return "fsspec://memory://pyweb-tests"

    @pytest.fixture
    def fail_next_save(self, monkeypatch):
        def arm():
            real = _object_io.SyncMover.put
            calls = []

            async def fail_after_first(self, key, views):
                calls.append(key)
                if len(calls) > 1:
                    raise OSError(28, "No space left on device")
                await real(self, key, views)

            monkeypatch.setattr(_object_io.SyncMover, "put", fail_after_first)

        return arm


# -- the commit point --------------------------------------------------------------------


def test_shards_first_model_json_last_then_old_shards_go(s3, monkeypatch):
    url = f"s3://{BUCKET}/order/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url, shard_bytes=16)
    old = _keys(s3, url[5:])
    events = []
    for name in ("put", "rm"):
        real = getattr(_object_io.AsyncMover, name)

        async def spy(self, key, *rest, _real=real, _name=name):
            events.append((_name, key.rsplit("/", 1)[-1]))
            return await _real(self, key, *rest)

        monkeypatch.setattr(_object_io.AsyncMover, name, spy)
    pyweb.save(make_artifacts(2), url, shard_bytes=16)
    puts = [key for kind, key in events if kind == "put"]
    assert puts[-1] == "model.json" and len(puts) > 2
    commit = events.index(("put", "model.json"))
    removed = [key for kind, key in events[commit:] if kind == "rm"]
    assert removed and all(k.startswith("group1-shard") for k in removed)
    assert all(kind == "put" for kind, _ in events[:commit])
    new = _keys(s3, url[5:])
    assert not set(old) & set(new) - {"model.json"}  # old shards gone, new ones under a new generation
    assert_same_model(pyweb.load(url), make_artifacts(2))


def test_layout_is_file_layout_in_a_generation_folder(s3):
    url = f"s3://{BUCKET}/layout/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url)
    keys = _keys(s3, url[5:])
    assert keys[0] == "model.json" and len(keys) == 2
    generation, name = keys[1].split("/")
    assert layout.GENERATION.match(generation) and name == "weights.bin"


def test_the_folder_is_servable_over_http(s3, s3_server):
    """TF.js resolves manifest paths against model.json's URL; so does pyweb's http:// handler."""
    url = f"s3://{BUCKET}/served/m{next(_ids)}"
    pyweb.save(make_artifacts(3), url, shard_bytes=32)
    for key in s3.find(url[5:]):  # readable by anyone, as a bucket serving browsers is
        s3.chmod(key, acl="public-read")
    http_url = f"{s3_server['AWS_ENDPOINT_URL']}/{url[5:]}/model.json"  # moto: path-style, no auth
    assert_same_model(pyweb.load(http_url), make_artifacts(3))


def test_interrupted_save_keeps_previous_and_next_save_sweeps(s3, monkeypatch):
    url = f"s3://{BUCKET}/interrupted/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url, shard_bytes=16)
    real_put, real_rm_tree = _object_io.AsyncMover.put, _object_io.AsyncMover.rm_tree

    async def interrupt_at_commit(self, key, views):
        if key.endswith("/model.json"):
            raise KeyboardInterrupt  # as if the process were stopped here
        await real_put(self, key, views)

    async def no_cleanup(self, prefix):  # a killed process cleans nothing up
        return None

    monkeypatch.setattr(_object_io.AsyncMover, "put", interrupt_at_commit)
    monkeypatch.setattr(_object_io.AsyncMover, "rm_tree", no_cleanup)
    with pytest.raises(KeyboardInterrupt):
        pyweb.save(make_artifacts(2, n=8), url, shard_bytes=16)
    monkeypatch.setattr(_object_io.AsyncMover, "put", real_put)
    monkeypatch.setattr(_object_io.AsyncMover, "rm_tree", real_rm_tree)
    assert_same_model(pyweb.load(url), make_artifacts(1))
    assert len(_generations(s3, url)) == 2  # the previous model's and the leftover
    assert list(pyweb.list_models(url)) == [url]  # a leftover is never a model

    pyweb.save(make_artifacts(3), url, leftover_seconds=3600)  # young leftovers may be saves in progress
    assert len(_generations(s3, url)) == 2
    pyweb.save(make_artifacts(4), url, leftover_seconds=0)
    assert len(_generations(s3, url)) == 1
    assert_same_model(pyweb.load(url), make_artifacts(4))


def _generations(fs, url):
    return {k.split("/")[0] for k in _keys(fs, url[5:]) if "/" in k}


_SAVER = textwrap.dedent(
    """
    import asyncio, sys
    import pyweb
    from pyweb.handlers import _object_io
    from pyweb.testing.contract import make_artifacts

    real = _object_io.AsyncMover.put

    async def slow(self, key, views):  # widen the window between shards and model.json
        await asyncio.sleep(0.1)
        await real(self, key, views)

    _object_io.AsyncMover.put = slow
    print("ready", flush=True)
    pyweb.save(make_artifacts(int(sys.argv[2]), n=40), sys.argv[1], shard_bytes=64, max_concurrency=2)
    print("saved", flush=True)
    """
)


@pytest.mark.slow
def test_killed_saves_never_leave_half_a_model(s3, s3_server):
    url = f"s3://{BUCKET}/killed/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url)
    rng = random.Random(16)
    outcomes = []
    env = {**os.environ, **s3_server, "PYTHONPATH": os.getcwd()}
    for attempt in range(5):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, url, str(100 + attempt)], env=env,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 1.6))  # the save takes about 1 s: killed before, during or after it
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        got = pyweb.load(url)  # whole: the model before, or (killed after the commit) the new one
        seed = got.user_defined_metadata["seed"]
        want = make_artifacts(seed) if seed == 1 else make_artifacts(seed, n=40)
        assert_same_model(got, want)
        outcomes.append(seed)
    assert len(_generations(s3, url)) > 1  # some kill landed mid-save and left shards behind
    pyweb.save(make_artifacts(2), url, leftover_seconds=0)
    assert len(_generations(s3, url)) == 1
    assert_same_model(pyweb.load(url), make_artifacts(2))


def test_load_restarts_when_a_save_replaces_the_model_meanwhile(monkeypatch):
    url = f"fsspec://memory://pyweb-tests/race{next(_ids)}"
    pyweb.save(make_artifacts(1), url)
    real = _object_io.SyncMover.cat
    replaced = []

    async def replace_before_first_shard(self, key):
        if key.endswith(".bin") and not replaced:
            replaced.append(key)
            pyweb.save(make_artifacts(2), url)
        return await real(self, key)

    monkeypatch.setattr(_object_io.SyncMover, "cat", replace_before_first_shard)
    assert_same_model(pyweb.load(url), make_artifacts(2))
    assert replaced


def test_failed_save_removes_its_shards(s3, monkeypatch):
    url = f"s3://{BUCKET}/failed/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url)
    before = _keys(s3, url[5:])
    real = _object_io.AsyncMover.put
    calls = []

    async def fail_third(self, key, views):
        calls.append(key)
        if len(calls) == 3:
            raise PermissionError(13, "Access Denied")
        await real(self, key, views)

    monkeypatch.setattr(_object_io.AsyncMover, "put", fail_third)
    with pytest.raises(StorageError) as info:
        pyweb.save(make_artifacts(2), url, shard_bytes=8, max_concurrency=1)
    assert info.value.url == url
    assert _keys(s3, url[5:]) == before


def test_a_commit_that_fails_on_the_way_back_keeps_the_new_model(s3, monkeypatch):
    # The store took model.json but the reply was lost: the save's shards must stay, the model loads.
    url = f"s3://{BUCKET}/lost-reply/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url)
    real = _object_io.AsyncMover.put

    async def lose_the_reply(self, key, views):
        await real(self, key, views)
        if key.endswith("/model.json"):
            raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(_object_io.AsyncMover, "put", lose_the_reply)
    pyweb.save(make_artifacts(2), url, shard_bytes=8)
    monkeypatch.undo()
    assert_same_model(pyweb.load(url), make_artifacts(2))
    pyweb.save(make_artifacts(3), url)  # and the next save finds nothing broken to trip on
    assert_same_model(pyweb.load(url), make_artifacts(3))


# -- integrity and damage -----------------------------------------------------------------


def test_integrity_digests_are_checked(s3):
    url = f"s3://{BUCKET}/integrity/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url, shard_bytes=16, integrity=True)
    shard = next(k for k in _keys(s3, url[5:]) if k.endswith("shard2of6.bin"))
    data = bytearray(s3.cat_file(f"{url[5:]}/{shard}"))
    data[0] ^= 0xFF
    s3.pipe_file(f"{url[5:]}/{shard}", bytes(data))
    with pytest.raises(CorruptModelError) as info:
        pyweb.load(url)
    assert info.value.part == shard


def test_missing_shard_is_corrupt_not_not_found(s3):
    url = f"s3://{BUCKET}/damaged/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url, shard_bytes=16)
    shard = next(k for k in _keys(s3, url[5:]) if k.endswith("shard3of6.bin"))
    s3.rm_file(f"{url[5:]}/{shard}")
    with pytest.raises(CorruptModelError) as info:
        pyweb.load(url)
    assert info.value.part == shard and not isinstance(info.value, FileNotFoundError)


def test_manifest_paths_outside_the_folder_are_refused(s3):
    url = f"s3://{BUCKET}/escape/m{next(_ids)}"
    s3.pipe_file(f"{BUCKET}/escape/secret.bin", b"\0" * 4)
    doc = b'{"modelTopology":{},"weightsManifest":[{"paths":["../secret.bin"],' \
          b'"weights":[{"name":"w","shape":[1],"dtype":"float32"}]}]}'
    s3.pipe_file(f"{url[5:]}/model.json", doc)
    with pytest.raises(CorruptModelError):
        pyweb.load(url)
    pyweb.remove_model(url)
    assert s3.exists(f"{BUCKET}/escape/secret.bin")


def test_save_leaves_foreign_objects_alone(s3):
    url = f"s3://{BUCKET}/foreign/m{next(_ids)}"
    s3.pipe_file(f"{url[5:]}/README.txt", b"mine")
    pyweb.save(make_artifacts(1), url, leftover_seconds=0)
    pyweb.save(make_artifacts(2), url, leftover_seconds=0)
    pyweb.remove_model(url)
    assert _keys(s3, url[5:]) == ["README.txt"]


# -- options, schemes, errors ----------------------------------------------------------------


def test_storage_options_reach_the_filesystem(s3_server, monkeypatch):
    for name in s3_server:
        monkeypatch.delenv(name)
    options = {
        "endpoint_url": s3_server["AWS_ENDPOINT_URL"],
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"region_name": "us-east-1"},
    }
    url = f"s3://{BUCKET}/options/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url, storage_options=options)
    assert_same_model(pyweb.load(url, storage_options=options), make_artifacts(1))
    assert url in pyweb.list_models(f"s3://{BUCKET}/options", storage_options=options)


def test_async_twins_copy_move_list_remove(s3_server):
    src = f"memory://async{next(_ids)}"
    dst = f"s3://{BUCKET}/async/m{next(_ids)}"
    moved = f"s3://{BUCKET}/async/m{next(_ids)}"
    pyweb.save(make_artifacts(1), src)

    async def go():
        await pyweb.acopy_model(src, dst)
        await pyweb.amove_model(dst, moved)
        listed = await pyweb.alist_models(f"s3://{BUCKET}/async")
        await pyweb.aremove_model(moved)
        return listed

    listed = asyncio.run(go())
    assert moved in listed and dst not in listed
    with pytest.raises(ModelNotFoundError):
        pyweb.load(moved)


def test_same_model_spelled_twice_is_refused(s3_server):
    url = f"s3://{BUCKET}/same/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url)
    with pytest.raises(pyweb.errors.InvalidURLError):
        pyweb.copy_model(url, url + "/model.json")


def test_cli_cp_and_ls(tmp_path, s3_server, capsys):
    local = tmp_path / "m"
    pyweb.save(make_artifacts(1), f"file://{local}")
    url = f"s3://{BUCKET}/cli/m{next(_ids)}"
    assert main(["cp", f"file://{local}", url]) == 0
    assert main(["ls", f"s3://{BUCKET}/cli"]) == 0
    out = capsys.readouterr().out
    assert url in out
    assert main(["cp", url, str(tmp_path / "back")]) == 0
    assert_same_model(pyweb.load(f"file://{tmp_path / 'back'}"), make_artifacts(1))


def test_missing_backend_names_its_package():
    with pytest.raises(HandlerUnavailableError) as info:
        pyweb.load("gs://bucket/m")
    assert isinstance(info.value, ImportError)
    assert "gcsfs" in str(info.value)  # the package to install is the data this error carries


def test_without_fsspec_object_store_schemes_say_what_to_install(monkeypatch):
    registry = importlib.import_module("pyweb.registry")
    for name in [m for m in sys.modules if m == "fsspec" or m.startswith(("fsspec.", "pyweb.handlers.object_store"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "fsspec", None)
    registry._loaded.clear()
    with pytest.raises(HandlerUnavailableError) as info:
        pyweb.load("s3://bucket/m")
    assert "pyweb[fsspec]" in str(info.value)
    with pytest.raises(HandlerUnavailableError):
        pyweb.load("fsspec://memory://m")
    with pytest.raises(pyweb.errors.SchemeError):
        pyweb.load("nope://m")


def test_pyweb_schemes_keep_their_handlers():
    from pyweb.registry import get_factory

    assert get_factory("memory").__name__ == "MemoryHandler"
    assert get_factory("file").__name__ == "FileHandler"
    assert get_factory("s3").protocol == "s3"
