"""The page-side JavaScript pyweb ships as package data (pure: imports anywhere)."""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["IDB_JS", "PAGE_JS", "idb_js", "page_js"]

_PACKAGE = __name__.rpartition(".")[0]  # pyweb.browser, where the .js files are

#: The page helper's file name inside :mod:`pyweb.browser`.
PAGE_JS = "page.js"
#: The IndexedDB helpers' file name inside :mod:`pyweb.browser`.
IDB_JS = "idb.js"


@cache
def page_js() -> str:
    """The source of page.js: one expression that makes (once) and returns ``globalThis.pywebPage``."""
    return resources.files(_PACKAGE).joinpath(PAGE_JS).read_text("utf-8")


@cache
def idb_js() -> str:
    """The source of idb.js: one expression, a function of the record tags that returns the helpers."""
    return resources.files(_PACKAGE).joinpath(IDB_JS).read_text("utf-8")
