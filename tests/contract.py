"""HandlerContract: the behaviour every pyweb handler must show.

A test module subclasses it and provides the ``url`` fixture (a fresh model
URL per test) and, where the scheme can do it, ``fail_next_save`` (a callable
that makes the next save of that URL fail part-way, to check nothing is lost).
The same class runs against the browser stores later, which keeps the
CPython stand-ins honest.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

import pyweb
import pyweb.env
from pyweb.errors import ModelNotFoundError


def run_coro(coro):
    """Run a coroutine to completion from a sync test, in CPython or in Pyodide (JSPI)."""
    if pyweb.env.IN_PYODIDE:
        from pyodide.ffi import run_sync

        return run_sync(coro)
    return asyncio.run(coro)


def make_artifacts(seed: int = 0, *, n: int = 3) -> pyweb.ModelArtifacts:
    rng = np.random.default_rng(seed)
    arrays = {
        "dense/kernel": rng.standard_normal((n, 4)).astype(np.float32),
        "dense/bias": np.arange(4, dtype=np.int32) - seed,
        "flags": np.array([True, False, True]),
        "words": np.array(["", "héllo", "正常"]),
    }
    data, specs = pyweb.encode_weights(arrays)
    return pyweb.ModelArtifacts(
        model_topology={"class_name": "Sequential", "config": {"name": f"m{seed}", "layers": []}},
        weight_specs=specs,
        weight_data=data,
        format="layers-model",
        generated_by="pyweb tests",
        converted_by=None,
        user_defined_metadata={"seed": seed, "note": "ünïcode"},
    )


def assert_same_model(got: pyweb.ModelArtifacts, want: pyweb.ModelArtifacts) -> None:
    assert got.model_topology == want.model_topology
    assert got.weight_specs == want.weight_specs
    assert bytes(got.weight_bytes()) == bytes(want.weight_bytes())
    assert got.format == want.format
    assert got.generated_by == want.generated_by
    assert got.converted_by == want.converted_by
    assert got.user_defined_metadata == want.user_defined_metadata


class HandlerContract:
    """Subclass with a ``url`` fixture; override ``can_list`` if the scheme lists."""

    can_list = True

    def test_round_trip_keeps_bytes_and_metadata(self, url):
        want = make_artifacts(1)
        result = pyweb.save(want, url)
        assert result.model_artifacts_info.weight_data_bytes == want.weight_bytes().nbytes
        assert_same_model(pyweb.load(url), want)

    def test_async_twins_round_trip(self, url):
        want = make_artifacts(2)

        async def go():
            await pyweb.asave(want, url)
            return await pyweb.aload(url)

        assert_same_model(run_coro(go()), want)

    def test_decoded_weights_match(self, url):
        want = make_artifacts(3)
        pyweb.save(want, url)
        got = pyweb.load(url)
        a = pyweb.decode_weights(got.weight_data, got.weight_specs)
        b = pyweb.decode_weights(want.weight_data, want.weight_specs)
        assert list(a) == list(b)
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
            assert a[name].dtype == b[name].dtype

    def test_overwrite_replaces_model(self, url):
        pyweb.save(make_artifacts(4), url)
        want = make_artifacts(5, n=6)
        pyweb.save(want, url)
        assert_same_model(pyweb.load(url), want)

    def test_missing_model_raises_not_found(self, missing_url):
        with pytest.raises(ModelNotFoundError):
            pyweb.load(missing_url)
        with pytest.raises(FileNotFoundError):  # the builtin parent works too
            pyweb.load(missing_url)

    def test_model_without_weights(self, url):
        want = pyweb.ModelArtifacts(model_topology={"t": 1}, weight_specs=[], weight_data=b"", format="layers-model")
        pyweb.save(want, url)
        got = pyweb.load(url)
        assert got.model_topology == {"t": 1}
        assert (got.weight_specs or []) == []
        assert bytes(got.weight_bytes()) == b""

    def test_failed_save_keeps_previous_model(self, url, fail_next_save):
        old = make_artifacts(6)
        pyweb.save(old, url)
        fail_next_save()
        with pytest.raises(OSError):  # StorageError and its kin, not a broken test double
            pyweb.save(make_artifacts(7, n=9), url)
        assert_same_model(pyweb.load(url), old)

    def test_list_and_remove(self, url, list_url):
        if not self.can_list:
            pytest.skip("this scheme cannot list models")
        pyweb.save(make_artifacts(8), url)
        listed = pyweb.list_models(list_url)
        assert url in listed
        assert listed[url].weight_data_bytes == make_artifacts(8).weight_bytes().nbytes
        info = pyweb.remove_model(url)
        assert info.weight_data_bytes == listed[url].weight_data_bytes
        assert url not in pyweb.list_models(list_url)
        with pytest.raises(ModelNotFoundError):
            pyweb.load(url)
        with pytest.raises(ModelNotFoundError):
            pyweb.remove_model(url)
