"""The CPython stand-ins for localStorage and IndexedDB keep the browsers' rules.

Numbers come from the measured browser facts (§1 localStorage quota, §2 and
§5 IndexedDB quota and auto-commit); the handler tests then run the same
contract against these stand-ins and, in the browser suite, the real stores.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import os

import numpy as np
import pytest

import pyweb
import pyweb.emulation
from pyweb import env
from pyweb.emulation import FakeIndexedDB, FakeLocalStorage, Origin, install, uninstall
from pyweb.emulation.local_storage import utf16_units
from pyweb.errors import CorruptModelError, QuotaExceededError, RuntimeUnavailableError, StorageError
from pyweb.testing.contract import assert_same_model

QUOTA = 5_242_880


@pytest.fixture(autouse=True)
def _restore_env():
    before = dict(env._installed)
    yield
    uninstall()
    env._installed.clear()
    env._installed.update(before)


def items(ls: FakeLocalStorage) -> dict[str, str]:
    return {ls.key(i): ls.getItem(ls.key(i)) for i in range(ls.length)}


def run(coro):
    return asyncio.run(coro)


# -- localStorage: quota -----------------------------------------------------------


@pytest.mark.parametrize("char", ["a", "\u00e9", "\u4e00"])
def test_bmp_characters_count_one_unit_and_the_key_counts(char):
    ls = FakeLocalStorage()
    ls.setItem("k", char * (QUOTA - 1))
    assert ls.remaining_units == 0
    with pytest.raises(QuotaExceededError):
        ls.setItem("x", "")  # a 1-unit key no longer fits
    ls.clear()
    long_key = "K" * 1000
    ls.setItem(long_key, char * (QUOTA - 1000))
    ls.clear()
    with pytest.raises(QuotaExceededError):
        ls.setItem(long_key, char * (QUOTA - 999))


def test_non_bmp_characters_count_two_units():
    ls = FakeLocalStorage()
    ls.setItem("k", "\U0001f600" * 2_621_439)  # the measured maximum under a 1-char key
    assert ls.used_units == QUOTA - 1
    ls.clear()
    with pytest.raises(QuotaExceededError):
        ls.setItem("k", "\U0001f600" * 2_621_440)


def test_many_keys_fill_exactly_the_quota():
    ls = FakeLocalStorage()
    for i in range(52):  # a 53rd would not fit
        ls.setItem(f"{i:02d}", "x" * 100_000)
    ls.setItem("top", "y" * (QUOTA - ls.used_units - 3))
    assert ls.used_units == QUOTA and ls.remaining_units == 0
    with pytest.raises(QuotaExceededError):
        ls.setItem("z", "")


def test_failed_set_item_leaves_the_store_unchanged():
    ls = FakeLocalStorage(quota_units=100)
    ls.setItem("a", "1" * 50)
    before = items(ls), ls.length, ls.used_units
    with pytest.raises(QuotaExceededError) as exc:
        ls.setItem("new", "2" * 60)
    assert (items(ls), ls.length, ls.used_units) == before
    assert ls.getItem("new") is None
    with pytest.raises(QuotaExceededError):
        ls.setItem("a", "3" * 100)  # a failed overwrite keeps the old value
    assert (items(ls), ls.length, ls.used_units) == before
    err = exc.value
    assert isinstance(err, StorageError) and isinstance(err, OSError)
    assert err.requested_bytes == 2 * (3 + 60)
    assert err.available_bytes == 2 * (100 - 51)


def test_overwrite_counts_only_the_new_value():
    ls = FakeLocalStorage(quota_units=100)
    ls.setItem("a", "x" * 90)
    ls.setItem("a", "y" * 99)  # fits only because the old value is freed
    assert ls.used_units == 100 and ls.getItem("a") == "y" * 99
    ls.setItem("a", "z")
    assert ls.used_units == 2
    ls.removeItem("a")
    assert ls.used_units == 0 and ls.remaining_units == 100


def test_lone_surrogates_are_stored_and_surrogate_pairs_join():
    ls = FakeLocalStorage(quota_units=10)
    ls.setItem("\ud800", "\udfff\ud800x")
    assert ls.getItem("\ud800") == "\udfff\ud800x"
    assert ls.used_units == 4
    ls.setItem("p", "\ud83d\ude00")  # two code points in Python, one pair in JS
    assert ls.getItem("p") == "\U0001f600"
    assert utf16_units("\U0001f600") == 2 and ls.used_units == 7


def test_all_code_units_round_trip():
    ls = FakeLocalStorage(quota_units=10**6)
    every = "".join(map(chr, range(0x10000)))
    ls.setItem("all", every)
    # "\udbff\udc00" in there is a pair: it reads back joined, as from Pyodide
    assert ls.getItem("all").encode("utf-16-le", "surrogatepass") == every.encode("utf-16-le", "surrogatepass")
    assert ls.used_units == 3 + 0x10000


# -- localStorage: API --------------------------------------------------------------


def test_key_order_is_insertion_order():
    ls = FakeLocalStorage()
    for k in ["zeta", "alpha", "mid", "b"]:
        ls.setItem(k, "v")
    ls.setItem("alpha", "again")  # an overwrite keeps its place
    ls.removeItem("mid")
    ls.setItem("mid", "back")  # removed and re-added: last
    assert [ls.key(i) for i in range(ls.length)] == ["zeta", "alpha", "b", "mid"]
    assert ls.key(-1) is None and ls.key(ls.length) is None  # no Python negative indexing


def test_hashed_key_order_is_stable_and_not_insertion():
    keys = [f"k{i}" for i in range(20)]
    a, b = FakeLocalStorage(key_order="hashed"), FakeLocalStorage(key_order="hashed")
    for k in keys:
        a.setItem(k, "v")
    for k in reversed(keys):
        b.setItem(k, "v")
    order = [a.key(i) for i in range(a.length)]
    assert order == [b.key(i) for i in range(b.length)]
    assert sorted(order) == sorted(keys) and order != keys


def test_get_remove_clear_and_string_coercion():
    ls = FakeLocalStorage()
    assert ls.getItem("missing") is None
    ls.removeItem("missing")
    ls.setItem("none", None)
    ls.setItem("t", True)
    ls.setItem("f", 1.0)
    ls.setItem("g", 1.5)
    ls.setItem(7, 2**53)
    assert items(ls) == {"none": "undefined", "t": "true", "f": "1", "g": "1.5", "7": str(2**53)}
    ls.clear()
    assert ls.length == 0 and ls.used_units == 0


@pytest.mark.parametrize("data", [b"", b"\x00", b"\xff\xfe", bytes(range(256)), os.urandom(1001)])
def test_base64_fast_paths_match_btoa(data):
    ls = FakeLocalStorage()
    ls.set_base64("w", memoryview(data))
    assert ls.getItem("w") == base64.b64encode(data).decode("ascii")  # padded, standard alphabet
    assert ls.get_base64("w") == data
    assert ls.get_base64("absent") is None


def test_get_base64_is_as_lenient_as_from_base64_and_no_more():
    ls = FakeLocalStorage()
    ls.setItem("loose", "AQI\n")  # whitespace ignored, padding optional
    assert ls.get_base64("loose") == b"\x01\x02"
    ls.setItem("bad", "not base64!")
    with pytest.raises(CorruptModelError):
        ls.get_base64("bad")


def test_persistence_round_trip(tmp_path):
    path = tmp_path / "ls" / "localStorage.json"
    a = FakeLocalStorage(persist_path=path)
    a.setItem("z", "\ud800 lone")
    a.setItem("a", "é\U0001f600")
    a.set_base64("w", b"\x00\x01\x02")
    a.removeItem("a")
    a.setItem("a", "back")
    b = FakeLocalStorage(persist_path=path)
    assert items(b) == items(a) and [b.key(i) for i in range(3)] == ["z", "w", "a"]
    assert b.used_units == a.used_units
    assert path.read_bytes().isascii()
    assert os.listdir(path.parent) == ["localStorage.json"]  # no temp files left
    with pytest.raises(QuotaExceededError):
        FakeLocalStorage(quota_units=5, persist_path=path).setItem("huge", "x" * 10)
    assert items(FakeLocalStorage(persist_path=path)) == items(a)


def test_unreadable_persisted_file_raises_storage_error(tmp_path):
    path = tmp_path / "ls.json"
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(StorageError):
        FakeLocalStorage(persist_path=path)


# -- origins and install -------------------------------------------------------------


def test_origins_are_normalized_and_separate():
    assert pyweb.emulation.normalize_origin("HTTP://LocalHost:80/path") == "http://localhost"
    assert Origin("http://127.0.0.1:8000/").url == "http://127.0.0.1:8000"
    a, b = Origin("http://127.0.0.1:8000"), Origin("http://127.0.0.1:8001")
    a.local_storage.setItem("k", "x" * (QUOTA - 1))  # each origin has its own full quota
    b.local_storage.setItem("k", "y" * (QUOTA - 1))
    assert a.local_storage.getItem("k")[0] == "x" and b.indexed_db is not a.indexed_db
    with pytest.raises(ValueError):
        Origin("127.0.0.1:8000")


def test_install_origins_and_persistence(tmp_path):
    with install(origin="http://127.0.0.1:8001", persist_dir=tmp_path) as em:
        em.local_storage.setItem("k", "v")
        assert em.origin.url == "http://127.0.0.1:8001"
    with install(origin="http://127.0.0.1:8002", persist_dir=tmp_path) as other:
        assert other.local_storage.getItem("k") is None
    with install(origin="http://127.0.0.1:8001/", persist_dir=tmp_path) as again:
        assert again.local_storage.getItem("k") == "v"
    assert os.listdir(tmp_path) == ["http_127.0.0.1_8001"]  # 8002 wrote nothing
    with install(origin=em.origin) as same:  # an Origin object: its very stores
        assert same.local_storage is em.local_storage
    with pytest.raises(TypeError):
        install(origin=em.origin, local_storage=FakeLocalStorage())


def test_install_sets_env_and_uninstall_restores():
    with pytest.raises(RuntimeUnavailableError, match=r"pyweb\.emulation\.install"):
        env.local_storage()
    em = install()
    assert env.local_storage() is em.local_storage and env.indexed_db() is em.indexed_db
    assert isinstance(em.local_storage, pyweb.types.StorageLike)
    assert isinstance(em.indexed_db, pyweb.types.IDBFactoryLike)
    em.uninstall()
    em.uninstall()  # idempotent
    with pytest.raises(RuntimeUnavailableError):
        env.indexed_db()


def test_context_manager_restores_the_previous_state():
    mine = FakeLocalStorage()
    with install(local_storage=mine) as outer:
        assert env.local_storage() is mine
        with install() as inner:
            assert env.local_storage() is inner.local_storage is not mine
        assert env.local_storage() is mine and env.indexed_db() is outer.indexed_db
    with pytest.raises(RuntimeUnavailableError):
        env.local_storage()


def test_module_uninstall_undoes_every_install():
    install()
    install()
    uninstall()
    with pytest.raises(RuntimeUnavailableError):
        env.local_storage()


def test_browser_schemes_need_install():
    with pytest.raises(RuntimeUnavailableError, match=r"pyweb\.emulation\.install"):
        pyweb.load("localstorage://x")
    with pytest.raises(RuntimeUnavailableError, match=r"pyweb\.emulation\.install"):
        pyweb.load("indexeddb://x")


# -- IndexedDB -------------------------------------------------------------------------


def make_store(db, old):
    db.create_object_store("s", key_path="id")


async def open_s(idb, version=1, upgrade=make_store):
    return await idb.open("db", version, upgrade)


async def committed(db):
    """Every record of store "s" a new readonly transaction sees, in key order."""
    tx = db.transaction("s")
    req = tx.get_all("s")
    await tx.complete()
    return req.result


def test_versioned_open_and_upgrade():
    async def go():
        idb = FakeIndexedDB()
        calls = []

        def up1(db, old):
            calls.append(old)
            db.create_object_store("b", key_path="id")
            db.create_object_store("a", key_path="id")
            with pytest.raises(StorageError) as exc:
                db.create_object_store("a", key_path="id")
            assert exc.value.name == "ConstraintError"

        db = await idb.open("db", 1, up1)
        assert calls == [0] and db.object_store_names == ["a", "b"]
        with pytest.raises(StorageError) as exc:
            db.create_object_store("c", key_path="id")  # only inside upgrade
        assert exc.value.name == "InvalidStateError"
        db.close()
        db = await idb.open("db", 1, up1)  # same version: no upgrade
        assert calls == [0]
        db = await idb.open("db", 2, lambda db, old: calls.append(old) or db.create_object_store("c", key_path="k"))
        assert calls == [0, 1] and db.object_store_names == ["a", "b", "c"] and db.version == 2
        with pytest.raises(StorageError) as exc:
            await idb.open("db", 1, up1)
        assert exc.value.name == "VersionError"
        with pytest.raises(TypeError):
            await idb.open("db", 0, up1)

    run(go())


def test_failed_upgrade_changes_nothing():
    async def go():
        idb = FakeIndexedDB()

        def bad(db, old):
            db.create_object_store("t", key_path="id")
            raise ValueError("boom")

        with pytest.raises(ValueError):
            await idb.open("db", 1, bad)
        assert idb.database_names() == []
        (await open_s(idb)).close()
        with pytest.raises(ValueError):
            await idb.open("db", 2, bad)
        db = await idb.open("db", 1, make_store)
        assert db.version == 1 and db.object_store_names == ["s"]

    run(go())


def test_async_upgrade_may_create_stores_only_before_it_awaits():
    async def go():
        async def up(db, old):
            db.create_object_store("early", key_path="id")
            await asyncio.sleep(0)
            db.create_object_store("late", key_path="id")

        with pytest.raises(StorageError) as exc:
            await FakeIndexedDB().open("db", 1, up)
        assert exc.value.name == "InvalidStateError"

    run(go())


def test_key_path_and_keys():
    async def go():
        db = await open_s(FakeIndexedDB())
        for bad in [{"no_id": 1}, {"id": None}, {"id": {"a": 1}}, "not a dict"]:
            tx = db.transaction(["s"], "readwrite")
            with pytest.raises(StorageError) as exc:
                tx.put("s", bad)
            assert exc.value.name == "DataError"
        tx = db.transaction(["s"], "readwrite")
        for key in ["b", "a", "10", "2", 10, 2, b"\x01", [1, "x"], "\uffff", "\U0001f600"]:
            tx.put("s", {"id": key})
        req = tx.get_all("s")
        await tx.complete()
        keys = [r["id"] for r in req.result]
        # numbers < strings (by UTF-16 code unit: U+1F600 is D83D.. < FFFF) < binary < arrays
        assert keys == [2, 10, "10", "2", "a", "b", "\U0001f600", "\uffff", b"\x01", [1, "x"]]

    run(go())


def test_values_are_structured_clones():
    async def go():
        db = await open_s(FakeIndexedDB())
        when = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        value = {
            "id": "a",
            "buf": bytearray(b"xy"),
            "view": memoryview(b"z"),
            "t": (1, 2.5),
            "when": when,
            "naive": dt.datetime(2024, 1, 1),
            "nested": {"list": [None, True, "é"]},
        }
        tx = db.transaction(["s"], "readwrite")
        tx.put("s", value)
        value["nested"]["list"].append("mutated after put")
        value["buf"][0] = 0
        await tx.complete()
        tx = db.transaction("s")
        got = tx.get("s", "a")
        await tx.complete()
        rec = got.result
        assert rec["buf"] == b"xy" and type(rec["buf"]) is bytes and rec["view"] == b"z"
        assert rec["t"] == [1, 2.5] and rec["nested"] == {"list": [None, True, "é"]}
        assert rec["when"] == when.replace(microsecond=123000) and rec["when"].tzinfo == dt.UTC
        assert rec["naive"] == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        rec["nested"]["list"].clear()  # a get hands out a copy too
        tx = db.transaction("s")
        again = tx.get("s", "a")
        await tx.complete()
        assert again.result["nested"]["list"] == [None, True, "é"]

    run(go())


@pytest.mark.parametrize("bad", [lambda: 1, object(), {1: "int key"}, {1, 2}, np.zeros(2), 2**60])
def test_uncloneable_values_raise_from_put_and_abort_the_transaction(bad):
    async def go():
        db = await open_s(FakeIndexedDB())
        tx = db.transaction(["s"], "readwrite")
        tx.put("s", {"id": "first"})
        with pytest.raises(StorageError) as exc:
            tx.put("s", {"id": "second", "v": bad})  # synchronously, from put itself
        assert exc.value.name == "DataCloneError"
        with pytest.raises(StorageError):
            await tx.complete()  # as pyweb.browser does: the first put does not commit alone
        assert await committed(db) == []

    run(go())


def test_readonly_scope_mode_and_closed_connection():
    async def go():
        db = await open_s(FakeIndexedDB())
        tx = db.transaction(["s"])
        with pytest.raises(StorageError) as exc:
            tx.put("s", {"id": 1})
        assert exc.value.name == "ReadOnlyError"
        with pytest.raises(StorageError) as exc:
            db.transaction(["nope"], "readwrite")
        assert exc.value.name == "NotFoundError"
        with pytest.raises(StorageError) as exc:
            db.transaction(["s"], "readwrite").get("other", 1)
        assert exc.value.name == "NotFoundError"
        with pytest.raises(TypeError):
            db.transaction(["s"], "versionchange")
        db.close()
        with pytest.raises(StorageError) as exc:
            db.transaction(["s"])
        assert exc.value.name == "InvalidStateError"

    run(go())


def test_abort_discards_every_write():
    async def go():
        db = await open_s(FakeIndexedDB())
        tx = db.transaction(["s"], "readwrite")
        tx.put("s", {"id": 1})
        tx.put("s", {"id": 2})
        tx.abort()
        with pytest.raises(StorageError) as exc:
            await tx.complete()
        assert exc.value.name == "AbortError"
        tx.abort()  # finished: nothing happens (as in pyweb.browser)
        assert await committed(db) == []

    run(go())


def test_request_result_is_valid_once_the_transaction_ran():
    async def go():
        db = await open_s(FakeIndexedDB())
        tx = db.transaction(["s"], "readwrite")
        tx.put("s", {"id": "k", "v": 1})
        req = tx.get("s", "k")  # reads see the transaction's own writes
        missing = tx.get("s", "nope")
        with pytest.raises(StorageError) as exc:
            _ = req.result
        assert exc.value.name == "InvalidStateError"
        await tx.complete()
        assert req.result == {"id": "k", "v": 1} and missing.result is None

    run(go())


def test_auto_commit_after_returning_to_the_loop():
    async def go():
        db = await open_s(FakeIndexedDB())
        tx = db.transaction(["s"], "readwrite")
        tx.put("s", {"id": 1})
        await asyncio.sleep(0)
        with pytest.raises(StorageError) as exc:
            tx.put("s", {"id": 2})
        assert exc.value.name == "TransactionInactiveError"
        await tx.complete()  # the first put committed on its own, as facts §5 saw
        tx = db.transaction(["s"], "readwrite")
        tx.put("s", {"id": 3})  # never awaited: still commits
        await asyncio.sleep(0)
        assert [r["id"] for r in await committed(db)] == [1, 3]

    run(go())


def test_transaction_made_outside_a_loop_commits_on_complete():
    idb = FakeIndexedDB()
    db = run(open_s(idb))
    tx = db.transaction(["s"], "readwrite")
    tx.put("s", {"id": "x", "b": b"123"})
    run(tx.complete())
    assert idb.usage_bytes > 0


def rec(key, nbytes):
    return {"id": key, "data": bytes(nbytes)}


def test_quota_is_checked_at_commit_all_or_nothing():
    async def go():
        idb = FakeIndexedDB()
        db = await open_s(idb)
        tx = db.transaction(["s"], "readwrite")
        tx.put("s", rec("a", 1000))
        await tx.complete()
        base = idb.usage_bytes
        idb.quota_bytes = base + 600
        tx = db.transaction(["s"], "readwrite")
        first, second = tx.put("s", rec("b", 100)), tx.put("s", rec("c", 1000))
        with pytest.raises(QuotaExceededError) as exc:
            await tx.complete()
        err = exc.value
        assert err.name == "QuotaExceededError" and isinstance(err, StorageError)
        assert err.requested_bytes > err.available_bytes == 600
        # As in Chromium, the requests themselves succeeded; only the transaction aborted.
        assert first.error is None and first.result == "b" and second.result == "c"
        assert idb.usage_bytes == base  # nothing of it was committed
        tx = db.transaction(["s"], "readwrite")
        tx.put("s", rec("a", 1500))  # an overwrite counts only its growth
        await tx.complete()
        assert idb.usage_bytes == base + 500
        assert (await idb.estimate()) == {"usage": base + 500, "quota": base + 600}
        idb.quota_bytes = 10  # over quota: what frees room still commits
        tx = db.transaction(["s"], "readwrite")
        tx.put("s", rec("a", 1400))
        await tx.complete()
        tx = db.transaction(["s"], "readwrite")
        tx.delete("s", "a")
        await tx.complete()
        assert idb.usage_bytes == 0

    run(go())


def test_bytes_count_exactly_against_the_quota():
    async def go():
        idb = FakeIndexedDB()
        db = await open_s(idb)
        empty = rec("a", 0)
        idb.quota_bytes = pyweb.emulation._clone.size_of(empty) + 4096
        tx = db.transaction(["s"], "readwrite")
        tx.put("s", rec("a", 4097))
        with pytest.raises(QuotaExceededError):
            await tx.complete()
        tx = db.transaction(["s"], "readwrite")
        tx.put("s", rec("a", 4096))
        await tx.complete()
        assert idb.usage_bytes == idb.quota_bytes

    run(go())


def test_delete_database_closes_connections_unless_they_refuse():
    async def go():
        idb = FakeIndexedDB()
        db = await open_s(idb)
        await idb.delete_database("db")
        assert idb.database_names() == []
        with pytest.raises(StorageError):
            db.transaction(["s"])  # closed by its versionchange handler
        stubborn = await open_s(idb)
        stubborn.onversionchange = None
        with pytest.raises(StorageError) as exc:
            await idb.delete_database("db")
        assert exc.value.name == "InvalidStateError"  # "blocked", as pyweb.browser reports it
        with pytest.raises(StorageError):
            await idb.open("db", 2, make_store)
        stubborn.close()
        await idb.delete_database("db")
        await idb.delete_database("never existed")

    run(go())


def test_indexed_db_persistence_round_trip(tmp_path):
    path = tmp_path / "idb.json"

    async def write():
        db = await FakeIndexedDB(persist_path=path).open("db", 3, make_store)
        tx = db.transaction(["s"], "readwrite")
        tx.put(
            "s",
            {
                "id": "m",
                "w": os.urandom(33),
                "d": dt.datetime(2020, 1, 2, tzinfo=dt.UTC),
                "l": [1, "\ud800", {"x": None}],
                "o": {"l": ["o"]},
            },
        )
        r = tx.get("s", "m")
        await tx.complete()
        return r.result

    async def read():
        idb = FakeIndexedDB(persist_path=path)
        db = await idb.open("db", 3, None)
        tx = db.transaction("s")
        r = tx.get("s", "m")
        await tx.complete()
        return r.result, idb.usage_bytes

    want = run(write())
    got, usage = run(read())
    assert got == want and usage > 33


# -- the handlers against the stand-ins: quota sweeps ---------------------------------


def _model(n: int, seed: int) -> pyweb.ModelArtifacts:
    data, specs = pyweb.encode_weights({"w": np.random.default_rng(seed).standard_normal(n).astype(np.float32)})
    return pyweb.ModelArtifacts(model_topology={"n": n}, weight_specs=specs, weight_data=data, format="layers-model")


def _sweep(url, state, *, lo, hi):
    """Saves of many sizes around the limit: each whole or QuotaExceededError, the old model kept."""
    base = _model(4, 0)
    pyweb.save(base, url)

    def attempt(n):
        before = state()
        want = _model(n, n)
        try:
            pyweb.save(want, url)
        except QuotaExceededError as exc:
            assert exc.requested_bytes is not None
            assert state() == before  # no stray keys or records, nothing changed
            assert_same_model(pyweb.load(url), base)
            return False
        assert_same_model(pyweb.load(url), want)
        pyweb.save(base, url)  # same starting point for the next size
        return True

    while hi - lo > 1:  # find the largest size that fits
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if attempt(mid) else (lo, mid)
    outcomes = [attempt(n) for n in range(lo - 12, lo + 13)]
    assert outcomes == [True] * 13 + [False] * 12


def test_local_storage_quota_sweep():
    with install(local_storage=FakeLocalStorage(quota_units=60_000)) as em:
        em.local_storage.setItem("someone else's key", "x" * 1000)
        _sweep("localstorage://sweep/m", lambda: items(em.local_storage), lo=1, hi=20_000)


def test_indexed_db_quota_sweep():
    with install(indexed_db=FakeIndexedDB(quota_bytes=100_000)) as em:

        async def snapshot():
            db = await em.indexed_db.open("tensorflowjs", 1, None)
            tx = db.transaction(db.object_store_names)
            reqs = {name: tx.get_all(name) for name in db.object_store_names}
            await tx.complete()
            db.close()
            return {name: r.result for name, r in reqs.items()}

        _sweep("indexeddb://sweep/m", lambda: run(snapshot()), lo=1, hi=40_000)
