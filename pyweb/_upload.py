"""An upload request's body -> ModelArtifacts, for :mod:`pyweb.server`.

The body is read whole (into memory, or a memory-mapped temp file when large),
split with :mod:`pyweb._multipart`, and the weight parts are matched to the
manifest, all as views: the weights are never copied before they are saved.
"""

from __future__ import annotations

import mmap
import posixpath
import tempfile
from typing import Any

from ._multipart import MultipartError, boundary_of, parse_multipart
from .artifacts import MODEL_JSON, check_integrity, manifest_paths, parse_model_json
from .types import ModelArtifacts

__all__ = ["RequestError", "artifacts_from_upload", "read_body", "upload_boundary"]

_CHUNK = 1 << 20


class RequestError(Exception):
    """The server refuses a request; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def upload_boundary(content_type: str) -> bytes:
    """The multipart boundary, or RequestError(415) for any other body."""
    try:
        return boundary_of(content_type)
    except MultipartError as exc:
        message = f"an upload must be multipart/form-data with model.json and weight parts: {exc}"
        raise RequestError(415, message) from None


def read_body(rfile: Any, length: int, *, spool_bytes: int) -> Any:
    """Exactly ``length`` bytes from ``rfile``, as a buffer (an mmap above ``spool_bytes``).

    Raises RequestError(400) if the stream ends (or fails) first.
    """
    if length <= spool_bytes:
        buf = bytearray(length)
        if _read_into(rfile, memoryview(buf)) < length:
            raise RequestError(400, "the upload ended early; nothing was stored")
        return buf
    with tempfile.TemporaryFile() as spool:
        chunk = memoryview(bytearray(_CHUNK))
        got = 0
        while got < length:
            n = _read_into(rfile, chunk[: min(_CHUNK, length - got)])
            if n == 0:
                raise RequestError(400, "the upload ended early; nothing was stored")
            spool.write(chunk[:n])
            got += n
        spool.flush()
        return mmap.mmap(spool.fileno(), 0, access=mmap.ACCESS_READ)  # the map outlives the file object


def _read_into(rfile: Any, view: memoryview) -> int:
    done = 0
    try:
        while done < view.nbytes:
            n = rfile.readinto(view[done:])
            if not n:
                break
            done += n
    except OSError:  # reset or timed out mid-upload
        pass
    return done


def artifacts_from_upload(body: Any, boundary: bytes) -> tuple[ModelArtifacts, bool]:
    """ModelArtifacts from a multipart upload, and whether its manifest had sha256s.

    Weight parts are matched by the basename of each manifest path (TF.js
    sends the part ``model.weights.bin`` for the path ``./model.weights.bin``)
    and kept as views, in manifest order. A model.json without weight specs
    may come without weight parts (TF.js's topology-only save).

    Raises
    ------
    RequestError
        400: malformed multipart, no ``model.json`` part, or a weight part missing.
    CorruptModelError
        model.json does not parse, or a part does not match its sha256.
    """
    try:
        parts = parse_multipart(body, boundary)
    except MultipartError as exc:
        raise RequestError(400, f"malformed multipart upload: {exc}") from None
    if MODEL_JSON not in parts:
        raise RequestError(400, "the upload has no 'model.json' part")
    artifacts, manifest = parse_model_json(bytes(parts[MODEL_JSON]), url=MODEL_JSON)
    if manifest is None:
        return artifacts, False
    names = [posixpath.basename(p) for p in manifest_paths(manifest)]
    if len(set(names)) != len(names):
        raise RequestError(400, "weight files in the manifest share a file name; they cannot be told apart")
    missing = [n for n in names if n not in parts]
    if missing:
        if any(group["weights"] for group in manifest):
            raise RequestError(400, f"the upload lacks weight part(s) {', '.join(missing)}")
        return artifacts, False
    data = iter(parts[n] for n in names)
    weights = []
    for group in manifest:
        for index in range(len(group["paths"])):
            weights.append(next(data))
            check_integrity(group, index, weights[-1], url=MODEL_JSON)
    artifacts.weight_data = weights
    return artifacts, any("sha256" in group for group in manifest)
