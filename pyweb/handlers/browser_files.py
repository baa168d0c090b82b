"""Uploaded files as a model: TF.js's ``tf.io.browserFiles`` (load only).

``files[0]`` is the model JSON, the rest are weight files in any order, paired
with the manifest by base name exactly as TF.js 4.22 pairs them
(its ``browserFiles`` handler in tfjs-core's io module):

1. the JSON must hold ``modelTopology`` and ``weightsManifest``;
2. with no weight files, a lone JSON gives its topology and metadata but no
   weights (``weight_specs`` and ``weight_data`` None), unless it is pyweb's
   single-file form (``"pywebWeightsData"``, see :mod:`pyweb.handlers.downloads`),
   which loads whole;
3. otherwise, for each manifest path in order, its base name (the part after
   the last ``/``) must be new and must name a file; then the number of paths
   must equal the number of weight files. Given weight files win over an
   embedded copy, as TF.js ignores the key;
4. ``weight_data`` is a list of the files' bytes in **manifest path order**
   (not upload order); ``weight_specs`` every group's weights in order.

Errors (typed; tests check types and attributes, never wording):

======================================================  ===========================================
case                                                    error
======================================================  ===========================================
no files                                                ArtifactError (at construction)
JSON not parsable / not an object                       CorruptModelError, ``part`` = its file name
no ``modelTopology`` / no ``weightsManifest``           CorruptModelError, ``part`` = its file name
two manifest paths with one base name                   CorruptModelError, ``part`` = its file name
a manifest path whose base name no file has             CorruptModelError, ``part`` = the base name
more weight files than manifest paths                   ArtifactError (the model is fine, the upload
                                                        is not)
a bad embedded ``pywebWeightsData``                     CorruptModelError, ``part`` = its file name
======================================================  ===========================================

Differences from TF.js: a lone JSON keeps its format and metadata (TF.js
returns only ``modelTopology``); errors are exceptions, never bare strings.

What ``files`` may hold: in Pyodide, JS ``File`` objects (a ``FileList`` such
as ``input.files``, a JS Array, or a Python list of them); anywhere,
``(name, bytes_like)`` pairs or paths (for tests and notebooks). Nothing is read
before :meth:`~BrowserFilesHandler.load`; the JSON is read first, and weight
files only once the pairing holds.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from typing import Any, cast

from .._run import run_sync
from ..artifacts import parse_model_json
from ..env import IN_PYODIDE
from ..errors import ArtifactError, CorruptModelError, ModelNotFoundError
from ..types import BytesLike, Handler, ModelArtifacts

__all__ = ["BrowserFilesHandler", "browser_files", "js_basename", "pair_weight_files"]


class _Upload:
    """One uploaded file: a name and a way to read it."""

    sync = True

    def __init__(self, name: str, source: Any) -> None:
        self.name = name
        self.source = source

    def read(self, *, first: bool) -> bytes:
        if isinstance(self.source, (str, os.PathLike)):
            return _read_path(self.source, self.name, first=first)
        data: bytes = self.source  # bytes-like, given as is
        return data

    async def aread(self, *, first: bool) -> bytes:
        return self.read(first=first)


class _JSUpload(_Upload):
    """A JS ``File``: readable only asynchronously."""

    sync = False

    async def aread(self, *, first: bool) -> bytes:
        from ..browser.dom import read_file

        return await read_file(self.source)


class BrowserFilesHandler(Handler):
    """Load a model from uploaded files (TF.js's ``browserFiles``); see the module docstring.

    Parameters
    ----------
    files
        The JSON first, then its weight files: JS ``File`` objects (or a
        ``FileList``) in Pyodide; ``(name, bytes_like)`` pairs or paths anywhere.

    Raises
    ------
    ArtifactError
        ``files`` is empty.
    TypeError
        An item is none of the above.

    Examples
    --------
    >>> art = await pyweb.aload(pyweb.browser_files(document.getElementById("up").files))  # doctest: +SKIP
    >>> art = pyweb.load(pyweb.browser_files(["my-model.json", "my-model.weights.bin"]))  # doctest: +SKIP
    """

    def __init__(self, files: Any) -> None:
        uploads = _uploads(files)
        if not uploads:
            raise ArtifactError("browser_files needs at least 1 file: the model JSON, then its weight files")
        self.json_file = uploads[0]
        self.weight_files = uploads[1:]
        self.url = self.json_file.name

    @property
    def names(self) -> list[str]:
        """Every file's name, the JSON first."""
        return [self.json_file.name] + [f.name for f in self.weight_files]

    def load(self) -> ModelArtifacts:
        if not all(f.sync for f in [self.json_file, *self.weight_files]):
            return run_sync(self.aload(), twin="aload")  # File.arrayBuffer() is async only
        artifacts, picks = self._plan(self.json_file.read(first=True))
        if picks:
            artifacts.weight_data = [self.weight_files[i].read(first=False) for i in picks]
        return artifacts

    async def aload(self) -> ModelArtifacts:
        artifacts, picks = self._plan(await self.json_file.aread(first=True))
        if picks:
            artifacts.weight_data = [await self.weight_files[i].aread(first=False) for i in picks]
        return artifacts

    def _plan(self, text: bytes) -> tuple[ModelArtifacts, list[int]]:
        """Parse the JSON and pair the weight files: which file holds each manifest path."""
        name = self.json_file.name
        try:
            artifacts, _ = parse_model_json(text, url=name)
        except CorruptModelError as exc:
            raise CorruptModelError(str(exc), part=name) from exc
        if artifacts.model_topology is None:
            raise CorruptModelError(f"modelTopology field is missing from file {name}", part=name)
        manifest = artifacts.weights_manifest
        if manifest is None:
            raise CorruptModelError(f"weightsManifest field is missing from file {name}", part=name)
        if not self.weight_files:
            if artifacts.weight_data is not None:  # pyweb's single-file form
                artifacts.weight_data = [cast(BytesLike, artifacts.weight_data)]  # one embedded buffer
            else:  # TF.js: a lone JSON has no weights
                artifacts.weight_specs = None
            return artifacts, []
        artifacts.weight_data = None  # files given: an embedded copy is ignored, as TF.js does
        return artifacts, pair_weight_files(manifest, [f.name for f in self.weight_files], json_name=name)

    def __repr__(self) -> str:
        return f"<BrowserFilesHandler {', '.join(self.names)}>"


def browser_files(files: Any) -> BrowserFilesHandler:
    """A load-only handler over uploaded files: the model JSON first, then its weight files.

    TF.js's ``tf.io.browserFiles``, with its pairing rules (see
    :mod:`pyweb.handlers.browser_files`); also loads pyweb's single-file download.

    Parameters
    ----------
    files
        In Pyodide, an ``<input type=file>``'s ``.files`` (or a list of JS
        ``File`` objects); anywhere, ``(name, bytes)`` pairs or file paths.

    Returns
    -------
    BrowserFilesHandler
        Pass it to :func:`pyweb.load` / :func:`pyweb.aload` (JS ``File``
        objects read asynchronously: use ``aload``, or ``load`` where JSPI
        allows blocking).

    Examples
    --------
    >>> files = js.document.getElementById("upload").files  # doctest: +SKIP
    >>> artifacts = await pyweb.aload(pyweb.browser_files(files))  # doctest: +SKIP
    """
    return BrowserFilesHandler(files)


def js_basename(path: str) -> str:
    """TF.js io_utils ``basename``: trim, drop trailing ``/``, keep the part after the last ``/``."""
    path = path.strip()
    while path.endswith("/"):
        path = path[:-1]
    return path.split("/")[-1]


def pair_weight_files(manifest: list[dict[str, Any]], names: list[str], *, json_name: str = "model.json") -> list[int]:
    """For each manifest path, in order, the index in ``names`` of the file holding it.

    Raises
    ------
    CorruptModelError
        Two paths share a base name (``part=json_name``), or no file has a
        path's base name (``part`` = that base name).
    ArtifactError
        More weight files than manifest paths.
    """
    by_name = {name: index for index, name in enumerate(names)}  # a repeated name: the last wins, as in TF.js
    seen: set[str] = set()
    picks: list[int] = []
    for group in manifest:
        for path in group["paths"]:
            base = js_basename(path)
            if base in seen:
                message = f"duplicate file basename found in weights manifest of {json_name}: {base!r}"
                raise CorruptModelError(message, part=json_name)
            seen.add(base)
            if base not in by_name:
                raise CorruptModelError(f"weight file with basename {base!r} is not provided", part=base)
            picks.append(by_name[base])
    if len(seen) != len(names):
        raise ArtifactError(
            f"mismatch in the number of files in weights manifest ({len(seen)}) and the number of weight files "
            f"provided ({len(names)}); upload the JSON first and exactly its weight files"
        )
    return picks


# -- inputs ------------------------------------------------------------------------


def _uploads(files: Any) -> list[_Upload]:
    if files is None:
        return []
    if IN_PYODIDE:
        from ..browser import dom

        if dom.is_js(files):
            files = dom.js_file_list(files)
    if isinstance(files, (str, bytes, os.PathLike, tuple)) or not isinstance(files, Iterable):
        raise TypeError("browser_files takes a list of files (the JSON first), not a single item")
    return [_upload(item) for item in files]


def _upload(item: Any) -> _Upload:
    if IN_PYODIDE:
        from ..browser import dom

        if dom.is_js(item):
            return _JSUpload(dom.file_name(item), item)
    if isinstance(item, (str, os.PathLike)):
        return _Upload(os.path.basename(os.fspath(item)), item)
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        name, data = item
        try:
            view = memoryview(data)
        except TypeError:
            raise TypeError(
                f"the content of uploaded file {name!r} must be bytes-like, not {type(data).__name__}"
            ) from None
        return _Upload(posixpath.basename(name), bytes(view) if not isinstance(data, bytes) else data)
    raise TypeError(f"cannot upload a {type(item).__name__}: pass JS File objects, (name, bytes) pairs or paths")


def _read_path(path: Any, name: str, *, first: bool) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        if first:  # as file:// does: no JSON, no model
            raise ModelNotFoundError(f"cannot read the model JSON {os.fspath(path)}: {exc}", url=name) from exc
        raise CorruptModelError(f"cannot read weight file {os.fspath(path)}: {exc}", part=name) from exc
