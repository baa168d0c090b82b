"""The data pyweb moves around and the shapes of the things that move it.

``ModelArtifacts`` mirrors TF.js's ``ModelArtifacts`` with snake_case names;
only :mod:`pyweb.artifacts` maps it to and from the camelCase wire format.
``Handler`` and ``ModelStore`` are the two extension points (see
CONTRIBUTING.md, "Adding a scheme").
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .errors import OperationNotSupportedError

__all__ = [
    "BytesLike",
    "Handler",
    "HandlerFactory",
    "IDBDatabaseLike",
    "IDBFactoryLike",
    "IDBRequestLike",
    "IDBTransactionLike",
    "ModelArtifacts",
    "ModelArtifactsInfo",
    "ModelStore",
    "SaveResult",
    "StorageLike",
    "WeightData",
    "join_weight_data",
    "weight_data_nbytes",
]

BytesLike = bytes | bytearray | memoryview
#: One buffer, or a list of buffers (shards) that concatenate to the weights.
WeightData = BytesLike | list[BytesLike]


@dataclass
class ModelArtifacts:
    """A model as TF.js stores it: JSON topology, weight specs and bytes.

    ``weight_data`` holds the bytes of every weight in ``weight_specs`` order,
    as one bytes-like object or as a list of shards split at any byte.
    ``converted_by`` is ``None`` for models TF.js saved itself (written as
    ``"convertedBy":null``); every other field left ``None`` is omitted.
    """

    model_topology: dict | list | bytes | None = None
    weight_specs: list[dict] | None = None
    weight_data: WeightData | None = None
    format: str | None = None
    generated_by: str | None = None
    converted_by: str | None = None
    training_config: dict | None = None
    signature: dict | None = None
    user_defined_metadata: dict | None = None
    model_initializer: dict | None = None
    initializer_signature: dict | None = None
    # How the source model.json spelled format/generatedBy/convertedBy when
    # they are None here: absent, or an explicit null. TF.js copies both
    # through, so a re-save writes them back the same way.
    absent_keys: frozenset[str] = field(default_factory=frozenset, repr=False, compare=False)
    null_keys: frozenset[str] = field(default_factory=frozenset, repr=False, compare=False)
    #: The weights manifest as loaded (groups, paths), for tools; savers
    #: build their own.
    weights_manifest: list[dict] | None = field(default=None, repr=False, compare=False)

    def weight_bytes(self) -> memoryview:
        """All weight bytes as one buffer; no copy when there is one shard."""
        return join_weight_data(self.weight_data)

    def __repr__(self) -> str:
        # Short, whatever the model's size: never the weight bytes or the whole topology
        # (a notebook prints it; asyncio formats it in error messages).
        parts = [f"model_topology={_describe_topology(self.model_topology)}"]
        specs = self.weight_specs
        if specs is not None:
            parts.append(f"weight_specs=[{len(specs)} weights: {_describe_specs(specs)}]")
        if self.weight_data is not None:
            parts.append(f"weight_data=<{_describe_data(self.weight_data)}>")
        for name in ("format", "generated_by", "converted_by"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r:.60}")
        extras = [n for n in ("training_config", "signature", "user_defined_metadata", "model_initializer",
                              "initializer_signature") if getattr(self, n) is not None]
        if extras:
            parts.append(f"also={','.join(extras)}")
        return f"ModelArtifacts({', '.join(parts)})"

    def to_artifacts(self) -> ModelArtifacts:
        return self


def _describe_topology(topology: Any) -> str:
    if topology is None:
        return "None"
    if isinstance(topology, (bytes, bytearray, memoryview)):
        return f"<binary, {memoryview(topology).nbytes} bytes>"
    if isinstance(topology, dict):
        config = topology.get("model_config", topology)
        kind = config.get("class_name") if isinstance(config, dict) else None
        return f"<{kind or 'dict'}>" if isinstance(kind, str) else "<dict>"
    return f"<{type(topology).__name__}>"


def _describe_specs(specs: Any) -> str:
    counts: dict[str, int] = {}
    try:
        for spec in specs:
            dtype = spec.get("dtype") if isinstance(spec, dict) else None
            quant = spec.get("quantization") if isinstance(spec, dict) else None
            key = str(dtype) + (f" as {quant.get('dtype')}" if isinstance(quant, dict) else "")
            counts[key] = counts.get(key, 0) + 1
    except TypeError:
        return "?"
    return ", ".join(f"{n} {k}" for k, n in counts.items()) or "none"


def _describe_data(data: Any) -> str:
    try:
        if isinstance(data, (bytes, bytearray, memoryview)):
            return f"{memoryview(data).nbytes:,} bytes"
        return f"{weight_data_nbytes(data):,} bytes in {len(data)} buffers"
    except TypeError:
        return type(data).__name__


def join_weight_data(data: WeightData | None) -> memoryview:
    """Join shards into one read-only buffer (a view when there is one)."""
    if data is None:
        return memoryview(b"")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return _byte_view(data)
    parts = [_byte_view(p) for p in data]
    if len(parts) == 1:
        return parts[0]
    out = bytearray(sum(p.nbytes for p in parts))
    pos = 0
    for p in parts:
        out[pos : pos + p.nbytes] = p
        pos += p.nbytes
    return memoryview(out)


def _byte_view(buf: BytesLike) -> memoryview:
    view = memoryview(buf)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


def weight_data_nbytes(data: WeightData | None) -> int:
    if data is None:
        return 0
    if isinstance(data, (bytes, bytearray, memoryview)):
        return memoryview(data).nbytes
    return sum(memoryview(p).nbytes for p in data)


@dataclass
class ModelArtifactsInfo:
    """What was stored: when, and how many bytes of each part (TF.js's info)."""

    date_saved: _dt.datetime
    model_topology_type: str = "JSON"
    model_topology_bytes: int | None = None
    weight_specs_bytes: int | None = None
    weight_data_bytes: int | None = None


@dataclass
class SaveResult:
    """What a save returns; ``responses`` only from HTTP saves.

    ``delivery`` only from ``downloads://``: ``{"clicked": [names], "offered":
    [names]}``, the files handed to the browser at once and those waiting for
    the user's click on pyweb's download buttons.
    """

    model_artifacts_info: ModelArtifactsInfo
    responses: list[Any] | None = None
    errors: list[Any] | None = None
    delivery: dict[str, list[str]] | None = None


class Handler:
    """Saves and/or loads one model location.

    Subclasses implement what they support: the sync pair ``save``/``load``
    (for stores that are synchronous underneath; the async twins then call
    them directly) or the async pair ``asave``/``aload`` (sync calls then go
    through :func:`pyweb._run.run_sync`). A method left out raises
    :class:`~pyweb.errors.OperationNotSupportedError`.
    """

    #: The URL this handler was made for, used in error messages.
    url: str = ""

    def save(self, artifacts: ModelArtifacts) -> SaveResult:
        if _overrides(self, "asave"):
            from ._run import run_sync

            return run_sync(self.asave(artifacts), twin="asave")
        raise OperationNotSupportedError(f"{type(self).__name__} cannot save ({self.url or 'this scheme'} is load-only)")

    def load(self) -> ModelArtifacts:
        if _overrides(self, "aload"):
            from ._run import run_sync

            return run_sync(self.aload(), twin="aload")
        raise OperationNotSupportedError(f"{type(self).__name__} cannot load ({self.url or 'this scheme'} is save-only)")

    async def asave(self, artifacts: ModelArtifacts) -> SaveResult:
        if _overrides(self, "save"):
            return self.save(artifacts)
        raise OperationNotSupportedError(f"{type(self).__name__} cannot save ({self.url or 'this scheme'} is load-only)")

    async def aload(self) -> ModelArtifacts:
        if _overrides(self, "load"):
            return self.load()
        raise OperationNotSupportedError(f"{type(self).__name__} cannot load ({self.url or 'this scheme'} is save-only)")

    @property
    def can_save(self) -> bool:
        return _overrides(self, "save") or _overrides(self, "asave")

    @property
    def can_load(self) -> bool:
        return _overrides(self, "load") or _overrides(self, "aload")


class ModelStore:
    """A place that can enumerate and delete its models (TF.js's manager).

    Paths are returned without the scheme; :mod:`pyweb.api` adds it. As with
    :class:`Handler`, implement the sync or the async pair.
    """

    def list_models(self) -> dict[str, ModelArtifactsInfo]:
        if _overrides(self, "alist_models", ModelStore):
            from ._run import run_sync

            return run_sync(self.alist_models(), twin="alist_models")
        raise OperationNotSupportedError(f"{type(self).__name__} cannot list models")

    def remove_model(self, path: str) -> ModelArtifactsInfo:
        if _overrides(self, "aremove_model", ModelStore):
            from ._run import run_sync

            return run_sync(self.aremove_model(path), twin="aremove_model")
        raise OperationNotSupportedError(f"{type(self).__name__} cannot remove models")

    async def alist_models(self) -> dict[str, ModelArtifactsInfo]:
        if _overrides(self, "list_models", ModelStore):
            return self.list_models()
        raise OperationNotSupportedError(f"{type(self).__name__} cannot list models")

    async def aremove_model(self, path: str) -> ModelArtifactsInfo:
        if _overrides(self, "remove_model", ModelStore):
            return self.remove_model(path)
        raise OperationNotSupportedError(f"{type(self).__name__} cannot remove models")


def _overrides(obj: object, name: str, base: type = Handler) -> bool:
    return getattr(type(obj), name, None) is not getattr(base, name)


@runtime_checkable
class HandlerFactory(Protocol):
    """Makes a handler for the path of a URL (the part after ``scheme://``).

    A factory may also offer ``open_store(location, **options) -> ModelStore``
    to take part in list/remove; ``location`` is ``""`` for a scheme-wide
    store (memory, localstorage) or a path for a located one (file).
    """

    def __call__(self, path: str, **options: Any) -> Handler: ...



# -- platform objects ------------------------------------------------------------
# The browser stores, as the handlers see them. In Pyodide, pyweb.browser wraps
# the real window.localStorage / indexedDB in these shapes (converting values
# at the edge); in CPython, pyweb.emulation provides stand-ins with the same
# rules. Tests and users may pass their own.


@runtime_checkable
class StorageLike(Protocol):
    """What ``window.localStorage`` offers (the Web Storage API), values are str.

    ``setItem`` raises :class:`~pyweb.errors.QuotaExceededError` when the
    value does not fit, leaving the store unchanged. Optional fast paths a
    store may add, used when present: ``set_base64(key, data)`` stores bytes
    as their base64 text, ``get_base64(key) -> bytes | None`` reads it back,
    each crossing into the store at most once.
    """

    @property
    def length(self) -> int: ...

    def key(self, index: int) -> str | None: ...

    def getItem(self, key: str) -> str | None: ...  # noqa: N802 (Web Storage names)

    def setItem(self, key: str, value: str) -> None: ...  # noqa: N802

    def removeItem(self, key: str) -> None: ...  # noqa: N802


@runtime_checkable
class IDBRequestLike(Protocol):
    """A read issued in a transaction; ``result`` is valid once it completed."""

    @property
    def result(self) -> Any: ...


@runtime_checkable
class IDBTransactionLike(Protocol):
    """An IndexedDB transaction over some object stores.

    Requests are issued synchronously (a real IDB transaction auto-commits
    once control returns to the event loop with nothing pending), then
    ``await complete()`` resolves when the transaction committed, or raises
    (QuotaExceededError, StorageError) when it aborted; an aborted
    transaction changes nothing. Values are dicts with Python values:
    bytes-like for ArrayBuffers, aware datetimes for Dates.
    """

    def put(self, store: str, value: dict) -> None: ...

    def get(self, store: str, key: str) -> IDBRequestLike: ...

    def get_all(self, store: str) -> IDBRequestLike: ...

    def delete(self, store: str, key: str) -> None: ...

    def abort(self) -> None: ...

    async def complete(self) -> None: ...


@runtime_checkable
class IDBDatabaseLike(Protocol):
    """An open IndexedDB connection."""

    @property
    def object_store_names(self) -> list[str]: ...

    def create_object_store(self, name: str, *, key_path: str) -> None: ...

    def transaction(self, stores: list[str], mode: str = "readonly") -> IDBTransactionLike: ...

    def close(self) -> None: ...


@runtime_checkable
class IDBFactoryLike(Protocol):
    """What ``window.indexedDB`` offers, in a Pythonic async subset.

    ``open`` calls ``upgrade(db, old_version)`` when the database is new or
    older than ``version`` (only there may ``create_object_store`` be used).
    """

    async def open(self, name: str, version: int, upgrade: Any) -> IDBDatabaseLike: ...

    async def delete_database(self, name: str) -> None: ...
