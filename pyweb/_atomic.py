"""Write a directory atomically: build it in a hidden sibling, then swap it in.

Used by the ``file://`` handler. The sibling sits in the same parent, so the
final rename never crosses a file system; on Linux the swap is one
``renameat2(RENAME_EXCHANGE)``, elsewhere two renames with a way back.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable

__all__ = ["CHUNK", "TMP_NAME", "Progress", "ProgressCallback", "make_sibling", "swap_in", "write_all"]

# Hidden siblings used while saving: ".<dir name>.pyweb-tmp-<hex>". The prefix
# keeps them out of listings and makes leftovers of a killed process recognisable.
TMP_TAG = ".pyweb-tmp-"
TMP_NAME = re.compile(r"^\..*\.pyweb-tmp-[0-9a-f]+$")
# Reads and writes go in pieces this big, so progress moves and Ctrl-C lands.
CHUNK = 64 * 1024 * 1024

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


def make_sibling(target: str) -> str:
    parent, name = os.path.split(target)
    while True:
        tmp = os.path.join(parent, f".{name}{TMP_TAG}{secrets.token_hex(4)}")
        try:
            os.mkdir(tmp)  # honours the umask, unlike tempfile.mkdtemp's 0o700
            return tmp
        except FileExistsError:
            continue


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
    if not os.path.lexists(target):
        os.rename(tmp, target)
    elif exchange(tmp, target):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old model
    else:
        old = make_sibling(target)
        os.rmdir(old)
        os.rename(target, old)
        try:
            os.rename(tmp, target)
        except BaseException:
            os.rename(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(os.path.dirname(target))


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
