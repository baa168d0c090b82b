"""The one lifecycle of pyweb's threaded HTTP servers: serve in a daemon thread, stop, free the port.

Used by ``pyweb serve``'s :class:`~pyweb.server.ModelServer` in the
background and by the test harness's servers (:mod:`pyweb.testing.server`,
:mod:`pyweb.testing.commands`).
"""

from __future__ import annotations

import socketserver
import threading

__all__ = ["ServerThread"]


class ServerThread:
    """Runs ``httpd.serve_forever`` in a daemon thread named ``name``.

    :meth:`start` is idempotent; :meth:`close` stops the loop (if it runs),
    joins its thread and closes the listening socket, started or not.
    """

    def __init__(self, httpd: socketserver.BaseServer, *, name: str, poll_interval: float = 0.5) -> None:
        self.httpd = httpd
        self.name = name
        self.poll_interval = poll_interval
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.httpd.serve_forever,
                kwargs={"poll_interval": self.poll_interval},
                name=self.name,
                daemon=True,
            )
            self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.httpd.server_close()
