"""pyweb serve under attack: Host tricks, header-only floods, parallel and racing uploads,
slow clients, uploads that cannot load, and odd requests. Raw sockets and http.client."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import socket
import threading
import time

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyweb
from pyweb import _atomic, _upload
from pyweb import server as server_module
from pyweb._multipart import encode_multipart
from pyweb.server import ModelServer
from pyweb.testing.contract import assert_same_model, make_artifacts
from tests.test_server import root, srv  # noqa: F401 (fixtures)


def request(s, method, path, body=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def upload_body(art=None, *, specs=None, weights=None):
    art = art or make_artifacts(1)
    doc = json.loads(pyweb.to_model_json(art, ["./model.weights.bin"]))
    if specs is not None:
        doc["weightsManifest"][0]["weights"] = specs
    data = bytes(art.weight_bytes()) if weights is None else weights
    body, content_type = encode_multipart(
        [
            ("model.json", "application/json", [json.dumps(doc).encode()]),
            ("model.weights.bin", "application/octet-stream", [data]),
        ]
    )
    return bytes(body), {"Content-Type": content_type}


def stored(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# -- Host and Origin -------------------------------------------------------------------


@pytest.mark.parametrize(
    "host, status",
    [
        ("127.evil.example", 403),
        ("127.0.0.1.evil.example", 403),
        ("evil.example", 403),
        ("localhost.evil.example", 403),
        ("[::1]", 200),
        ("127.0.0.1", 200),
        ("127.4.5.6", 200),  # an address literal: DNS cannot rebind it
        ("localhost", 200),
        ("", 403),
        ("[zz", 403),
    ],
)
def test_host_is_matched_exactly(srv, host, status):
    for method, path in (("GET", "/models"), ("POST", "/upload/x")):
        body, headers = upload_body()
        value = f"{host}:{srv.port}" if host and not host.startswith("[zz") else host
        got, _ = request(srv, method, path, body if method == "POST" else None, {**headers, "Host": value})
        assert got == status, (method, host)


# -- floods, parallel clients, races -----------------------------------------------------


def _rss_mib():
    return psutil.Process().memory_info().rss / 2**20


def test_header_only_flood_allocates_nothing_and_others_are_answered(srv, root):
    before = _rss_mib()
    socks = []
    for _ in range(40):
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(
            b"POST /upload/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 33554432\r\n\r\n"
        )
        socks.append(s)
    time.sleep(0.5)
    grown = _rss_mib() - before
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(lambda _: request(srv, "GET", "/models")[0], range(50)))
    for s in socks:
        s.close()
    assert statuses == [200] * 50
    assert grown < 40, f"{grown:.0f} MiB for 40 header-only uploads"  # was 1,281 MiB
    assert stored(root) == []


def test_fifty_parallel_uploads_and_racing_first_uploads_of_one_name(srv, root):
    def upload(i):
        body, headers = upload_body(make_artifacts(i % 7))
        name = f"m{i}" if i < 40 else "same"  # 40 distinct names, 20 racing on one new name
        return request(srv, "POST", f"/upload/{name}", body, headers, timeout=60)[0]

    with concurrent.futures.ThreadPoolExecutor(60) as pool:
        statuses = list(pool.map(upload, range(60)))
    assert statuses == [200] * 60
    for i in range(40):
        assert_same_model(pyweb.load(f"file://{root}/m{i}"), make_artifacts(i % 7))
    got = pyweb.load(f"file://{root}/same")
    assert any(bytes(got.weight_bytes()) == bytes(make_artifacts(i % 7).weight_bytes()) for i in range(40, 60))
    assert not [p for p in stored(root) if _atomic.is_leftover(os.path.basename(p))]


def test_connections_over_the_cap_get_503_at_once(root):
    with ModelServer(root, max_connections=3) as s:
        held = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(3)]
        time.sleep(0.2)
        start = time.monotonic()
        status, body = request(s, "GET", "/models")
        assert status == 503 and time.monotonic() - start < 2
        assert "busy" in json.loads(body)["error"]
        for h in held:
            h.close()
        time.sleep(0.2)
        assert request(s, "GET", "/models")[0] == 200


def _held_for(sock, trickle, limit=8.0):
    """Seconds until the server closes ``sock``, sending ``trickle`` one byte every 0.2 s."""
    start = time.monotonic()
    sock.settimeout(0.2)
    for byte in trickle:
        if time.monotonic() - start > limit:
            break
        try:
            sock.sendall(bytes([byte]))
            if sock.recv(100) == b"":
                break
        except TimeoutError:
            continue
        except OSError:
            break
    return time.monotonic() - start


def test_slow_clients_do_not_starve_others_and_are_dropped(root, monkeypatch):
    monkeypatch.setattr(server_module, "HEADER_SECONDS", 1.5)
    with ModelServer(root) as s:
        slow = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(60)]
        for c in slow:
            c.sendall(b"GET /mod")  # slowloris: a request line that never ends
        start = time.monotonic()
        assert request(s, "GET", "/models")[0] == 200
        assert time.monotonic() - start < 1.0
        with concurrent.futures.ThreadPoolExecutor(60) as pool:  # now trickle a byte every 0.2 s on each
            held = list(pool.map(lambda c: _held_for(c, b"els HTTP/1.1\r\nX: " + b"y" * 100), slow))
        for c in slow:
            c.close()
        assert max(held) < 3.0, f"a trickling client was held {max(held):.1f} s"


def test_a_trickling_body_is_cut_off_with_408(root, monkeypatch):
    monkeypatch.setattr(server_module, "HEADER_SECONDS", 1.0)
    monkeypatch.setattr(server_module, "MIN_BODY_RATE", 1 << 20)
    with ModelServer(root) as s:
        c = socket.create_connection(("127.0.0.1", s.port))
        c.sendall(
            b"POST /upload/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 1048576\r\n\r\n"
        )
        start = time.monotonic()
        reply = b""
        c.settimeout(0.2)
        while time.monotonic() - start < 6 and not reply:
            try:
                c.sendall(b"x")
            except OSError:
                break
            try:
                reply = c.recv(200)
            except TimeoutError:
                pass
        c.close()
        assert reply.startswith(b"HTTP/1.1 408"), reply
        assert stored(root) == []


# -- uploads that must not be stored -----------------------------------------------------


def _bad_uploads():
    art = make_artifacts(1)
    specs = art.weight_specs
    yield "short weights", *upload_body(weights=bytes(art.weight_bytes())[:-3]), 400
    yield "long weights", *upload_body(weights=bytes(art.weight_bytes()) + b"xx"), 400
    yield "huge shape", *upload_body(specs=[{"name": "w", "shape": [2**62, 4], "dtype": "float32"}]), 400
    yield "float64", *upload_body(specs=[{**specs[0], "dtype": "float64"}] + specs[1:]), 400
    yield "dup names", *upload_body(specs=[specs[0], {**specs[1], "name": specs[0]["name"]}] + specs[2:]), 400
    yield "bool 7", *upload_body(specs=[{"name": "f", "shape": [1], "dtype": "bool"}], weights=b"\7"), 400
    deep = b'{"modelTopology":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    body, ct = encode_multipart([("model.json", "application/json", [deep])])
    yield "deep json", bytes(body), {"Content-Type": ct}, 400


@pytest.mark.parametrize("case", list(_bad_uploads()), ids=lambda c: c[0])
def test_uploads_that_cannot_load_are_refused_and_not_stored(srv, root, case):
    _, body, headers, status = case
    got, reply = request(srv, "POST", "/upload/bad", body, headers)
    assert got == status, reply
    assert "\n" not in json.loads(reply)["error"]
    assert stored(root) == []


@pytest.mark.parametrize(
    "path, headers, status",
    [
        ("/upload/" + "a" * 5000, {}, 400),
        ("/upload/" + "/".join(["b" * 200] * 10), {}, 400),
        ("/upload/p/model.json/x", {}, 409),
        ("/upload/p/weights.bin", {}, 409),
        ("/upload/y", {"Content-Length": "²"}, 400),
        ("/upload/y", {"Content-Length": "-1"}, 400),
        ("/upload/y", {"Content-Length": "1" * 30}, 400),
        ("/upload/%2e%2e/x", {}, 400),
        ("/upload/.hidden", {}, 400),
        ("/models/p/../../etc", {}, 400),
    ],
)
def test_odd_requests_are_4xx_with_one_line(srv, root, path, headers, status):
    body, h = upload_body()
    request(srv, "POST", "/upload/p", body, h)
    before = stored(root)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    conn.putrequest("POST", path, skip_accept_encoding=True)
    for key, value in {**h, **headers}.items():
        conn.putheader(key, value.encode("utf-8") if isinstance(value, str) else value)
    if "Content-Length" not in headers:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body if "Content-Length" not in headers else None)
    response = conn.getresponse()
    reply = response.read()
    conn.close()
    assert response.status == status, reply
    assert len(json.loads(reply)["error"].splitlines()) == 1
    assert stored(root) == before


@settings(
    max_examples=int(os.environ.get("PYWEB_FUZZ_EXAMPLES", "120")) // 2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.one_of(
        st.binary(max_size=300), st.builds(lambda a, b: a + b, st.just(upload_body()[0][:200]), st.binary(max_size=100))
    ),
    content_type=st.sampled_from(
        ["multipart/form-data; boundary=b", upload_body()[1]["Content-Type"], "text/plain", "multipart/form-data", ""]
    ),
)
def test_random_upload_bodies_never_get_a_5xx(srv, body, content_type):
    status, reply = request(srv, "POST", "/upload/fuzz", body, {"Content-Type": content_type})
    assert status < 500, reply


def test_spool_file_is_unnamed_and_in_the_served_directory(srv, root, monkeypatch):
    seen = []
    real = _upload.tempfile.TemporaryFile

    def spy(*args, **kwargs):
        seen.append(kwargs.get("dir"))
        return real(*args, **kwargs)

    monkeypatch.setattr(server_module, "SPOOL_BYTES", 64)
    monkeypatch.setattr(_upload.tempfile, "TemporaryFile", spy)
    body, headers = upload_body()
    assert request(srv, "POST", "/upload/big", body, headers)[0] == 200
    assert seen == [str(root)]
    assert stored(root) == ["big", "big/model.json", "big/weights.bin"]


def test_server_threads_end_with_their_connections(srv):
    before = threading.active_count()
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        list(pool.map(lambda _: request(srv, "GET", "/models"), range(20)))
    time.sleep(0.3)
    assert threading.active_count() <= before + 1


# -- found by an attacker's review ------------------------------------------------------


def raw(s, data, *, read_for=3.0):
    """Send raw bytes; return everything the server answers before closing (or ``read_for`` s)."""
    c = socket.create_connection(("127.0.0.1", s.port))
    c.sendall(data)
    c.settimeout(0.3)
    out, end = b"", time.monotonic() + read_for
    while time.monotonic() < end:
        try:
            chunk = c.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        out += chunk
    c.close()
    return out


@pytest.mark.parametrize(
    "host",
    ["evil.com@localhost", "localhost/evil.com", "localhost:evil", "localhost.", "[::ffff:127.0.0.1]", "127.0.0.1:1"],
)
def test_host_header_tricks_are_refused(srv, host):
    reply = raw(srv, f"GET /models HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(), read_for=1)
    assert reply.startswith(b"HTTP/1.1 403"), reply[:100]


def test_two_host_headers_are_refused(srv):
    reply = raw(
        srv, f"GET /models HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nHost: evil.com\r\n\r\n".encode(), read_for=1
    )
    assert reply.startswith(b"HTTP/1.1 400"), reply[:100]


@pytest.mark.parametrize(
    "headers",
    [
        "Content-Length: 5\r\nContent-Length: 500",
        "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked",
    ],
)
def test_ambiguous_framing_is_refused(srv, headers):
    head = f"POST /upload/x HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
    reply = raw(srv, (head + headers + "\r\n\r\nhello").encode(), read_for=1.5)
    assert reply.split(b" ")[1] in (b"400", b"411"), reply[:100]
    assert reply.count(b"HTTP/1.1") == 1


def test_a_body_on_a_get_cannot_smuggle_a_second_request(srv):
    smuggled = f"GET /models HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n\r\n"
    reply = raw(
        srv,
        (
            f"GET /models HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nContent-Length: {len(smuggled)}\r\n\r\n" + smuggled
        ).encode(),
        read_for=1.5,
    )
    assert reply.count(b"HTTP/1.1 200") == 1


def test_expect_continue_is_not_promised_to_an_upload_over_the_limit(root):
    with ModelServer(root, max_body_bytes=1000) as s:
        reply = raw(
            s,
            f"POST /upload/x HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nContent-Length: 5000000000\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nExpect: 100-continue\r\n\r\n".encode(),
            read_for=1,
        )
        assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
        assert b"100 Continue" not in reply


@pytest.mark.parametrize(
    "request_bytes, status",
    [
        (b"PATCH /models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"405"),
        (b"GET /models HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", b"505"),
        (b"GET /models HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", b"431"),
        (b"GET /models HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n", b"431"),
        (b"garbage\r\n\r\n", b"400"),
    ],
)
def test_http_level_refusals_are_json_too(srv, request_bytes, status):
    reply = raw(srv, request_bytes, read_for=1)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == status, head[:200]
    assert b"application/json" in head and "error" in json.loads(body)


def test_concurrent_deletes_and_uploads_of_one_name_are_never_500(srv, root):
    body, headers = upload_body()

    def work(i):
        if i % 3 == 0:
            return request(srv, "POST", "/upload/m", body, headers)[0]
        if i % 3 == 1:
            return request(srv, "DELETE", "/models/m")[0]
        return request(srv, "GET", "/models/m/model.json")[0]

    for _ in range(5):
        with concurrent.futures.ThreadPoolExecutor(30) as pool:
            statuses = list(pool.map(work, range(60)))
        assert set(statuses) <= {200, 404}, statuses
    request(srv, "POST", "/upload/m", body, headers)
    deletes = [0] * 4
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        deletes = sorted(pool.map(lambda _: request(srv, "DELETE", "/models/m")[0], range(4)))
    assert deletes == [200, 404, 404, 404]


def test_a_trickling_body_with_a_huge_declared_length_is_cut_off(root, monkeypatch):
    # The body deadline grows with bytes that arrive, not with what Content-Length declares.
    monkeypatch.setattr(server_module, "HEADER_SECONDS", 1.0)
    with ModelServer(root) as s:
        c = socket.create_connection(("127.0.0.1", s.port))
        c.sendall(
            f"POST /upload/slow HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000000\r\n\r\n".encode()
        )
        assert _held_for(c, b"x" * 100) < 3.0
        c.close()


def test_a_huge_part_header_costs_no_memory(srv, root):
    before = _rss_mib()
    head = b'--x\r\nContent-Disposition: form-data; name="model.json"\r\nX: '
    body = head + b"\xff" * (64 << 20) + b"\r\n\r\n{}\r\n--x--\r\n"
    status, reply = request(
        srv, "POST", "/upload/h", body, {"Content-Type": "multipart/form-data; boundary=x"}, timeout=60
    )
    assert status == 400, reply
    assert _rss_mib() - before < 100
