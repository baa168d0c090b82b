"""Where a model's objects go in an object store, and which objects are leftovers; pure.

Object stores have no rename, so a save cannot build a folder aside and swap
it in as ``file://`` does. Instead every save writes its shards under a folder
of its own, a *generation*, and writes ``model.json`` last::

    bucket/models/m/model.json                                  the commit point
    bucket/models/m/pyweb-20250102T030405Z-1a2b3c4d/weights.bin  this save's shards

``model.json``'s manifest names the shards relative to itself
(``pyweb-20250102T030405Z-1a2b3c4d/weights.bin``), which is how TF.js's
``loadLayersModel`` resolves them too (the URL of ``model.json`` up to its
last ``/``, plus the path), so the folder can be served over ``http(s)://``
as it is. Inside a generation the shard names are ``file://``'s:
``weights.bin``, or ``group1-shardIofK.bin`` with ``shard_bytes``.

A generation folder holds no ``model.json``, so it is never listed or loaded
as a model. One that the current ``model.json`` does not name is a leftover
(a save that failed or was killed); its name carries its UTC start time so a
later save can tell a dead save's leftover (old) from a save still running
(young) and removes only the former.
"""

from __future__ import annotations

import datetime as _dt
import posixpath
import re
import secrets

from .artifacts import MODEL_JSON

__all__ = [
    "GENERATION",
    "LEFTOVER_SECONDS",
    "generation_of",
    "is_stale",
    "join",
    "model_json_key",
    "new_generation",
    "relative_key",
]

#: A save's shard folder: ``pyweb-<UTC start, seconds>-<8 hex>``. No leading dot: static
#: hosts (Express's serve-static, many nginx setups) refuse to serve dot-folders.
GENERATION = re.compile(r"^pyweb-(?P<stamp>\d{8}T\d{6}Z)-[0-9a-f]{8}$")
_STAMP = "%Y%m%dT%H%M%SZ"
#: A generation no model.json names is removed once it is this many seconds old. A save
#: taking longer than this can lose its shards to another save's sweep (see README).
LEFTOVER_SECONDS = 3600.0


def new_generation(now: _dt.datetime | None = None) -> str:
    """A fresh generation folder name, e.g. ``pyweb-20250102T030405Z-1a2b3c4d``."""
    when = (now or _dt.datetime.now(_dt.UTC)).astimezone(_dt.UTC)
    return f"pyweb-{when.strftime(_STAMP)}-{secrets.token_hex(4)}"


def generation_of(rel: str) -> str | None:
    """The generation folder a model-relative key lies in, or None."""
    head = rel.split("/", 1)[0]
    return head if GENERATION.match(head) else None


def is_stale(generation: str, max_age: float, now: _dt.datetime | None = None) -> bool:
    """Whether ``generation`` started more than ``max_age`` seconds ago."""
    match = GENERATION.match(generation)
    if match is None:
        return False
    started = _dt.datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=_dt.UTC)
    return ((now or _dt.datetime.now(_dt.UTC)) - started).total_seconds() >= max_age


def join(root: str, rel: str) -> str:
    """``root/rel`` for a model-relative key; never ``//``."""
    return f"{root.rstrip('/')}/{rel}" if root.rstrip("/") else rel


def model_json_key(root: str) -> tuple[str, str]:
    """(the model's folder, its model.json key) for a path naming either."""
    if root.lower().endswith(".json"):
        return posixpath.dirname(root), root
    return root.rstrip("/"), join(root, MODEL_JSON)


def relative_key(rel: str) -> str | None:
    """A manifest path as a key below the model's folder, or None if it leaves it.

    ``./a.bin`` and ``a.bin`` are the same key; absolute paths, URLs, ``..``
    and backslashes are refused (a load never reads, and a removal never
    deletes, outside the model's folder).
    """
    if not isinstance(rel, str) or not rel or "\\" in rel or "://" in rel or rel.startswith("/"):
        return None
    norm = posixpath.normpath(rel)
    if norm in (".", "") or norm == ".." or norm.startswith("../"):
        return None
    return norm
