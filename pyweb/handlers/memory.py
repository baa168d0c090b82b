"""``memory://name``: models kept in this process; the reference handler.

Also TF.js's passthrough handlers, :func:`from_memory` and
:func:`with_save_handler`, which hand artifacts to and from user code.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

from ..artifacts import artifacts_info, require_json_topology
from ..errors import ModelNotFoundError
from ..types import Handler, ModelArtifacts, ModelArtifactsInfo, ModelStore, SaveResult

__all__ = ["MemoryHandler", "MemoryStore", "from_memory", "with_save_handler"]

# One store per process, keyed by path. Values are private copies, so callers
# mutating their buffers after a save cannot change what was stored.
_MODELS: dict[str, tuple[ModelArtifacts, ModelArtifactsInfo]] = {}


class MemoryHandler(Handler):
    """Save to and load from the process-wide ``memory://`` store."""

    global_store = True

    def __init__(self, path: str) -> None:
        self.path = path
        self.url = f"memory://{path}"

    @property
    def location(self) -> str:
        """The model's name: two URLs naming one model agree here."""
        return self.path

    def save(self, artifacts: ModelArtifacts) -> SaveResult:
        require_json_topology(artifacts, "memory://")
        stored = _snapshot(artifacts)
        info = artifacts_info(stored)
        _MODELS[self.path] = (stored, info)
        return SaveResult(info)

    def load(self) -> ModelArtifacts:
        try:
            stored, _ = _MODELS[self.path]
        except KeyError:
            raise ModelNotFoundError(f"no model at {self.url}", url=self.url) from None
        return _snapshot(stored)

    @classmethod
    def open_store(cls, location: str = "") -> MemoryStore:
        return MemoryStore()


class MemoryStore(ModelStore):
    """Lists and removes ``memory://`` models."""

    def list_models(self) -> dict[str, ModelArtifactsInfo]:
        return {path: info for path, (_, info) in _MODELS.items()}

    def remove_model(self, path: str) -> ModelArtifactsInfo:
        path = path.removeprefix("memory://")
        try:
            _, info = _MODELS.pop(path)
        except KeyError:
            raise ModelNotFoundError(f"no model at memory://{path}", url=f"memory://{path}") from None
        return info

    def clear(self) -> None:
        """Forget every model (tests use this between cases)."""
        _MODELS.clear()


def _snapshot(artifacts: ModelArtifacts) -> ModelArtifacts:
    # Weight bytes: copied once into immutable bytes on save, shared after.
    # (b"".join writes the shards straight into the new bytes; joining them
    # first with weight_bytes() would copy them twice.)
    data = artifacts.weight_data
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    elif data is not None and not isinstance(data, bytes):
        data = b"".join(data)
    out = copy.deepcopy(dataclasses.replace(artifacts, weight_data=None, weights_manifest=None))
    out.weight_data = data
    return out


class _FromMemory(Handler):
    def __init__(self, artifacts: ModelArtifacts) -> None:
        self.artifacts = artifacts
        self.url = "from_memory(...)"

    def load(self) -> ModelArtifacts:
        return self.artifacts


class _WithSaveHandler(Handler):
    def __init__(self, fn: Callable[[ModelArtifacts], Any]) -> None:
        self.fn = fn
        self.url = "with_save_handler(...)"

    async def asave(self, artifacts: ModelArtifacts) -> SaveResult:
        result = self.fn(artifacts)
        if inspect.isawaitable(result):
            result = await result
        return result if result is not None else SaveResult(artifacts_info(artifacts))

    def save(self, artifacts: ModelArtifacts) -> SaveResult:
        result = self.fn(artifacts)
        if inspect.isawaitable(result):
            from .._run import run_sync

            result = run_sync(_await(result), twin="asave")
        return result if result is not None else SaveResult(artifacts_info(artifacts))


async def _await(awaitable: Any) -> Any:
    return await awaitable


def from_memory(
    model: ModelArtifacts | dict[str, Any],
    weight_specs: list[dict[str, Any]] | None = None,
    weight_data: Any = None,
    training_config: dict[str, Any] | None = None,
) -> Handler:
    """A load-only handler that returns ``model`` (TF.js ``tf.io.fromMemory``).

    ``model`` is a :class:`ModelArtifacts`, or a JSON topology; with a
    topology, the optional specs, data and training config complete it.

    Examples
    --------
    >>> artifacts = pyweb.ModelArtifacts(model_topology={"class_name": "Sequential"})
    >>> pyweb.load(from_memory(artifacts)) is artifacts
    True
    """
    if isinstance(model, ModelArtifacts):
        if weight_specs is not None or weight_data is not None or training_config is not None:
            raise TypeError("give either ModelArtifacts alone or a topology with specs and data")
        return _FromMemory(model)
    return _FromMemory(
        ModelArtifacts(
            model_topology=model, weight_specs=weight_specs, weight_data=weight_data, training_config=training_config
        )
    )


def with_save_handler(fn: Callable[[ModelArtifacts], Any]) -> Handler:
    """A save-only handler that passes the artifacts to ``fn`` (by reference).

    ``fn`` may be sync or async. Its result is returned if it is not None;
    otherwise a SaveResult with the artifacts' byte counts.

    Examples
    --------
    >>> seen = []
    >>> _ = pyweb.save(artifacts, with_save_handler(seen.append))  # doctest: +SKIP
    """
    return _WithSaveHandler(fn)
