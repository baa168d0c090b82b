"""A way to run code in a page without giving it a user gesture: a command queue the page polls.

Playwright evaluates with a user gesture (CDP ``userGesture: true``, WebDriver
BiDi ``userActivation: true``): code it runs has the page's transient user
activation, which browsers treat like a click. A download started there is
"from a gesture", and Firefox's download spam protection lets it through. So
pages of :mod:`pyweb.testing.real_downloads` are driven another way: they
poll this server (``GET <channel>/next``, held up to :data:`POLL_SECONDS`) for
``{"id", "source", "arg"}``, evaluate ``source`` (a function called with
``arg``, as ``page.evaluate`` does) in a plain task, and post the outcome to
``<channel>/result``. Only real input (``page.click``) gives such a page a gesture.

The page learns its channel from its URL (``?commands=<channel URL>``, read
by the harness script). Values cross as JSON. The server binds 127.0.0.1 and
answers any origin (``Access-Control-Allow-Origin: *``); bodies are sent as
``text/plain`` so browsers need no preflight.
"""

from __future__ import annotations

import itertools
import json
import queue
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from .._serving import ServerThread

__all__ = ["POLL_SECONDS", "CommandError", "CommandServer", "CommandTimeout"]

#: Seconds a page's poll is held open when no command is waiting.
POLL_SECONDS = 20.0


class CommandError(Exception):
    """The page's code threw; ``name`` and ``message`` are the JS error's."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name, self.message = name, message


class CommandTimeout(TimeoutError):
    """The page did not answer in time (stuck, or gone)."""


class _Channel:
    def __init__(self) -> None:
        self.commands: queue.Queue[dict[str, Any]] = queue.Queue()
        self.results: dict[int, Any] = {}
        self.arrived = threading.Condition()


class CommandServer:
    """Per-page command queues on 127.0.0.1; a context manager.

    Examples
    --------
    >>> with CommandServer() as server:  # doctest: +SKIP
    ...     url = server.channel()            # put ?commands=<url> on the page's address
    ...     server.call(url, "(x) => x + 1", 1, timeout=5)
    2
    """

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}
        self._ids = itertools.count(1)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.commands = self  # type: ignore[attr-defined]
        self._serving = ServerThread(self._httpd, name="pyweb-commands", poll_interval=0.1)
        self._serving.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def channel(self) -> str:
        """A new channel's URL, for one page."""
        token = secrets.token_hex(8)
        self._channels[token] = _Channel()
        return f"{self.origin}/c/{token}"

    def drop(self, url: str) -> None:
        """Forget a channel (its page is gone)."""
        self._channels.pop(url.rsplit("/", 1)[-1], None)

    def call(self, url: str, source: str, arg: Any, timeout: float) -> Any:
        """Run ``source`` (a JS function of one argument) in the page; its awaited value, from JSON.

        Raises
        ------
        CommandError
            The code threw.
        CommandTimeout
            No answer within ``timeout`` seconds.
        """
        channel = self._channels[url.rsplit("/", 1)[-1]]
        command_id = next(self._ids)
        channel.commands.put({"id": command_id, "source": source, "arg": arg})
        with channel.arrived:
            if not channel.arrived.wait_for(lambda: command_id in channel.results, timeout):
                raise CommandTimeout(f"the page did not answer within {timeout:g} s")
            outcome = channel.results.pop(command_id)
        if outcome.get("ok"):
            return outcome.get("value")
        error = outcome.get("error") or {}
        raise CommandError(str(error.get("name", "Error")), str(error.get("message", "")))

    # -- the HTTP side ----------------------------------------------------------------

    def _next(self, token: str) -> dict[str, Any] | None:
        channel = self._channels.get(token)
        if channel is None:
            return None
        try:
            return channel.commands.get(timeout=POLL_SECONDS)
        except queue.Empty:
            return None

    def _result(self, token: str, outcome: dict[str, Any]) -> None:
        channel = self._channels.get(token)
        if channel is None:
            return
        with channel.arrived:
            channel.results[int(outcome["id"])] = outcome
            channel.arrived.notify_all()

    def close(self) -> None:
        self._serving.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        token, _, action = self.path.removeprefix("/c/").partition("/")
        if action != "next":
            return self._answer(404, b"")
        command = self.server.commands._next(token)  # type: ignore[attr-defined]
        if command is None:
            return self._answer(204, b"")
        self._answer(200, json.dumps(command).encode())

    def do_POST(self) -> None:
        token, _, action = self.path.removeprefix("/c/").partition("/")
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if action != "result":
            return self._answer(404, b"")
        self.server.commands._result(token, json.loads(body))  # type: ignore[attr-defined]
        self._answer(204, b"")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass
