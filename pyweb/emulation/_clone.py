"""Structured-clone rules for the IndexedDB stand-in: clone, keys, sizes, disk codec.

Pure functions over the Python values a record may hold, which are what the
Pyodide wrappers hand over at the edge: dict (JS object), list/tuple (Array),
str, int/float (Number), bool, None (undefined/null), datetime (Date) and
bytes-likes (ArrayBuffer). Anything else is refused the way a browser refuses
a function: DataCloneError, raised synchronously from ``put``.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from ..errors import StorageError

__all__ = ["clone", "dom_error", "key_of", "key_sort_key", "size_of"]

_UTC = _dt.UTC


def dom_error(name: str, detail: str, *, url: str | None = None) -> StorageError:
    """A StorageError for the DOMException ``name``; ``.name`` carries it, as the browser mapping does."""
    err = StorageError(f"{name}: {detail}", url=url)
    err.name = name  # type: ignore[attr-defined]
    return err


def clone(value: Any) -> Any:
    """A deep copy with structured-clone semantics, or DataCloneError."""
    return _clone(value, set())


def _clone(value: Any, active: set[int]) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return memoryview(value).tobytes()  # an ArrayBuffer comes back as bytes
    if isinstance(value, _dt.datetime):
        return _date(value)
    if isinstance(value, (dict, list, tuple)):
        if id(value) in active:
            # Browsers clone cycles; this emulation refuses them (records here never need one).
            raise dom_error("DataCloneError", "cyclic values are not supported by the emulation")
        active.add(id(value))
        try:
            if isinstance(value, dict):
                return {_prop(k): _clone(v, active) for k, v in value.items()}
            return [_clone(v, active) for v in value]
        finally:
            active.discard(id(value))
    raise dom_error("DataCloneError", f"a {type(value).__name__} could not be cloned")


def _prop(key: Any) -> str:
    # JS object keys are strings; silently stringifying would make the fake
    # return {"1": ...} where the caller wrote {1: ...}, so refuse instead.
    if not isinstance(key, str):
        raise dom_error("DataCloneError", f"object keys must be str, not {type(key).__name__}")
    return key


def _number(value: float) -> int | float:
    if isinstance(value, int) and abs(value) > 2**53:
        raise dom_error("DataCloneError", f"{value} is not exactly representable as a JS Number")
    return value


def _date(value: _dt.datetime) -> _dt.datetime:
    # A JS Date is milliseconds since the epoch: the time zone is lost and
    # microseconds truncate. Naive datetimes are UTC, as pyweb.browser sends them.
    utc = value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


# -- keys ------------------------------------------------------------------------


def key_of(record: Any, key_path: str) -> Any:
    """The key at ``key_path`` (dotted) in a cloned record, or DataError."""
    value = record
    for part in key_path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise dom_error("DataError", f"the record has no key at keyPath {key_path!r}")
        value = value[part]
    check_key(value)
    return value


def check_key(key: Any) -> None:
    """DataError unless ``key`` is a valid IndexedDB key."""
    if isinstance(key, bool) or key is None:
        raise dom_error("DataError", f"{key!r} is not a valid key")
    if isinstance(key, float) and math.isnan(key):
        raise dom_error("DataError", "NaN is not a valid key")
    if isinstance(key, (str, int, float, bytes, _dt.datetime)):
        return
    if isinstance(key, list):
        for item in key:
            check_key(item)
        return
    raise dom_error("DataError", f"a {type(key).__name__} is not a valid key")


def key_sort_key(key: Any) -> tuple[Any, ...]:
    """Sort key giving IndexedDB's key order: numbers < dates < strings < binary < arrays."""
    if isinstance(key, (int, float)):
        return (0, key)
    if isinstance(key, _dt.datetime):
        return (1, _date(key))
    if isinstance(key, str):
        # Strings compare by UTF-16 code units, which big-endian UTF-16 bytes preserve.
        return (2, key.encode("utf-16-be", "surrogatepass"))
    if isinstance(key, bytes):
        return (3, key)
    return (4, tuple(key_sort_key(k) for k in key))


def key_id(key: Any) -> Any:
    """A hashable identity for a key (lists become tuples)."""
    return tuple(key_id(k) for k in key) if isinstance(key, list) else key


# -- sizes -----------------------------------------------------------------------


def size_of(value: Any) -> int:
    """Bytes a record counts against the quota.

    Bytes-likes count their length exactly; strings their UTF-8 length;
    numbers and dates 8; booleans and None 1; containers the sum of their
    keys and items. Browsers measure their own serialisation (Chromium also
    compresses), so only the bytes part is meant to be exact.
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        return memoryview(value).nbytes
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, (int, float, _dt.datetime)):
        return 8
    if isinstance(value, dict):
        return sum(size_of(k) + size_of(v) for k, v in value.items())
    return sum(size_of(v) for v in value)
