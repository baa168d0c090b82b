"""FakeLocalStorage: ``window.localStorage`` for CPython, with the browser's rules.

What it reproduces (measured in Chromium and Firefox, see the browser facts):

- values are strings; ``setItem`` converts keys and values to strings;
- the quota is 5,242,880 UTF-16 code units per origin, counted over every key
  plus every value; characters outside the BMP count 2; lone surrogates are
  stored as they are;
- a ``setItem`` that does not fit raises QuotaExceededError and changes
  nothing (an overwritten value survives);
- ``key(i)`` out of range (negative included) and ``getItem`` of a missing
  key give ``None``.

``key(i)`` order is implementation-defined. Both browsers enumerate in hash
order (Chromium 156 and Firefox ESR 153 each gave a different, non-insertion
order for the same keys); this stand-in uses insertion order (an overwrite
keeps the key's place), which is reproducible. ``key_order="hashed"`` gives a
stable order unrelated to insertion, to check that callers do not depend on it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from ..artifacts import js_number, utf16_units
from ..errors import CorruptModelError, QuotaExceededError, StorageError

__all__ = ["DEFAULT_QUOTA_UNITS", "FakeLocalStorage", "utf16_units"]

#: Both browsers: 5 Mi UTF-16 code units per origin (Chromium: 10 MiB of UTF-16 bytes).
DEFAULT_QUOTA_UNITS = 5_242_880

_PERSIST_FORMAT = "pyweb-localstorage"



class FakeLocalStorage:
    """An in-memory (optionally file-backed) localStorage for one origin.

    Parameters
    ----------
    quota_units
        Room in UTF-16 code units over all keys and values.
    persist_path
        A JSON file: loaded on creation if it exists, rewritten atomically
        after every change.
    key_order
        ``"insertion"`` (default) or ``"hashed"`` (stable, unrelated to insertion).

    Examples
    --------
    >>> ls = FakeLocalStorage(quota_units=10)
    >>> ls.setItem("k", "v" * 9)
    >>> ls.remaining_units
    0
    """

    def __init__(
        self,
        *,
        quota_units: int = DEFAULT_QUOTA_UNITS,
        persist_path: str | os.PathLike[str] | None = None,
        key_order: str = "insertion",
    ) -> None:
        if key_order not in ("insertion", "hashed"):
            raise ValueError("key_order must be 'insertion' or 'hashed'")
        self.quota_units = quota_units
        self.persist_path = Path(persist_path) if persist_path is not None else None
        self.key_order = key_order
        self._items: dict[str, str] = {}
        self._used = 0
        self._order: list[str] | None = None  # cached key(i) order
        if self.persist_path is not None and self.persist_path.exists():
            self._load()

    # -- the Web Storage API ------------------------------------------------------

    @property
    def length(self) -> int:
        return len(self._items)

    def key(self, index: int) -> str | None:
        # JS converts the index to an unsigned long, so -1 is out of range, not "last".
        if not 0 <= index < len(self._items):
            return None
        if self._order is None:
            self._order = list(self._items)
            if self.key_order == "hashed":
                self._order.sort(key=lambda k: hashlib.blake2b(k.encode("utf-16-le", "surrogatepass")).digest())
        return self._order[index]

    def getItem(self, key: str) -> str | None:  # noqa: N802
        return self._items.get(_js_string(key))

    def setItem(self, key: str, value: str) -> None:  # noqa: N802
        """Store ``value`` under ``key``; QuotaExceededError leaves the store as it was."""
        key, value = _js_string(key), _js_string(value)
        key_units, value_units = utf16_units(key), utf16_units(value)
        old = self._items.get(key)
        freed = 0 if old is None else key_units + utf16_units(old)
        room = self.quota_units - (self._used - freed)
        if key_units + value_units > room:
            raise QuotaExceededError(
                f"QuotaExceededError: Setting the value of {key[:80]!r} exceeded the quota "
                f"({key_units + value_units} UTF-16 units needed, {max(room, 0)} free)",
                requested_bytes=2 * (key_units + value_units),
                available_bytes=2 * max(room, 0),
            )
        if old is None:
            self._order = None
        self._items[key] = value
        self._used += key_units + value_units - freed
        self._persist()

    def removeItem(self, key: str) -> None:  # noqa: N802
        key = _js_string(key)
        old = self._items.pop(key, None)
        if old is not None:
            self._used -= utf16_units(key) + utf16_units(old)
            self._order = None
            self._persist()

    def clear(self) -> None:
        if self._items:
            self._items.clear()
            self._used = 0
            self._order = None
            self._persist()

    # -- fast paths (StorageLike extras) -------------------------------------------

    def set_base64(self, key: str, data: bytes | bytearray | memoryview) -> None:
        """Store ``data`` as standard padded base64 text, what JS ``btoa`` gives."""
        self.setItem(key, base64.b64encode(memoryview(data)).decode("ascii"))

    def get_base64(self, key: str) -> bytes | None:
        """The bytes whose base64 text is stored at ``key``; ``None`` if absent.

        Decodes as ``Uint8Array.fromBase64`` does: ASCII whitespace is ignored
        and padding may be left out; anything else raises CorruptModelError
        (what pyweb.browser maps the JS SyntaxError to).
        """
        text = self.getItem(key)
        if text is None:
            return None
        compact = "".join(text.split())
        try:
            return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CorruptModelError(f"SyntaxError: the value at {key!r} is not base64", part=key) from exc

    # -- the demo's meter -----------------------------------------------------------

    @property
    def used_units(self) -> int:
        """UTF-16 code units taken by all keys and values."""
        return self._used

    @property
    def remaining_units(self) -> int:
        """UTF-16 code units still free (never negative)."""
        return max(self.quota_units - self._used, 0)

    def __repr__(self) -> str:
        return f"<FakeLocalStorage {len(self._items)} keys, {self._used}/{self.quota_units} units>"

    # -- persistence ------------------------------------------------------------------

    def _persist(self) -> None:
        if self.persist_path is None:
            return
        # ensure_ascii escapes every non-ASCII code unit, lone surrogates included,
        # so the file is plain ASCII and json.load gives back the exact strings.
        doc = {"format": _PERSIST_FORMAT, "version": 1, "items": list(self._items.items())}
        write_atomic(self.persist_path, json.dumps(doc, ensure_ascii=True).encode("ascii"))

    def _load(self) -> None:
        assert self.persist_path is not None
        try:
            doc = json.loads(self.persist_path.read_bytes())
            if doc.get("format") != _PERSIST_FORMAT:
                raise ValueError(f"not a {_PERSIST_FORMAT} file")
            items = [(str(k), str(v)) for k, v in doc["items"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"cannot read the stored localStorage at {self.persist_path}: {exc}") from exc
        self._items = dict(items)
        self._used = sum(utf16_units(k) + utf16_units(v) for k, v in self._items.items())


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _js_string(value: Any) -> str:
    """JS ToString of what Pyodide would pass for ``value`` (None is undefined)."""
    if isinstance(value, str):
        # A JS string holds code units: a surrogate pair written as two Python
        # code points reads back as the one astral character it encodes.
        if value.isascii():
            return value
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return js_number(value)
    if isinstance(value, int):
        return js_number(value)
    return str(value)
