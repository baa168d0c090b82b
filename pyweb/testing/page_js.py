"""The test page: its HTML, the JavaScript harness, and the snippets the host evaluates.

The page loads ``pyodide.js`` from ``?pyodide=<indexURL>``; ``boot`` starts
Pyodide, loads numpy where the build has it, unpacks the bundle and imports
its ``_pyweb_page`` module, through which ``run`` executes host-sent code.
All the JavaScript lives in ``.js`` files beside this module (``harness.js``,
the snippets the host evaluates, each a function expression, and the helpers'
ones), shipped as package data and read with :func:`js_source`; ``make lint``
and ``tests/test_js_syntax.py`` check them with ``node --check``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = [
    "BOOT",
    "BUNDLE_PATH",
    "HARNESS_JS",
    "HARNESS_PATH",
    "INDEX_HTML",
    "INDEX_PATH",
    "READY",
    "RUN",
    "RUN_JS",
    "TIMEOUT_MARK",
    "WIPE",
    "js_source",
]


@cache
def js_source(name: str) -> str:
    """The source of ``name``, a ``.js`` file shipped in :mod:`pyweb.testing`."""
    return resources.files("pyweb.testing").joinpath(name).read_text("utf-8")


INDEX_PATH = "/index.html"
HARNESS_PATH = "/pyweb-harness.js"
BUNDLE_PATH = "/pyweb-bundle.zip"

INDEX_HTML = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>pyweb test page</title>
<script src="/pyweb-harness.js"></script></head><body></body></html>
"""

#: The page side (harness.js): loads pyodide.js from ?pyodide=<indexURL>, boots, unpacks the
#: bundle, and runs code through the bundle's _pyweb_page module.
HARNESS_JS = js_source("harness.js").encode("utf-8")

# The host's calls into the harness, each a function source (called with one argument).
BOOT = js_source("boot.js")
RUN = js_source("run.js")
WIPE = js_source("wipe.js")
READY = js_source("ready.js")
#: The text a run_js() timeout's error holds (run_js.js writes it).
TIMEOUT_MARK = "pyweb-run-js-timeout"
#: Self-contained (works on any page): evaluates the source as an expression or
#: statements, calls it with arg if it is a function, and races a timer.
RUN_JS = js_source("run_js.js")
