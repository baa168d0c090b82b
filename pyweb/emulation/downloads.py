"""FolderDownloads: a browser's download folder for CPython, filled as Firefox fills it.

``downloads://`` in a page hands files to the browser, which saves them in its
download folder. :func:`pyweb.emulation.install` with ``downloads_dir=`` puts a
:class:`FolderDownloads` there instead, so notebook code that downloads models
runs and is tested off the browser. The rules are Firefox ESR 153's, measured
through Playwright with ``downloads_path`` (pyweb's browser tests check them):

- a file keeps its suggested name, sanitised: ``/ \\ : * ? " < > |`` and control
  characters become ``_``; leading and trailing spaces and leading dots go
  (``downloads://a/b`` gives ``a_b.json``, ``../x`` gives ``_x.json``);
- a JSON file left without an extension gets ``.json`` (``noext`` -> ``noext.json``);
- a name already taken is numbered before its last extension:
  ``model(1).json``, ``model.weights(1).bin``, ``a(1).tar.gz`` (compound
  ``.tar.gz``-style extensions stay whole);
- the name is reserved by an empty file at once; the bytes go to a ``.part``
  file beside it, renamed over it when complete.

Chromium numbers duplicates ``model (1).json`` (with a space); pyweb follows
Firefox. Unlike a browser, a failed call removes the files it already wrote,
so a model is never left half-downloaded.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._atomic import replace_file
from ..errors import StorageError

__all__ = ["FolderDownloads", "sanitize_name", "split_extension"]

_UNSAFE = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')
# Firefox DownloadPaths.splitBaseNameAndExtension: one extension, or a short
# one followed by .gz/.bz2/.Z ("a.tar.gz").
_EXTENSION = re.compile(r"(.*?)(\.[A-Z0-9]{1,3}\.(?:gz|bz2|Z)|\.[^.]*)?$", re.IGNORECASE | re.DOTALL)
_MAX_TRIES = 10_000  # Firefox gives up after as many


def sanitize_name(name: str) -> str:
    """A suggested download name as Firefox stores it (``"download"`` if nothing is left)."""
    cleaned = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    return cleaned or "download"


def _stored_name(name: str, mime: str) -> str:
    name = sanitize_name(name)
    if mime == "application/json" and not split_extension(name)[1]:
        name += ".json"
    return name


def split_extension(name: str) -> tuple[str, str]:
    """``("model.weights", ".bin")``, ``("a", ".tar.gz")``, ``("noext", "")``."""
    match = _EXTENSION.fullmatch(name)
    assert match is not None  # the pattern matches every string
    return match.group(1), match.group(2) or ""


class FolderDownloads:
    """Downloads written into ``directory`` (the ``downloads://`` target under emulation).

    Parameters
    ----------
    directory
        The download folder; created (with parents) on the first download.

    Examples
    --------
    >>> target = FolderDownloads(tmp_path)  # doctest: +SKIP
    >>> target.download([("m.json", b"{}", "application/json")])  # doctest: +SKIP
    [PosixPath('.../m.json')]
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        #: Every file written, oldest first.
        self.history: list[Path] = []

    def download(self, files: Sequence[tuple[str, Any, str]], *, deliver: str = "gesture") -> list[Path]:
        """Write each ``(suggested_name, bytes_like, mime_type)``; return the paths, in order.

        A folder takes every file, however they are delivered (``deliver`` is
        accepted for the DownloadTarget protocol and ignored).

        Raises
        ------
        StorageError
            The folder cannot be written; the files this call wrote are removed.
        """
        written: list[Path] = []
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for name, data, mime in files:
                written.append(self._write(_stored_name(name, mime), data))
        except BaseException as exc:
            for path in written:
                with contextlib.suppress(OSError):
                    path.unlink()
            if isinstance(exc, OSError):
                raise StorageError(f"cannot write downloads into {self.directory}: {exc}") from exc
            raise
        self.history.extend(written)
        return written

    def _write(self, name: str, data: Any) -> Path:
        path = self._reserve(name)
        base, ext = split_extension(path.name)
        try:
            replace_file(path, memoryview(data), prefix=base + ".", suffix=ext + ".part", sync=False)
        except BaseException:
            with contextlib.suppress(OSError):
                path.unlink()  # the name _reserve held
            raise
        return path

    def _reserve(self, name: str) -> Path:
        base, ext = split_extension(name)
        for n in range(_MAX_TRIES):
            candidate = self.directory / (name if n == 0 else f"{base}({n}){ext}")
            try:
                with open(candidate, "xb"):
                    return candidate
            except FileExistsError:
                continue
        raise StorageError(f"{self.directory} already holds {_MAX_TRIES} files named like {name!r}")

    def __repr__(self) -> str:
        return f"<FolderDownloads {self.directory}>"
