"""``pyweb demo``: serve the demo page, a local Pyodide and pyweb, next to a model server.

:mod:`pyweb.demo.server` runs the two loopback servers the page needs;
``pyweb demo --headless`` also clicks through the page in a browser
(:mod:`pyweb.demo.walkthrough`). Nothing here is imported by ``import pyweb``.
"""
