"""A tiny asyncio HTTP/1.1 client: CPython's default ``fetch`` for http://.

Just enough of ``window.fetch`` for pyweb: one request per connection
(``Connection: close``), bodies framed by ``Content-Length``, chunked
encoding or end of stream, http and https (``ssl.create_default_context()``),
and redirects followed as fetch follows them, at most :data:`MAX_REDIRECTS`.
No threads, so it runs wherever asyncio does; cancelling the coroutine (for
instance by ``asyncio.wait_for``) closes the connection. Under Pyodide the
HTTP handler plugs JS ``fetch`` in through the same ``fetch(url, init)`` shape.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from .errors import StorageError

__all__ = ["MAX_REDIRECTS", "FetchResponse", "fetch"]

#: Redirects followed before giving up (browsers allow 20; model hosts need 1 or 2).
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_LINE = 65536
_WRITE_CHUNK = 1 << 20


@dataclass
class FetchResponse:
    """What a fetch returned: status, lower-cased headers, the whole body, the final URL."""

    status: int
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    body: bytes | bytearray = field(default=b"", repr=False)
    url: str = ""
    reason: str = ""

    def __repr__(self) -> str:
        return f"FetchResponse(status={self.status}, url={self.url!r}, body=<{len(self.body):,} bytes>)"

    @property
    def ok(self) -> bool:
        """True for a 2xx status, as ``Response.ok``."""
        return 200 <= self.status <= 299

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


async def fetch(url: str, init: dict[str, Any] | None = None) -> FetchResponse:
    """Fetch ``url`` with a JS-fetch-like ``init`` (method, headers, body).

    ``init["max_bytes"]`` (pyweb's, not fetch's) bounds the body: a longer
    one is refused as soon as its length is known or reached, before it is
    all in memory.

    Raises
    ------
    StorageError
        The connection failed or the reply is not HTTP (``.url`` is set),
        more than :data:`MAX_REDIRECTS` redirects, or a body over ``max_bytes``.
    """
    init = init or {}
    method = str(init.get("method") or "GET").upper()
    headers = dict(init.get("headers") or {})
    body = init.get("body")
    limit = init.get("max_bytes")
    for _ in range(MAX_REDIRECTS + 1):
        response = await _request(url, method, headers, body, limit)
        location = response.headers.get("location")
        if response.status not in _REDIRECTS or not location or init.get("redirect") == "manual":
            return response
        target = urljoin(url, location)
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method, body = ("HEAD" if method == "HEAD" else "GET"), None
            headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
        if _origin(target) != _origin(url):  # fetch drops credentials across origins
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        url = target
    raise StorageError(f"{url}: more than {MAX_REDIRECTS} redirects", url=url)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


async def _request(url: str, method: str, headers: dict[str, str], body: Any, limit: int | None = None) -> FetchResponse:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StorageError(f"cannot fetch {url!r}: only absolute http:// and https:// URLs", url=url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    context = _tls_context() if parts.scheme == "https" else None
    head = _head(method, parts, headers, body)
    try:
        reader, writer = await asyncio.open_connection(parts.hostname, port, ssl=context, limit=_MAX_LINE)
    except OSError as exc:  # ssl.SSLError included
        raise StorageError(f"cannot connect to {url}: {exc}", url=url) from exc
    ok = False
    try:
        writer.write(head)
        try:
            await _send_body(writer, body)
        except ConnectionError:
            pass  # the server may have answered early (e.g. 413); read that answer
        response = await _read_response(reader, method, url, limit)
        ok = True
        return response
    except StorageError:
        raise
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        raise StorageError(f"request to {url} failed: {exc!r}", url=url) from exc
    finally:
        await _close(writer, graceful=ok)


def _tls_context() -> Any:
    import ssl  # only here: Pyodide ships ssl as a separate package

    return ssl.create_default_context()


async def _send_body(writer: asyncio.StreamWriter, body: Any) -> None:
    # In pieces, so the transport never buffers a copy of a large upload.
    view = memoryview(b"" if body is None else body).cast("B")
    for start in range(0, view.nbytes, _WRITE_CHUNK):
        writer.write(view[start : start + _WRITE_CHUNK])
        await writer.drain()
    await writer.drain()


async def _close(writer: asyncio.StreamWriter, *, graceful: bool) -> None:
    if not graceful:  # error or cancellation: drop the connection at once
        writer.transport.abort()
        return
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def _head(method: str, parts: Any, headers: dict[str, str], body: Any) -> bytes:
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if parts.scheme == "https" else 80
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port and parts.port != default_port:
        host += f":{parts.port}"
    fixed = {"host": host, "connection": "close", "accept-encoding": "identity"}
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{k.title()}: {v}" for k, v in fixed.items()]
    user = {k: v for k, v in headers.items() if k.lower() not in fixed and k.lower() != "content-length"}
    for key, value in user.items():
        if any(c in f"{key}{value}" for c in "\r\n\0") or not key.strip():
            raise ValueError(f"invalid HTTP header {key!r}: {value!r}")
    lines += [f"{k}: {v}" for k, v in user.items()]
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {0 if body is None else memoryview(body).nbytes}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_response(reader: asyncio.StreamReader, method: str, url: str, limit: int | None) -> FetchResponse:
    while True:
        status, reason = _status_line(await reader.readline())
        headers = await _read_headers(reader)
        if not 100 <= status < 200:  # skip "100 Continue" and other interim replies
            break
    if method == "HEAD" or status in (204, 304):
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader, _Budget(limit, url))
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if length < 0:
            raise ValueError(f"negative Content-Length {length}")
        _Budget(limit, url).take(length)
        body = await reader.readexactly(length)
    else:
        body = await _read_to_end(reader, _Budget(limit, url))
    return FetchResponse(status=status, headers=headers, body=body, url=url, reason=reason)


class _Budget:
    """Bytes a body may still have; refuses more (``limit=None``: no limit)."""

    def __init__(self, limit: int | None, url: str) -> None:
        self.left, self.limit, self.url = limit, limit, url

    def take(self, n: int) -> None:
        if self.left is None:
            return
        self.left -= n
        if self.left < 0:
            raise StorageError(f"{self.url}: the response is larger than the {self.limit} bytes expected", url=self.url)


async def _read_to_end(reader: asyncio.StreamReader, budget: _Budget) -> bytearray:
    out = bytearray()
    while chunk := await reader.read(1 << 16):
        budget.take(len(chunk))
        out += chunk
    return out


def _status_line(line: bytes) -> tuple[int, str]:
    version, _, rest = line.decode("latin-1").strip().partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/") or not code.isdigit():
        raise ValueError(f"not an HTTP status line: {line[:80]!r}")
    return int(code), reason


async def _read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    while True:
        line = (await reader.readline()).decode("latin-1")
        if not line:
            raise asyncio.IncompleteReadError(b"", None)
        if line in ("\r\n", "\n"):
            return headers
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"malformed header line: {line[:80]!r}")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()


async def _read_chunked(reader: asyncio.StreamReader, budget: _Budget) -> bytearray:
    out = bytearray()
    while True:
        size_line = (await reader.readline()).split(b";", 1)[0].strip()
        size = int(size_line, 16)
        budget.take(size)
        if size == 0:
            await _read_headers(reader)  # trailers, then the blank line
            return out  # bytes-like; no second copy
        out += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("chunk not followed by CRLF")
