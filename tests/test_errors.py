from __future__ import annotations

import inspect
import pickle

import pytest

from pyweb import errors


def all_errors():
    return [obj for _, obj in inspect.getmembers(errors, inspect.isclass) if issubclass(obj, errors.PyWebError)]


def all_warnings():
    return [obj for _, obj in inspect.getmembers(errors, inspect.isclass) if issubclass(obj, errors.PyWebWarning)]


def test_all_lists_every_error_and_warning():
    assert sorted(errors.__all__) == sorted(c.__name__ for c in all_errors() + all_warnings())


@pytest.mark.parametrize(
    "cls, builtin",
    [
        (errors.InvalidURLError, ValueError),
        (errors.SchemeError, LookupError),
        (errors.HandlerUnavailableError, ImportError),
        (errors.OperationNotSupportedError, NotImplementedError),
        (errors.RuntimeUnavailableError, RuntimeError),
        (errors.SyncUnavailableError, RuntimeError),
        (errors.StorageError, OSError),
        (errors.ModelNotFoundError, FileNotFoundError),
        (errors.QuotaExceededError, OSError),
        (errors.HTTPStatusError, OSError),
        (errors.ArtifactError, ValueError),
        (errors.CorruptModelError, ValueError),
        (errors.UnsupportedDTypeError, TypeError),
    ],
)
def test_builtin_parents(cls, builtin):
    assert issubclass(cls, builtin) and issubclass(cls, errors.PyWebError)


def test_tree_matches_docstring():
    for cls in all_errors():
        assert cls.__name__ in errors.__doc__
    assert issubclass(errors.SyncUnavailableError, errors.RuntimeUnavailableError)
    assert issubclass(errors.ModelNotFoundError, errors.StorageError)
    assert issubclass(errors.QuotaExceededError, errors.StorageError)
    assert issubclass(errors.CorruptModelError, errors.ArtifactError)
    assert issubclass(errors.UnsupportedDTypeError, errors.ArtifactError)


@pytest.mark.parametrize(
    "err, attrs",
    [
        (errors.StorageError("m", url="u"), {"url": "u"}),
        (errors.ModelNotFoundError("m", url="u"), {"url": "u"}),
        (
            errors.QuotaExceededError("m", url="u", requested_bytes=5, available_bytes=3),
            {"requested_bytes": 5, "available_bytes": 3},
        ),
        (errors.HTTPStatusError("m", url="u", status=404), {"status": 404, "url": "u"}),
        (errors.CorruptModelError("m", part="model.json", url="u"), {"part": "model.json"}),
        (errors.UnsupportedDTypeError("m", dtype="int16", name="w"), {"dtype": "int16", "name": "w"}),
        (errors.InvalidURLError("m"), {}),
    ],
)
def test_errors_pickle_with_their_data(err, attrs):
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert str(back) == str(err) == "m"
    for name, value in attrs.items():
        assert getattr(back, name) == value


def test_every_error_pickles_through_the_one_reduce():
    from pyweb.layers import UnsupportedLayerError, WeightMismatchError
    from pyweb.testing import PyodideError

    assert UnsupportedLayerError is errors.UnsupportedLayerError and WeightMismatchError is errors.WeightMismatchError
    for cls in [*all_errors(), PyodideError]:
        assert "__reduce__" not in vars(cls) or cls is errors.PicklesAttributes, cls
    samples = [
        (
            errors.UnsupportedLayerError("m", layer_class="LSTM", option="unroll"),
            {"layer_class": "LSTM", "option": "unroll"},
        ),
        (errors.WeightMismatchError("m", reason="shape", names=["w"]), {"reason": "shape", "names": ["w"]}),
        (errors.RequestTimeoutError("m", url="u", timeout=2.5), {"url": "u", "timeout": 2.5}),
        (
            PyodideError("KeyError", "m", "tb", mro=["KeyError"], target="t"),
            {"type_name": "KeyError", "mro": ["KeyError"]},
        ),
    ]
    for err, attrs in samples:
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and back.args == err.args
        for name, value in attrs.items():
            assert getattr(back, name) == value
