"""The browsers and Pyodide build ``pyweb demo`` uses when there is no source checkout.

Read as a config file (:func:`pyweb.testing.config.load_config`) by
:mod:`pyweb.demo.server` and :mod:`pyweb.demo.walkthrough` when pyweb is
installed from a wheel; in a checkout, its ``playwright.config.py`` wins.
``pyweb demo --config PATH`` names another file of the same shape.

The browsers are the Debian packages (``apt-get install chromium
firefox-esr``, and for WebKit ``webkit2gtk-driver xvfb xauth`` with Selenium),
launched as the browser tests launch them; Pyodide 0.27.7
comes from its CDN unless ``--pyodide-dir`` or ``--pyodide`` says otherwise.
"""

from __future__ import annotations

from typing import Any

# name -> engine (Playwright browser type), launch kwargs, new_context kwargs.
BROWSERS: dict[str, dict[str, Any]] = {
    "chromium": {
        "engine": "chromium",
        "launch": {
            "executable_path": "/usr/bin/chromium",
            "args": [
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        },
        "context": {},
        "install": "apt-get install chromium",
    },
    "firefox": {
        "engine": "firefox",
        # moz-firefox drives the stock Firefox over WebDriver BiDi (Playwright >=1.57, <1.65).
        "launch": {"channel": "moz-firefox", "executable_path": "/usr/bin/firefox-esr"},
        # "no-override" leaves these media features to Firefox instead of emulating them over BiDi.
        "context": {
            "color_scheme": "no-override",
            "reduced_motion": "no-override",
            "forced_colors": "no-override",
            "contrast": "no-override",
        },
        "install": "apt-get install firefox-esr",
    },
    # Playwright's own webkit needs its patched build (not downloadable here), so the Debian
    # WebKitGTK is driven over W3C WebDriver with Selenium, under Xvfb (no headless mode).
    "webkit": {
        "engine": "webkit",
        "driver": "webdriver",
        "launch": {
            "executable_path": "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
            "driver_path": "/usr/bin/WebKitWebDriver",
            "args": ["--automation"],
        },
        "install": "apt-get install --no-install-recommends webkit2gtk-driver xvfb xauth",
    },
}

# The build the demo page loads by default (pyweb.demo.server.PYODIDE_VERSION).
PYODIDE_BUILDS: dict[str, dict[str, Any]] = {
    "0.27.7": {"index_url": "https://cdn.jsdelivr.net/pyodide/v0.27.7/full/", "numpy": True, "python": "3.12"},
}

TARGETS: list[tuple[str, str]] = [("chromium", "0.27.7"), ("firefox", "0.27.7")]
