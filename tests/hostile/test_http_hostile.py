"""A hostile model host: pyweb's http:// loads stop early and raise pyweb errors."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import psutil
import pytest

import pyweb
from pyweb.errors import CorruptModelError, PyWebError, StorageError

SPECS = [{"name": "w", "shape": [4], "dtype": "float32"}]
MODEL = json.dumps({"modelTopology": {}, "weightsManifest": [{"paths": ["w.bin"], "weights": SPECS}]}).encode()


class _Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    routes: ClassVar[dict] = {}

    def do_GET(self):
        kind = self.routes.get(self.path, "404")
        if kind == "404":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        if kind == "endless-chunked":  # a shard that never ends
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(4096):
                    self.wfile.write(b"100000\r\n" + b"\0" * 0x100000 + b"\r\n")
            except OSError:
                pass
            return
        if kind == "huge-length":  # declares 64 GiB
            self.send_header("Content-Length", str(64 << 30))
            self.end_headers()
            try:
                self.wfile.write(b"\0" * (1 << 20))
            except OSError:
                pass
            return
        body = kind if isinstance(kind, bytes) else json.dumps(kind).encode()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def host():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Hostile.routes
    server.shutdown()
    server.server_close()
    _Hostile.routes.clear()


@pytest.mark.parametrize("shard", ["endless-chunked", "huge-length"])
def test_an_oversized_shard_is_refused_before_it_is_all_in_memory(host, shard):
    base, routes = host
    routes.update({"/m/model.json": MODEL, "/m/w.bin": shard})
    before = psutil.Process().memory_info().rss
    with pytest.raises(StorageError):
        pyweb.load(f"{base}/m/model.json")
    assert psutil.Process().memory_info().rss - before < 64 << 20


def test_an_endless_model_json_is_refused(host, monkeypatch):
    from pyweb.handlers import http

    monkeypatch.setattr(http, "MAX_MODEL_JSON_BYTES", 1 << 20)
    base, routes = host
    routes["/m/model.json"] = "endless-chunked"
    with pytest.raises(StorageError):
        pyweb.load(f"{base}/m/model.json")


@pytest.mark.parametrize(
    "listing",
    [
        [1, 2],
        {"models": 5},
        {"models": [{"url": 5}]},
        {"models": [{"url": "x", "modelArtifactsInfo": {"dateSaved": 5}}]},
        b"[" * 100_000,
        b"not json",
    ],
)
def test_a_garbage_listing_is_a_pyweb_error(host, listing):
    base, routes = host
    routes["/models"] = listing
    with pytest.raises(PyWebError):
        pyweb.list_models(base)


def test_short_shards_are_corrupt(host):
    base, routes = host
    routes.update({"/m/model.json": MODEL, "/m/w.bin": b"\0" * 10})
    with pytest.raises(CorruptModelError):
        pyweb.load(f"{base}/m/model.json")
