"""Object stores through fsspec: the contract against a real S3 protocol server and fsspec's memory filesystem.

The S3 server is moto's standalone one (``moto[server]``) on a loopback port,
reached by s3fs through the standard ``AWS_*`` environment variables.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import itertools
import json
import logging
import os
import random
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# fsspec, s3fs and moto[server] are in the dev extra: missing, this module fails to import (no silent skip).
import fsspec
import moto.server as moto_server
import numpy as np
import pytest
import s3fs  # the s3:// backend under test

import pyweb
from pyweb import _object_layout as layout
from pyweb.cli import main
from pyweb.errors import CorruptModelError, HandlerUnavailableError, ModelNotFoundError, StorageError
from pyweb.handlers import _object_io
from pyweb.testing.contract import HandlerContract, assert_same_model, make_artifacts
from tests.test_tfjs_interop import dense_model
from tests.tfjs_node import load_check

BUCKET = "pyweb-tests"
_ids = itertools.count()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[dict[str, str]]:
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
def s3(s3_server: dict[str, str]) -> Any:
    """A blocking s3fs client for looking at the bucket."""
    return fsspec.filesystem("s3", skip_instance_cache=True)


def _keys(fs: Any, prefix: str) -> list[str]:
    fs.invalidate_cache()
    return sorted(k[len(prefix) + 1 :] for k in fs.find(prefix))


# -- the contract, twice --------------------------------------------------------------


class TestS3(HandlerContract):
    @pytest.fixture
    def model_url(self, s3_server: dict[str, str]) -> Callable[[str], str]:
        folder = f"s3://{BUCKET}/models/t{next(_ids)}"
        return lambda name: f"{folder}/{name}"

    @pytest.fixture
    def list_url(self, s3_server: dict[str, str]) -> str:
        return f"s3://{BUCKET}/models"

    @pytest.fixture
    def fail_next_save(self, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
        def arm() -> None:
            real = _object_io.AsyncMover.put

            async def fail_at_commit(self: Any, key: str, views: list[memoryview]) -> None:
                if key.endswith("/model.json"):
                    raise OSError(28, "No space left on device")
                await real(self, key, views)

            monkeypatch.setattr(_object_io.AsyncMover, "put", fail_at_commit)

        return arm


class TestFsspecMemory(HandlerContract):
    @pytest.fixture
    def model_url(self) -> Callable[[str], str]:
        folder = f"fsspec://memory://pyweb-tests/t{next(_ids)}"
        return lambda name: f"{folder}/{name}"

    @pytest.fixture
    def list_url(self) -> str:
        return "fsspec://memory://pyweb-tests"

    @pytest.fixture
    def fail_next_save(self, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
        def arm() -> None:
            real = _object_io.SyncMover.put
            calls = []

            async def fail_after_first(self: Any, key: str, views: list[memoryview]) -> None:
                calls.append(key)
                if len(calls) > 1:
                    raise OSError(28, "No space left on device")
                await real(self, key, views)

            monkeypatch.setattr(_object_io.SyncMover, "put", fail_after_first)

        return arm


# -- the commit point --------------------------------------------------------------------


def test_shards_first_model_json_last_then_old_shards_go(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"s3://{BUCKET}/order/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url, shard_bytes=16)
    old = _keys(s3, url[5:])
    events = []
    for name in ("put", "rm"):
        real = getattr(_object_io.AsyncMover, name)

        async def spy(self: Any, key: str, *rest: Any, _real: Any = real, _name: str = name) -> Any:
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


def test_layout_is_file_layout_in_a_generation_folder(s3: Any) -> None:
    url = f"s3://{BUCKET}/layout/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url)
    keys = _keys(s3, url[5:])
    assert keys[0] == "model.json" and len(keys) == 2
    generation, name = keys[1].split("/")
    assert layout.GENERATION.match(generation) and name == "weights.bin"


def test_the_folder_is_servable_over_http(s3: Any, s3_server: dict[str, str]) -> None:
    """TF.js resolves manifest paths against model.json's URL; so does pyweb's http:// handler."""
    url = f"s3://{BUCKET}/served/m{next(_ids)}"
    pyweb.save(make_artifacts(3), url, shard_bytes=32)
    for key in s3.find(url[5:]):  # readable by anyone, as a bucket serving browsers is
        s3.chmod(key, acl="public-read")
    http_url = f"{s3_server['AWS_ENDPOINT_URL']}/{url[5:]}/model.json"  # moto: path-style, no auth
    assert_same_model(pyweb.load(http_url), make_artifacts(3))


@pytest.mark.node
@pytest.mark.parametrize("options", [{}, {"shard_bytes": 16, "integrity": True}], ids=["one-file", "sharded"])
def test_tfjs_loads_a_pyweb_saved_model_from_the_bucket(
    s3: Any, s3_server: dict[str, str], options: dict[str, Any]
) -> None:
    """TF.js 4.22 under Node: loadLayersModel on the bucket's model.json URL, shards in their generation folder."""
    artifacts, weights = dense_model(7)
    url = f"s3://{BUCKET}/tfjs/m{next(_ids)}"
    pyweb.save(artifacts, url, **options)
    for key in s3.find(url[5:]):  # readable by anyone, as a bucket serving browsers is
        s3.chmod(key, acl="public-read")
    seen = load_check(f"{s3_server['AWS_ENDPOINT_URL']}/{url[5:]}/model.json")  # moto: path-style, plain http
    assert seen["model_loaded"] is True
    assert [w["name"] for w in seen["weights"]] == list(weights)
    for entry in seen["weights"]:
        got = np.frombuffer(base64.b64decode(entry["values_b64"]), "<f4").reshape(entry["shape"])
        np.testing.assert_array_equal(got, weights[entry["name"]])
    want = np.ones((1, 3), np.float32) @ weights["dense_Dense1/kernel"] + weights["dense_Dense1/bias"]
    np.testing.assert_allclose(np.array(seen["predict"]["output"]), want, rtol=1e-6)


def test_interrupted_save_keeps_previous_and_next_save_sweeps(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"s3://{BUCKET}/interrupted/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url, shard_bytes=16)
    real_put, real_rm_tree = _object_io.AsyncMover.put, _object_io.AsyncMover.rm_tree

    async def interrupt_at_commit(self: Any, key: str, views: list[memoryview]) -> None:
        if key.endswith("/model.json"):
            raise KeyboardInterrupt  # as if the process were stopped here
        await real_put(self, key, views)

    async def no_cleanup(self: Any, prefix: str) -> None:  # a killed process cleans nothing up
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


def _generations(fs: Any, url: str) -> set[str]:
    return {k.split("/")[0] for k in _keys(fs, url[5:]) if "/" in k}


_SAVER = textwrap.dedent(
    """
    import asyncio, sys
    import pyweb
    from pyweb.handlers import _object_io
    from pyweb.testing.contract import make_artifacts

    real = _object_io.AsyncMover.put

    async def told(self, key, views):  # say where the save is, so the test can kill it there
        print("start", key.rsplit("/", 1)[-1], flush=True)
        await asyncio.sleep(0.05)  # a PUT in flight: a kill now lands mid-upload
        await real(self, key, views)
        print("done", key.rsplit("/", 1)[-1], flush=True)

    _object_io.AsyncMover.put = told
    pyweb.save(make_artifacts(int(sys.argv[2]), n=40), sys.argv[1], shard_bytes=64, max_concurrency=2)
    print("saved", flush=True)
    """
)
# make_artifacts(n=40) in 64-byte shards: 11 shards + model.json, a start and a done line each,
# then "saved". Lines 3-22 fall after the first shard went up and before model.json started.
_MID_SAVE, _LINES = range(3, 23), 25


@pytest.mark.slow
def test_killed_saves_never_leave_half_a_model(s3: Any, s3_server: dict[str, str]) -> None:
    url = f"s3://{BUCKET}/killed/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url)
    rng = random.Random(16)
    # Two kills surely mid-save, the rest anywhere: before the first shard, during a PUT, between
    # the commit and the cleanup, or never (the saver finishes first).
    points = [rng.choice(_MID_SAVE) for _ in range(2)] + [rng.randint(0, _LINES) for _ in range(4)]
    env = {**os.environ, **s3_server, "PYTHONPATH": os.getcwd()}
    for attempt, point in enumerate(points):
        proc = subprocess.Popen(
            [sys.executable, "-c", _SAVER, url, str(100 + attempt)], env=env, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        seen = [proc.stdout.readline().strip() for _ in range(point)]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        got = pyweb.load(url)  # whole: the model before, or (killed after the commit) the new one
        assert got.user_defined_metadata is not None
        seed = got.user_defined_metadata["seed"]
        want = make_artifacts(seed) if seed == 1 else make_artifacts(seed, n=40)
        assert_same_model(got, want)
        if "done model.json" in seen:
            assert seed == 100 + attempt
        elif "start model.json" not in seen:
            assert seed != 100 + attempt
        assert list(pyweb.list_models(f"s3://{BUCKET}/killed")) == [url]  # leftovers are never models
    assert len(_generations(s3, url)) > 1  # the mid-save kills left shards behind
    pyweb.save(make_artifacts(2), url, leftover_seconds=0)
    assert len(_generations(s3, url)) == 1
    assert_same_model(pyweb.load(url), make_artifacts(2))


def test_load_restarts_when_a_save_replaces_the_model_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"fsspec://memory://pyweb-tests/race{next(_ids)}"
    pyweb.save(make_artifacts(1), url)
    real = _object_io.SyncMover.read_into
    replaced: list[str] = []

    async def replace_before_first_shard(self: Any, key: str, view: memoryview) -> bool:
        if not replaced:  # sized already, but the save below deletes it before it is read
            replaced.append(key)
            pyweb.save(make_artifacts(2), url)
        return await real(self, key, view)

    monkeypatch.setattr(_object_io.SyncMover, "read_into", replace_before_first_shard)
    assert_same_model(pyweb.load(url), make_artifacts(2))
    assert replaced


def test_failed_save_removes_its_shards(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"s3://{BUCKET}/failed/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url)
    before = _keys(s3, url[5:])
    real = _object_io.AsyncMover.put
    calls = []

    async def fail_third(self: Any, key: str, views: list[memoryview]) -> None:
        calls.append(key)
        if len(calls) == 3:
            raise PermissionError(13, "Access Denied")
        await real(self, key, views)

    monkeypatch.setattr(_object_io.AsyncMover, "put", fail_third)
    with pytest.raises(StorageError) as info:
        pyweb.save(make_artifacts(2), url, shard_bytes=8, max_concurrency=1)
    assert info.value.url == url
    assert _keys(s3, url[5:]) == before


def test_a_commit_that_fails_on_the_way_back_keeps_the_new_model(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The store took model.json but the reply was lost: the save's shards must stay, the model loads.
    url = f"s3://{BUCKET}/lost-reply/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url)
    real = _object_io.AsyncMover.put

    async def lose_the_reply(self: Any, key: str, views: list[memoryview]) -> None:
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


def test_load_streams_every_shard_into_one_buffer(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"s3://{BUCKET}/streamed/m{next(_ids)}"
    pyweb.save(make_artifacts(1, n=40), url, shard_bytes=64)
    opened = []
    real_open = s3fs.S3FileSystem.open_async

    async def spy(self: Any, path: str, *args: Any, **kwargs: Any) -> Any:
        opened.append(path)
        return await real_open(self, path, *args, **kwargs)

    real_cat = s3fs.S3FileSystem._cat_file

    async def model_json_only(self: Any, path: str, *args: Any, **kwargs: Any) -> Any:
        assert path.endswith("model.json"), f"{path} read whole into bytes"
        return await real_cat(self, path, *args, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "open_async", spy)
    monkeypatch.setattr(s3fs.S3FileSystem, "_cat_file", model_json_only)
    got = pyweb.load(url)
    assert isinstance(got.weight_data, memoryview)  # one buffer, not a list of per-shard bytes
    assert len(opened) == 11 and all(p.endswith(".bin") for p in opened)
    assert_same_model(got, make_artifacts(1, n=40))


def test_backends_without_streamed_reads_read_ranges(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"s3://{BUCKET}/ranged/m{next(_ids)}"
    pyweb.save(make_artifacts(1, n=40), url, shard_bytes=64)
    ranges = []
    real_cat = s3fs.S3FileSystem._cat_file

    async def no_streams(self: Any, path: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError  # as fsspec's AsyncFileSystem.open_async

    async def spy(self: Any, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> Any:
        if not path.endswith("model.json"):
            ranges.append((start, end))
        return await real_cat(self, path, start=start, end=end, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "open_async", no_streams)
    monkeypatch.setattr(s3fs.S3FileSystem, "_cat_file", spy)
    monkeypatch.setattr(_object_io, "RANGE_CHUNK", 24)
    assert_same_model(pyweb.load(url), make_artifacts(1, n=40))
    assert (0, 24) in ranges and (24, 48) in ranges and (48, 64) in ranges
    assert all(start is not None and end is not None and end - start <= 24 for start, end in ranges)


# A ranged read of a grown object takes its first bytes: only integrity digests see that one.
@pytest.mark.parametrize(("streamed", "delta"), [(True, +3), (True, -3), (False, -3)])
def test_a_shard_replaced_while_read_is_corrupt(
    s3: Any, monkeypatch: pytest.MonkeyPatch, streamed: bool, delta: int
) -> None:
    url = f"s3://{BUCKET}/replaced/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url, shard_bytes=16)
    shard = next(k for k in _keys(s3, url[5:]) if k.endswith("shard2of6.bin"))
    if not streamed:

        async def no_streams(self: Any, path: str, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

        monkeypatch.setattr(s3fs.S3FileSystem, "open_async", no_streams)
    real = _object_io.AsyncMover.read_into

    async def replace_after_sizing(self: Any, key: str, view: memoryview) -> bool:
        if key.endswith(shard):  # sized already; another writer puts other bytes there now
            await self.fs._pipe_file(key, b"x" * (view.nbytes + delta))
        return await real(self, key, view)

    monkeypatch.setattr(_object_io.AsyncMover, "read_into", replace_after_sizing)
    with pytest.raises(CorruptModelError) as info:
        pyweb.load(url)
    assert info.value.part == shard


def test_integrity_digests_are_checked(s3: Any) -> None:
    url = f"s3://{BUCKET}/integrity/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url, shard_bytes=16, integrity=True)
    shard = next(k for k in _keys(s3, url[5:]) if k.endswith("shard2of6.bin"))
    data = bytearray(s3.cat_file(f"{url[5:]}/{shard}"))
    data[0] ^= 0xFF
    s3.pipe_file(f"{url[5:]}/{shard}", bytes(data))
    with pytest.raises(CorruptModelError) as info:
        pyweb.load(url)
    assert info.value.part == shard


def test_missing_shard_is_corrupt_not_not_found(s3: Any) -> None:
    url = f"s3://{BUCKET}/damaged/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url, shard_bytes=16)
    shard = next(k for k in _keys(s3, url[5:]) if k.endswith("shard3of6.bin"))
    s3.rm_file(f"{url[5:]}/{shard}")
    with pytest.raises(CorruptModelError) as info:
        pyweb.load(url)
    assert info.value.part == shard and not isinstance(info.value, FileNotFoundError)


def test_manifest_paths_outside_the_folder_are_refused(s3: Any) -> None:
    url = f"s3://{BUCKET}/escape/m{next(_ids)}"
    s3.pipe_file(f"{BUCKET}/escape/secret.bin", b"\0" * 4)
    doc = (
        b'{"modelTopology":{},"weightsManifest":[{"paths":["../secret.bin"],'
        b'"weights":[{"name":"w","shape":[1],"dtype":"float32"}]}]}'
    )
    s3.pipe_file(f"{url[5:]}/model.json", doc)
    with pytest.raises(CorruptModelError):
        pyweb.load(url)
    pyweb.remove_model(url)
    assert s3.exists(f"{BUCKET}/escape/secret.bin")


def test_save_leaves_foreign_objects_alone(s3: Any) -> None:
    url = f"s3://{BUCKET}/foreign/m{next(_ids)}"
    s3.pipe_file(f"{url[5:]}/README.txt", b"mine")
    pyweb.save(make_artifacts(1), url, leftover_seconds=0)
    pyweb.save(make_artifacts(2), url, leftover_seconds=0)
    pyweb.remove_model(url)
    assert _keys(s3, url[5:]) == ["README.txt"]


# -- options, schemes, errors ----------------------------------------------------------------


def test_storage_options_reach_the_filesystem(s3_server: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_async_twins_copy_move_list_remove(s3_server: dict[str, str]) -> None:
    src = f"memory://async{next(_ids)}"
    dst = f"s3://{BUCKET}/async/m{next(_ids)}"
    moved = f"s3://{BUCKET}/async/m{next(_ids)}"
    pyweb.save(make_artifacts(1), src)

    async def go() -> dict[str, Any]:
        await pyweb.acopy_model(src, dst)
        await pyweb.amove_model(dst, moved)
        listed = await pyweb.alist_models(f"s3://{BUCKET}/async")
        await pyweb.aremove_model(moved)
        return listed

    listed = asyncio.run(go())
    assert moved in listed and dst not in listed
    with pytest.raises(ModelNotFoundError):
        pyweb.load(moved)


@pytest.mark.parametrize("failure", ["save", "verify"])
def test_move_keeps_the_source_until_the_copy_is_verified(
    s3_server: dict[str, str], monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    src, dst = f"s3://{BUCKET}/move/m{next(_ids)}", f"s3://{BUCKET}/move/m{next(_ids)}"
    pyweb.save(make_artifacts(1), src, shard_bytes=32)
    real_put, real_read = _object_io.AsyncMover.put, _object_io.AsyncMover.read_into

    async def refuse_dst(self: Any, key: str, views: list[memoryview]) -> None:
        if key.startswith(dst[5:] + "/"):
            raise PermissionError(13, "Access Denied")
        await real_put(self, key, views)

    async def damage_dst(self: Any, key: str, view: memoryview) -> bool:
        done = await real_read(self, key, view)
        if key.startswith(dst[5:] + "/"):
            view[0] ^= 0xFF  # what a store returning other bytes than it was given would do
        return done

    if failure == "save":
        monkeypatch.setattr(_object_io.AsyncMover, "put", refuse_dst)
    else:
        monkeypatch.setattr(_object_io.AsyncMover, "read_into", damage_dst)
    with pytest.raises(StorageError if failure == "save" else CorruptModelError) as info:
        pyweb.move_model(src, dst)
    assert info.value.url == dst
    monkeypatch.undo()
    assert_same_model(pyweb.load(src), make_artifacts(1))
    pyweb.move_model(src, dst)
    assert_same_model(pyweb.load(dst), make_artifacts(1))
    with pytest.raises(ModelNotFoundError):
        pyweb.load(src)


def test_same_model_spelled_twice_is_refused(s3_server: dict[str, str]) -> None:
    url = f"s3://{BUCKET}/same/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url)
    with pytest.raises(pyweb.errors.InvalidURLError):
        pyweb.copy_model(url, url + "/model.json")


def test_cli_cp_and_ls(tmp_path: Path, s3_server: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    local = tmp_path / "m"
    pyweb.save(make_artifacts(1), f"file://{local}")
    url = f"s3://{BUCKET}/cli/m{next(_ids)}"
    assert main(["cp", f"file://{local}", url]) == 0
    assert main(["ls", f"s3://{BUCKET}/cli"]) == 0
    out = capsys.readouterr().out
    assert url in out
    assert main(["cp", url, str(tmp_path / "back")]) == 0
    assert_same_model(pyweb.load(f"file://{tmp_path / 'back'}"), make_artifacts(1))


def _without_aws_env(monkeypatch: pytest.MonkeyPatch, s3_server: dict[str, str]) -> None:
    for name in s3_server:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no wait for a metadata server


def test_cli_storage_options_reach_every_object_store_url(
    tmp_path: Path, s3_server: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_aws_env(monkeypatch, s3_server)
    local = tmp_path / "m"
    pyweb.save(make_artifacts(1), f"file://{local}")
    folder = f"s3://{BUCKET}/cli-options/f{next(_ids)}"
    url, moved = f"{folder}/m", f"{folder}/moved"
    flags = [
        "-o",
        f"endpoint_url={s3_server['AWS_ENDPOINT_URL']}",
        "-o",
        "key=testing",
        "-o",
        "secret=testing",
        "-o",
        "client_kwargs.region_name=us-east-1",
    ]
    as_json = [
        "--storage-options-json",
        json.dumps({"endpoint_url": s3_server["AWS_ENDPOINT_URL"], "key": "testing", "secret": "testing"}),
    ]
    assert main(["cp", str(local), url, *flags]) == 0  # the file:// side gets no storage options
    assert main(["ls", folder, *as_json]) == 0
    assert url in capsys.readouterr().out
    assert main(["inspect", url, *flags]) == 0
    assert "dense/kernel" in capsys.readouterr().out
    assert main(["mv", url, moved, *as_json]) == 0
    assert main(["convert", moved, str(tmp_path / "back"), *flags]) == 0
    assert_same_model(pyweb.load(f"file://{tmp_path / 'back'}"), make_artifacts(1))
    assert main(["rm", moved, *flags]) == 0
    capsys.readouterr()
    # -o goes on top of the JSON: a refused endpoint there is an error, so the options were used.
    assert main(["ls", folder, *as_json, "-o", "endpoint_url=http://127.0.0.1:9"]) == 1
    assert "pyweb: error:" in capsys.readouterr().err
    options = {"endpoint_url": s3_server["AWS_ENDPOINT_URL"], "key": "testing", "secret": "testing"}
    assert pyweb.list_models(folder, storage_options=options) == {}


@pytest.mark.parametrize(
    ("flag", "want"),
    [
        ("anon=true", {"anon": True}),
        ("max_concurrency=3", {"max_concurrency": 3}),
        ("endpoint_url=http://h:1", {"endpoint_url": "http://h:1"}),
        ('client_kwargs={"region_name": "x"}', {"client_kwargs": {"region_name": "x"}}),
        ("client_kwargs.region_name=x", {"client_kwargs": {"region_name": "x"}}),
        ("profile=", {"profile": ""}),
    ],
)
def test_cli_storage_option_values_are_json_when_they_parse(
    flag: str, want: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyweb import api

    seen: list[dict[str, Any]] = []

    def remove_model(url: str, **options: Any) -> None:
        seen.append(options)

    monkeypatch.setattr(api, "remove_model", remove_model)
    assert main(["rm", "fsspec://memory://x/m", "-o", flag]) == 0
    assert seen == [{"storage_options": want}]


@pytest.mark.parametrize(
    "bad",
    [
        ["-o", "novalue"],
        ["-o", "=1"],
        ["-o", "a..b=1"],
        ["--storage-options-json", "[1]"],
        ["--storage-options-json", "{"],
    ],
)
def test_cli_malformed_storage_options_are_usage_errors(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls", f"s3://{BUCKET}/x", *bad]) == 2
    assert "usage:" in capsys.readouterr().err


def test_fsspec_config_environment_variables_are_honoured(tmp_path: Path, s3_server: dict[str, str]) -> None:
    """fsspec's own FSSPEC_S3 (JSON) / FSSPEC_S3_<KEY> variables configure s3:// in a fresh process."""
    url = f"s3://{BUCKET}/fsspec-env/m{next(_ids)}"
    pyweb.save(make_artifacts(1), url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        PYTHONPATH=os.getcwd(),
        AWS_EC2_METADATA_DISABLED="true",
        FSSPEC_S3=json.dumps({"key": "testing", "secret": "testing"}),
        FSSPEC_S3_ENDPOINT_URL=s3_server["AWS_ENDPOINT_URL"],
    )
    out = subprocess.run(
        [sys.executable, "-m", "pyweb", "ls", f"s3://{BUCKET}/fsspec-env"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert url in out.stdout


def test_missing_backend_names_its_package() -> None:
    with pytest.raises(HandlerUnavailableError) as info:
        pyweb.load("gs://bucket/m")
    assert isinstance(info.value, ImportError)
    assert "gcsfs" in str(info.value)  # the package to install is the data this error carries


def test_without_fsspec_object_store_schemes_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_pyweb_schemes_keep_their_handlers() -> None:
    from pyweb.handlers.file import FileHandler
    from pyweb.handlers.memory import MemoryHandler
    from pyweb.handlers.object_store import FsspecHandler
    from pyweb.registry import get_factory

    assert get_factory("memory") is MemoryHandler
    assert get_factory("file") is FileHandler
    s3_handler = get_factory("s3")
    assert isinstance(s3_handler, type) and issubclass(s3_handler, FsspecHandler) and s3_handler.protocol == "s3"
