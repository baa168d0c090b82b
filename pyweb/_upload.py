"""An upload request's body -> ModelArtifacts, for :mod:`pyweb.server`.

The body is read as it arrives (into memory, or an unnamed temp file mapped
into memory when large; never allocated from the declared length), split with
:mod:`pyweb._multipart`, and the weight parts are matched to the manifest, all
as views: the weights are never copied before they are saved.
"""

from __future__ import annotations

import io
import mmap
import posixpath
import socket
import tempfile
import time
from typing import Any, cast

from ._multipart import MultipartError, boundary_of, parse_multipart
from .artifacts import MODEL_JSON, check_integrity, manifest_paths, parse_model_json
from .types import BytesLike, ModelArtifacts

__all__ = ["Deadline", "RequestError", "artifacts_from_upload", "read_body", "upload_boundary"]

_SMALL_CHUNK = 64 << 10
#: Largest model.json part an upload may have (TF.js's largest graph models have a few MB).
MAX_MODEL_JSON = 64 << 20
#: Seconds any one socket operation may take (a write to a client that does not read, say).
OP_SECONDS = 30.0


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


class Deadline:
    """A time limit over many reads of one socket (a request's headers, or its body).

    :meth:`reader` gives a buffered reader of the socket whose every read
    from the network first checks the limit and waits at most until it (and at
    most :data:`OP_SECONDS`), so a client trickling one byte at a time is cut
    off too; past the limit, reads raise ``TimeoutError``.
    """

    def __init__(self, sock: socket.socket, seconds: float = OP_SECONDS) -> None:
        self.sock = sock
        self.reset(seconds)

    def reset(self, seconds: float) -> None:
        """A fixed limit: everything read from now must arrive within ``seconds``."""
        self.end = time.monotonic() + seconds
        self._rate: float | None = None

    def pace(self, grace: float, rate: float) -> None:
        """A moving limit: ``grace`` seconds from now, plus one second per ``rate`` bytes that arrive."""
        self.end = time.monotonic() + grace
        self._rate = rate

    def arrived(self, n: int) -> None:
        if self._rate is not None and n > 0:
            self.end += n / self._rate

    def reader(self, buffer_size: int = io.DEFAULT_BUFFER_SIZE) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineRaw(self), buffer_size)


class _DeadlineRaw(io.RawIOBase):
    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline
        self._raw = socket.SocketIO(deadline.sock, "rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        left = self._deadline.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the client took too long")
        sock = self._deadline.sock
        sock.settimeout(min(left, OP_SECONDS))
        try:
            n = self._raw.readinto(buffer)
        finally:
            sock.settimeout(OP_SECONDS)  # writes get the per-operation limit
        self._deadline.arrived(n or 0)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def read_body(rfile: Any, length: int, *, spool_bytes: int, spool_dir: str | None = None) -> Any:
    """Exactly ``length`` bytes from ``rfile``, as a buffer (an mmap above ``spool_bytes``).

    Memory (or disk) grows with what arrives, never ahead of it. Large bodies
    go to an unnamed temporary file in ``spool_dir``, gone with the process.

    Raises RequestError(400) if the stream ends or fails first, 408 if it is too slow.
    """
    chunk = memoryview(bytearray(min(_SMALL_CHUNK, max(length, 1))))
    if length <= spool_bytes:
        buf = bytearray()
        while len(buf) < length:
            n = _read_some(rfile, chunk[: min(chunk.nbytes, length - len(buf))])
            buf += chunk[:n]
        return buf
    with tempfile.TemporaryFile(dir=spool_dir) as spool:
        got = 0
        while got < length:
            n = _read_some(rfile, chunk[: min(chunk.nbytes, length - got)])
            spool.write(chunk[:n])
            got += n
        spool.flush()
        return mmap.mmap(spool.fileno(), 0, access=mmap.ACCESS_READ)  # the map outlives the file object


def _read_some(rfile: Any, view: memoryview) -> int:
    try:
        n = rfile.readinto1(view) if hasattr(rfile, "readinto1") else rfile.readinto(view)
    except TimeoutError:
        raise RequestError(408, "the upload was too slow; nothing was stored") from None
    except OSError:  # reset mid-upload
        n = 0
    if not n:
        raise RequestError(400, "the upload ended early; nothing was stored")
    return cast(int, n)


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
    if parts[MODEL_JSON].nbytes > MAX_MODEL_JSON:
        raise RequestError(413, f"the model.json part is over {MAX_MODEL_JSON} bytes")
    artifacts, manifest = parse_model_json(parts[MODEL_JSON], url=MODEL_JSON)
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
    weights: list[BytesLike] = []
    for group in manifest:
        for index in range(len(group["paths"])):
            weights.append(next(data))
            check_integrity(group, index, weights[-1], url=MODEL_JSON)
    artifacts.weight_data = weights
    return artifacts, any("sha256" in group for group in manifest)
