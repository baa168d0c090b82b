"""pyweb.server: routing, name checks, limits, auth, CORS and atomic uploads, over raw HTTP."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

import pyweb
from pyweb import server as server_module
from pyweb._multipart import encode_multipart
from pyweb.server import ModelServer
from pyweb.testing.contract import assert_same_model, make_artifacts


@pytest.fixture
def root(tmp_path):
    return tmp_path / "root"


@pytest.fixture
def srv(root):
    with ModelServer(root) as s:
        yield s


def request(s, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def upload_body(artifacts=None, *, weights=True):
    art = artifacts or make_artifacts(1)
    fields = [("model.json", "application/json", [pyweb.to_model_json(art, ["./model.weights.bin"]).encode()])]
    if weights:
        fields.append(("model.weights.bin", "application/octet-stream", [art.weight_bytes()]))
    body, content_type = encode_multipart(fields)
    return bytes(body), {"Content-Type": content_type}


def tree(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


# -- uploads and downloads ---------------------------------------------------------


def test_upload_then_serve_files(srv, root):
    body, headers = upload_body()
    status, _, reply = request(srv, "POST", "/upload/team/mnist", body, headers)
    assert status == 200
    doc = json.loads(reply)
    assert doc["url"] == f"{srv.url}/models/team/mnist/model.json"
    assert doc["modelArtifactsInfo"]["weightDataBytes"] == make_artifacts(1).weight_bytes().nbytes
    status, got, text = request(srv, "GET", "/models/team/mnist/model.json")
    assert status == 200 and got["Content-Type"] == "application/json" and int(got["Content-Length"]) == len(text)
    assert json.loads(text)["weightsManifest"][0]["paths"] == ["weights.bin"]
    status, got, data = request(srv, "GET", "/models/team/mnist/weights.bin")
    assert status == 200 and got["Content-Type"] == "application/octet-stream"
    assert data == bytes(make_artifacts(1).weight_bytes())
    status, got, data = request(srv, "HEAD", "/models/team/mnist/weights.bin")
    assert status == 200 and data == b"" and int(got["Content-Length"]) == len(bytes(make_artifacts(1).weight_bytes()))
    assert_same_model(pyweb.load(f"file://{root}/team/mnist"), make_artifacts(1))


def test_browser_style_upload_with_put(srv):
    # What Chrome sends for TF.js's FormData: its own boundary, Blob parts named as the fields.
    art = make_artifacts(2)
    boundary = "----WebKitFormBoundaryAbC123xyz"
    body = (
        (
            f"------WebKitFormBoundaryAbC123xyz\r\n"
            'Content-Disposition: form-data; name="model.json"; filename="model.json"\r\n'
            "Content-Type: application/json\r\n\r\n"
            f"{pyweb.to_model_json(art, ['./model.weights.bin'])}\r\n"
            "------WebKitFormBoundaryAbC123xyz\r\n"
            'Content-Disposition: form-data; name="model.weights.bin"; filename="model.weights.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + bytes(art.weight_bytes())
        + b"\r\n------WebKitFormBoundaryAbC123xyz--\r\n"
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    assert request(srv, "PUT", "/models/web/model.json", body, headers)[0] == 200
    assert_same_model(pyweb.load(f"{srv.url}/models/web/model.json"), art)


def test_topology_only_upload(srv):
    art = pyweb.ModelArtifacts(model_topology={"a": 1})
    body, headers = upload_body(art, weights=False)
    assert request(srv, "POST", "/upload/topo", body, headers)[0] == 200
    assert pyweb.load(f"{srv.url}/models/topo/model.json").model_topology == {"a": 1}


def _renamed_json_part():
    body, headers = upload_body()
    renamed = body.replace(b'name="model.json"; filename="model.json"', b'name="other.json"; filename="other.json"')
    return renamed, headers


def _truncated_multipart():
    body, headers = upload_body()
    return body[:-60], headers


@pytest.mark.parametrize(
    "make, status",
    [
        (lambda: (b"{}", {"Content-Type": "application/json"}), 415),
        (lambda: (b"{}", {"Content-Type": "multipart/form-data"}), 415),  # no boundary
        (_truncated_multipart, 400),
        (lambda: upload_body(weights=False), 400),  # weight specs but no weights part
        (_renamed_json_part, 400),
    ],
)
def test_bad_uploads_are_rejected_and_store_nothing(srv, root, make, status):
    body, headers = make()
    got, _, reply = request(srv, "POST", "/upload/bad", body, headers)
    assert got == status and "error" in json.loads(reply)
    assert tree(root) == []


# -- names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/upload/..",
        "/upload/../evil",
        "/upload/a/../../evil",
        "/upload/%2e%2e/evil",
        "/upload/%2E%2E%2Fevil",
        "/upload/..%2fevil",
        "/upload//abs",
        "/upload/%2Ftmp%2Fevil",
        "/upload/a%5C..%5C..%5Cevil",
        "/upload/a\\b",
        "/upload/",
        "/upload/a//b",
        "/upload/.hidden",
        "/upload/a%00b",
        "/upload/%ff",
        "/models/%2e%2e/model.json",
    ],
)
def test_traversal_is_rejected_and_nothing_written_outside_root(srv, root, tmp_path, path):
    before = tree(tmp_path)
    body, headers = upload_body()
    status, _, reply = request(srv, "POST", path, body, headers)
    assert 400 <= status < 500 and "error" in json.loads(reply)
    assert tree(tmp_path) == before


@pytest.mark.parametrize("path", ["/models/../etc/passwd", "/models/%2e%2e/%2e%2e/etc/passwd", "/models/.secret"])
def test_reads_outside_root_or_hidden_are_refused(srv, root, tmp_path, path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("x")
    (root / ".secret").write_text("x")
    status, _, body = request(srv, "GET", path)
    assert 400 <= status < 500 and body != b"x"


def test_symlink_out_of_root_is_refused(srv, root, tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "model.json").write_text("{}")
    (root / "link").symlink_to(tmp_path / "outside")
    assert request(srv, "GET", "/models/link/model.json")[0] == 400


# -- limits, auth, CORS --------------------------------------------------------------------


def test_body_over_limit_is_413_before_reading(root):
    with ModelServer(root, max_body_bytes=500) as s:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
        conn.putrequest("POST", "/upload/big")
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", str(10**9))
        conn.endheaders()  # no body is ever sent
        response = conn.getresponse()
        assert response.status == 413 and "error" in json.loads(response.read())
        conn.close()
        body, headers = upload_body()
        assert len(body) > 500
        assert request(s, "POST", "/upload/big", body, headers)[0] == 413
    assert tree(root) == []


def test_missing_content_length_is_411(srv):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.putrequest("POST", "/upload/x")
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.endheaders()
    assert conn.getresponse().status == 411
    conn.close()


def test_token_required(root):
    body, headers = upload_body()
    with ModelServer(root, token="s3cret") as s:
        assert request(s, "GET", "/models")[0] == 401
        assert request(s, "GET", "/models", headers={"Authorization": "Bearer wrong"})[0] == 401
        status, got, _ = request(s, "POST", "/upload/m", body, headers)
        assert status == 401 and got["WWW-Authenticate"] == "Bearer"
        assert request(s, "OPTIONS", "/upload/m")[0] == 204  # preflights carry no credentials
        auth = {"Authorization": "Bearer s3cret"}
        assert request(s, "POST", "/upload/m", body, {**headers, **auth})[0] == 200
        assert request(s, "GET", "/models", headers=auth)[0] == 200
        url = f"{s.url}/models/m/model.json"
        with pytest.raises(pyweb.errors.HTTPStatusError) as info:
            pyweb.load(url)
        assert info.value.status == 401
        assert_same_model(pyweb.load(url, headers=auth), make_artifacts(1))


def test_cors_headers_and_preflight(srv, root):
    preflight = {"Origin": "http://x", "Access-Control-Request-Method": "POST"}
    status, got, _ = request(srv, "OPTIONS", "/upload/m", headers=preflight)
    assert status == 204
    assert got["Access-Control-Allow-Origin"] == "*"
    assert got["Access-Control-Allow-Methods"] == "GET, POST, PUT, DELETE, OPTIONS"
    assert got["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    for method, path in [("GET", "/models"), ("GET", "/nope"), ("POST", "/upload/.."), ("DELETE", "/models/x")]:
        assert request(srv, method, path)[1]["Access-Control-Allow-Origin"] == "*"
    with ModelServer(root, cors_origin=None) as s:
        assert "Access-Control-Allow-Origin" not in request(s, "GET", "/models")[1]
    with ModelServer(root, cors_origin="https://app.example") as s:
        assert request(s, "GET", "/models")[1]["Access-Control-Allow-Origin"] == "https://app.example"


# -- atomicity ---------------------------------------------------------------------------


def _start_upload(s, path, body, headers, sent):
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode() + body[:sent])
    return sock


def _status_of(sock):
    return int(sock.makefile("rb").readline().split()[1])


def test_upload_becomes_visible_only_once_complete(srv):
    body, headers = upload_body(make_artifacts(3))
    sock = _start_upload(srv, "/upload/slow", body, headers, len(body) // 2)
    try:
        time.sleep(0.05)
        assert request(srv, "GET", "/models/slow/model.json")[0] == 404
        assert "slow" not in json.dumps(json.loads(request(srv, "GET", "/models")[2]))
        sock.sendall(body[len(body) // 2 :])
        assert _status_of(sock) == 200
    finally:
        sock.close()
    assert request(srv, "GET", "/models/slow/model.json")[0] == 200


def test_broken_upload_keeps_previous_model(srv, root):
    old = make_artifacts(4)
    assert request(srv, "POST", "/upload/keep", *upload_body(old))[0] == 200
    body, headers = upload_body(make_artifacts(5, n=9))
    sock = _start_upload(srv, "/upload/keep", body, headers, len(body) - 10)
    sock.shutdown(socket.SHUT_WR)
    assert _status_of(sock) == 400
    sock.close()
    sock = _start_upload(srv, "/upload/fresh", body, headers, 100)
    sock.close()  # hang up mid-upload
    time.sleep(0.05)
    assert_same_model(pyweb.load(f"{srv.url}/models/keep/model.json"), old)
    assert request(srv, "GET", "/models/fresh/model.json")[0] == 404
    assert sorted(p.name for p in root.iterdir()) == ["keep"]


# -- listing and deleting -------------------------------------------------------------------


def test_listing_and_delete(srv):
    for name in ["b", "a/x"]:
        assert request(srv, "POST", f"/upload/{name}", *upload_body())[0] == 200
    status, _, reply = request(srv, "GET", "/models")
    models = json.loads(reply)["models"]
    assert status == 200 and [m["name"] for m in models] == ["a/x", "b"]
    assert models[1]["url"] == f"{srv.url}/models/b/model.json"
    assert models[1]["modelArtifactsInfo"]["weightDataBytes"] == make_artifacts(1).weight_bytes().nbytes
    assert set(pyweb.list_models(srv.url + "/")) == {m["url"] for m in models}
    status, _, reply = request(srv, "DELETE", "/models/a/x")
    assert status == 200 and "modelArtifactsInfo" in json.loads(reply)
    assert request(srv, "GET", "/models/a/x/model.json")[0] == 404
    assert request(srv, "DELETE", "/models/a/x")[0] == 404
    assert [m["name"] for m in json.loads(request(srv, "GET", "/models")[2])["models"]] == ["b"]


def test_unknown_routes_and_methods(srv):
    assert request(srv, "GET", "/")[0] == 404
    assert request(srv, "DELETE", "/models")[0] == 405
    assert request(srv, "GET", "/upload/x")[0] == 405
    assert request(srv, "GET", "/models/none/model.json")[0] == 404


def test_serve_prints_url_and_stops_on_ctrl_c(root, monkeypatch, capsys):
    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(server_module.ModelServer, "serve_forever", interrupted)
    server_module.serve(root, port=0)
    out = capsys.readouterr().out
    assert out.startswith(f"pyweb serving {root.resolve()} at http://127.0.0.1:")


def test_pyweb_upload_over_limit_sees_413(root):
    with ModelServer(root, max_body_bytes=100) as s:
        with pytest.raises(pyweb.errors.HTTPStatusError) as info:
            pyweb.save(make_artifacts(6), f"{s.url}/upload/big")
        assert info.value.status == 413
    assert tree(root) == []


def test_large_uploads_are_spooled_to_a_mapped_file(srv, monkeypatch):
    monkeypatch.setattr(server_module, "SPOOL_BYTES", 64)
    art = make_artifacts(7, n=50)
    pyweb.save(art, f"{srv.url}/upload/spooled", shard_bytes=100)
    assert_same_model(pyweb.load(f"{srv.url}/models/spooled/model.json"), art)


def test_foreign_host_header_is_refused(tmp_path):
    with ModelServer(tmp_path) as server:
        assert request(server, "GET", "/models", headers={"Host": f"evil.example:{server.port}"})[0] == 403
        assert request(server, "GET", "/models", headers={"Host": f"localhost:{server.port}"})[0] == 200


def test_cross_origin_writes_are_refused_unless_cors_allows_them(tmp_path):
    with ModelServer(tmp_path, cors_origin="http://app.example") as server:
        evil = {"Origin": "https://evil.example", "Content-Type": "multipart/form-data; boundary=x"}
        assert request(server, "POST", "/upload/m", b"--x--\r\n", evil)[0] == 403
        assert request(server, "DELETE", "/models/m", headers={"Origin": "https://evil.example"})[0] == 403
        assert not any(tmp_path.iterdir())
        # the allowed origin and the server's own origin get past the check
        assert request(server, "DELETE", "/models/m", headers={"Origin": "http://app.example"})[0] == 404
        assert request(server, "DELETE", "/models/m", headers={"Origin": server.url})[0] == 404


def test_upload_to_a_json_name_is_a_client_error(srv, root):
    # A well-formed upload, so the refusal is file://'s (saves go into a directory), not the body's.
    status, _, reply = request(srv, "POST", "/upload/x.json", *upload_body())
    assert status == 400 and "error" in json.loads(reply)
    assert tree(root) == []
