"""The data pyweb moves around: a model's artifacts, what a save stored, and weight buffers.

``ModelArtifacts`` mirrors TF.js's ``ModelArtifacts`` with snake_case names;
only :mod:`pyweb.artifacts` maps it to and from the camelCase wire format.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BytesLike",
    "ModelArtifacts",
    "ModelArtifactsInfo",
    "SaveResult",
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

    model_topology: dict[str, Any] | list[Any] | bytes | None = None
    weight_specs: list[dict[str, Any]] | None = None
    weight_data: WeightData | None = None
    format: str | None = None
    generated_by: str | None = None
    converted_by: str | None = None
    training_config: dict[str, Any] | None = None
    signature: dict[str, Any] | None = None
    user_defined_metadata: dict[str, Any] | None = None
    model_initializer: dict[str, Any] | None = None
    initializer_signature: dict[str, Any] | None = None
    # How the source model.json spelled format/generatedBy/convertedBy when
    # they are None here: absent, or an explicit null. TF.js copies both
    # through, so a re-save writes them back the same way.
    absent_keys: frozenset[str] = field(default_factory=frozenset, repr=False, compare=False)
    null_keys: frozenset[str] = field(default_factory=frozenset, repr=False, compare=False)
    #: The weights manifest as loaded (groups, paths), for tools; savers
    #: build their own.
    weights_manifest: list[dict[str, Any]] | None = field(default=None, repr=False, compare=False)

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
        extras = [
            n
            for n in (
                "training_config",
                "signature",
                "user_defined_metadata",
                "model_initializer",
                "initializer_signature",
            )
            if getattr(self, n) is not None
        ]
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
