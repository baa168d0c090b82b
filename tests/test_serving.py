"""pyweb._serving.ServerThread: the one lifecycle of pyweb's threaded HTTP servers."""

from __future__ import annotations

import socket
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pyweb._serving import ServerThread
from pyweb.testing.commands import CommandServer
from pyweb.testing.server import StaticServer


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"hi")

    def log_message(self, *args: object) -> None:
        pass


def _port_is_free(port: int) -> bool:
    # Nothing listens there any more (SO_REUSEADDR: connections in TIME_WAIT do not count).
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_start_serves_close_stops_and_frees_the_port() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    port = httpd.server_address[1]
    serving = ServerThread(httpd, name="pyweb-test", poll_interval=0.05)
    serving.start()
    serving.start()  # idempotent: still one thread
    assert [t.name for t in threading.enumerate()].count("pyweb-test") == 1
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
        assert response.read() == b"hi"
    serving.close()
    assert not serving.running and "pyweb-test" not in [t.name for t in threading.enumerate()]
    assert _port_is_free(port)


def test_close_without_start_frees_the_port() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    port = httpd.server_address[1]
    ServerThread(httpd, name="never").close()
    assert _port_is_free(port)


def test_the_harness_servers_share_it() -> None:
    with StaticServer(files={"/a.txt": b"A"}) as static:
        with urllib.request.urlopen(static.url("/a.txt")) as response:
            assert response.read() == b"A"
        port = int(static.origin.rsplit(":", 1)[1])
    assert _port_is_free(port)
    # Other tests' command servers (the session's real-downloads browsers) may be running: watch ours.
    before = {t for t in threading.enumerate() if t.name == "pyweb-commands"}
    with CommandServer() as commands:
        port = int(commands.origin.rsplit(":", 1)[1])
        ours = {t for t in threading.enumerate() if t.name == "pyweb-commands"} - before
        assert len(ours) == 1
    assert not any(t.is_alive() for t in ours)
    assert _port_is_free(port)
