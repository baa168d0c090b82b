"""Weight files: cutting the bytes into shards, naming them, and checking their sha256.

Pure functions over buffers (no copies where a view will do), no I/O.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .data import WeightData, _byte_view
from .errors import CorruptModelError

__all__ = ["add_integrity", "check_integrity", "check_shard_bytes", "sha256_hex", "shard_paths", "split_shards"]


def shard_paths(count: int, group: int = 1) -> list[str]:
    """The converter's shard names: ``group1-shard1of3.bin``, ..."""
    return [f"group{group}-shard{i}of{count}.bin" for i in range(1, count + 1)]


def check_shard_bytes(shard_bytes: int | None) -> int | None:
    """Validate a ``shard_bytes`` option: None or a positive int (not a bool)."""
    if shard_bytes is not None and (
        isinstance(shard_bytes, bool) or not isinstance(shard_bytes, int) or shard_bytes <= 0
    ):
        raise ValueError(f"shard_bytes must be a positive integer, not {shard_bytes!r}")
    return shard_bytes


def split_shards(data: WeightData | None, shard_bytes: int | None) -> list[list[memoryview]]:
    """Cut weight bytes into files of ``shard_bytes``, each a list of views.

    No bytes are copied: a piece that spans two input buffers is two views.
    ``None`` gives one piece holding everything (an empty model still gets one
    empty file, as TF.js writes); a size gives ``ceil(total / size)`` pieces,
    so 0 bytes give none, as the converter does.
    """
    views = [_byte_view(b) for b in _buffers(data)]
    if check_shard_bytes(shard_bytes) is None:
        return [views]
    assert shard_bytes is not None  # for the type checker: check_shard_bytes returned it
    pieces: list[list[memoryview]] = []
    current: list[memoryview] = []
    room = shard_bytes
    for view in views:
        while view.nbytes:
            take = view[:room]
            current.append(take)
            view, room = view[take.nbytes :], room - take.nbytes
            if room == 0:
                pieces.append(current)
                current, room = [], shard_bytes
    if current:
        pieces.append(current)
    return pieces


def _buffers(data: WeightData | None) -> list[Any]:
    if data is None:
        return []
    return [data] if isinstance(data, (bytes, bytearray, memoryview)) else list(data)


def sha256_hex(data: Any) -> str:
    """sha256 of a buffer or of a list of buffers taken as one stream."""
    digest = hashlib.sha256()
    for view in _buffers(data):
        digest.update(_byte_view(view))
    return digest.hexdigest()


def add_integrity(group: dict[str, Any], pieces: list[Any]) -> None:
    """Record a ``sha256`` per path in a manifest group (TF.js ignores the key).

    ``pieces`` holds each file's content: a buffer or a list of buffers.
    """
    group["sha256"] = [sha256_hex(p) for p in pieces]


def check_integrity(group: dict[str, Any], index: int, data: Any, *, url: str | None = None) -> None:
    """Check shard ``index`` of ``group`` against its recorded sha256, if any.

    Raises
    ------
    CorruptModelError
        The digest differs; ``part`` is the shard's path.
    """
    digests = group.get("sha256")
    if not isinstance(digests, list) or index >= len(digests):
        return
    if sha256_hex(data) != digests[index]:
        path = group["paths"][index]
        where = f" at {url}" if url else ""
        raise CorruptModelError(f"weight file {path!r}{where} does not match its sha256", part=path, url=url)
