"""FakeLocalStorage: ``window.localStorage`` for CPython, with the browser's rules.

What it reproduces (measured in Chromium and Firefox, see the browser facts):

- values are strings; ``setItem`` converts keys and values to strings;
- the quota is 5,242,880 UTF-16 code units per origin, counted over every key
  plus every value; characters outside the BMP count 2; lone surrogates are
  stored as they are;
- ``engine="webkit"`` counts as WebKit (Safari) does, measured in WebKitGTK 2.50:
  5,242,880 *bytes*, where a key or value whose characters are all Latin-1
  (U+0000-U+00FF) costs 1 byte a character and any other string 2 bytes a
  UTF-16 unit (its whole length: one CJK character makes every unit cost 2).
  WebKit really counts how it holds the string, 8 or 16 bits a character: text
  JavaScript cut from 16-bit text (say, parsed from JSON that also holds CJK)
  can cost 2 a character though all Latin-1; what pyweb writes from Pyodide
  counts as modelled here (tests/browser/test_quota.py);
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
from pathlib import Path
from typing import Any

from .._atomic import replace_file
from ..artifacts import js_number, utf16_units
from ..errors import CorruptModelError, QuotaExceededError, StorageError

__all__ = [
    "DEFAULT_QUOTA_UNITS",
    "ENGINES",
    "FakeLocalStorage",
    "bytes_per_unit",
    "storage_units",
    "utf16_units",
    "webkit_bytes",
]

#: Every engine: 5 Mi units per origin (Chromium and Firefox: UTF-16 code units; WebKit: bytes).
DEFAULT_QUOTA_UNITS = 5_242_880


def webkit_bytes(text: str) -> int:
    """Bytes WebKit's localStorage counts for a key or value: 1 a character if all are Latin-1, else 2 a unit."""
    units = utf16_units(text)
    # WebKit keeps a string in 8 bits when every character fits, else in 16 (a pair per astral one).
    return units if text.isascii() or max(text) <= "\xff" else 2 * units


# engine -> (the units a string costs, bytes per unit for QuotaExceededError's sizes).
_ACCOUNTING = {"chromium": (utf16_units, 2), "firefox": (utf16_units, 2), "webkit": (webkit_bytes, 1)}
#: The engines whose localStorage accounting the emulation reproduces.
ENGINES = tuple(_ACCOUNTING)


def storage_units(text: str, engine: str = "chromium") -> int:
    """What one key or value takes of ``engine``'s localStorage quota (UTF-16 units, or WebKit's bytes)."""
    return _ACCOUNTING[_engine(engine)][0](text)


def bytes_per_unit(engine: str = "chromium") -> int:
    """Bytes one of ``engine``'s quota units stands for (2 for a UTF-16 unit, 1 for WebKit's byte)."""
    return _ACCOUNTING[_engine(engine)][1]


def _engine(engine: str) -> str:
    if engine not in _ACCOUNTING:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    return engine


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
    engine
        Whose accounting to reproduce: ``"chromium"`` (default) and ``"firefox"``
        count UTF-16 units, ``"webkit"`` bytes (see the module docstring);
        ``quota_units`` and the ``*_units`` properties are in those units.

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
        engine: str = "chromium",
    ) -> None:
        if key_order not in ("insertion", "hashed"):
            raise ValueError("key_order must be 'insertion' or 'hashed'")
        self.engine = _engine(engine)
        self._units, self._bytes_per_unit = _ACCOUNTING[self.engine]
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
        key_units, value_units = self._units(key), self._units(value)
        old = self._items.get(key)
        freed = 0 if old is None else key_units + self._units(old)
        room = self.quota_units - (self._used - freed)
        if key_units + value_units > room:
            unit = "UTF-16 units" if self._bytes_per_unit == 2 else "bytes"
            raise QuotaExceededError(
                f"QuotaExceededError: Setting the value of {key[:80]!r} exceeded the quota "
                f"({key_units + value_units} {unit} needed, {max(room, 0)} free)",
                requested_bytes=self._bytes_per_unit * (key_units + value_units),
                available_bytes=self._bytes_per_unit * max(room, 0),
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
            self._used -= self._units(key) + self._units(old)
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
        """UTF-16 code units (WebKit: bytes) taken by all keys and values."""
        return self._used

    @property
    def remaining_units(self) -> int:
        """UTF-16 code units (WebKit: bytes) still free (never negative)."""
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
        self._used = sum(self._units(k) + self._units(v) for k, v in self._items.items())


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, data, prefix=f".{path.name}.", suffix=".tmp")


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
