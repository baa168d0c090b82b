"""JupyterLite's ``/drive``: the notebook's file browser, mounted in the kernel's file system.

JupyterLite mounts its contents (what the file browser shows) at ``/drive``
through a file system of its own (``DriveFS``), which forwards every call to
the page. One of its rules breaks ordinary code: a folder whose name has a dot
after its first character (``v1.2``, ``model.tfjs``) is stored as a file, and
the first write inside it never returns (the kernel hangs). pyweb checks the
folders a ``file://`` save would create there and refuses such a name first
(:func:`check_drive_folders`).
"""

from __future__ import annotations

import os

from ..errors import InvalidURLError
from .ffi import is_null, to_js_object

# isort: split
import pyodide_js  # after the ffi guard: only in Pyodide

__all__ = ["check_drive_folders", "on_drive"]


def on_drive(path: str) -> bool:
    """Whether ``path`` (or its nearest existing ancestor) lies on a JupyterLite DriveFS mount."""
    fs = getattr(pyodide_js, "FS", None)
    if fs is None:
        return False
    probe = os.path.abspath(path)
    while True:
        try:
            node = fs.lookupPath(probe, to_js_object({"follow": True})).node
            break
        except Exception:  # noqa: BLE001 - a JS ErrnoError: not there yet, look at its parent
            parent = os.path.dirname(probe)
            if parent == probe:
                return False
            probe = parent
    mount = getattr(node, "mount", None)
    kind = None if mount is None or is_null(mount) else getattr(mount, "type", None)
    # DriveFS keeps the drive's name and its request API; Emscripten's own file systems have neither.
    return kind is not None and not is_null(kind) and hasattr(kind, "driveName") and hasattr(kind, "API")


def check_drive_folders(target: str, url: str) -> None:
    """Refuse a ``file://`` save whose folder, or a missing parent, JupyterLite's /drive cannot hold.

    Raises
    ------
    InvalidURLError
        A folder to create has a dot after its first character.
    """
    if not on_drive(target):
        return
    path = os.path.abspath(target)
    while True:
        name = os.path.basename(path)
        if "." in name[1:] and (path == os.path.abspath(target) or not os.path.isdir(path)):
            raise InvalidURLError(
                f"{url}: JupyterLite's /drive stores a folder named {name!r} (a dot after its first character) "
                "as a file, and writing into it hangs the kernel; choose a folder name without such a dot, "
                f"e.g. {name.replace('.', '-')!r}"
            )
        parent = os.path.dirname(path)
        if parent == path or os.path.isdir(parent):
            return
        path = parent
