"""``pyweb demo``: serve the demo page, a local Pyodide and pyweb, next to a model server.

:mod:`pyweb.demo.server` runs the two loopback servers the page needs;
``pyweb demo --headless`` also clicks through the page in a browser
(:mod:`pyweb.demo.walkthrough`). Nothing here is imported by ``import pyweb``.

The page itself is package data in :data:`PAGE_DIR` (``index.html``, its
``boot.js`` and ``meters.js``, ``app.py`` run in Pyodide, ``toy_model.py``, ``app.css`` and the
example model under ``examples/``), so an installed wheel serves it as a
checkout does.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["BROWSERS_CONFIG", "PAGE_DIR"]

#: The demo page's folder, shipped inside the package.
PAGE_DIR = Path(__file__).resolve().parent / "page"

#: The browser config used when there is no checkout's ``playwright.config.py`` (:mod:`pyweb.demo.browsers`).
BROWSERS_CONFIG = Path(__file__).resolve().parent / "browsers.py"
