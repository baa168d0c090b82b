"""Test pyweb (or code built on it) inside Pyodide in real browsers.

The pytest plugin (``pyweb.testing.plugin``, enabled by a project with
``-p pyweb.testing.plugin``) provides the ``pyodide`` fixture, a
:class:`PyodidePage`. Nothing here imports Playwright until a page is opened,
and ``import pyweb`` never imports this package.
"""

from __future__ import annotations

from .bundle import BUNDLE_DIR, build_bundle
from .config import HarnessConfig, Target, load_config
from .errors import PyodideError, PyodideTimeoutError
from .page import PyodidePage
from .server import StaticServer, harness_server

__all__ = [
    "BUNDLE_DIR",
    "HarnessConfig",
    "PyodideError",
    "PyodidePage",
    "PyodideTimeoutError",
    "StaticServer",
    "Target",
    "build_bundle",
    "harness_server",
    "load_config",
]
