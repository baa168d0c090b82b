"""The browser harness itself: pages boot, code runs, errors map, state resets.

Page tests run once per target (see playwright.config.py); host-only tests at
the bottom check the server, bundle and config without a browser.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

import pyweb
from pyweb.testing import (
    BUNDLE_DIR,
    PyodideError,
    PyodidePage,
    PyodideTimeoutError,
    StaticServer,
    build_bundle,
    load_config,
)
from pyweb.testing.webdriver import WebDriverPyodidePage

ROOT = Path(__file__).resolve().parents[2]
PYTHON_OF_BUILD = {"0.27.7": "3.12", "314": "3.14"}

# -- in the page: first, while the interpreter is fresh ------------------------


@pytest.mark.browser
@pytest.mark.no_numpy
def test_pyweb_imports_without_numpy(pyodide):
    if pyodide.run("import sys; 'pyweb' in sys.modules or 'numpy' in sys.modules"):
        pyodide.reload()  # run alone or reordered: get a fresh interpreter
    assert pyodide.run("import sys, pyweb; 'numpy' in sys.modules") is False


@pytest.mark.browser
@pytest.mark.no_numpy
def test_python_version_matches_build(pyodide):
    version = pyodide.run("import sys; f'{sys.version_info[0]}.{sys.version_info[1]}'")
    assert version == pyodide.python == PYTHON_OF_BUILD[pyodide.build]


@pytest.mark.browser
def test_numpy_is_loaded_from_the_local_build(pyodide):
    assert pyodide.has_numpy
    assert pyodide.run("import numpy as np; [np.__version__, int(np.arange(5).sum())]") == ["2.0.2", 10]


@pytest.mark.browser
@pytest.mark.no_numpy
def test_pyweb_comes_from_the_bundle(pyodide):
    path, version = pyodide.run("import pyweb; [pyweb.__file__, pyweb.__version__]")
    assert path == f"{BUNDLE_DIR}/pyweb/__init__.py"
    assert version == pyweb.__version__


@pytest.mark.browser
def test_registered_test_files_are_importable(pyodide):
    # pyproject's pyweb_bundle lists tests/browser/page_contract.py and the packages above it;
    # pyweb.testing.contract comes with pyweb itself.
    got = pyodide.run(
        """
        from tests.browser.page_contract import TestRealIndexedDB
        from pyweb.testing.contract import HandlerContract, make_artifacts
        [TestRealIndexedDB.__module__, issubclass(TestRealIndexedDB, HandlerContract), make_artifacts().format]
        """
    )
    assert got == ["tests.browser.page_contract", True, "layers-model"]


# -- running code --------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.no_numpy
def test_values_round_trip_as_json(pyodide):
    value = {"s": "héllo 正常", "n": [1, 2.5, None, True], "b": b"\x00\xff", "nested": {"t": [1, 2]}}
    assert pyodide.run("value", value=value) == value
    assert pyodide.run("bytes(range(256))") == bytes(range(256))
    assert pyodide.run("(1, 2)") == [1, 2]
    assert pyodide.run("x = 1") is None  # no trailing expression


@pytest.mark.browser
@pytest.mark.no_numpy
def test_each_run_gets_a_fresh_namespace(pyodide):
    pyodide.run("leftover = 1")
    with pytest.raises(PyodideError) as info:
        pyodide.run("leftover")
    assert info.value.type_name == "NameError"


@pytest.mark.browser
@pytest.mark.no_numpy
def test_top_level_await_and_jspi(pyodide):
    got = pyodide.run(
        """
        import asyncio
        from pyodide.code import run_js
        from pyodide.ffi import can_run_sync, run_sync
        await asyncio.sleep(0.01)
        if can_run_sync():
            out = [True, run_sync(asyncio.sleep(0.01, result=7))]
        else:  # no JSPI (WebKit: WebAssembly.Suspending is undefined): nothing may block
            out = [False, run_js("typeof WebAssembly.Suspending")]
        out
        """
    )
    assert got == ([False, "undefined"] if pyodide.browser_name == "webkit" else [True, 7])


@pytest.mark.browser
@pytest.mark.no_numpy
def test_page_exception_becomes_pyodide_error(pyodide):
    code = """
        class Boom(ValueError):
            def __init__(self, msg, url):
                super().__init__(msg)
                self.url = url

        def inner():
            raise Boom("bad thing", url="memory://m")

        inner()
    """
    with pytest.raises(PyodideError, match="bad thing") as info:
        pyodide.run(code)
    error = info.value
    assert error.type_name == "Boom"
    assert error.mro[:3] == ["Boom", "ValueError", "Exception"]
    assert error.attrs == {"url": "memory://m"}
    assert error.target == pyodide.target
    # The traceback starts at the test's code and shows its source lines.
    assert error.traceback.startswith("Traceback (most recent call last):")
    assert 'raise Boom("bad thing", url="memory://m")' in error.traceback
    assert "in inner" in error.traceback
    assert "_pyweb_page" not in error.traceback
    assert pickle.loads(pickle.dumps(error)).__dict__ == error.__dict__


@pytest.mark.browser
@pytest.mark.no_numpy
def test_pyweb_errors_keep_their_builtin_base(pyodide):
    with pytest.raises(PyodideError) as info:
        pyodide.run("import pyweb; pyweb.load('memory://never-saved')")
    assert info.value.type_name == "ModelNotFoundError"
    assert "FileNotFoundError" in info.value.mro


@pytest.mark.browser
@pytest.mark.no_numpy
def test_syntax_and_serialisation_errors(pyodide):
    with pytest.raises(PyodideError) as info:
        pyodide.run("def f(:")
    assert info.value.type_name == "SyntaxError"
    with pytest.raises(PyodideError, match="not JSON-serialisable") as info:
        pyodide.run("import js; js.document")
    assert info.value.type_name == "TypeError"


@pytest.mark.browser
@pytest.mark.no_numpy
def test_console_errors_are_collected_and_reported(pyodide):
    pyodide.run_js("() => console.error('boom from js')")
    with pytest.raises(PyodideError) as info:
        pyodide.run("1 / 0")
    assert "boom from js" in pyodide.console_errors
    assert "boom from js" in str(info.value)


@pytest.mark.browser
@pytest.mark.no_numpy
def test_console_is_cleared_between_tests(pyodide):
    assert pyodide.console_errors == []


@pytest.mark.browser
@pytest.mark.no_numpy
def test_run_js(pyodide):
    assert pyodide.run_js("1 + 1") == 2
    assert pyodide.run_js("(x) => x.a * 2", {"a": 21}) == 42
    assert pyodide.run_js("async () => { await new Promise((r) => setTimeout(r, 10)); return 'done'; }") == "done"
    assert pyodide.run_js("() => pyodide.version") == pyodide.runtime["pyodide"]
    if isinstance(pyodide, WebDriverPyodidePage):  # .page is the Selenium WebDriver there
        assert pyodide.page.execute_script("return 1 + 2") == 3
    else:
        assert pyodide.page.evaluate("1 + 2") == 3  # the Playwright Page itself works in a test body


@pytest.mark.browser
@pytest.mark.no_numpy
def test_run_js_timeout_leaves_the_page_usable(pyodide):
    page = pyodide.page
    with pytest.raises(PyodideTimeoutError, match="run_js"):
        pyodide.run_js("() => new Promise(() => {})", timeout=0.3)
    assert pyodide.page is page  # the page's own timer answered: no restart
    assert pyodide.run("21 * 2") == 42


@pytest.mark.browser
@pytest.mark.no_numpy
def test_stuck_python_times_out_and_the_page_restarts(pyodide):
    pyodide.timeout = 1
    with pytest.raises(PyodideTimeoutError, match="restarted"):
        pyodide.run("while True: pass")
    assert pyodide.run("import sys; 'pyweb' in sys.modules") is False  # a fresh interpreter
    assert pyodide.run("2 + 2") == 4


@pytest.mark.browser
@pytest.mark.no_numpy
def test_timeout_is_reset_between_tests(pyodide):
    assert pyodide.timeout == pyodide.timeouts["run"] == 60


@pytest.mark.browser
@pytest.mark.no_numpy
def test_pytest_runs_inside_the_page(pyodide):
    pyodide.run(
        """
        import os
        os.makedirs(f"{root}/page_tests", exist_ok=True)
        with open(f"{root}/page_tests/test_inside.py", "w") as f:
            f.write(
                "import pytest\\n"
                "def test_ok():\\n    with pytest.raises(ZeroDivisionError):\\n        1 / 0\\n"
                "def test_fails():\\n    assert 1 == 2\\n"
            )
        """,
        root=BUNDLE_DIR,
    )
    result = pyodide.run_pytest("page_tests/test_inside.py", check=False)
    assert result["outcomes"] == {
        "page_tests/test_inside.py::test_ok": "passed",
        "page_tests/test_inside.py::test_fails": "failed",
    }
    assert result["exitcode"] == 1
    assert "assert 1 == 2" in result["reports"]["page_tests/test_inside.py::test_fails"]
    with pytest.raises(AssertionError, match="1 failed, 1 passed"):
        pyodide.run_pytest("page_tests/test_inside.py")


@pytest.mark.browser
@pytest.mark.no_numpy
def test_static_folders_are_served(pyodide):
    pyodide.add_script("/tfjs/tf.min.js")
    assert pyodide.run_js("() => tf.version.tfjs") == "4.22.0"


# -- storage is wiped between tests ----------------------------------------------

_OPEN_DB = """(name) => new Promise((resolve, reject) => {
  const request = indexedDB.open(name, 1);
  request.onupgradeneeded = () => request.result.createObjectStore('s');
  request.onsuccess = () => {
    const db = request.result;
    const tx = db.transaction('s', 'readwrite');
    tx.objectStore('s').put(new Uint8Array([1, 2, 3]), 'k');
    tx.oncomplete = () => resolve(db);
    tx.onabort = () => reject(new Error('abort'));
  };
  request.onerror = () => reject(new Error(String(request.error)));
})"""

_STORAGE_STATE = "async () => [localStorage.length, (await indexedDB.databases()).map((d) => d.name).sort()]"


@pytest.mark.browser
@pytest.mark.no_numpy
def test_storage_write(pyodide):
    pyodide.run("import js; js.localStorage.setItem('pyweb_harness', 'x')")
    pyodide.run_js(f"async (name) => {{ const db = await ({_OPEN_DB})(name); db.close(); }}", "pyweb-harness-closed")
    assert pyodide.run_js(_STORAGE_STATE) == [1, ["pyweb-harness-closed"]]


@pytest.mark.browser
@pytest.mark.no_numpy
def test_storage_was_wiped(pyodide):
    assert pyodide.run_js(_STORAGE_STATE) == [0, []]


@pytest.mark.browser
@pytest.mark.no_numpy
def test_storage_write_leaving_a_connection_open(pyodide):
    # An open connection blocks deleteDatabase; the reset then restarts the page.
    pyodide.run_js(f"async (name) => {{ globalThis.leakedDb = await ({_OPEN_DB})(name); }}", "pyweb-harness-open")
    assert pyodide.run_js(_STORAGE_STATE) == [0, ["pyweb-harness-open"]]


@pytest.mark.browser
@pytest.mark.no_numpy
def test_storage_was_wiped_despite_the_open_connection(pyodide):
    assert pyodide.run_js(_STORAGE_STATE) == [0, []]


@pytest.mark.browser
@pytest.mark.no_numpy
def test_reload_keeps_storage_and_drops_python_state(pyodide):
    pyodide.run("import js, sys; js.localStorage.setItem('kept', '1'); sys.marker = 1")
    pyodide.reload()
    assert pyodide.run("import js, sys; [js.localStorage.getItem('kept'), hasattr(sys, 'marker')]") == ["1", False]


# -- host only: server, bundle, config, import hygiene --------------------------


def test_asyncio_run_works_beside_live_browsers():
    # Playwright's sync API marks its loop as running; the harness clears the mark
    # outside browser tests, so host tests after them can still use asyncio.run.
    assert asyncio.run(asyncio.sleep(0, result="ok")) == "ok"


def test_importing_pyweb_and_the_plugin_needs_no_playwright():
    code = (
        "import sys, pyweb; assert 'pyweb.testing' not in sys.modules; "
        "import pyweb.testing.plugin; assert 'playwright' not in sys.modules, 'playwright imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_server_types_cors_and_confinement(tmp_path):
    (tmp_path / "a.wasm").write_bytes(b"\0asm")
    (tmp_path / "b.mjs").write_text("export {}")
    (tmp_path.parent / "secret.txt").write_text("no")
    with StaticServer({"/x/": tmp_path}, {"/index.html": b"<p>hi</p>"}) as server:

        def get(path):
            with urllib.request.urlopen(server.url(path)) as response:
                return response.headers, response.read()

        headers, body = get("/x/a.wasm")
        assert (headers["Content-Type"], headers["Access-Control-Allow-Origin"], body) == (
            "application/wasm",
            "*",
            b"\0asm",
        )
        assert get("/x/b.mjs")[0]["Content-Type"].startswith("text/javascript")
        assert get("/index.html")[0]["Content-Type"].startswith("text/html")
        for path in ("/x/missing", "/x/../secret.txt", "/x/%2e%2e/secret.txt", "/nothing"):
            with pytest.raises(urllib.error.HTTPError) as info:
                get(path)
            assert info.value.code == 404


def test_bundle_holds_pyweb_extras_and_pytest(tmp_path):
    extra = tmp_path / "helper.py"
    extra.write_text("X = 1\n")
    names = zipfile.ZipFile(BytesIO(build_bundle(Path(pyweb.__file__).parent, {"tests/helper.py": extra}))).namelist()
    for name in (
        "pyweb/__init__.py",
        "pyweb/testing/page_runner.py",
        "tests/helper.py",
        "_pyweb_page.py",
        "pytest/__init__.py",
        "_pytest/main.py",
        "pluggy/__init__.py",
        "pygments/lexer.py",
    ):
        assert name in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith("pygments/lexers/") and n.endswith("_css.py")]  # lexers left out


def test_config_targets_and_selection():
    config = load_config(ROOT / "playwright.config.py")
    assert [t.id for t in config.targets] == ["chromium-0.27.7", "firefox-0.27.7", "chromium-314", "webkit-0.27.7"]
    assert [t.id for t in config.select(None)] == [t.id for t in config.targets]  # the default run: WebKit too
    assert [t.id for t in config.select("chromium-314")] == ["chromium-314"]
    assert config.extra_targets == []
    assert [t.id for t in config.select("webkit-0.27.7,chromium-314")] == ["webkit-0.27.7", "chromium-314"]
    assert config.browsers["webkit"].driver == "webdriver" and config.browsers["chromium"].driver == "playwright"
    with pytest.raises(ValueError, match="unknown pyweb target"):
        config.select("safari-1")


_MISSING_BROWSER_CONFIG = """
BROWSERS = {"chromium": {"launch": {"executable_path": "/nonexistent/chromium"}, "install": "apt-get install chromium"}}
PYODIDE_BUILDS = {"local": {"path": "pyodide", "numpy": False, "python": "3.12"}}
TARGETS = [("chromium", "local")]
"""


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        ({}, [], "1 skipped"),
        ({"PYWEB_REQUIRE_BROWSERS": "1"}, [], "1 error"),
        ({}, ["-m", "not browser"], "1 deselected"),  # the pyodide fixture adds the browser mark
    ],
)
def test_missing_browser_skips_or_fails(tmp_path, env, args, expected):
    (tmp_path / "cfg.py").write_text(_MISSING_BROWSER_CONFIG)
    (tmp_path / "test_page.py").write_text("import pytest\n\n@pytest.mark.no_numpy\ndef test_x(pyodide):\n    pass\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "pyweb.testing.plugin",  # the opt-in a project of its own makes
            "-rs",
            "--rootdir",
            str(tmp_path),
            "--pyweb-config",
            str(tmp_path / "cfg.py"),
            str(tmp_path),
            *args,
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**{k: v for k, v in os.environ.items() if k != "PYWEB_REQUIRE_BROWSERS"}, **env},
        timeout=120,
    )
    assert expected in result.stdout, result.stdout
    if not args:
        assert "/nonexistent/chromium does not exist (apt-get install chromium); run `make setup`" in result.stdout


def test_a_build_can_come_from_a_url(tmp_path):
    config_file = tmp_path / "cfg.py"
    config_file.write_text(
        "BROWSERS = {'chromium': {}}\n"
        "PYODIDE_BUILDS = {'cdn': {'index_url': 'https://cdn.example/pyodide/v0.27.7/full', 'numpy': True}}\n"
        "TARGETS = [('chromium', 'cdn')]\n"
    )
    config = load_config(config_file)
    (target,) = config.targets
    assert (target.build.index_url, target.build.path, target.build.missing()) == (
        "https://cdn.example/pyodide/v0.27.7/full/",
        None,
        None,
    )
    page = PyodidePage(None, target, "http://127.0.0.1:1", config.timeouts)  # not opened
    assert page.url == "http://127.0.0.1:1/index.html?pyodide=https%3A%2F%2Fcdn.example%2Fpyodide%2Fv0.27.7%2Ffull%2F"
