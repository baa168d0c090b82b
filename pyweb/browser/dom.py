"""Downloads and uploads in the page: Blobs, object URLs, ``<a download>`` clicks and ``File``s.

Downloads go through page.js's ``downloads.deliver`` (:mod:`pyweb.browser.page`):
for each file a Blob (``application/json`` for the JSON,
``application/octet-stream`` for weights), an object URL revoked right after
its click, and a detached ``<a download=NAME href=URL>`` clicked from script.
How many files are clicked at once depends on ``deliver``:

- ``"gesture"`` (the default): while the page has transient user activation
  (``navigator.userActivation.isActive``, a click or key press in the last
  few seconds) the first file is clicked at once; every other file waits in a
  small panel at the page's bottom right, one button each, and is downloaded
  by the user's click. One download per gesture is what Chromium allows a
  site by default, and Firefox with download spam protection blocks every
  later download of a site once one came without a gesture.
- ``"script"``: every file is clicked at once, one per ``setTimeout(0)``, as
  TF.js's ``browserDownloads`` does; only browsers that let the site download
  automatically deliver more than the first.

A browser that blocks a download tells the page nothing: the result says
which files were clicked and which were offered, not which arrived.

In a Web Worker (a JupyterLite kernel) :class:`BridgedDownloads` asks the
page to do the same (:mod:`pyweb.browser.bridge`). Bytes cross into JS once
(:func:`~pyweb.browser.ffi.to_uint8array`). Uploaded ``File`` objects are read
with ``await file.arrayBuffer()`` and one ``to_bytes()`` copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..env import IN_PYODIDE
from ..errors import RuntimeUnavailableError

if not IN_PYODIDE:  # pragma: no cover - exercised by the CPython import test
    raise RuntimeUnavailableError("pyweb.browser needs Pyodide (the 'js' module exists only there)")

from pyodide.ffi import JsProxy, to_js

from .ffi import to_uint8array, translate_js_errors
from .page import page_helpers

__all__ = [
    "BINARY_MIME",
    "JSON_MIME",
    "AnchorDownloads",
    "BridgedDownloads",
    "Delivery",
    "file_name",
    "is_js",
    "js_file_list",
    "read_file",
]

JSON_MIME = "application/json"
BINARY_MIME = "application/octet-stream"

#: What a delivery did: ``{"clicked": [names], "offered": [names]}``.
Delivery = dict[str, list[str]]


def _js_files(files: Sequence[tuple[str, Any, str]]) -> Any:
    # One JS array of [name, Uint8Array, type]; the bytes are copied once, here.
    return to_js([[str(name), to_uint8array(data), str(mime)] for name, data, mime in files])


def _delivery(result: Any) -> Delivery:
    return {"clicked": [str(n) for n in result.clicked], "offered": [str(n) for n in result.offered]}


class AnchorDownloads:
    """The page's downloads (the default ``downloads://`` target on a page).

    ``files`` are ``(suggested_name, bytes_like, mime_type)`` in click order;
    ``deliver`` is ``"gesture"`` or ``"script"`` (see the module docstring).

    Examples
    --------
    >>> await AnchorDownloads().adownload([("m.json", b"{}", JSON_MIME)])  # doctest: +SKIP
    {'clicked': ['m.json'], 'offered': []}
    """

    def download(self, files: Sequence[tuple[str, Any, str]], *, deliver: str = "gesture") -> Delivery:
        """Click (or offer) the files now; with ``"script"`` the clicks after the first follow later."""
        names = ", ".join(name for name, _, _ in files)
        with translate_js_errors(action=f"downloading {names}"):
            return _delivery(page_helpers().downloads.deliver(_js_files(files), deliver))

    async def adownload(self, files: Sequence[tuple[str, Any, str]], *, deliver: str = "gesture") -> Delivery:
        """As :meth:`download`, returning once every click is dispatched and its URL revoked."""
        names = ", ".join(name for name, _, _ in files)
        with translate_js_errors(action=f"downloading {names}"):
            result = page_helpers().downloads.deliver(_js_files(files), deliver)
            await result.done
        return _delivery(result)

    def __repr__(self) -> str:
        return "<AnchorDownloads: the page's <a download> clicks>"


class BridgedDownloads:
    """The page's downloads from a Web Worker, through the page helper.

    Sync :meth:`download` waits through JSPI (or raises SyncUnavailableError).
    """

    def __init__(self, bridge: Any) -> None:
        self._bridge = bridge

    def download(self, files: Sequence[tuple[str, Any, str]], *, deliver: str = "gesture") -> Delivery:
        delivery: Delivery = self._bridge.call_sync_coroutine(self.adownload(files, deliver=deliver))
        return delivery

    async def adownload(self, files: Sequence[tuple[str, Any, str]], *, deliver: str = "gesture") -> Delivery:
        files_js = _js_files(files)
        return _delivery(await self._bridge.call("downloads.deliver", files_js, deliver))

    def __repr__(self) -> str:
        return "<BridgedDownloads: the page's <a download> clicks, from a Web Worker>"


# -- uploads ---------------------------------------------------------------------


def is_js(value: Any) -> bool:
    """True for a JS object (a ``File``, a ``FileList``, an Array of Files)."""
    return isinstance(value, JsProxy)


def js_file_list(files: Any) -> list[Any]:
    """The ``File`` objects of a FileList, a JS Array, or one File, as a Python list."""
    if hasattr(files, "arrayBuffer"):  # a single File (or Blob)
        return [files]
    return list(files)


def file_name(file: Any) -> str:
    """A ``File``'s name (never a path: browsers give the base name only)."""
    return str(file.name)


async def read_file(file: Any) -> bytes:
    """A ``File``'s bytes: one ``arrayBuffer()`` read and one copy into Python.

    Raises
    ------
    StorageError
        The browser could not read it (e.g. ``NotReadableError`` when the file
        changed on disk after it was picked), translated once here.
    """
    with translate_js_errors(action=f"reading the uploaded file {file_name(file)!r}"):
        buffer = await file.arrayBuffer()
        data: bytes = buffer.to_bytes()
        return data
