"""Atomic writes: a directory built in a hidden sibling and swapped in, or a file replaced in one step.

:func:`replace_file` is the one way pyweb replaces a single file (the emulated
stores' persistence, emulated downloads). The rest is the ``file://`` handler's
directory swap. The sibling sits in the same parent, so the
final rename never crosses a file system; on Linux the swap is one
``renameat2(RENAME_EXCHANGE)``, elsewhere two renames with a way back.

Siblings are named ``.pywebtmp-HEX-NAME`` (a model being written) and
``.pywebold-HEX-NAME`` (the previous model, between the two renames where
there is no exchange): hidden, never loadable, skipped by listings, and with
no dot after the first character, which JupyterLite's ``/drive`` would take
for a file.

A process killed mid-save leaves its sibling behind. While a save runs it
holds an exclusive ``flock`` on its siblings, which the kernel drops when the
process dies, so :func:`sweep_stale` can tell a dead save's leftovers
(unlocked) from a live one's (locked) and removes only the former. Without
``flock`` (Windows, Pyodide) a leftover counts as stale once it is
:data:`STALE_SECONDS` old. A save killed between the two renames leaves the
model's path empty and the old model in its ``.pywebold-`` sibling; the
sweep puts it back instead of removing it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
if not hasattr(fcntl, "flock"):  # Pyodide's fcntl has no flock
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CHUNK",
    "STALE_SECONDS",
    "TMP_NAME",
    "Progress",
    "ProgressCallback",
    "is_leftover",
    "make_sibling",
    "replace_file",
    "staging",
    "swap_in",
    "sweep_stale",
    "sweep_tree",
    "write_all",
]

# Hidden siblings used while saving: ".pywebtmp-<hex>-<dir name>" (and "pywebold"
# for a previous model set aside). The prefix keeps them out of listings and
# makes leftovers of a killed process recognisable; ".<name>.pyweb-tmp-<hex>"
# is what pyweb 0.1.0 named them.
TMP_NAME = re.compile(r"^\.pyweb(?P<kind>tmp|old)-[0-9a-f]{8}-(?P<name>.+)$|^\.(?P<legacy>.+)\.pyweb-tmp-[0-9a-f]+$")
# Reads and writes go in pieces this big, so progress moves and Ctrl-C lands.
CHUNK = 64 * 1024 * 1024
#: Where no lock can be taken, a leftover sibling this many seconds old is stale.
STALE_SECONDS = 3600

ProgressCallback = Callable[[float], None]


class Progress:
    """Reports rising fractions of ``total`` bytes, ending at exactly 1.0."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total, self.done, self.callback = total, 0, callback

    def add(self, n: int) -> None:
        self.done += n
        if self.callback is not None and self.done < self.total:
            self.callback(self.done / self.total)

    def finish(self) -> None:
        if self.callback is not None:
            self.callback(1.0)


def make_sibling(target: str, kind: str = "tmp") -> str:
    """Create a new, empty hidden sibling of ``target`` and return its path (unlocked)."""
    parent, name = os.path.split(target)
    while True:
        tmp = os.path.join(parent, f".pyweb{kind}-{secrets.token_hex(4)}-{name}")
        try:
            os.mkdir(tmp)  # honours the umask, unlike tempfile.mkdtemp's 0o700
            return tmp
        except FileExistsError:
            continue


@contextlib.contextmanager
def staging(target: str) -> Iterator[str]:
    """A locked hidden sibling of ``target`` to build a model in.

    Removed if the block raises; unlocked when it ends (after a successful
    :func:`swap_in` it holds the old model, or nothing).
    """
    tmp, lock = _locked_sibling(target, "tmp")
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if lock is not None:
            os.close(lock)


def _locked_sibling(target: str, kind: str) -> tuple[str, int | None]:
    while True:
        path = make_sibling(target, kind)
        lock = _lock(path)
        if lock is not False:
            return path, lock
        # A sweeper took it between mkdir and lock (and may have removed it): take another.


def is_leftover(name: str) -> bool:
    """Whether a directory entry's name is one of pyweb's in-progress siblings."""
    return bool(TMP_NAME.match(name))


def _sibling_of(entry: str) -> tuple[str, str] | None:
    """(model name, kind) of a leftover's name, or None."""
    match = TMP_NAME.match(entry)
    if match is None:
        return None
    if match.group("legacy") is not None:
        return match.group("legacy"), "tmp"
    return match.group("name"), match.group("kind")


def sweep_stale(target: str) -> list[str]:
    """Remove the leftover siblings of ``target`` whose save died; returns their paths.

    If ``target`` itself is missing and a dead save set the old model aside
    (``.pywebold-``), that model is put back first. Never raises for what it
    cannot read or remove (a read-only folder, say).
    """
    parent, name = os.path.split(target)
    try:
        entries = sorted(e for e in os.listdir(parent or ".") if (_sibling_of(e) or ("",))[0] == name)
    except OSError:
        return []
    olds = [e for e in entries if _sibling_of(e) == (name, "old")]
    for entry in olds:
        if not os.path.lexists(target):
            _restore_if_stale(os.path.join(parent, entry), target)
    return [path for path in (os.path.join(parent, e) for e in entries) if _remove_if_stale(path)]


def _restore_if_stale(old: str, target: str) -> None:
    lock = _lock(old, stale_only=True)
    if lock is False:
        return
    try:
        if not os.path.lexists(target):
            os.rename(old, target)
    except OSError:
        pass
    finally:
        if lock is not None:
            os.close(lock)


def sweep_tree(root: str) -> list[str]:
    """:func:`sweep_stale` for every model with leftovers under ``root`` (``pyweb clean``)."""
    removed = []
    for dirpath, dirnames, _ in os.walk(root):
        names = {_sibling_of(d)[0] for d in dirnames if is_leftover(d)}  # type: ignore[index]
        for name in sorted(names):
            removed += sweep_stale(os.path.join(dirpath, name))
        dirnames[:] = [d for d in dirnames if not is_leftover(d)]
    return removed


def _remove_if_stale(path: str) -> bool:
    if os.path.islink(path):
        return False
    lock = _lock(path, stale_only=True)
    if lock is False:
        return False
    try:
        shutil.rmtree(path, ignore_errors=True)
    finally:
        if lock is not None:
            os.close(lock)
    return not os.path.lexists(path)


def _lock(path: str, *, stale_only: bool = False) -> int | bool | None:
    """An exclusive lock on the directory ``path``: its descriptor, ``None`` (no locking here), or False (taken).

    With ``stale_only`` and no locking available, a directory younger than
    :data:`STALE_SECONDS` counts as taken.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if not _same_file(fd, path):  # removed (or replaced) by whoever held it before
                os.close(fd)
                return False
            return fd
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            os.close(fd)
            return False
        # flock unsupported on this file system: fall through to the age rule
    young = time.time() - os.fstat(fd).st_mtime < STALE_SECONDS
    os.close(fd)
    return False if stale_only and young else None


def _same_file(fd: int, path: str) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def write_all(directory: str, files: list[tuple[str, list[memoryview]]], on_progress: ProgressCallback | None) -> None:
    progress = Progress(sum(v.nbytes for _, parts in files for v in parts), on_progress)
    for name, parts in files:
        write_file(os.path.join(directory, name), parts, progress)
    fsync_dir(directory)
    progress.finish()


def write_file(path: str, parts: list[memoryview], progress: Progress) -> None:
    """Write ``parts`` to a new file at ``path`` and fsync it."""
    with open(path, "xb", buffering=0) as f:
        for part in parts:
            done = 0
            while done < part.nbytes:
                n = f.write(part[done : done + CHUNK])
                done += n
                progress.add(n)
        os.fsync(f.fileno())


def fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open directories; its renames are durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def swap_in(tmp: str, target: str) -> None:
    """Put the directory ``tmp`` at ``target``, replacing a previous model."""
    if not os.path.lexists(target) and _rename_new(tmp, target):
        pass
    elif exchange(tmp, target):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old model
    else:
        # Two renames. Killed between them, the path is empty and the old model
        # waits, locked until then, in a ".pywebold-" sibling that sweep_stale restores.
        old = make_sibling(target, "old")
        lock = _lock(target)  # the old model's folder: locked, it stays locked under its new name
        try:
            os.rmdir(old)
            os.rename(target, old)
            try:
                os.rename(tmp, target)
            except BaseException:
                os.rename(old, target)
                raise
        finally:
            if isinstance(lock, int):
                os.close(lock)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(os.path.dirname(target))


def _rename_new(tmp: str, target: str) -> bool:
    """Rename onto a path that did not exist; False if a concurrent save put a model there first."""
    try:
        os.rename(tmp, target)
        return True
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            return False
        raise


def exchange(a: str, b: str) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (ImportError, OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False  # old kernel or a file system without RENAME_EXCHANGE
    raise OSError(err, os.strerror(err), b)


def replace_file(
    path: str | os.PathLike[str], data: bytes | bytearray | memoryview, *, prefix: str, suffix: str, sync: bool = True
) -> None:
    """Write ``data`` to a temporary file beside ``path``, then ``os.replace`` it over ``path``.

    Readers see the old content or the new, never part of it. The temporary
    name is ``prefix`` + random + ``suffix`` in the same folder; a failure
    removes it and leaves ``path`` as it was. ``sync`` fsyncs the data first.
    """
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=os.path.dirname(os.fspath(path)) or os.curdir)
    try:
        with open(fd, "wb") as f:
            f.write(data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
