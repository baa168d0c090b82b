"""``pyweb serve DIR``: a small upload and model server (stdlib, CPython only).

It accepts the multipart uploads TF.js's ``tf.io.http`` (and pyweb's HTTP
handler) send and serves the stored models back, so ``model.save(url)`` in a
browser and ``pyweb.load(url)`` in Python meet in one directory. URL layout,
where ``NAME`` is one or more ``/``-separated segments of ``[A-Za-z0-9._-]``
(checked after percent-decoding; no ``.``/``..``, no hidden ``.x`` segments,
so dot-files and pyweb's in-progress save directories are never reachable)::

    POST|PUT  /upload/NAME                   store an upload as DIR/NAME
    POST|PUT  /models/NAME[/model.json]      the same: one URL saves and loads
    GET|HEAD  /models                        {"models": [{"name", "url", "modelArtifactsInfo"}]}
    GET|HEAD  /models/NAME/model.json        the stored files (any file under DIR/NAME)
    DELETE    /models/NAME[/model.json]      remove the model -> {"modelArtifactsInfo"}
    OPTIONS   *                              CORS preflight, 204

Storage goes through :mod:`pyweb.api` only (``file://DIR/NAME``, whose saves
are atomic), so an upload appears only once it is complete. Errors are JSON
``{"error": "..."}``. Binds 127.0.0.1 unless told otherwise.

What it does with hostile clients (README, "Security and failure model"):

- a loopback server answers only requests whose ``Host`` is a loopback name
  or address, exactly (``localhost``, ``127.x.y.z``, ``[::1]``), so a page on
  another site cannot reach it through DNS rebinding;
- an upload body is streamed as it arrives: into memory up to
  :data:`SPOOL_BYTES`, then into an unnamed temporary file in ``DIR``; nothing
  is allocated from what the headers declare, and the body limit is checked
  before a byte is read;
- the upload is checked like a load (:func:`pyweb._checks.check_artifacts`,
  specs matching the bytes exactly) before it is stored, so what is stored loads;
- each connection has its own thread, up to ``max_connections`` (more get
  503 at once); a request's headers must arrive within
  :data:`HEADER_SECONDS`, and a body must keep up :data:`MIN_BODY_RATE`
  bytes per second after its first :data:`HEADER_SECONDS`, so slow clients
  cannot hold threads for long;
- every refusal of client input is a 4xx with a one-line reason.
"""

from __future__ import annotations

import errno
import hmac
import ipaddress
import json
import os
import re
import shutil
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self, cast
from urllib.parse import unquote, urlsplit

from . import api
from ._checks import check_artifacts
from ._serving import ServerThread
from ._upload import Deadline, RequestError, artifacts_from_upload, read_body, upload_boundary
from .artifacts import MODEL_JSON, info_to_json
from .errors import ArtifactError, InvalidURLError, ModelNotFoundError, PyWebError, QuotaExceededError, StorageError

__all__ = ["ModelServer", "serve"]

_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}")
_MAX_NAME = 1024  # characters in a model NAME; segments are at most 255 (NAME_MAX)
_HOST = re.compile(r"^[A-Za-z0-9.:\[\]-]+$")
# A Host header: a name or IPv4 address, or a bracketed IPv6 address, and an optional port. Nothing else.
_HOST_HEADER = re.compile(r"(?P<name>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?")
_DIGITS = re.compile(r"[0-9]{1,20}")
#: Upload bodies up to this size are read into memory as they arrive, bigger ones
#: into an unnamed temp file in the served directory, then mapped; the weight parts
#: are views into it either way.
SPOOL_BYTES = 1 << 20
#: Seconds a client has to send a request's line and headers (idle keep-alive included).
HEADER_SECONDS = 10.0
#: Bytes per second an upload body must average once it has had HEADER_SECONDS.
MIN_BODY_RATE = 64 << 10
#: Connections served at once; more are answered 503 at once.
MAX_CONNECTIONS = 256
_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS"
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 16 << 20


class ModelServer:
    """Serve and accept TF.js models under ``root``; a context manager.

    Parameters
    ----------
    root
        The directory models are stored in (created if missing).
    host, port
        Where to listen; ``port=0`` picks a free port (see :attr:`port`).
    cors_origin
        Sent as ``Access-Control-Allow-Origin`` on every response; ``None``
        sends no CORS headers. Unless it is ``"*"``, uploads and deletes from
        other origins are refused (403). ``"*"`` lets any page in the browser
        write here: use it with a ``token``, or only on a trusted machine.
    max_body_bytes
        Larger uploads are refused with 413 before any byte is read.
    token
        If set, every request but OPTIONS needs ``Authorization: Bearer <token>``.
    log
        Called with one line per request; ``None`` logs nothing.
    max_connections
        Connections served at once; more are answered 503 and closed.

    Examples
    --------
    >>> with ModelServer("/srv/models") as server:  # doctest: +SKIP
    ...     pyweb.save(artifacts, server.url + "/upload/mnist")
    ...     pyweb.load(server.url + "/models/mnist/model.json")
    """

    def __init__(
        self,
        root: str | Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cors_origin: str | None = "*",
        max_body_bytes: int = 1 << 30,
        token: str | None = None,
        log: Callable[[str], Any] | None = None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.cors_origin = cors_origin
        self.max_body_bytes = max_body_bytes
        self.token = token
        self.log = log
        server_class = _Server6 if ":" in host else _Server
        self.httpd = server_class((host, port), _Handler)
        self.httpd.app = self
        self.httpd.slots = threading.BoundedSemaphore(max_connections)
        self._name_locks: dict[Path, threading.Lock] = {}
        self._name_locks_guard = threading.Lock()
        self.host = host
        self._serving = ServerThread(self.httpd, name="pyweb-server", poll_interval=0.05)

    def lock_for(self, target: Path) -> threading.Lock:
        """The lock that uploads and deletes of one model take turns on."""
        with self._name_locks_guard:
            return self._name_locks.setdefault(target, threading.Lock())

    @property
    def port(self) -> int:
        """The port actually bound."""
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        """``http://HOST:PORT``, without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        """Serve in a background (daemon) thread."""
        self._serving.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self.httpd.serve_forever(poll_interval=0.2)

    def close(self) -> None:
        """Stop serving and release the port."""
        self._serving.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    app: ModelServer
    slots: threading.BoundedSemaphore
    request_queue_size = 128  # the listen backlog: bursts of clients wait instead of being reset
    block_on_close = False  # close() does not wait for slow clients

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            _refuse_busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver would print a traceback to stderr; log one line instead.
        if self.app.log is not None:
            self.app.log(f"{client_address[0]} - connection error: {sys.exc_info()[1]!r}")


class _Server6(_Server):
    address_family = socket.AF_INET6


def serve(
    root: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    cors_origin: str | None = "*",
    token: str | None = None,
    max_body_bytes: int = 1 << 30,
    log: Callable[[str], Any] | None = None,
) -> None:
    """Run a :class:`ModelServer` in the foreground until Ctrl-C (``pyweb serve``).

    Prints the URL on start; ``log`` defaults to request lines on stderr.
    """
    server = ModelServer(
        root,
        host=host,
        port=port,
        cors_origin=cors_origin,
        token=token,
        max_body_bytes=max_body_bytes,
        log=log if log is not None else _stderr,
    )
    print(f"pyweb serving {server.root} at {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _refuse_busy(sock: socket.socket) -> None:
    body = b'{"error": "the server is busy; try again"}'
    head = f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    try:
        sock.settimeout(1.0)
        sock.sendall(head.encode() + b"Retry-After: 1\r\nConnection: close\r\n\r\n" + body)
    except OSError:
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pyweb"
    timeout = HEADER_SECONDS  # seconds per socket operation; the deadlines below bound the whole

    @property
    def app(self) -> ModelServer:
        return cast(_Server, self.server).app  # the _Server this handler was made for

    _body_read = _started = False

    def setup(self) -> None:
        super().setup()
        self._deadline = Deadline(self.connection, HEADER_SECONDS)
        self.rfile.close()
        self.rfile = self._deadline.reader()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own refusals (bad request line, huge headers, unknown method) as
        # one-line JSON like every other answer; an unknown method is a 405, not a 501.
        if code == 501:
            code, message = 405, f"{self.command} is not supported; use {_METHODS}"
        if self.request_version == "HTTP/0.9":  # no version was parsed: still answer with a status line
            self.request_version = "HTTP/1.0"
        self.close_connection = True
        self._body_read, self._started = False, False
        try:
            self._send_json(code, {"error": " ".join((message or self.responses.get(code, ("error",))[0]).split())})
        except OSError:
            pass

    def handle_expect_100(self) -> bool:
        # Say "100 Continue" only to an upload this server would read.
        try:
            self._check_request(self.command or "")
            if self.command in ("POST", "PUT"):
                self._content_length()
        except RequestError as exc:
            self._started = False
            self._send_json(exc.status, {"error": str(exc)})
            self.close_connection = True
            return False
        return super().handle_expect_100()

    def handle_one_request(self) -> None:
        # The line and headers (and any idle time before them) get HEADER_SECONDS in all.
        self._deadline.reset(HEADER_SECONDS)
        try:
            super().handle_one_request()
        except TimeoutError:
            self.close_connection = True

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        if self.app.cors_origin is not None:
            self.send_header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type")
            self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Allow", _METHODS)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # -- routing ---------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        self._body_read = self._started = False
        try:
            try:
                self._check_request(method)
                self._route(method, _decode_path(self.path))
            except RequestError as exc:
                self._fail(exc.status, str(exc))
            except PyWebError as exc:
                self._fail(_status_for(exc), str(exc))
            except (ConnectionError, TimeoutError):
                raise
            except Exception as exc:  # noqa: BLE001  (a bug or an I/O failure: answer, don't just drop the connection)
                self.log_error("internal error: %r", exc)
                self._fail(500, f"internal server error: {type(exc).__name__}")
        except (ConnectionError, TimeoutError):  # the client went away
            self.close_connection = True

    def _check_request(self, method: str) -> None:
        for name in ("Host", "Content-Length", "Content-Type", "Authorization", "Origin"):
            if len(self.headers.get_all(name, [])) > 1:
                raise RequestError(400, f"more than one {name} header")
        if self.headers.get_all("Transfer-Encoding"):
            raise RequestError(411, "send the request with a Content-Length; Transfer-Encoding is not accepted")
        if method not in ("POST", "PUT") and self.headers.get("Content-Length", "0").strip() not in ("", "0"):
            self.close_connection = True  # its body is never read: no second request may follow on this connection
        self._check_host()
        self._check_origin(method)
        self._authorize()

    def _fail(self, status: int, message: str) -> None:
        if self._started:  # too late for an error response: cut the connection
            self.close_connection = True
            return
        self._send_json(status, {"error": message})
        if self.close_connection:
            self._linger()

    def _linger(self) -> None:
        # Closing with unread request bytes makes the kernel send a reset, and a
        # client still uploading would see that instead of our 413/401. Stop
        # writing, then drop what it sends for a moment (as web servers do).
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(_LINGER_SECONDS)
            deadline, budget = time.monotonic() + _LINGER_SECONDS, _LINGER_BYTES
            while budget > 0 and time.monotonic() < deadline:
                data = self.connection.recv(1 << 16)
                if not data:
                    break
                budget -= len(data)
        except OSError:
            pass

    def _route(self, method: str, path: str) -> None:
        if path in ("/models", "/models/"):
            self._allow(method, "GET", "HEAD")
            return self._send_json(200, {"models": self._listing()}, head=method == "HEAD")
        if path.startswith("/upload/"):
            self._allow(method, "POST", "PUT")
            return self._upload(path[len("/upload/") :])
        if not path.startswith("/models/"):
            raise RequestError(404, f"no such endpoint: {path}; see /models")
        rel = path[len("/models/") :]
        if method in ("GET", "HEAD"):
            return self._send_file(rel, head=method == "HEAD")
        name = rel.removesuffix("/" + MODEL_JSON)
        if method in ("POST", "PUT"):
            return self._upload(name)
        return self._delete(name)

    def _allow(self, method: str, *allowed: str) -> None:
        if method not in allowed:
            raise RequestError(405, f"{method} is not allowed here; use {' or '.join(allowed)}")

    def _check_host(self) -> None:
        # A loopback server answers only to loopback names, so a page on another
        # site cannot reach it through DNS rebinding.
        if not _is_loopback(self.app.host):
            return
        given = self.headers.get("Host", "")
        match = _HOST_HEADER.fullmatch(given)
        host = (match.group("name") or "").lower() if match else ""
        port = match.group("port") if match else None
        ok = bool(match) and (_is_loopback(host) or host == self.app.host.lower())
        if not ok or (port is not None and int(port) != self.app.port):
            raise RequestError(403, f"Host {given[:100]!r} is not this loopback server's name")

    def _check_origin(self, method: str) -> None:
        # Browsers send multipart POSTs and DELETEs cross-site without asking:
        # unless CORS is "*", writes from another origin are refused.
        origin = self.headers.get("Origin")
        if origin is None or method not in ("POST", "PUT", "DELETE") or self.app.cors_origin == "*":
            return
        own = {f"http://{h}:{self.app.port}" for h in ("127.0.0.1", "localhost", "[::1]", self.app.host)}
        if origin != self.app.cors_origin and origin not in own:
            raise RequestError(403, f"writes from origin {origin!r} are not allowed (see --cors)")

    def _authorize(self) -> None:
        token = self.app.token
        if token is None:
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), f"Bearer {token}".encode()):
            raise RequestError(401, "missing or wrong 'Authorization: Bearer <token>' header")

    def _resolve(self, name: str) -> Path:
        segments = name.split("/")
        if not name or len(name) > _MAX_NAME or not all(_SEGMENT.fullmatch(s) for s in segments):
            raise RequestError(
                400,
                f"invalid model name {name[:80]!r}: use '/'-separated [A-Za-z0-9._-] segments of at most 255 "
                f"characters, {_MAX_NAME} in all",
            )
        target = (self.app.root / Path(*segments)).resolve()
        if target == self.app.root or not target.is_relative_to(self.app.root):
            raise RequestError(400, f"invalid model name {name!r}: it leaves the served directory")
        return target

    # -- endpoints ---------------------------------------------------------------

    def _listing(self) -> list[dict[str, Any]]:
        prefix = f"file://{self.app.root}/"
        models = []
        for key, info in api.list_models(f"file://{self.app.root}").items():
            name = key[len(prefix) :] if key.startswith(prefix) else ""
            if name and all(_SEGMENT.fullmatch(s) for s in name.split("/")):
                models.append({"name": name, "url": self._model_url(name), "modelArtifactsInfo": info_to_json(info)})
        return models

    def _send_file(self, rel: str, *, head: bool) -> None:
        path = self._resolve(rel)
        try:  # non-blocking: a FIFO must not hold the thread; checked to be a regular file below
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):  # gone, or replaced, since the request came
            raise RequestError(404, f"no file /models/{rel}") from None
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise RequestError(404, f"no file /models/{rel}")
            os.set_blocking(fd, True)
            size = os.fstat(fd).st_size
            content_type = "application/json" if path.suffix == ".json" else "application/octet-stream"
            self._start(200, content_type, size)
            if not head:
                shutil.copyfileobj(f, self.wfile, 1 << 20)

    def _delete(self, name: str) -> None:
        target = self._resolve(name)
        with self.app.lock_for(target):
            info = api.remove_model(f"file://{target}")
        self._send_json(200, {"modelArtifactsInfo": info_to_json(info)})

    def _upload(self, name: str) -> None:
        target = self._resolve(name)
        length = self._content_length()
        boundary = upload_boundary(self.headers.get("Content-Type", ""))
        self._deadline.pace(HEADER_SECONDS, MIN_BODY_RATE)
        body = read_body(self.rfile, length, spool_bytes=SPOOL_BYTES, spool_dir=str(self.app.root))
        self._body_read = True
        artifacts, integrity = artifacts_from_upload(body, boundary)
        check_artifacts(artifacts, url=f"upload to /models/{name}", exact=True)
        with self.app.lock_for(target):  # uploads and deletes of one model take turns
            result = api.save(artifacts, f"file://{target}", integrity=integrity)
        del artifacts, body
        self._send_json(
            200, {"modelArtifactsInfo": info_to_json(result.model_artifacts_info), "url": self._model_url(name)}
        )

    def _content_length(self) -> int:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise RequestError(411, "send the upload with a Content-Length, not chunked")
        text = self.headers.get("Content-Length")
        if text is None:
            raise RequestError(411, "an upload needs a Content-Length header")
        if not _DIGITS.fullmatch(text.strip()):
            raise RequestError(400, f"bad Content-Length {text[:40]!r}")
        length = int(text)
        if length > self.app.max_body_bytes:
            limit = self.app.max_body_bytes
            raise RequestError(413, f"upload of {length} bytes exceeds this server's limit of {limit}")
        return length

    def _model_url(self, name: str) -> str:
        host = self.headers.get("Host", "")
        base = f"http://{host}" if _HOST.match(host) else self.app.url
        return f"{base}/models/{name}/{MODEL_JSON}"

    # -- responses -----------------------------------------------------------------

    def _send_json(self, status: int, doc: Any, *, head: bool = False) -> None:
        data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        self._start(status, "application/json", len(data))
        if not head:
            self.wfile.write(data)

    def _start(self, status: int, content_type: str, length: int) -> None:
        self._started = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        if status == 401:
            self.send_header("WWW-Authenticate", "Bearer")
        if status == 405:
            self.send_header("Allow", _METHODS)
        if (not self._body_read and self.command in ("POST", "PUT")) or status >= 500:
            # The request body was not consumed: this connection cannot carry another request.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def end_headers(self) -> None:
        if self.app.cors_origin is not None:
            self.send_header("Access-Control-Allow-Origin", self.app.cors_origin)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        if self.app.log is not None:
            self.app.log(f"{self.address_string()} - {format % args}")


def _decode_path(raw: str) -> str:
    try:
        return unquote(urlsplit(raw).path, errors="strict")
    except UnicodeDecodeError:
        raise RequestError(400, "the request path is not valid UTF-8 after percent-decoding") from None


def _is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address literal: names DNS cannot point elsewhere."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _status_for(exc: PyWebError) -> int:
    if isinstance(exc, InvalidURLError):
        return 400
    if isinstance(exc, ModelNotFoundError):
        return 404
    if isinstance(exc, ArtifactError):
        return 400
    if isinstance(exc, QuotaExceededError):
        return 507
    if isinstance(exc, StorageError):  # refused by pyweb (e.g. foreign files there) vs the OS failing
        cause = exc.__cause__
        if not isinstance(cause, OSError):
            return 409
        return _ERRNO_STATUS.get(cause.errno or 0, 500)
    return 500


# OS errors a client's NAME can cause, and what they mean to it. Anything else is the server's fault (500).
_ERRNO_STATUS = {
    errno.ENOTDIR: 409,  # a part of NAME is a stored file
    errno.EISDIR: 409,
    errno.EEXIST: 409,
    errno.ENOTEMPTY: 409,
    errno.ENOENT: 409,  # a folder on the way went away while the request ran
    errno.ENAMETOOLONG: 414,
    errno.ENOSPC: 507,
    getattr(errno, "EDQUOT", errno.ENOSPC): 507,
}
