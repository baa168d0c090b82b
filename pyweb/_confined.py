"""Files inside one model folder, and nothing outside it.

A model folder is the boundary of everything ``file://`` reads, lists and
deletes: a manifest path names a regular file below the folder, reached
through real subfolders. A symbolic link anywhere below the folder, a special
file (FIFO, device, socket), an absolute or ``..`` path, a drive letter or a
NUL byte is refused with :class:`OutsideFolderError`, whatever it points at.
The folder's own path (what the user typed) is taken as given, symbolic links
in it included.

Where the platform allows it (Linux, macOS: ``os.open`` with ``dir_fd`` and
``O_NOFOLLOW``) each component is opened relative to the one before, so a
link swapped in while pyweb works cannot redirect it. Elsewhere each
component is checked with ``lstat`` first, which leaves a short window for a
concurrent writer of that folder.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import stat
from collections.abc import Iterator

__all__ = [
    "OutsideFolderError",
    "components",
    "open_file",
    "read_file",
    "remove_empty_dirs",
    "stat_file",
    "unlink_file",
]

_DRIVE = re.compile(r"^[A-Za-z]:")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block the open
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_AT = bool(_NOFOLLOW and _DIRECTORY and os.open in os.supports_dir_fd and os.unlink in os.supports_dir_fd)


class OutsideFolderError(OSError):
    """A path that would leave the folder, or an entry pyweb will not follow."""


def components(rel: str) -> list[str]:
    """The folder-relative path ``rel`` as its components (``\\`` counts as ``/``).

    Raises
    ------
    OutsideFolderError
        Empty, absolute, ``..``, a drive letter, or a NUL byte.
    """
    if not isinstance(rel, str) or "\0" in rel:
        raise OutsideFolderError(f"{rel!r} is not a usable path")
    norm = posixpath.normpath(rel.replace("\\", "/")) if rel else ""
    if not norm or norm == "." or norm.startswith("/") or _DRIVE.match(norm):
        raise OutsideFolderError(f"{rel!r} is not a path inside the folder")
    parts = norm.split("/")
    if ".." in parts:
        raise OutsideFolderError(f"{rel!r} leaves the folder")
    return parts


def open_file(folder: str, rel: str) -> int:
    """A read-only descriptor of the regular file ``rel`` below ``folder``.

    Raises
    ------
    OutsideFolderError
        ``rel`` leaves the folder, or passes through a symbolic link, or is
        not a regular file.
    FileNotFoundError, OSError
        As ``os.open``.
    """
    parts = components(rel)
    with _parent(folder, parts) as (parent_fd, parent_path):
        name = parts[-1]
        flags = os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC | _BINARY
        if parent_fd is not None:
            fd = _open_at(name, flags, parent_fd, rel)
        else:
            path = os.path.join(parent_path, name)
            _refuse_link(path, rel)
            fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OutsideFolderError(f"{rel!r} is not a regular file")
        if _NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def stat_file(folder: str, rel: str) -> os.stat_result:
    """``os.stat`` of the regular file ``rel`` below ``folder``, on the terms of :func:`open_file`."""
    fd = open_file(folder, rel)
    try:
        return os.fstat(fd)
    finally:
        os.close(fd)


def read_file(folder: str, rel: str) -> bytes:
    """The whole regular file ``rel`` below ``folder``, on the terms of :func:`open_file`."""
    fd = open_file(folder, rel)
    with open(fd, "rb", closefd=True) as f:
        return f.read()


def unlink_file(folder: str, rel: str) -> list[str]:
    """Delete the entry ``rel`` below ``folder`` (a link itself, never its target).

    Returns the folder-relative subfolders on the way, deepest first, so the
    caller can remove those that became empty (:func:`remove_empty_dirs`).
    A missing entry is not an error; a path through a link is left alone.
    """
    parts = components(rel)
    with (
        contextlib.suppress(FileNotFoundError, NotADirectoryError, OutsideFolderError),
        _parent(folder, parts) as (parent_fd, parent_path),
    ):
        if parent_fd is not None:
            os.unlink(parts[-1], dir_fd=parent_fd)
        else:
            os.unlink(os.path.join(parent_path, parts[-1]))
    return ["/".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]


def remove_empty_dirs(folder: str, rels: list[str]) -> None:
    """``rmdir`` each folder-relative subfolder in ``rels`` that is empty, deepest first."""
    for rel in sorted(set(rels), key=lambda r: r.count("/"), reverse=True):
        parts = components(rel)
        with contextlib.suppress(OSError), _parent(folder, parts) as (parent_fd, parent_path):
            if parent_fd is not None:
                os.rmdir(parts[-1], dir_fd=parent_fd)
            else:
                path = os.path.join(parent_path, parts[-1])
                _refuse_link(path, rel)
                os.rmdir(path)


@contextlib.contextmanager
def _parent(folder: str, parts: list[str]) -> Iterator[tuple[int | None, str]]:
    """The folder holding ``parts[-1]``: an open descriptor (where ``dir_fd`` works) or a checked path."""
    if not _AT:
        path = folder
        for i, name in enumerate(parts[:-1]):
            path = os.path.join(path, name)
            _refuse_link(path, "/".join(parts[: i + 1]))
        yield None, path
        return
    fd = os.open(folder, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        for i, name in enumerate(parts[:-1]):
            next_fd = _open_at(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, fd, "/".join(parts[: i + 1]))
            os.close(fd)
            fd = next_fd
        yield fd, folder
    finally:
        os.close(fd)


def _open_at(name: str, flags: int, dir_fd: int, rel: str) -> int:
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except OSError:
        # O_NOFOLLOW on a link fails with ELOOP (Linux) or EMLINK (BSD);
        # O_DIRECTORY through a link to a file with ENOTDIR.
        if stat.S_ISLNK(_lstat_at(name, dir_fd)):
            raise OutsideFolderError(
                f"{rel!r} is a symbolic link; pyweb does not follow links in a model folder"
            ) from None
        raise


def _lstat_at(name: str, dir_fd: int) -> int:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except OSError:
        return 0


def _refuse_link(path: str, rel: str) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return  # the open that follows reports it
    if stat.S_ISLNK(mode):
        raise OutsideFolderError(f"{rel!r} is a symbolic link; pyweb does not follow links in a model folder")
