"""The handler contract: the behaviour every pyweb scheme must show, as pytest classes.

pyweb's own schemes run these tests in CPython (against ``pyweb.emulation``) and in
the browser page (against the real stores); a third-party handler's test suite runs
the same ones by subclassing. The classes hold tests and *abstract fixtures*: a
subclass overrides the fixtures that say where its models live and how to break a
save, and inherits every test.

Fixtures a subclass must override (the defaults raise ``NotImplementedError``):

``model_url``
    A callable ``name -> URL``: the URL of the model called ``name``, in a place
    no other test uses (a fresh folder, prefix or bucket path per test).
``list_url`` (only for :class:`StoreTests`)
    The URL whose ``pyweb.list_models`` listing shows the models of ``model_url``,
    spelled as ``model_url`` spells them.
``fail_next_save`` (only for :class:`OverwriteTests`)
    A callable that arms a real failure part-way through the next save (a full
    quota, a write error after the first file, a broken upload); the save must
    then raise an ``OSError`` (pyweb's ``StorageError`` and its kin are ones).

Fixtures with defaults a subclass may override:

``url`` / ``missing_url``
    ``model_url("model")`` and ``model_url("missing")`` (never saved).
``call_style``
    ``"sync"`` (``pyweb.save``/``load``/...) and ``"async"`` (the a-twins, run to
    completion; needs a runtime that can block: CPython outside a running loop, or
    Pyodide with JSPI). Every test runs once per style, calling pyweb through the
    ``verbs`` fixture (a :class:`PublicVerbs`); override ``call_style`` with a fixture
    returning one style to run only that one.
``load_from``
    A callable mapping a saved URL to what ``pyweb.load`` reads it back from
    (default: the URL itself; a save-only scheme maps it to a load handler).

The classes, to combine as the scheme allows (:class:`HandlerContract` is all four):

- :class:`RoundTripTests`: what is saved loads back, bytes and metadata alike;
- :class:`MissingModelTests`: loading nothing raises ``ModelNotFoundError``;
- :class:`OverwriteTests`: a save replaces the model; a failed save keeps the old one;
- :class:`StoreTests`: ``list_models``/``remove_model`` see and remove exactly the
  models saved.

The contract needs pytest and numpy, nothing else: no pyweb plugin, no conftest.

Examples
--------
A package whose handler serves ``vault://`` tests it in its own suite (with an entry
point in group ``pyweb.handlers`` the registration fixture is not needed)::

    import itertools
    import pytest
    import pyweb
    from pyweb.testing.contract import HandlerContract

    _ids = itertools.count()

    class TestVault(HandlerContract):
        @pytest.fixture(autouse=True)
        def _registered(self):
            pyweb.register_handler("vault", "mypkg.vault:VaultHandler")
            yield
            pyweb.unregister_handler("vault")

        @pytest.fixture
        def model_url(self):
            folder = f"vault://tests/t{next(_ids)}"
            return lambda name: f"{folder}/{name}"

        @pytest.fixture
        def list_url(self):
            return "vault://tests"

        @pytest.fixture
        def fail_next_save(self, monkeypatch):
            def arm():
                monkeypatch.setattr("mypkg.vault.write_blob", broken_write)  # raises OSError
            return arm
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar, cast

import numpy as np
import pytest

import pyweb
from pyweb._run import run_sync
from pyweb.errors import ModelNotFoundError

__all__ = [
    "CALL_STYLES",
    "HandlerContract",
    "HandlerFixtures",
    "MissingModelTests",
    "OverwriteTests",
    "PublicVerbs",
    "RoundTripTests",
    "StoreTests",
    "assert_same_model",
    "make_artifacts",
]

#: The ways a test calls pyweb: the sync verbs, or their async twins run to completion.
CALL_STYLES = ("sync", "async")

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def make_artifacts(seed: int = 0, *, n: int = 3) -> pyweb.ModelArtifacts:
    """A small model whose topology, weights (four dtypes) and metadata depend on ``seed``.

    Parameters
    ----------
    seed
        Varies the weights and the metadata, so two models differ.
    n
        Rows of the float32 kernel: a larger ``n`` needs more room to save.

    Returns
    -------
    pyweb.ModelArtifacts
        Artifacts with float32, int32, bool and string weights and unicode metadata.
    """
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
    """Assert two artifacts hold the same topology, specs, weight bytes and metadata."""
    assert got.model_topology == want.model_topology
    assert got.weight_specs == want.weight_specs
    assert bytes(got.weight_bytes()) == bytes(want.weight_bytes())
    assert got.format == want.format
    assert got.generated_by == want.generated_by
    assert got.converted_by == want.converted_by
    assert got.user_defined_metadata == want.user_defined_metadata


class PublicVerbs:
    """pyweb's public verbs called in one style: ``"sync"``, or ``"async"`` (the a-twins).

    Examples
    --------
    >>> verbs = PublicVerbs("async")
    >>> verbs.save(make_artifacts(), "memory://doc/m").model_artifacts_info.weight_data_bytes
    91
    >>> verbs.load("memory://doc/m").user_defined_metadata
    {'seed': 0, 'note': 'ünïcode'}
    """

    def __init__(self, style: str) -> None:
        if style not in CALL_STYLES:
            raise ValueError(f"call style {style!r} is not one of {CALL_STYLES}")
        self.style = style

    def save(self, artifacts: pyweb.ModelArtifacts, url: str | pyweb.Handler) -> pyweb.SaveResult:
        if self.style == "sync":
            return pyweb.save(artifacts, url)
        return self._run(pyweb.asave(artifacts, url), "asave")

    def load(self, url: str | pyweb.Handler) -> pyweb.ModelArtifacts:
        if self.style == "sync":
            return pyweb.load(url)
        return self._run(pyweb.aload(url), "aload")

    def list_models(self, url: str) -> dict[str, pyweb.ModelArtifactsInfo]:
        if self.style == "sync":
            return pyweb.list_models(url)
        return self._run(pyweb.alist_models(url), "alist_models")

    def remove_model(self, url: str) -> pyweb.ModelArtifactsInfo:
        if self.style == "sync":
            return pyweb.remove_model(url)
        return self._run(pyweb.aremove_model(url), "aremove_model")

    @staticmethod
    def _run(coro: Coroutine[Any, Any, T], twin: str) -> T:
        return run_sync(coro, twin=twin)


def _fixture(*, params: Sequence[str] | None = None) -> Callable[[F], F]:
    # pytest.fixture, typed where mypy runs without pytest's own annotations.
    return cast("Callable[[F], F]", pytest.fixture(params=params))


def _override(name: str) -> NotImplementedError:
    return NotImplementedError(f"the handler contract needs the fixture {name!r}: override it in your test class")


class HandlerFixtures:
    """The contract's fixtures: override the abstract ones in a subclass (see the module docstring)."""

    @_fixture()
    def model_url(self) -> Callable[[str], str]:
        """``name -> URL`` of that model, in a place no other test uses."""
        raise _override("model_url")

    @_fixture()
    def list_url(self) -> str:
        """The URL whose listing shows the models of ``model_url``."""
        raise _override("list_url")

    @_fixture()
    def fail_next_save(self) -> Callable[[], None]:
        """Arms a real failure part-way through the next save."""
        raise _override("fail_next_save")

    @_fixture()
    def url(self, model_url: Callable[[str], str]) -> str:
        """A fresh model URL."""
        return model_url("model")

    @_fixture()
    def missing_url(self, model_url: Callable[[str], str]) -> str:
        """A model URL nothing is saved at."""
        return model_url("missing")

    @_fixture(params=CALL_STYLES)
    def call_style(self, request: pytest.FixtureRequest) -> str:
        """``"sync"`` or ``"async"``: each test that takes it runs in both."""
        style: str = request.param
        return style

    @_fixture()
    def verbs(self, call_style: str) -> PublicVerbs:
        """pyweb's verbs in this test's call style."""
        return PublicVerbs(call_style)

    @_fixture()
    def load_from(self) -> Callable[[str], str | pyweb.Handler]:
        """Maps a saved URL to what ``pyweb.load`` reads it back from."""
        return _same


def _same(url: str) -> str:
    return url


class RoundTripTests(HandlerFixtures):
    """What is saved loads back: weights byte for byte, topology and metadata unchanged."""

    def test_round_trip_keeps_bytes_and_metadata(
        self, url: str, verbs: PublicVerbs, load_from: Callable[[str], str | pyweb.Handler]
    ) -> None:
        want = make_artifacts(1)
        result = verbs.save(want, url)
        assert result.model_artifacts_info.weight_data_bytes == want.weight_bytes().nbytes
        assert_same_model(verbs.load(load_from(url)), want)

    def test_decoded_weights_match(
        self, url: str, verbs: PublicVerbs, load_from: Callable[[str], str | pyweb.Handler]
    ) -> None:
        want = make_artifacts(3)
        verbs.save(want, url)
        got = verbs.load(load_from(url))
        assert got.weight_data is not None and got.weight_specs is not None
        assert want.weight_data is not None and want.weight_specs is not None
        a = pyweb.decode_weights(got.weight_data, got.weight_specs)
        b = pyweb.decode_weights(want.weight_data, want.weight_specs)
        assert list(a) == list(b)
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
            assert a[name].dtype == b[name].dtype

    def test_model_without_weights(
        self, url: str, verbs: PublicVerbs, load_from: Callable[[str], str | pyweb.Handler]
    ) -> None:
        want = pyweb.ModelArtifacts(model_topology={"t": 1}, weight_specs=[], weight_data=b"", format="layers-model")
        verbs.save(want, url)
        got = verbs.load(load_from(url))
        assert got.model_topology == {"t": 1}
        assert (got.weight_specs or []) == []
        assert bytes(got.weight_bytes()) == b""


class MissingModelTests(HandlerFixtures):
    """Loading where nothing was saved raises ModelNotFoundError, a FileNotFoundError."""

    def test_missing_model_raises_not_found(self, missing_url: str, verbs: PublicVerbs) -> None:
        with pytest.raises(ModelNotFoundError):
            verbs.load(missing_url)
        with pytest.raises(FileNotFoundError):  # the builtin parent works too
            verbs.load(missing_url)


class OverwriteTests(HandlerFixtures):
    """A save replaces the model at its URL; a save that fails keeps the one before."""

    def test_overwrite_replaces_model(self, url: str, verbs: PublicVerbs) -> None:
        verbs.save(make_artifacts(4), url)
        want = make_artifacts(5, n=6)
        verbs.save(want, url)
        assert_same_model(verbs.load(url), want)

    def test_failed_save_keeps_previous_model(
        self, url: str, verbs: PublicVerbs, fail_next_save: Callable[[], None]
    ) -> None:
        old = make_artifacts(6)
        verbs.save(old, url)
        fail_next_save()
        with pytest.raises(OSError):  # StorageError and its kin, not a broken test double
            verbs.save(make_artifacts(7, n=9), url)
        assert_same_model(verbs.load(url), old)


class StoreTests(HandlerFixtures):
    """``list_models`` and ``remove_model`` see and remove exactly the models saved."""

    def test_list_and_remove(self, url: str, list_url: str, verbs: PublicVerbs) -> None:
        verbs.save(make_artifacts(8), url)
        listed = verbs.list_models(list_url)
        assert url in listed
        assert listed[url].weight_data_bytes == make_artifacts(8).weight_bytes().nbytes
        info = verbs.remove_model(url)
        assert info.weight_data_bytes == listed[url].weight_data_bytes
        assert url not in verbs.list_models(list_url)
        with pytest.raises(ModelNotFoundError):
            verbs.load(url)
        with pytest.raises(ModelNotFoundError):
            verbs.remove_model(url)

    def test_models_side_by_side_stay_apart(
        self, model_url: Callable[[str], str], list_url: str, verbs: PublicVerbs
    ) -> None:
        first, second = model_url("first"), model_url("second")
        verbs.save(make_artifacts(9), first)
        verbs.save(make_artifacts(10, n=5), second)
        listed = verbs.list_models(list_url)
        assert listed[first].weight_data_bytes == make_artifacts(9).weight_bytes().nbytes
        assert listed[second].weight_data_bytes == make_artifacts(10, n=5).weight_bytes().nbytes
        verbs.remove_model(first)
        assert_same_model(verbs.load(second), make_artifacts(10, n=5))
        assert first not in verbs.list_models(list_url)


class HandlerContract(RoundTripTests, MissingModelTests, OverwriteTests, StoreTests):
    """The whole contract, for a scheme that saves, loads, lists and removes models."""
