"""The page-side half of the harness: runs host-sent code inside Pyodide.

Shipped in the bundle as the top-level module ``_pyweb_page`` (not as part of
pyweb, so a pyweb that fails to import still gets a working harness and a
proper error). Everything crosses the FFI as one JSON string each way: strings
are cheap to move and leave no proxies to destroy.

Values: JSON types round-trip; ``bytes`` travel as ``{"__pyweb_bytes__": b64}``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import itertools
import json
import linecache
import os
import sys
import traceback
from typing import Any

BYTES_KEY = "__pyweb_bytes__"
_counter = itertools.count(1)


def encode_value(obj: Any) -> Any:
    """``json.dumps`` default: bytes-likes become a base64 object."""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return {BYTES_KEY: base64.b64encode(bytes(obj)).decode("ascii")}
    raise TypeError(
        f"run() returns the value of the last expression as JSON; {type(obj).__name__} is not "
        "JSON-serialisable (return str/int/float/bool/None/list/dict/bytes, or convert a JsProxy with .to_py())"
    )


def decode_value(obj: dict[str, Any]) -> Any:
    """``json.loads`` object_hook, the inverse of :func:`encode_value`."""
    if len(obj) == 1 and BYTES_KEY in obj:
        return base64.b64decode(obj[BYTES_KEY])
    return obj


def dumps(value: Any) -> str:
    return json.dumps(value, default=encode_value)


def loads(text: str) -> Any:
    return json.loads(text, object_hook=decode_value)


def _error(exc: BaseException, filename: str | None) -> str:
    # Drop the harness frames: the traceback starts at the test's own code.
    tb = exc.__traceback__
    while filename and tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    if tb is None and not isinstance(exc, SyntaxError):
        tb = exc.__traceback__
    attrs = {}
    for key, value in vars(exc).items() if hasattr(exc, "__dict__") else ():
        with contextlib.suppress(TypeError, ValueError):
            attrs[key] = json.loads(dumps(value))
    return json.dumps(
        {
            "ok": False,
            "type": type(exc).__name__,
            "qualname": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "mro": [c.__name__ for c in type(exc).__mro__],
            "message": str(exc),
            "traceback": "".join(traceback.format_exception(type(exc), exc, tb)),
            "attrs": attrs,
        }
    )


async def run(code: str, globals_json: str) -> str:
    """Run ``code`` in a fresh namespace; JSON of the last expression or of the error."""
    from pyodide.code import eval_code_async

    filename = f"<pyweb.run #{next(_counter)}>"
    # Registered so tracebacks show the test's source lines.
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        namespace.update(loads(globals_json))
        value = await eval_code_async(code, namespace, filename=filename)
        return json.dumps({"ok": True, "value": value}, default=encode_value)
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the host, SystemExit too
        return _error(exc, filename)


class _Recorder:
    """A pytest plugin object that keeps each test's outcome and report."""

    def __init__(self) -> None:
        self.outcomes: dict[str, str] = {}
        self.reports: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or report.outcome != "passed":
            outcome = "error" if report.failed and report.when != "call" else report.outcome
            self.outcomes[report.nodeid] = outcome
            if report.longreprtext:
                self.reports[report.nodeid] = report.longreprtext

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.outcomes[report.nodeid or "<collection>"] = "error"
            self.reports[report.nodeid or "<collection>"] = report.longreprtext


def run_pytest(args: list[str], rootdir: str) -> dict[str, Any]:
    """Run pytest in the page with ``rootdir`` as cwd; outcomes, reports and output."""
    import pytest

    recorder = _Recorder()
    output = io.StringIO()
    cwd = os.getcwd()
    os.chdir(rootdir)
    # Test modules may be rewritten between calls (tests write files into the page).
    for name in [
        n for n, m in sys.modules.items() if (getattr(m, "__file__", None) or "").startswith(rootdir + "/tests")
    ]:
        del sys.modules[name]
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            code = pytest.main(
                [
                    "-p",
                    "no:cacheprovider",
                    "-p",
                    "no:faulthandler",
                    "--capture=no",
                    "--color=no",
                    "--rootdir",
                    rootdir,
                    "-o",
                    "python_files=*.py",
                    *args,
                ],
                plugins=[recorder],
            )
    finally:
        os.chdir(cwd)
    return {
        "exitcode": int(code),
        "outcomes": recorder.outcomes,
        "reports": recorder.reports,
        "output": output.getvalue(),
    }
