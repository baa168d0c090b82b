"""The two loopback servers behind ``pyweb demo``: the demo page and a model server.

The page (``index.html`` in :data:`pyweb.demo.PAGE_DIR`) boots Pyodide, unpacks pyweb from a zip and saves
models to browser storage and, over ``http://``, to a :class:`~pyweb.server.ModelServer`.
Its query string says where each of those lives::

    /index.html?server=<ModelServer origin>[&pyodide=<indexURL>][&bundle=<zip URL>]

The static server (same origin as the page) serves::

    /                     the demo page folder (``/`` is its index.html)
    /pyodide/0.27.7/      a local Pyodide 0.27.7, unless a remote indexURL is given
    /pyweb-bundle.zip     this pyweb's source folder, zipped

The model server accepts writes only from the page's origin.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Self
from urllib.parse import urlencode

import pyweb

from ..server import ModelServer
from ..testing.bundle import build_bundle
from ..testing.config import CONFIG_NAME, load_config
from ..testing.server import StaticServer
from . import BROWSERS_CONFIG, PAGE_DIR

__all__ = ["BUNDLE_PATH", "PYODIDE_PATH", "PYODIDE_VERSION", "DemoServer"]

#: The Pyodide build the page loads by default, from the config's build of this name.
PYODIDE_VERSION = "0.27.7"

#: Where the page looks for Pyodide and for the pyweb zip unless told otherwise.
PYODIDE_PATH = f"/pyodide/{PYODIDE_VERSION}/"
BUNDLE_PATH = "/pyweb-bundle.zip"

# The source checkout holding playwright.config.py and .assets/; an installed
# pyweb has neither, hence the packaged config and --pyodide-dir / --pyodide.
_REPO = Path(pyweb.__file__).resolve().parents[1]


class DemoServer:
    """Serve the demo page and a model server on 127.0.0.1, in threads.

    Parameters
    ----------
    port
        The page server's port; 0 picks a free one. The model server always
        gets a free port.
    page_dir
        The folder holding ``index.html``; default: the packaged page, :data:`pyweb.demo.PAGE_DIR`.
    pyodide_dir
        A local Pyodide 0.27.7 folder (holding ``pyodide.js``), served at
        ``/pyodide/0.27.7/``; default: the config's build ``"0.27.7"``.
    pyodide_url
        A remote Pyodide indexURL (such as
        ``https://cdn.jsdelivr.net/pyodide/v0.27.7/full/``) to load instead;
        then no local Pyodide is needed.
    models_dir
        Where the model server stores uploads; default: a temporary folder,
        removed on close.
    config_path
        The browser-test config naming the Pyodide builds; default: the
        checkout's ``playwright.config.py``, or without a checkout
        :mod:`pyweb.demo.browsers` (Pyodide from its CDN).

    Raises
    ------
    FileNotFoundError
        The page folder or Pyodide is missing; the message says what to pass.
    OSError
        On start, when ``port`` is taken.

    Examples
    --------
    >>> with DemoServer(pyodide_url="https://cdn.jsdelivr.net/pyodide/v0.27.7/full/") as demo:  # doctest: +SKIP
    ...     print("open", demo.page_url)
    """

    def __init__(
        self,
        *,
        port: int = 0,
        page_dir: str | Path | None = None,
        pyodide_dir: str | Path | None = None,
        pyodide_url: str | None = None,
        models_dir: str | Path | None = None,
        config_path: str | Path | None = None,
    ) -> None:
        self.port = port
        self.page_dir = _page_dir(page_dir)
        if pyodide_url is None and pyodide_dir is None:
            pyodide_dir, pyodide_url = _configured_pyodide(config_path)
        self.pyodide_url = pyodide_url
        self.pyodide_dir = None if pyodide_url else _pyodide_dir(pyodide_dir)
        self.models_dir = Path(models_dir) if models_dir is not None else None
        self._static: StaticServer | None = None
        self._models: ModelServer | None = None
        self._stack: contextlib.ExitStack | None = None

    @property
    def origin(self) -> str:
        """The page server's ``http://127.0.0.1:PORT`` (the page's origin)."""
        return self._running()[0].origin

    @property
    def model_server_url(self) -> str:
        """The model server's ``http://127.0.0.1:PORT``."""
        return self._running()[1].url

    @property
    def page_url(self) -> str:
        """The demo page's URL, its query naming the model server (and a remote Pyodide)."""
        query = {"server": self.model_server_url}
        if self.pyodide_url:
            query["pyodide"] = self.pyodide_url
        return f"{self.origin}/index.html?{urlencode(query)}"

    def start(self) -> Self:
        """Start both servers (once); a failure leaves nothing running."""
        if self._stack is not None:
            return self
        with contextlib.ExitStack() as stack:
            mounts = {"/": self.page_dir}
            if self.pyodide_dir is not None:
                mounts[PYODIDE_PATH] = self.pyodide_dir
            bundle = build_bundle(Path(pyweb.__file__).parent, test_packages=False)
            static = _start(StaticServer(mounts, {BUNDLE_PATH: bundle}, port=self.port))
            stack.push(static)
            if self.models_dir is None:
                temp = tempfile.TemporaryDirectory(prefix="pyweb-demo-", ignore_cleanup_errors=True)
                self.models_dir = Path(stack.enter_context(temp))
                stack.callback(setattr, self, "models_dir", None)
            # Writes from the page's origin only: any other site the browser has open is refused.
            models = stack.enter_context(ModelServer(self.models_dir, cors_origin=static.origin))
            self._static, self._models, self._stack = static, models, stack.pop_all()
        return self

    def close(self) -> None:
        """Stop both servers and remove the temporary models folder, if any."""
        stack, self._stack = self._stack, None
        self._static = self._models = None
        if stack is not None:
            stack.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _running(self) -> tuple[StaticServer, ModelServer]:
        if self._static is None or self._models is None:
            raise RuntimeError("DemoServer is not running; use it as a context manager")
        return self._static, self._models


def _start(server: StaticServer) -> StaticServer:
    """Start ``server``, or raise an OSError naming the port and what to do."""
    try:
        return server.__enter__()
    except OSError as exc:
        raise OSError(
            exc.errno,
            f"cannot serve the demo page on {server.host}:{server.port}: {exc.strerror}; "
            "pass another --port (0 picks a free one)",
        ) from exc


def _page_dir(page_dir: str | Path | None) -> Path:
    path = Path(page_dir) if page_dir is not None else PAGE_DIR
    if not (path / "index.html").is_file():
        raise FileNotFoundError(f"demo page {path / 'index.html'} does not exist; pass --page-dir DIR (page_dir=)")
    return path.resolve()


def _configured_pyodide(config_path: str | Path | None) -> tuple[Path | None, str | None]:
    """The local folder or remote indexURL of the config's Pyodide 0.27.7 build."""
    default = _REPO / CONFIG_NAME
    if config_path is None and not default.is_file():
        default = BROWSERS_CONFIG  # an installed wheel: Pyodide from its CDN
    build = load_config(config_path or default).builds.get(PYODIDE_VERSION)
    if build is None:
        return _REPO / ".assets" / f"pyodide-{PYODIDE_VERSION}", None
    return build.path, build.index_url


def _pyodide_dir(pyodide_dir: str | Path | None) -> Path:
    path = Path(pyodide_dir) if pyodide_dir is not None else _REPO / ".assets" / f"pyodide-{PYODIDE_VERSION}"
    if not (path / "pyodide.js").is_file():
        raise FileNotFoundError(
            f"Pyodide {PYODIDE_VERSION}: {path / 'pyodide.js'} does not exist; run `make setup` to fetch it, "
            "pass --pyodide-dir DIR, or load it from a CDN with --pyodide URL "
            f"(such as https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/)"
        )
    return path.resolve()
