"""Every exception pyweb raises.

Each class subclasses its parent in this tree *and* the builtin in
parentheses, so callers can catch ``FileNotFoundError`` or ``ValueError``
without knowing pyweb::

    PyWebError(Exception)
    ├── InvalidURLError(ValueError)              not "scheme://path", or empty path
    ├── SchemeError(LookupError)                 no handler for this scheme/mode
    │   └── HandlerUnavailableError(ImportError) known scheme, extra or runtime missing
    ├── OperationNotSupportedError(NotImplementedError)   e.g. load from downloads://
    ├── RuntimeUnavailableError(RuntimeError)    browser API absent, no emulation
    │   └── SyncUnavailableError                 sync call where nothing may block
    ├── StorageError(OSError)                    a store refused or failed (.url)
    │   ├── ModelNotFoundError(FileNotFoundError)
    │   ├── QuotaExceededError                   byte sizes of what was attempted
    │   ├── HTTPStatusError                      .status, .url
    │   └── RequestTimeoutError(TimeoutError)    no answer within the handler's timeout
    └── ArtifactError(ValueError)                artifacts malformed or incomplete
        ├── CorruptModelError                    a stored part missing/unparsable (.part)
        ├── UnsupportedDTypeError(TypeError)     dtype outside DTYPES (.dtype)
        ├── UnsupportedLayerError                pyweb.layers cannot run a layer (.layer_class, .option)
        └── WeightMismatchError                  weights do not fit a Layers model (.reason, .names)

Warnings: :class:`PyWebWarning` (UserWarning) and its :class:`StoreUnavailableWarning`
(a store left out of ``list_models()``).

Errors carry data as attributes (``url``, ``status``, ``part``, ``dtype``,
``name``); tests and callers should use those, not the message wording.
Every class pickles, so errors survive process and worker boundaries: one
``__reduce__`` (:class:`PicklesAttributes`, the base of :class:`PyWebError`)
rebuilds an error from its class, ``args`` and attributes without calling its
``__init__``, so a subclass with keyword-only data needs nothing of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

__all__ = [
    "ArtifactError",
    "CorruptModelError",
    "HTTPStatusError",
    "HandlerUnavailableError",
    "InvalidURLError",
    "ModelNotFoundError",
    "OperationNotSupportedError",
    "PyWebError",
    "PyWebWarning",
    "QuotaExceededError",
    "RequestTimeoutError",
    "RuntimeUnavailableError",
    "SchemeError",
    "StorageError",
    "StoreUnavailableWarning",
    "SyncUnavailableError",
    "UnsupportedDTypeError",
    "UnsupportedLayerError",
    "WeightMismatchError",
]

_E = TypeVar("_E", bound=BaseException)


class PicklesAttributes(Exception):
    """Pickles as its class, ``args`` and instance attributes; the one ``__reduce__`` of pyweb's errors.

    ``Exception``'s own pickling calls ``cls(*args)``, which fails for an
    ``__init__`` with keyword-only data (``url=``, ``part=``) and loses the
    attributes; this rebuilds the error without calling ``__init__``.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), self.args, self.__dict__.copy())


def _rebuild(cls: type[_E], args: tuple[Any, ...], state: dict[str, Any]) -> _E:
    err = cls.__new__(cls)
    BaseException.__init__(err, *args)
    err.__dict__.update(state)
    return err


class PyWebError(PicklesAttributes):
    """Base class of every pyweb error."""


class InvalidURLError(PyWebError, ValueError):
    """A URL is not of the form ``scheme://path`` or its path is empty."""


class SchemeError(PyWebError, LookupError):
    """No handler is registered for a scheme (or not for this operation)."""


class HandlerUnavailableError(SchemeError, ImportError):
    """The scheme is known but its handler cannot be loaded here."""


class OperationNotSupportedError(PyWebError, NotImplementedError):
    """The handler exists but does not do this (e.g. load from downloads://)."""


class RuntimeUnavailableError(PyWebError, RuntimeError):
    """A browser API is absent and no emulation was installed."""


class SyncUnavailableError(RuntimeUnavailableError):
    """A blocking call was made where nothing may block; use the ``a``-twin."""


class StorageError(PyWebError, OSError):
    """A store refused or failed an operation on ``url``."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ModelNotFoundError(StorageError, FileNotFoundError):
    """No model is stored at ``url``."""


class QuotaExceededError(StorageError):
    """The store ran out of room; nothing of the attempted save was kept.

    ``requested_bytes`` is what the save needed; ``available_bytes`` is what
    the store said it had, or ``None`` when it does not say.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        requested_bytes: int | None = None,
        available_bytes: int | None = None,
    ) -> None:
        super().__init__(message, url=url)
        self.requested_bytes = requested_bytes
        self.available_bytes = available_bytes


class HTTPStatusError(StorageError):
    """A server answered ``url`` with a non-2xx ``status``."""

    def __init__(self, message: str, *, url: str | None = None, status: int = 0) -> None:
        super().__init__(message, url=url)
        self.status = status


class RequestTimeoutError(StorageError, TimeoutError):
    """A request to ``url`` got no whole answer within ``timeout`` seconds; its connection was dropped."""

    def __init__(self, message: str, *, url: str | None = None, timeout: float | None = None) -> None:
        super().__init__(message, url=url)
        self.timeout = timeout


class ArtifactError(PyWebError, ValueError):
    """Model artifacts are malformed or incomplete."""


class CorruptModelError(ArtifactError):
    """A stored part of a model is missing or cannot be parsed.

    ``part`` names it (``"model.json"``, a weight file, ``"weight_data"``, or a
    weight name); ``url`` is where the model lives, when known.
    """

    def __init__(self, message: str, *, part: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.part = part
        self.url = url


class UnsupportedDTypeError(ArtifactError, TypeError):
    """A weight's dtype is not one pyweb (and TF.js) can store.

    ``dtype`` is the offending dtype; ``name`` the weight, when known.
    """

    def __init__(self, message: str, *, dtype: str | None = None, name: str | None = None) -> None:
        super().__init__(message)
        self.dtype = dtype
        self.name = name


class UnsupportedLayerError(ArtifactError):
    """A layer class, or an option of one, that :mod:`pyweb.layers` cannot run.

    ``layer_class`` names the class (e.g. ``"LSTM"``); ``option`` the config key
    (``None`` when the class itself is unsupported).
    """

    def __init__(self, message: str, *, layer_class: str, option: str | None = None) -> None:
        super().__init__(message)
        self.layer_class = layer_class
        self.option = option


class WeightMismatchError(ArtifactError):
    """Weights do not fit a Layers model, as in TF.js's strict ``loadWeights``.

    ``reason`` is ``"extra"``, ``"missing"``, ``"duplicate"``, ``"shape"``, ``"dtype"`` or
    ``"count"``; ``names`` lists the weights concerned.
    """

    def __init__(self, message: str, *, reason: str, names: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.reason = reason
        self.names = list(names)


class PyWebWarning(UserWarning):
    """Base class of pyweb's warnings."""


class StoreUnavailableWarning(PyWebWarning):
    """``list_models()`` left out a store that exists here but could not be listed."""
