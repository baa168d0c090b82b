"""Browsers and Pyodide builds that pyweb's browser tests run against.

Plain Python data, read by the pytest plugin ``pyweb.testing.plugin`` (point it
at another file with ``--pyweb-config PATH``). Relative paths are relative to
this file. Nothing here is downloaded at test time: ``make setup`` fills
``.assets/`` and ``node_modules/``; CI apt-installs the browsers (and Xvfb).
"""

# name -> engine (Playwright browser type), launch kwargs, new_context kwargs.
# Playwright must not download browsers here, so all use the Debian packages:
from pyweb.demo.browsers import BROWSERS as _DEMO_BROWSERS

# Chromium and Firefox ESR exactly as `pyweb demo` launches them from an installed wheel, and
# WebKitGTK (Playwright's own webkit needs its patched build, not downloadable here), driven over
# W3C WebDriver with Selenium under Xvfb (no headless mode).
BROWSERS = dict(_DEMO_BROWSERS)

# name -> where pyodide.js lives. A local "path" is served at /pyodide/<name>/;
# set "index_url" instead (e.g. a CDN folder ending in /full/) to load it from there.
PYODIDE_BUILDS = {
    "0.27.7": {"path": ".assets/pyodide-0.27.7", "index_url": None, "numpy": True, "python": "3.12"},
    "314": {"path": "node_modules/pyodide", "index_url": None, "numpy": False, "python": "3.14"},
}

# (browser, build) pairs. Tests run on the builds with numpy unless marked no_numpy.
# WebKit runs by default too: without WebKitGTK, Xvfb or Selenium its tests skip, saying what to
# install (and fail in CI, where PYWEB_REQUIRE_BROWSERS=1).
TARGETS = [
    ("chromium", "0.27.7"),
    ("firefox", "0.27.7"),
    ("chromium", "314"),
    ("webkit", "0.27.7"),
]

# Selectable with --pyweb-targets but not run by default (none at present).
EXTRA_TARGETS: list[tuple[str, str]] = []

# Seconds. run: one PyodidePage.run(); js: one run_js(); start: page + Pyodide boot;
# wipe: clearing storage before each test.
TIMEOUTS = {"run": 60, "js": 30, "start": 120, "wipe": 10}

# Extra folders served by the test server: URL prefix -> folder.
STATIC = {"/tfjs/": "node_modules/@tensorflow/tfjs/dist"}

# Named in skip messages when a browser or build is missing.
SETUP_HINT = "make setup"
