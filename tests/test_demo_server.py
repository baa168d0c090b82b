"""pyweb.demo.server and ``pyweb demo``: real servers over loopback HTTP, no browser."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import socket
import subprocess
import sys
import types
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import pyweb
import pyweb.demo
from pyweb.cli import main
from pyweb.demo.server import DemoServer
from tests.test_server import upload_body

ROOT = Path(__file__).resolve().parents[1]
CDN = "https://cdn.jsdelivr.net/pyodide/v0.27.7/full/"


@pytest.fixture
def page_dir(tmp_path):
    page = tmp_path / "page"
    page.mkdir()
    (page / "index.html").write_text("<p>demo</p>")
    (page / "app.py").write_text("print('app')\n")
    return page


@pytest.fixture
def pyodide_dir(tmp_path):
    folder = tmp_path / "pyodide"
    folder.mkdir()
    (folder / "pyodide.js").write_text("// pyodide")
    (folder / "pyodide.asm.wasm").write_bytes(b"\0asm")
    return folder


@pytest.fixture
def demo(page_dir, pyodide_dir):
    with DemoServer(page_dir=page_dir, pyodide_dir=pyodide_dir) as server:
        yield server


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers, response.read()


def post(url, body, headers):
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_serves_page_pyodide_and_bundle(demo):
    for path in ("/", "/index.html"):
        headers, body = get(demo.origin + path)
        assert body == b"<p>demo</p>" and headers["Content-Type"].startswith("text/html")
    assert get(demo.origin + "/app.py")[1] == b"print('app')\n"
    headers, body = get(demo.origin + "/pyodide/0.27.7/pyodide.asm.wasm")
    assert body == b"\0asm" and headers["Content-Type"] == "application/wasm"
    headers, body = get(demo.origin + "/pyweb-bundle.zip")
    assert headers["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert "pyweb/__init__.py" in names and "pyweb/demo/server.py" in names
    assert not any(name.startswith("pytest/") for name in names)


def test_page_url_names_the_model_server(demo):
    url = demo.page_url
    assert url.startswith(demo.origin + "/index.html?")
    assert query(url) == {"server": demo.model_server_url}
    assert demo.model_server_url != demo.origin
    assert json.loads(get(demo.model_server_url + "/models")[1]) == {"models": []}


def test_remote_pyodide_is_named_in_the_page_url_and_not_served(page_dir):
    with DemoServer(page_dir=page_dir, pyodide_dir="/nowhere", pyodide_url=CDN) as demo:
        assert query(demo.page_url) == {"server": demo.model_server_url, "pyodide": CDN}
        assert "pyodide=https%3A%2F%2Fcdn.jsdelivr.net%2F" in demo.page_url
        with pytest.raises(urllib.error.HTTPError) as info:
            get(demo.origin + "/pyodide/0.27.7/pyodide.js")
        assert info.value.code == 404


def test_model_server_takes_writes_from_the_page_origin_only(demo):
    body, headers = upload_body()
    status, _ = post(demo.model_server_url + "/upload/evil", body, {**headers, "Origin": "http://evil.example"})
    assert status == 403
    status, doc = post(demo.model_server_url + "/upload/toy", body, {**headers, "Origin": demo.origin})
    assert status == 200 and doc["url"] == f"{demo.model_server_url}/models/toy/model.json"
    assert [m["name"] for m in json.loads(get(demo.model_server_url + "/models")[1])["models"]] == ["toy"]
    assert (demo.models_dir / "toy" / "model.json").is_file()
    headers, _ = get(demo.model_server_url + "/models")
    assert headers["Access-Control-Allow-Origin"] == demo.origin


def test_default_models_dir_is_temporary(page_dir, pyodide_dir):
    with DemoServer(page_dir=page_dir, pyodide_dir=pyodide_dir) as demo:
        models = demo.models_dir
        assert models.is_dir()
        pyweb.save(pyweb.ModelArtifacts(model_topology={}), f"file://{models}/m")
    assert not models.exists()


def test_given_models_dir_is_kept(tmp_path, page_dir, pyodide_dir):
    with DemoServer(page_dir=page_dir, pyodide_dir=pyodide_dir, models_dir=tmp_path / "models") as demo:
        body, headers = upload_body()
        assert post(demo.model_server_url + "/upload/a", body, {**headers, "Origin": demo.origin})[0] == 200
    assert (tmp_path / "models" / "a" / "model.json").is_file()


def test_closed_server_has_no_urls(page_dir, pyodide_dir):
    demo = DemoServer(page_dir=page_dir, pyodide_dir=pyodide_dir)
    with pytest.raises(RuntimeError):
        _ = demo.page_url
    with demo:
        origin = demo.origin
    with pytest.raises(RuntimeError):
        _ = demo.origin
    with pytest.raises(urllib.error.URLError):
        get(origin + "/index.html")


def test_missing_page_or_pyodide_is_a_clear_error(tmp_path, page_dir):
    with pytest.raises(FileNotFoundError, match="--page-dir"):
        DemoServer(page_dir=tmp_path / "none", pyodide_url=CDN)
    with pytest.raises(FileNotFoundError, match="make setup") as info:
        DemoServer(page_dir=page_dir, pyodide_dir=tmp_path / "none")
    assert "--pyodide URL" in str(info.value)


def test_pyodide_comes_from_the_config(tmp_path, page_dir, pyodide_dir):
    config = tmp_path / "demo.config.py"
    body = 'BROWSERS = {}\nTARGETS = []\nPYODIDE_BUILDS = {"0.27.7": {%s}}\n'
    config.write_text(body % f'"path": "{pyodide_dir.name}"')
    with DemoServer(page_dir=page_dir, config_path=config) as demo:
        assert get(demo.origin + "/pyodide/0.27.7/pyodide.js")[1] == b"// pyodide"
    config.write_text(body % f'"index_url": "{CDN}"')
    with DemoServer(page_dir=page_dir, config_path=config) as demo:
        assert query(demo.page_url)["pyodide"] == CDN


def test_port_in_use_is_an_os_error(page_dir, pyodide_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        demo = DemoServer(port=taken.getsockname()[1], page_dir=page_dir, pyodide_dir=pyodide_dir)
        with pytest.raises(OSError) as info:
            demo.start()
        assert info.value.errno == errno.EADDRINUSE
        assert demo.models_dir is None  # the temporary folder went with the failed start


# -- pyweb demo ------------------------------------------------------------------------


@pytest.fixture
def fake_walkthrough(monkeypatch):
    calls = []

    def run(page_url, **kwargs):
        _, page = get(page_url)
        calls.append({"page_url": page_url, "page": page, **kwargs})
        return 3

    fake = types.ModuleType("pyweb.demo.walkthrough")
    fake.run = run
    monkeypatch.setitem(sys.modules, "pyweb.demo.walkthrough", fake)
    monkeypatch.setattr(pyweb.demo, "walkthrough", fake, raising=False)
    return calls


def test_cli_headless_runs_the_walkthrough_and_returns_its_status(fake_walkthrough, page_dir, pyodide_dir):
    argv = ["demo", "--headless", "--page-dir", str(page_dir), "--pyodide-dir", str(pyodide_dir)]
    assert main([*argv, "--browser", "firefox", "--timeout", "30", "--config", "x.py"]) == 3
    [call] = fake_walkthrough
    assert call["page"] == b"<p>demo</p>" and "server" in query(call["page_url"])
    assert (call["browser"], call["config_path"], call["timeout"], call["out"]) == ("firefox", "x.py", 30.0, sys.stdout)
    assert main(argv) == 3
    assert (fake_walkthrough[1]["browser"], fake_walkthrough[1]["config_path"]) == ("chromium", None)
    assert "timeout" not in fake_walkthrough[1]  # the walkthrough's own default


@pytest.mark.parametrize(
    "argv",
    [
        ["--page-dir", "{tmp}/none", "--pyodide", CDN],
        ["--page-dir", "{page}", "--pyodide-dir", "{tmp}/none"],
        ["--page-dir", "{page}", "--config", "{tmp}/none.py"],
        ["--page-dir", "{page}", "--pyodide", CDN, "--port", "{taken}"],
    ],
)
def test_cli_cannot_start_is_one_line_exit_2(capsys, fake_walkthrough, tmp_path, page_dir, argv):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        values = {"{tmp}": str(tmp_path), "{page}": str(page_dir), "{taken}": str(taken.getsockname()[1])}
        for key, value in values.items():
            argv = [a.replace(key, value) for a in argv]
        code = main(["demo", "--headless", *argv])
    _, err = capsys.readouterr()
    assert code == 2 and fake_walkthrough == []
    assert err.startswith("pyweb: error: ") and err.count("\n") == 1


def test_cli_prints_the_url_and_stops_on_ctrl_c(page_dir, pyodide_dir):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    argv = ["demo", "--port", "0", "--page-dir", str(page_dir), "--pyodide-dir", str(pyodide_dir)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyweb", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        first, second = proc.stdout.readline(), proc.stdout.readline()
        assert first.startswith("pyweb demo: open http://127.0.0.1:") and "Ctrl+C" in second
        url = first.split()[-1]
        assert get(url)[1] == b"<p>demo</p>"
        assert get(query(url)["server"] + "/models")[0]["Access-Control-Allow-Origin"] == url.split("/index.html")[0]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_headless_with_an_unknown_browser_is_one_line_exit_2(capsys, page_dir, pyodide_dir, tmp_path):
    # The repository's config minus Chromium.
    source = Path(__file__).resolve().parents[1] / "playwright.config.py"
    config = tmp_path / "playwright.config.py"
    config.write_text(
        source.read_text() + '\nBROWSERS.pop("chromium")\nTARGETS = [t for t in TARGETS if t[0] != "chromium"]\n'
    )
    code = main(
        [
            "demo",
            "--headless",
            "--browser",
            "chromium",
            "--page-dir",
            str(page_dir),
            "--pyodide-dir",
            str(pyodide_dir),
            "--config",
            str(config),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("pyweb: error: RuntimeError: no browser 'chromium'") and len(err.strip().splitlines()) == 1, (
        err
    )
