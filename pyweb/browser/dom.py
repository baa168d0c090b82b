"""Downloads and uploads in the page: Blobs, object URLs, ``<a download>`` clicks and ``File``s.

Downloads work as TF.js's ``browserDownloads`` does (tfjs-core/src/io/browser_files.ts):
for each file, in order, a Blob (``application/json`` for the JSON,
``application/octet-stream`` for weights), an object URL and a detached
``<a download=NAME href=URL>`` whose synthetic click is dispatched after a
``setTimeout(0)`` deferral. Unlike TF.js, each object URL is revoked as soon
as its click has been dispatched.

Measured (browser-facts.md §3 and pyweb's browser tests), Chromium 156 and
Firefox ESR 153: revoking right after ``dispatchEvent`` returns still delivers
the file (checked up to 200 MB in Chromium and 50 MB in Firefox): both resolve
the blob URL while the click is dispatched. One click per task: Firefox keeps only the last of several
downloads started in one task, so each click waits for its own ``setTimeout(0)``.

Bytes cross into JS once (:func:`~pyweb.browser.ffi.to_uint8array`); the JS
helper is made once per page and holds no Python proxies, so there is nothing
to destroy. Uploaded ``File`` objects are read with ``await file.arrayBuffer()``
and one ``to_bytes()`` copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..env import IN_PYODIDE
from ..errors import RuntimeUnavailableError

if not IN_PYODIDE:  # pragma: no cover - exercised by the CPython import test
    raise RuntimeUnavailableError("pyweb.browser needs Pyodide (the 'js' module exists only there)")

from pyodide.ffi import JsProxy, to_js

from .ffi import js_helpers, to_uint8array, translate_js_errors

__all__ = ["BINARY_MIME", "JSON_MIME", "AnchorDownloads", "file_name", "is_js", "js_file_list", "read_file"]

JSON_MIME = "application/json"
BINARY_MIME = "application/octet-stream"

# Made once per page (js_helpers caches it). download() resolves once every
# click has been dispatched and every URL revoked; start() is the
# fire-and-forget form for sync saves, logging what it cannot report.
_HELPERS_JS = """(() => {
  const defer = (f) => new Promise((resolve) => setTimeout(resolve, 0)).then(f);
  const click = (name, bytes, type) => {
    const url = URL.createObjectURL(new Blob([bytes], {type}));
    try {
      const a = document.createElement('a');
      a.download = name;
      a.href = url;
      a.dispatchEvent(new MouseEvent('click'));
    } finally {
      URL.revokeObjectURL(url);
    }
  };
  const download = async (files) => {
    for (const [name, bytes, type] of files) await defer(() => click(name, bytes, type));
    return files.length;
  };
  return {
    download,
    start(files) { download(files).catch((e) => console.error('pyweb downloads://', e)); },
  };
})()"""


def _helpers() -> Any:
    return js_helpers(_HELPERS_JS)


def _js_files(files: Sequence[tuple[str, Any, str]]) -> Any:
    # One JS array of [name, Uint8Array, type]; the bytes are copied once, here.
    return to_js([[str(name), to_uint8array(data), str(mime)] for name, data, mime in files])


class AnchorDownloads:
    """The page's downloads (the default ``downloads://`` target in Pyodide).

    ``files`` are ``(suggested_name, bytes_like, mime_type)`` in click order.

    Examples
    --------
    >>> await AnchorDownloads().adownload([("m.json", b"{}", JSON_MIME)])  # doctest: +SKIP
    """

    def download(self, files: Sequence[tuple[str, Any, str]]) -> None:
        """Schedule the clicks and return; they run when Python yields to the page."""
        names = ", ".join(name for name, _, _ in files)
        with translate_js_errors(action=f"downloading {names}"):
            _helpers().start(_js_files(files))

    async def adownload(self, files: Sequence[tuple[str, Any, str]]) -> None:
        """Click every file, in order; return once all clicks are dispatched and URLs revoked."""
        names = ", ".join(name for name, _, _ in files)
        with translate_js_errors(action=f"downloading {names}"):
            await _helpers().download(_js_files(files))

    def __repr__(self) -> str:
        return "<AnchorDownloads: the page's <a download> clicks>"


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
        return buffer.to_bytes()
