"""A small asyncio HTTP/1.1 client: CPython's default ``fetch`` for http(s)://.

Just enough of ``window.fetch`` for pyweb: http and https
(``ssl.create_default_context()``), bodies framed by ``Content-Length``,
chunked encoding or end of stream, redirects followed as fetch follows them
(at most :data:`MAX_REDIRECTS`), and the proxy environment variables that
urllib honours (``http_proxy``, ``https_proxy``, ``all_proxy``, ``no_proxy``;
https through a proxy is tunnelled with CONNECT).

A :class:`Session` keeps connections open between requests to one origin, so
a model's model.json and its shards share a few connections; the module-level
:func:`fetch` is a one-request session. A body of known length is received
straight into the buffer that is returned (``asyncio.BufferedProtocol``): no
stream buffer in between, no copy afterwards. No threads, so it runs wherever
asyncio does; cancelling a request (for instance by ``asyncio.wait_for``)
drops its connection. Under Pyodide the HTTP handler plugs JS ``fetch`` in
through the same ``fetch(url, init)`` shape.
"""

from __future__ import annotations

import asyncio
import base64
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from ._buffers import allocate
from .errors import StorageError

__all__ = ["MAX_REDIRECTS", "FetchResponse", "Session", "fetch"]

#: Redirects followed before giving up (browsers allow 20; model hosts need 1 or 2).
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_HEAD = 65536
_WRITE_CHUNK = 1 << 20
_READ_CHUNK = 1 << 18
#: Idle connections kept per origin in a session.
_KEEP = 16


@dataclass
class FetchResponse:
    """What a fetch returned: status, lower-cased headers, the whole body, the final URL."""

    status: int
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    body: bytes | bytearray | memoryview = field(default=b"", repr=False)
    url: str = ""
    reason: str = ""

    def __repr__(self) -> str:
        return f"FetchResponse(status={self.status}, url={self.url!r}, body=<{len(self.body):,} bytes>)"

    @property
    def ok(self) -> bool:
        """True for a 2xx status, as ``Response.ok``."""
        return 200 <= self.status <= 299

    def text(self) -> str:
        return bytes(self.body).decode("utf-8", "replace")


async def fetch(url: str, init: dict[str, Any] | None = None) -> FetchResponse:
    """Fetch ``url`` with a JS-fetch-like ``init`` (method, headers, body), on fresh connections.

    ``init["max_bytes"]`` (pyweb's, not fetch's) bounds the body: a longer
    one is refused as soon as its length is known or reached, before it is
    all in memory. ``body`` is a bytes-like object or a list of them (sent
    one after another, never joined).

    Raises
    ------
    StorageError
        The connection failed or the reply is not HTTP (``.url`` is set),
        more than :data:`MAX_REDIRECTS` redirects, or a body over ``max_bytes``.
    """
    async with Session() as session:
        return await session.fetch(url, init)


class Session:
    """Connections kept open between requests, per origin (and proxy), until :meth:`aclose`.

    Use as ``async with Session() as s: await s.fetch(url, init)``. Requests
    may run concurrently; each takes an idle connection or opens one. A
    request that finds its kept connection closed by the server is retried
    once on a new one (GET and HEAD only).
    """

    def __init__(self) -> None:
        self._idle: dict[tuple[Any, ...], list[_Connection]] = {}
        self._closed = False

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    async def fetch(self, url: str, init: dict[str, Any] | None = None) -> FetchResponse:
        """As :func:`fetch`, on this session's connections."""
        init = init or {}
        method = str(init.get("method") or "GET").upper()
        headers = dict(init.get("headers") or {})
        body = init.get("body")
        limit = init.get("max_bytes")
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._request(url, method, headers, body, limit)
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

    async def _request(
        self, url: str, method: str, headers: dict[str, str], body: Any, limit: int | None
    ) -> FetchResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StorageError(f"cannot fetch {url!r}: only absolute http:// and https:// URLs", url=url)
        route = _Route.of(parts)
        buffers = _body_views(body)
        head = _head(method, parts, headers, buffers, route)
        retry = method in ("GET", "HEAD")
        while True:
            conn, reused = self._take(route), True
            if conn is None:
                conn, reused = await _connect(route, url), False
            try:
                response, keep = await _exchange(conn, head, buffers, method, url, limit)
            except _StaleConnection:
                conn.close()
                if reused and retry:
                    continue
                raise StorageError(f"request to {url} failed: the server closed the connection", url=url) from None
            except StorageError:
                conn.close()
                raise
            except (OSError, ValueError, asyncio.IncompleteReadError) as exc:  # ssl.SSLError included
                conn.close()
                raise StorageError(f"request to {url} failed: {exc!r}", url=url) from exc
            except BaseException:  # cancelled: the reply is unread, so the connection cannot be reused
                conn.close()
                raise
            if keep and not self._closed and len(self._idle.get(route.key, [])) < _KEEP:
                self._idle.setdefault(route.key, []).append(conn)
            else:
                conn.close()
            return response

    def _take(self, route: _Route) -> _Connection | None:
        idle = self._idle.get(route.key, [])
        while idle:
            conn = idle.pop()
            if conn.usable():
                return conn
            conn.close()
        return None


# -- routes and proxies -------------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    """Where a request's connection goes: the origin, directly or through a proxy."""

    scheme: str
    host: str
    port: int
    proxy: tuple[str, int, str | None] | None  # host, port, Proxy-Authorization value

    @property
    def key(self) -> tuple[Any, ...]:
        return self.scheme, self.host, self.port, self.proxy

    @classmethod
    def of(cls, parts: Any) -> _Route:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, _proxy_for(parts.scheme, parts.hostname, port))


def _proxy_for(scheme: str, host: str, port: int) -> tuple[str, int, str | None] | None:
    """The proxy urllib would use for this request, from the environment (None: go direct)."""
    proxies = urllib.request.getproxies()
    address = proxies.get(scheme) or proxies.get("all")
    if not address or urllib.request.proxy_bypass(f"{host}:{port}") or urllib.request.proxy_bypass(host):
        return None
    parts = urlsplit(address if "://" in address else f"http://{address}")
    if parts.scheme not in ("http", "") or not parts.hostname:
        raise StorageError(f"proxy {address!r} for {scheme}:// is not an http:// proxy; pyweb cannot use it")
    auth = None
    if parts.username is not None:
        user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        auth = "Basic " + base64.b64encode(user_pass.encode("utf-8")).decode("ascii")
    return parts.hostname, parts.port or 80, auth


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def _tls_context() -> Any:
    import ssl  # only here: Pyodide ships ssl as a separate package

    return ssl.create_default_context()


async def _connect(route: _Route, url: str) -> _Connection:
    loop = asyncio.get_running_loop()
    host, port = (route.proxy[0], route.proxy[1]) if route.proxy else (route.host, route.port)
    tls = route.scheme == "https"
    try:
        if route.proxy is None or not tls:
            ssl = _tls_context() if tls else None
            _, conn = await loop.create_connection(
                _Connection, host, port, ssl=ssl, server_hostname=route.host if tls else None
            )
            return conn
        _, conn = await loop.create_connection(_Connection, host, port)
    except OSError as exc:  # ssl.SSLError included
        raise StorageError(
            f"cannot connect to {url}" + (f" through proxy {host}:{port}" if route.proxy else "") + f": {exc}", url=url
        ) from exc
    try:
        await _tunnel(conn, route, url)
        transport = await loop.start_tls(conn.transport, conn, _tls_context(), server_hostname=route.host)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, (OSError, ValueError)):
            raise StorageError(f"cannot tunnel to {url} through proxy {host}:{port}: {exc}", url=url) from exc
        raise
    conn.transport = transport
    return conn


async def _tunnel(conn: _Connection, route: _Route, url: str) -> None:
    target = f"{route.host}:{route.port}" if ":" not in route.host else f"[{route.host}]:{route.port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if route.proxy and route.proxy[2]:
        lines.append(f"Proxy-Authorization: {route.proxy[2]}")
    conn.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    status, reason, _ = _parse_head(await conn.read_head())
    if status != 200:
        raise StorageError(f"proxy refused to tunnel to {url}: HTTP {status} {reason}", url=url)


# -- one request on one connection ----------------------------------------------------------


class _StaleConnection(Exception):
    """A kept connection that the server had closed before it sent a byte of the reply."""


def _body_views(body: Any) -> list[memoryview]:
    if body is None:
        return []
    if isinstance(body, (list, tuple)):
        return [memoryview(b).cast("B") for b in body]
    return [memoryview(body).cast("B")]


def _head(method: str, parts: Any, headers: dict[str, str], body: list[memoryview], route: _Route) -> bytes:
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    plain_proxy = route.proxy is not None and route.scheme == "http"
    default_port = 443 if parts.scheme == "https" else 80
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port and parts.port != default_port:
        host += f":{parts.port}"
    target = f"{parts.scheme}://{host}{path}" if plain_proxy else path
    fixed = {"host": host, "accept-encoding": "identity"}
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{k.title()}: {v}" for k, v in fixed.items()]
    if plain_proxy and route.proxy and route.proxy[2]:
        lines.append(f"Proxy-Authorization: {route.proxy[2]}")
    skip = (*fixed, "content-length", "connection", "transfer-encoding")
    user = {k: v for k, v in headers.items() if k.lower() not in skip}
    for key, value in user.items():
        if any(c in f"{key}{value}" for c in "\r\n\0") or not key.strip():
            raise ValueError(f"invalid HTTP header {key!r}: {value!r}")
    lines += [f"{k}: {v}" for k, v in user.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {sum(v.nbytes for v in body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _exchange(
    conn: _Connection, head: bytes, body: list[memoryview], method: str, url: str, limit: int | None
) -> tuple[FetchResponse, bool]:
    """Send one request and read its reply; also says whether the connection can be kept."""
    try:
        conn.write(head)
    except ConnectionError:
        raise _StaleConnection from None
    try:
        for view in body:  # in pieces, so the transport never buffers a copy of a large upload
            for start in range(0, view.nbytes, _WRITE_CHUNK):
                conn.write(view[start : start + _WRITE_CHUNK])
                await conn.drain()
    except ConnectionError:
        pass  # the server may have answered early (e.g. 413); read that answer
    first = True
    while True:
        try:
            status, reason, headers = _parse_head(await conn.read_head())
        except _StaleConnection:
            if first:
                raise
            raise ValueError("connection closed during the reply") from None
        first = False
        if not 100 <= status < 200:  # skip "100 Continue" and other interim replies
            break
    keep = "close" not in headers.get("connection", "").lower()
    budget = _Budget(limit, url)
    if method == "HEAD" or status in (204, 304):
        data: Any = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        data = await _read_chunked(conn, budget)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if length < 0:
            raise ValueError(f"negative Content-Length {length}")
        budget.take(length)
        data = await conn.read_exactly(length)
    else:
        data, keep = await _read_to_end(conn, budget), False
    return FetchResponse(status=status, headers=headers, body=data, url=url, reason=reason), keep


def _parse_head(head: bytes) -> tuple[int, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].strip().partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/") or not code.isdigit():
        raise ValueError(f"not an HTTP status line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"malformed header line: {line[:80]!r}")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if version == "HTTP/1.0" and "keep-alive" not in headers.get("connection", "").lower():
        headers.setdefault("connection", "close")
    return int(code), reason, headers


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


async def _read_to_end(conn: _Connection, budget: _Budget) -> bytearray:
    out = bytearray()
    while chunk := await conn.read_some():
        budget.take(len(chunk))
        out += chunk
    return out


async def _read_chunked(conn: _Connection, budget: _Budget) -> bytes:
    pieces: list[Any] = []
    while True:
        size = int((await conn.read_line()).split(b";", 1)[0].strip(), 16)
        budget.take(size)
        if size == 0:
            while await conn.read_line():  # trailers, up to the blank line
                pass
            return b"".join(pieces)
        pieces.append(await conn.read_exactly(size))
        if await conn.read_line():
            raise ValueError("chunk not followed by CRLF")


# -- the connection ---------------------------------------------------------------------


class _Connection(asyncio.BufferedProtocol):
    """One socket: bytes go either into a caller's buffer (a body of known size) or to ``pending``."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.pending = bytearray()
        self._scratch = bytearray(_READ_CHUNK)
        self._target: memoryview | None = None
        self._filled = 0
        self._eof = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None

    # protocol callbacks
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def get_buffer(self, sizehint: int) -> Any:
        if self._target is not None:
            return self._target[self._filled :]
        return self._scratch

    def buffer_updated(self, nbytes: int) -> None:
        if self._target is not None:
            self._filled += nbytes
            if self._filled == len(self._target):
                self._wake()
        else:
            self.pending += memoryview(self._scratch)[:nbytes]
            if len(self.pending) > _MAX_HEAD + _READ_CHUNK:
                self.transport.pause_reading()  # the reader catches up first
            self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._error = exc
        self._wake()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    # used by the requests
    def usable(self) -> bool:
        return not self._eof and not self.pending and self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()

    def write(self, data: Any) -> None:
        if self._eof:
            raise ConnectionResetError("connection closed")
        self.transport.write(data)

    async def drain(self) -> None:
        if self._writable is not None:
            await self._writable
        if self._eof and self._error is not None:
            raise ConnectionResetError(str(self._error))

    async def read_head(self) -> bytes:
        """Bytes up to and including the blank line after the headers (blank line dropped)."""
        while (end := self.pending.find(b"\r\n\r\n")) < 0:
            if len(self.pending) > _MAX_HEAD:
                raise ValueError("reply headers longer than 64 KiB")
            if self._eof:
                if not self.pending:
                    raise _StaleConnection
                raise asyncio.IncompleteReadError(bytes(self.pending), None)
            await self._wait()
        head = bytes(self.pending[:end])
        del self.pending[: end + 4]
        self._resume()
        return head

    async def read_line(self) -> bytes:
        while (end := self.pending.find(b"\r\n")) < 0:
            if len(self.pending) > _MAX_HEAD:
                raise ValueError("line longer than 64 KiB")
            if self._eof:
                raise asyncio.IncompleteReadError(bytes(self.pending), None)
            await self._wait()
        line = bytes(self.pending[:end])
        del self.pending[: end + 2]
        self._resume()
        return line

    async def read_exactly(self, n: int) -> Any:
        """``n`` bytes, received straight into one new buffer (after what was already pending)."""
        out = allocate(n)
        have = min(n, len(self.pending))
        out[:have] = self.pending[:have]
        del self.pending[:have]
        if have < n:
            self._target, self._filled = out[have:], 0
            self._resume()
            try:
                while self._filled < n - have:
                    if self._eof:
                        raise asyncio.IncompleteReadError(b"", n)
                    await self._wait()
            finally:
                self._target = None
        return out

    async def read_some(self) -> bytes:
        while not self.pending:
            if self._eof:
                return b""
            await self._wait()
        data = bytes(self.pending)
        self.pending.clear()
        self._resume()
        return data

    def _resume(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
