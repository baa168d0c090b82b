"""Pages for the browser benchmarks: pyweb.testing's machinery used outside pytest.

Both bench_browser.py and bench_layers.py open one Pyodide page per browser,
with TF.js 4.22 loaded, on the same static server the browser tests use.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def serving() -> Iterator[tuple[Any, Any]]:
    """The browser-test static server (Pyodide, /tfjs/, the pyweb bundle) and its config."""
    from pyweb.testing import harness_server, load_config

    config = load_config(ROOT / "playwright.config.py")
    with harness_server(config, test_packages=False) as server:
        yield server, config


@contextlib.contextmanager
def tfjs_page(playwright: Any, server: Any, config: Any, browser_name: str, build: str) -> Iterator[tuple[Any, Any]]:
    """A PyodidePage on a freshly launched browser, with TF.js loaded; yields (page, browser)."""
    from pyweb.testing import PyodidePage, Target

    target = Target(config.browsers[browser_name], config.builds[build])
    problem = target.browser.missing() or target.build.missing()
    if problem:
        raise SystemExit(f"{problem}; run `{config.setup_hint}`")
    browser = getattr(playwright, target.browser.engine).launch(**target.browser.launch)
    try:
        page = PyodidePage.open(browser, target, server.origin, {**config.timeouts, "js": 300})
        page.timeout = 300
        page.add_script("/tfjs/tf.min.js")
        yield page, browser
    finally:
        browser.close()
