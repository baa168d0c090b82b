"""localstorage:// against the CPython stand-in (the browser suite runs the same contract)."""

from __future__ import annotations

import itertools

import pytest

import pyweb
from pyweb.emulation import FakeLocalStorage, install
from pyweb.handlers.local_storage import LocalStorageHandler, model_keys
from pyweb.testing.contract import HandlerContract, assert_same_model, make_artifacts

_ids = itertools.count()


@pytest.fixture(autouse=True, params=["insertion", "hashed"])
def emulation(request):
    # "hashed" enumerates keys in an order unrelated to insertion, as browsers do.
    with install(local_storage=FakeLocalStorage(key_order=request.param)) as em:
        yield em


@pytest.fixture
def url():
    return f"localstorage://models/m{next(_ids)}"


class TestLocalStorage(HandlerContract):
    @pytest.fixture
    def model_url(self):
        folder = f"localstorage://models/t{next(_ids)}"
        return lambda name: f"{folder}/{name}"

    @pytest.fixture
    def list_url(self):
        return "localstorage://"

    @pytest.fixture
    def fail_next_save(self, emulation):
        """Fill the store to the last unit, so any save that needs more room fails for real."""
        ls = emulation.local_storage

        def arm():
            filler = "pyweb-test-filler"
            ls.setItem(filler, "f" * (ls.remaining_units - len(filler)))
            assert ls.remaining_units == 0

        return arm


def test_keys_are_tfjs_keys_and_nothing_else(emulation, url):
    ls = emulation.local_storage
    pyweb.save(make_artifacts(1), url)
    path = url.removeprefix("localstorage://")
    assert {ls.key(i) for i in range(ls.length)} == set(model_keys(path).values())


def test_quota_error_and_rollback_restore_the_store_exactly(emulation, url):
    ls = emulation.local_storage
    pyweb.save(make_artifacts(1), url)
    ls.setItem("other", "x" * (ls.remaining_units - 5 - 100))
    before = {ls.key(i): ls.getItem(ls.key(i)) for i in range(ls.length)}
    with pytest.raises(pyweb.errors.QuotaExceededError) as exc:
        pyweb.save(make_artifacts(2, n=50), url)
    assert exc.value.url == url and exc.value.requested_bytes > exc.value.available_bytes >= 0
    assert {ls.key(i): ls.getItem(ls.key(i)) for i in range(ls.length)} == before
    assert_same_model(pyweb.load(url), make_artifacts(1))


def test_explicit_storage_bypasses_env():
    ls = FakeLocalStorage()
    handler = LocalStorageHandler("direct", storage=ls)
    pyweb.save(make_artifacts(3), handler)
    assert ls.length == 5
    assert_same_model(pyweb.load(LocalStorageHandler("direct", storage=ls)), make_artifacts(3))
