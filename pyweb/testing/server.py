"""A quiet static file server for browser tests, bound to 127.0.0.1.

It serves folders under URL prefixes (the Pyodide builds, TF.js) and a few
in-memory files (the test page, the bundle zip). Stdlib only, so importing it
costs nothing. One instance lives for a whole pytest session.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import shutil
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Self

from .._serving import ServerThread

if TYPE_CHECKING:
    from .config import HarnessConfig
from urllib.parse import unquote, urlsplit

__all__ = ["StaticServer", "harness_server"]

# Browsers refuse WebAssembly.instantiateStreaming without application/wasm and
# module scripts (Pyodide 314 imports pyodide.asm.mjs) without a JS MIME type.
_MIME = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".map": "application/json",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".tar": "application/x-tar",
    ".py": "text/x-python; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".bin": "application/octet-stream",
}


def _content_type(name: str) -> str:
    ext = posixpath.splitext(name)[1].lower()
    return _MIME.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"


class StaticServer:
    """Serve folders and in-memory files over HTTP on 127.0.0.1, in a thread.

    Parameters
    ----------
    mounts
        URL prefix (``"/pyodide/0.27.7/"``) -> folder. The longest prefix wins.
    files
        URL path (``"/index.html"``) -> bytes, served as is. A URL path ending
        in ``/`` means that folder's ``index.html``.
    host
        Interface to bind; only loopback makes sense for tests.
    port
        Port to bind; 0 (the default) picks a free one.

    Examples
    --------
    >>> with StaticServer({"/static/": "."}, {"/hello.txt": b"hi"}) as server:
    ...     url = server.origin + "/hello.txt"
    """

    def __init__(
        self,
        mounts: Mapping[str, str | os.PathLike[str]] | None = None,
        files: Mapping[str, bytes] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.mounts = {_prefix(p): Path(d).resolve() for p, d in (mounts or {}).items()}
        self.files = dict(files or {})
        self.host = host
        self.port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._serving: ServerThread | None = None

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` while running."""
        if self._httpd is None:
            raise RuntimeError("StaticServer is not running; use it as a context manager")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        """The absolute URL of a server path such as ``/index.html``."""
        return self.origin + "/" + path.lstrip("/")

    def resolve(self, url_path: str) -> Path | bytes | None:
        """What a URL path maps to: in-memory bytes, a file, or None."""
        path = _file_path(url_path)
        if path in self.files:
            return self.files[path]
        for prefix in sorted(self.mounts, key=len, reverse=True):
            if (path + "/").startswith(prefix):
                root = self.mounts[prefix]
                candidate = (root / path[len(prefix) :]).resolve()
                # normpath already removed "..", this guards symlinks escaping the root.
                if candidate.is_file() and candidate.is_relative_to(root):
                    return candidate
                return None
        return None

    def __enter__(self) -> Self:
        handler = type("_Handler", (_Handler,), {"server_files": self})
        self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
        self._httpd.daemon_threads = True
        self._serving = ServerThread(self._httpd, name="pyweb-static")
        self._serving.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._serving is not None:
            self._serving.close()
            self._serving = self._httpd = None


def harness_server(
    config: HarnessConfig,
    extra: Mapping[str, str | os.PathLike[str]] | None = None,
    *,
    test_packages: bool = True,
) -> StaticServer:
    """The server a PyodidePage needs (not yet started): builds, STATIC folders, page, bundle.

    Parameters
    ----------
    config
        From :func:`pyweb.testing.load_config`; its local builds go under ``/pyodide/<name>/``.
    extra
        Extra bundle files, archive name -> host path (see :func:`build_bundle`).
    test_packages
        Ship pytest and its dependencies in the bundle.

    Examples
    --------
    With a Playwright ``browser`` already launched:

    >>> config = load_config("playwright.config.py")  # doctest: +SKIP
    >>> with harness_server(config) as server:  # doctest: +SKIP
    ...     page = PyodidePage.open(browser, config.targets[0], server.origin, config.timeouts)
    """
    import pyweb

    from .bundle import build_bundle
    from .page_js import BUNDLE_PATH, HARNESS_JS, HARNESS_PATH, INDEX_HTML, INDEX_PATH

    mounts: dict[str, str | os.PathLike[str]] = {
        f"/pyodide/{b.name}/": b.path for b in config.builds.values() if b.path
    }
    mounts.update(config.static)
    files = {arcname: Path(path) for arcname, path in (extra or {}).items()}  # build_bundle takes Path(path) too
    bundle = build_bundle(Path(pyweb.__file__).parent, files, test_packages=test_packages)
    return StaticServer(mounts, {INDEX_PATH: INDEX_HTML, HARNESS_PATH: HARNESS_JS, BUNDLE_PATH: bundle})


def _file_path(url_path: str) -> str:
    """The normalized file path a URL names; a trailing ``/`` means its ``index.html``."""
    raw = unquote(urlsplit(url_path).path)
    path = posixpath.normpath(raw)
    return posixpath.join(path, "index.html") if raw.endswith("/") else path


def _prefix(prefix: str) -> str:
    return "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"


class _Handler(BaseHTTPRequestHandler):
    server_files: StaticServer
    protocol_version = "HTTP/1.1"  # keep-alive: a Pyodide boot makes a dozen requests

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_OPTIONS(self) -> None:
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "*")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _serve(self, *, send_body: bool) -> None:
        target = self.server_files.resolve(self.path)
        if target is None:
            body = f"not found: {self.path}\n".encode()
            self.send_response(HTTPStatus.NOT_FOUND)
            self._headers("text/plain; charset=utf-8", len(body))
            if send_body:
                self.wfile.write(body)
            return
        self.send_response(HTTPStatus.OK)
        name = _file_path(self.path)
        if isinstance(target, bytes):
            self._headers(_content_type(name), len(target))
            if send_body:
                self.wfile.write(target)
            return
        self._headers(_content_type(target.name), target.stat().st_size)
        if send_body:
            with open(target, "rb") as f:
                shutil.copyfileobj(f, self.wfile, 1 << 20)

    def _headers(self, content_type: str, length: int) -> None:
        self._cors()
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")

    def log_message(self, format: str, *args: object) -> None:
        pass

    def handle_one_request(self) -> None:
        # A browser closing a keep-alive socket mid-response is normal at page close.
        try:
            super().handle_one_request()
        except (ConnectionResetError, BrokenPipeError):
            self.close_connection = True
