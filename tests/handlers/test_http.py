"""http:// and https://: the contract against a real ``pyweb serve``, then TF.js's request details.

The server accepts uploads on the model's own URL (``POST /models/NAME/model.json``,
an alias of ``/upload/NAME``), so one URL saves, loads, lists and removes, and
the contract runs unchanged. TF.js's URL resolution and request details are
pinned with a recording fake ``fetch_func``.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import pickle
import random
import re
from urllib.parse import urlsplit

import numpy as np
import pytest

import pyweb
from pyweb import _http_client
from pyweb._http_client import FetchResponse
from pyweb._multipart import boundary_of, parse_multipart
from pyweb.artifacts import to_model_json
from pyweb.errors import (
    ArtifactError,
    CorruptModelError,
    HTTPStatusError,
    ModelNotFoundError,
    RequestTimeoutError,
    StorageError,
    SyncUnavailableError,
)
from pyweb.handlers.http import HTTPHandler, HTTPModelStore, split_weight_prefix, weight_urls
from pyweb.server import ModelServer
from pyweb.testing.contract import HandlerContract, assert_same_model, make_artifacts

_ids = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ModelServer(tmp_path_factory.mktemp("served")) as srv:
        yield srv


class TestHTTP(HandlerContract):
    @pytest.fixture
    def model_url(self, server):
        folder = f"{server.url}/models/t{next(_ids)}"
        return lambda name: f"{folder}/{name}/model.json"

    @pytest.fixture
    def list_url(self, server):
        return server.url + "/"

    @pytest.fixture
    def fail_next_save(self, monkeypatch):
        """The next request sends half its body and hangs up: a broken upload."""
        real = _http_client.fetch
        armed = []

        async def fetch(url, init):
            if not armed:
                return await real(url, init)
            armed.clear()
            return await _truncated_upload(url, init)

        monkeypatch.setattr(_http_client, "fetch", fetch)
        return lambda: armed.append(True)


async def _truncated_upload(url, init):
    parts = urlsplit(url)
    body = bytes(init["body"])
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    head = (
        f"{init['method']} {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
        f"Content-Type: {init['headers']['Content-Type']}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body[: len(body) // 2])
    await writer.drain()
    writer.write_eof()
    status = int((await reader.readline()).split()[1])
    await reader.read()
    writer.close()
    await writer.wait_closed()
    return FetchResponse(status=status, url=url)


# -- a recording fake fetch -------------------------------------------------------


class Recorder:
    """A fetch_func answering from ``routes`` (url -> bytes or FetchResponse), 404 otherwise."""

    def __init__(self, routes=None, delay=None):
        self.routes = dict(routes or {})
        self.calls = []
        self.delay = delay
        self.active = self.peak = 0

    async def __call__(self, url, init):
        self.calls.append((url, init))
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            if self.delay:
                await asyncio.sleep(self.delay())
            answer = self.routes.get(url)
        finally:
            self.active -= 1
        if answer is None:
            return FetchResponse(404, {}, b"not found", url)
        if isinstance(answer, FetchResponse):
            return answer
        return FetchResponse(200, {}, answer, url)

    @property
    def urls(self):
        return [u for u, _ in self.calls]


def model_json(paths, specs=None, **extra):
    doc = {"modelTopology": {"t": 1}, "weightsManifest": [{"paths": paths, "weights": specs or []}], **extra}
    return json.dumps(doc).encode()


def load(url, **options):
    return asyncio.run(HTTPHandler(url, **options).aload())


def save(artifacts, url, **options):
    return asyncio.run(HTTPHandler(url, **options).asave(artifacts))


# -- TF.js URL resolution (reference §3, http_test.ts) -----------------------------


@pytest.mark.parametrize(
    "url, want",
    [
        ("http://g.com/a?x=1/file?param=1", ("http://g.com/a?x=1/", "?param=1")),
        ("http://google.com/path/file?param=1", ("http://google.com/path/", "?param=1")),
        ("http://google.com/path/model.json", ("http://google.com/path/", "")),
        ("model.json", ("/", "")),
    ],
)
def test_parse_url_as_tfjs(url, want):
    assert split_weight_prefix(url) == want


def test_relative_model_url_fetches_exactly_json_then_weights():
    fetch = Recorder({"./model.json": model_json(["weightfile0"]), "./weightfile0": b"\1\2"})
    got = load("./model.json", fetch_func=fetch)
    assert fetch.urls == ["./model.json", "./weightfile0"]
    assert got.weight_data == [b"\1\2"] and got.model_topology == {"t": 1}


def test_query_is_copied_onto_every_shard():
    base = "http://h/m/model.json?tfjs-format=file"
    paths = ["group1-shard1of2.bin", "group1-shard2of2.bin"]
    fetch = Recorder({base: model_json(paths), **{f"http://h/m/{p}?tfjs-format=file": b"x" for p in paths}})
    load(base, fetch_func=fetch)
    assert fetch.urls[1:] == [f"http://h/m/{p}?tfjs-format=file" for p in paths]


def test_weight_path_prefix_is_concatenated_without_a_slash():
    urls = asyncio.run(weight_urls("http://h/m/model.json?q=1", ["w0", "./w1"], weight_path_prefix="http://cdn/x"))
    assert urls == ["http://cdn/xw0?q=1", "http://cdn/x./w1?q=1"]
    # an empty prefix counts as unset
    assert asyncio.run(weight_urls("http://h/m/model.json", ["w0"], weight_path_prefix="")) == ["http://h/m/w0"]


@pytest.mark.parametrize("is_async", [False, True])
def test_weight_url_converter_overrides_prefix_and_query(is_async):
    async def aconv(path):
        return "auth_" + path

    conv = aconv if is_async else (lambda path: "auth_" + path)
    fetch = Recorder({"http://h/m/model.json?q=1": model_json(["weightfile0"]), "auth_weightfile0": b"w"})
    got = load("http://h/m/model.json?q=1", fetch_func=fetch, weight_url_converter=conv, weight_path_prefix="http://x/")
    assert fetch.urls[1:] == ["auth_weightfile0"] and got.weight_data == [b"w"]


def test_groups_and_paths_keep_manifest_order():
    manifest = [{"paths": ["a", "b"], "weights": []}, {"paths": ["c", "d"], "weights": []}]
    routes = {"http://h/model.json": json.dumps({"weightsManifest": manifest}).encode()}
    routes.update({f"http://h/{p}": p.encode() * 3 for p in "abcd"})
    fetch = Recorder(routes, delay=lambda: random.random() / 200)
    got = load("http://h/model.json", fetch_func=fetch)
    assert got.weight_data == [b"aaa", b"bbb", b"ccc", b"ddd"]
    assert got.model_topology is None  # weights-only model.json loads


def test_topology_only_has_no_weights():
    fetch = Recorder({"http://h/model.json": b'{"modelTopology":{"a":1}}'})
    got = load("http://h/model.json", fetch_func=fetch)
    assert got.weight_specs is None and got.weight_data is None and fetch.urls == ["http://h/model.json"]


# -- requests: headers, method, body ------------------------------------------------


def test_request_init_and_headers_reach_every_request():
    fetch = Recorder({"http://h/model.json": model_json(["w0", "w1"]), "http://h/w0": b"", "http://h/w1": b""})
    init = {"headers": {"X-Auth": "a", "X-Over": "old"}, "credentials": "include", "method": "PUT"}
    load("http://h/model.json", fetch_func=fetch, request_init=init, headers={"x-over": "new"})
    assert len(fetch.calls) == 3
    for _, sent in fetch.calls:
        assert sent["headers"] == {"X-Auth": "a", "x-over": "new"}
        assert sent["credentials"] == "include"
        assert sent["method"] == "GET"  # loads always GET (TF.js would reuse PUT)


def test_store_merges_headers_as_the_handler_does():
    fetch = Recorder({"http://h/models": b'{"models": []}'})
    init = {"headers": {"authorization": "Bearer old", "X-Keep": "1"}}
    store = HTTPModelStore("http://h/", request_init=init, headers={"Authorization": "Bearer new"}, fetch_func=fetch)
    assert asyncio.run(store.alist_models()) == {}
    ((_, sent),) = fetch.calls
    assert sent["headers"] == {"X-Keep": "1", "Authorization": "Bearer new"}  # one Authorization, the explicit one


@pytest.mark.parametrize("options", [{"method": "PUT"}, {"request_init": {"method": "put"}}])
def test_save_method_is_configurable(options):
    fetch = Recorder({"http://h/up": b"{}"})
    save(make_artifacts(), "http://h/up", fetch_func=fetch, headers={"X-Key": "k"}, **options)
    ((_, sent),) = fetch.calls
    assert sent["method"] == "PUT" and sent["headers"]["X-Key"] == "k"
    assert sent["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")


def test_request_init_with_body_is_rejected():
    with pytest.raises(ValueError):
        HTTPHandler("http://h/up", request_init={"body": b"x"})


def _parts_with_headers(body: bytes, boundary: bytes):
    heads = re.findall(rb"--" + re.escape(boundary) + rb"\r\n(.*?)\r\n\r\n", body, re.DOTALL)
    return [h.decode() for h in heads]


def test_multipart_fields_as_tfjs_sends_them(server):
    art = make_artifacts(1)
    fetch = Recorder({"http://h/up": b"{}"})
    result = save(art, "http://h/up", fetch_func=fetch)
    ((_, sent),) = fetch.calls
    body, boundary = bytes(sent["body"]), boundary_of(sent["headers"]["Content-Type"])
    assert _parts_with_headers(body, boundary) == [
        'Content-Disposition: form-data; name="model.json"; filename="model.json"\r\nContent-Type: application/json',
        (
            'Content-Disposition: form-data; name="model.weights.bin"; filename="model.weights.bin"\r\n'
            "Content-Type: application/octet-stream"
        ),
    ]
    assert body.endswith(b"--" + boundary + b"--\r\n")
    parts = parse_multipart(body, boundary)
    assert bytes(parts["model.weights.bin"]) == bytes(art.weight_bytes())
    assert bytes(parts["model.json"]).decode() == pyweb.to_model_json(art, ["./model.weights.bin"])
    assert result.responses[0].status == 200
    assert result.model_artifacts_info.weight_data_bytes == art.weight_bytes().nbytes
    # the same body, sent for real, is stored and loads back
    response = asyncio.run(_http_client.fetch(server.url + "/upload/captured", sent))
    assert response.ok
    assert_same_model(pyweb.load(server.url + "/models/captured/model.json"), art)


def test_no_weight_data_sends_no_weights_part():
    art = pyweb.ModelArtifacts(model_topology={"a": 1})
    fetch = Recorder({"http://h/up": b"{}"})
    save(art, "http://h/up", fetch_func=fetch)
    ((_, sent),) = fetch.calls
    parts = parse_multipart(bytes(sent["body"]), boundary_of(sent["headers"]["Content-Type"]))
    assert list(parts) == ["model.json"]
    assert json.loads(bytes(parts["model.json"]))["weightsManifest"] == [{"paths": ["./model.weights.bin"]}]


def test_shards_and_integrity_round_trip(server):
    art = make_artifacts(2)
    art.weight_data = [bytes(art.weight_bytes())[:7], bytes(art.weight_bytes())[7:]]  # split mid-tensor
    fetch = Recorder({"http://h/up": b"{}"})
    save(art, "http://h/up", fetch_func=fetch, shard_bytes=40, integrity=True)
    ((_, sent),) = fetch.calls
    parts = parse_multipart(bytes(sent["body"]), boundary_of(sent["headers"]["Content-Type"]))
    n = -(-art.weight_bytes().nbytes // 40)
    names = [f"group1-shard{i}of{n}.bin" for i in range(1, n + 1)]
    assert list(parts) == ["model.json", *names]
    group = json.loads(bytes(parts["model.json"]))["weightsManifest"][0]
    assert group["paths"] == names and len(group["sha256"]) == n
    url = f"{server.url}/models/sharded/model.json"
    pyweb.save(art, url, shard_bytes=40, integrity=True)
    assert_same_model(pyweb.load(url), art)


def test_binary_topology_fails_before_any_request():
    fetch = Recorder()
    with pytest.raises(ArtifactError):
        save(pyweb.ModelArtifacts(model_topology=b"\x08\x01"), "http://h/up", fetch_func=fetch)
    assert fetch.calls == []


# -- errors -------------------------------------------------------------------------


def test_non_2xx_raises_picklable_http_status_error(server):
    with pytest.raises(HTTPStatusError) as info:
        pyweb.save(make_artifacts(), server.url + "/nowhere")
    assert info.value.status == 404 and info.value.url == server.url + "/nowhere"
    again = pickle.loads(pickle.dumps(info.value))
    assert (type(again), again.status, again.url, str(again)) == (HTTPStatusError, 404, info.value.url, str(info.value))
    fetch = Recorder({"http://h/model.json": FetchResponse(503, {}, b"busy", "http://h/model.json")})
    with pytest.raises(HTTPStatusError) as info:
        load("http://h/model.json", fetch_func=fetch)
    assert info.value.status == 503 and isinstance(info.value, OSError)


@pytest.mark.parametrize("body", [b"<html>not json</html>", b"[1]", b"{}"])
def test_bad_model_json_is_corrupt(body):
    with pytest.raises(CorruptModelError) as info:
        load("http://h/model.json", fetch_func=Recorder({"http://h/model.json": body}))
    assert info.value.part == "model.json"


def test_missing_shard_is_corrupt_unless_lenient(server):
    url = f"{server.url}/models/no-shard/model.json"
    pyweb.save(make_artifacts(3), url)
    (server.root / "no-shard" / "weights.bin").unlink()
    with pytest.raises(CorruptModelError) as info:
        pyweb.load(url)
    assert info.value.part == "weights.bin"
    fetch = Recorder({"http://h/model.json": model_json(["w"])})  # TF.js uses the 404 body as weights
    assert load("http://h/model.json", fetch_func=fetch, strict_status=False).weight_data == [b"not found"]
    err = FetchResponse(500, {}, b"", "http://h/w")
    with pytest.raises(HTTPStatusError) as info:
        load("http://h/model.json", fetch_func=Recorder({"http://h/model.json": model_json(["w"]), "http://h/w": err}))
    assert info.value.status == 500 and info.value.url == "http://h/w"


def test_integrity_mismatch_is_corrupt(server):
    url = f"{server.url}/models/tampered/model.json"
    pyweb.save(make_artifacts(4), url, integrity=True)
    weights = server.root / "tampered" / "weights.bin"
    data = bytearray(weights.read_bytes())
    data[0] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CorruptModelError) as info:
        pyweb.load(url)
    assert info.value.part == "weights.bin"


# -- parallelism, progress, sync bridge ----------------------------------------------


def test_shards_fetched_in_parallel_but_bounded():
    paths = [f"s{i}" for i in range(12)]
    routes = {"http://h/model.json": model_json(paths), **{f"http://h/{p}": p.encode() for p in paths}}
    fetch = Recorder(routes, delay=lambda: 0.002 + random.random() / 500)
    got = load("http://h/model.json", fetch_func=fetch, max_parallel=3)
    assert fetch.peak == 3
    assert got.weight_data == [p.encode() for p in paths]


def test_on_progress_is_monotonic_and_ends_at_one():
    paths = [f"s{i}" for i in range(7)]
    routes = {"http://h/model.json": model_json(paths), **{f"http://h/{p}": b"x" for p in paths}}
    seen = []
    fetch = Recorder(routes, delay=lambda: random.random() / 500)
    load("http://h/model.json", fetch_func=fetch, on_progress=seen.append)
    assert len(seen) == 7 and seen == sorted(seen) and seen[-1] == 1.0 and seen[0] > 0
    seen.clear()
    load("http://h/model.json", fetch_func=Recorder({"http://h/model.json": model_json([])}), on_progress=seen.append)
    assert seen == [1.0]


def test_sync_load_inside_running_loop_raises(server):
    async def inside():
        with pytest.raises(SyncUnavailableError):
            pyweb.load(f"{server.url}/models/whatever/model.json")

    asyncio.run(inside())


def test_async_twin_works_inside_running_loop(server):
    url = f"{server.url}/models/async-one/model.json"

    async def go():
        await pyweb.asave(make_artifacts(5), url)
        return await pyweb.aload(url)

    assert_same_model(asyncio.run(go()), make_artifacts(5))


# -- the asyncio client ----------------------------------------------------------------


async def _serve_raw(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def _read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"Content-Length: (\d+)", head)
    body = await reader.readexactly(int(length.group(1))) if length else b""
    return head.decode("latin-1"), body


def test_client_reads_chunked_and_follows_redirects():
    async def handler(reader, writer):
        head, _ = await _read_request(reader)
        if head.startswith("GET /old"):
            writer.write(b"HTTP/1.1 302 Found\r\nLocation: /new?x=1\r\nContent-Length: 0\r\n\r\n")
        else:
            assert head.startswith("GET /new?x=1 ")
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            writer.write(b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-T: 1\r\n\r\n")
        await writer.drain()
        writer.close()

    async def go():
        server, base = await _serve_raw(handler)
        async with server:
            return await _http_client.fetch(base + "/old", {"headers": {"X-A": "1"}})

    response = asyncio.run(go())
    assert response.ok and response.body == b"abcde" and response.url.endswith("/new?x=1")


def test_cancel_and_timeout_close_the_connection():
    async def go():
        gone = asyncio.Event()

        async def handler(reader, writer):
            await _read_request(reader)
            await reader.read()  # never answers; returns once the client hangs up
            gone.set()
            writer.close()

        server, base = await _serve_raw(handler)
        async with server:
            handler_obj = HTTPHandler(base + "/model.json", timeout=0.05)
            with pytest.raises(RequestTimeoutError) as info:
                await handler_obj.aload()
            assert info.value.url == base + "/model.json" and info.value.timeout == 0.05
            assert isinstance(info.value, StorageError) and isinstance(info.value, TimeoutError)
            await asyncio.wait_for(gone.wait(), 1)

    asyncio.run(go())


def test_connection_refused_is_a_storage_error():
    async def go():
        server, base = await _serve_raw(lambda r, w: None)
        server.close()
        await server.wait_closed()
        return base

    base = asyncio.run(go())
    with pytest.raises(StorageError):
        pyweb.load(base + "/model.json")


def test_list_models_needs_a_listing_server(server):
    with pytest.raises(ModelNotFoundError):
        pyweb.list_models(server.url + "/nope/")


def test_client_redirect_rules():
    seen = []

    async def handler(reader, writer):
        head, body = await _read_request(reader)
        seen.append((head.split(" ")[0], head.split(" ")[1], body))
        if head.startswith("POST /form"):
            writer.write(b"HTTP/1.1 303 See Other\r\nLocation: /done\r\nContent-Length: 0\r\n\r\n")
        elif head.startswith("GET /loop"):
            writer.write(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    async def go():
        server, base = await _serve_raw(handler)
        async with server:
            response = await _http_client.fetch(base + "/form", {"method": "POST", "body": b"data"})
            assert response.ok and response.body == b"ok"
            with pytest.raises(StorageError):
                await _http_client.fetch(base + "/loop", {})

    asyncio.run(go())
    assert seen[:2] == [("POST", "/form", b"data"), ("GET", "/done", b"")]
    assert len(seen) == 2 + 1 + _http_client.MAX_REDIRECTS


def _model_files(shards):
    data, specs = pyweb.encode_weights({f"w{i}": np.full(1000, i, np.float32) for i in range(shards)})
    art = pyweb.ModelArtifacts(model_topology={"k": 1}, weight_specs=specs, weight_data=data)
    manifest = [{"paths": [f"s{i}.bin" for i in range(shards)], "weights": specs}]
    files = {f"/m/s{i}.bin": bytes(data[i * 4000 : (i + 1) * 4000]) for i in range(shards)}
    files["/m/model.json"] = to_model_json(art, manifest).encode()
    return files, data


def test_one_load_reuses_its_connections():
    files, data = _model_files(8)
    connections, requests = [], []

    async def handler(reader, writer):  # HTTP/1.1 keep-alive: answers until the client hangs up
        connections.append(1)
        while True:
            try:
                head, _ = await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            requests.append(head.split(" ")[1])
            body = files[head.split(" ")[1]]
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
        writer.close()

    async def go():
        server, base = await _serve_raw(handler)
        async with server:
            return await pyweb.aload(base + "/m/model.json", max_parallel=2)

    art = asyncio.run(go())
    assert bytes(art.weight_bytes()) == data and len(requests) == 9
    assert len(connections) <= 2  # model.json's connection, then at most max_parallel for the shards


@pytest.mark.parametrize("auth", [None, "user:p%40ss"])
def test_proxy_from_the_environment(monkeypatch, auth):
    files, data = _model_files(3)
    seen = []

    async def proxy(reader, writer):  # answers as the origin would, recording the request line
        while True:
            try:
                head, _ = await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            seen.append(head)
            target = head.split(" ")[1]
            if head.startswith("CONNECT "):
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            else:
                body = files[urlsplit(target).path]
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
        writer.close()

    async def go(url):
        server, base = await _serve_raw(proxy)
        netloc = base.split("//")[1]
        monkeypatch.setenv("http_proxy", f"http://{auth + '@' if auth else ''}{netloc}")
        monkeypatch.setenv("https_proxy", f"http://{netloc}")
        monkeypatch.setenv("no_proxy", "bypassed.invalid")
        async with server:
            return await pyweb.aload(url)

    # A host that does not resolve: only the proxy can have answered.
    art = asyncio.run(go("http://models.invalid/m/model.json"))
    assert bytes(art.weight_bytes()) == data
    assert all(h.startswith("GET http://models.invalid/m/") for h in seen) and len(seen) == 4
    if auth:
        assert all("Proxy-Authorization: Basic " + base64.b64encode(b"user:p@ss").decode() in h for h in seen)
    else:
        assert not any("Proxy-Authorization" in h for h in seen)
    # https goes through a CONNECT tunnel (this proxy refuses it); no_proxy hosts go direct (and fail here).
    seen.clear()
    with pytest.raises(StorageError, match="proxy refused to tunnel"):
        asyncio.run(go("https://models.invalid/m/model.json"))
    assert seen[0].startswith("CONNECT models.invalid:443 HTTP/1.1")
    seen.clear()
    with pytest.raises(StorageError, match="cannot connect"):
        asyncio.run(go("http://bypassed.invalid/m/model.json"))
    assert seen == []


def test_save_streams_the_weights_without_joining_them(monkeypatch):
    # The multipart body goes out as its pieces: the weight buffers themselves, never one joined copy.
    from pyweb.handlers import http as http_module

    joined = []
    real = http_module.encode_multipart
    monkeypatch.setattr(http_module, "encode_multipart", lambda *a: joined.append(1) or real(*a))
    bodies = []

    async def handler(reader, writer):
        _head, body = await _read_request(reader)
        bodies.append(body)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    data, specs = pyweb.encode_weights({"a": np.arange(3000, dtype=np.float32)}, join=False)

    async def go():
        server, base = await _serve_raw(handler)
        async with server:
            art = pyweb.ModelArtifacts(model_topology={}, weight_specs=specs, weight_data=data)
            await pyweb.asave(art, base + "/upload/x")

    asyncio.run(go())
    assert not joined and bytes(data[0]) in bodies[0]
