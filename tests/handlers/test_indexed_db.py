"""indexeddb:// against the CPython stand-in (the browser suite runs the same contract)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

import pyweb
from pyweb.emulation import FakeIndexedDB, install
from pyweb.errors import QuotaExceededError
from pyweb.handlers.indexed_db import INFO_STORE, MODELS_STORE, IndexedDBHandler
from pyweb.testing.contract import HandlerContract, assert_same_model, make_artifacts

_ids = itertools.count()


@pytest.fixture(autouse=True)
def emulation():
    with install() as em:
        yield em


@pytest.fixture
def url():
    return f"indexeddb://models/m{next(_ids)}"


class TestIndexedDB(HandlerContract):
    @pytest.fixture
    def model_url(self):
        folder = f"indexeddb://models/t{next(_ids)}"
        return lambda name: f"{folder}/{name}"

    @pytest.fixture
    def list_url(self):
        return "indexeddb://"

    @pytest.fixture
    def fail_next_save(self, emulation):
        """A quota one byte above what is stored: the next, larger save aborts at commit."""
        idb = emulation.indexed_db

        def arm():
            idb.quota_bytes = idb.usage_bytes + 1

        return arm


async def records(idb):
    db = await idb.open("tensorflowjs", 1, None)
    tx = db.transaction([MODELS_STORE, INFO_STORE])
    reqs = tx.get_all(MODELS_STORE), tx.get_all(INFO_STORE)
    await tx.complete()
    db.close()
    return [r.result for r in reqs]


def test_records_are_tfjs_records(emulation, url):
    pyweb.save(make_artifacts(1), url)
    models, infos = asyncio.run(records(emulation.indexed_db))
    path = url.removeprefix("indexeddb://")
    assert [m["modelPath"] for m in models] == [path] and [i["modelPath"] for i in infos] == [path]
    assert type(models[0]["modelArtifacts"]["weightData"]) is bytes
    assert models[0]["modelArtifactsInfo"] == infos[0]["modelArtifactsInfo"]


def test_quota_abort_keeps_both_stores_unchanged(emulation, url):
    idb = emulation.indexed_db
    pyweb.save(make_artifacts(1), url)
    before = asyncio.run(records(idb))
    idb.quota_bytes = idb.usage_bytes + 10
    with pytest.raises(QuotaExceededError) as exc:
        pyweb.save(make_artifacts(2, n=50), url)
    # the room counts what the overwrite would free, so it is more than the 10 spare bytes
    assert exc.value.url == url and exc.value.available_bytes > 10 and exc.value.requested_bytes > 0
    assert asyncio.run(records(idb)) == before
    assert_same_model(pyweb.load(url), make_artifacts(1))


def test_handler_leaves_no_connection_open(emulation, url, monkeypatch):
    idb = emulation.indexed_db
    opened, real_open = [], idb.open

    async def open_and_keep(*args):
        opened.append(await real_open(*args))
        return opened[-1]

    monkeypatch.setattr(idb, "open", open_and_keep)
    pyweb.save(make_artifacts(1), url)
    pyweb.load(url)
    pyweb.list_models("indexeddb://")
    pyweb.remove_model(url)
    assert len(opened) == 5
    for conn in opened:  # a connection left open would now block the deletion, not close itself
        conn.onversionchange = None
    asyncio.run(idb.delete_database("tensorflowjs"))
    assert idb.database_names() == []


def test_async_inside_a_running_loop(url):
    async def go():
        await pyweb.asave(make_artifacts(4), url)
        return await pyweb.aload(url)

    assert_same_model(asyncio.run(go()), make_artifacts(4))


def test_explicit_factory_bypasses_env():
    idb = FakeIndexedDB()
    pyweb.save(make_artifacts(3), IndexedDBHandler("direct", factory=idb))
    assert_same_model(pyweb.load(IndexedDBHandler("direct", factory=idb)), make_artifacts(3))
    assert idb.database_names() == ["tensorflowjs"]
