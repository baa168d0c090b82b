"""The committed state of the IndexedDB stand-in, and its file format.

A database holds object stores; a store maps a key's identity to
``(key, value, size)`` and keeps the total of the sizes, which is what the
quota counts. The file written for ``persist_path`` is JSON (ASCII, so lone
surrogates survive) with containers and special values tagged.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from typing import Any

from ._clone import key_id, key_of, key_sort_key, size_of

__all__ = ["Database", "Store", "decode_value", "dump_databases", "encode_value", "load_databases", "sorted_records"]

_PERSIST_FORMAT = "pyweb-indexeddb"

Record = tuple[Any, Any, int]  # (key, value, size)


class Store:
    """A committed object store: key id -> (key, value, size)."""

    def __init__(self, name: str, key_path: str) -> None:
        self.name, self.key_path = name, key_path
        self.records: dict[Any, Record] = {}
        self.nbytes = 0

    def put(self, kid: Any, key: Any, value: Any, size: int) -> None:
        self.delete(kid)
        self.records[kid] = (key, value, size)
        self.nbytes += size

    def delete(self, kid: Any) -> None:
        old = self.records.pop(kid, None)
        if old is not None:
            self.nbytes -= old[2]


class Database:
    def __init__(self, name: str, version: int, stores: dict[str, Store]) -> None:
        self.name, self.version, self.stores = name, version, stores


def sorted_records(records: dict[Any, Record]) -> list[Record]:
    """Records in IndexedDB key order."""
    return sorted(records.values(), key=lambda r: key_sort_key(r[0]))


def dump_databases(dbs: dict[str, Database]) -> bytes:
    doc = {
        "format": _PERSIST_FORMAT,
        "version": 1,
        "databases": {
            db.name: {
                "version": db.version,
                "stores": {
                    s.name: {
                        "keyPath": s.key_path,
                        "records": [encode_value(v) for _, v, _ in sorted_records(s.records)],
                    }
                    for s in db.stores.values()
                },
            }
            for db in dbs.values()
        },
    }
    return json.dumps(doc, ensure_ascii=True).encode("ascii")


def load_databases(data: bytes) -> dict[str, Database]:
    """The inverse of :func:`dump_databases`; ValueError/KeyError/TypeError if malformed."""
    doc = json.loads(data)
    if doc.get("format") != _PERSIST_FORMAT:
        raise ValueError(f"not a {_PERSIST_FORMAT} file")
    dbs = {}
    for name, d in doc["databases"].items():
        stores = {}
        for sname, s in d["stores"].items():
            store = stores[sname] = Store(sname, s["keyPath"])
            for value in map(decode_value, s["records"]):
                key = key_of(value, store.key_path)
                store.put(key_id(key), key, value, size_of(value))
        dbs[name] = Database(name, int(d["version"]), stores)
    return dbs


# -- disk codec (persistence) ----------------------------------------------------
# JSON cannot hold bytes, dates or the dict/list distinction under tags, so
# containers and special scalars are tagged: ["o", {...}], ["l", [...]],
# ["b", base64], ["d", iso8601]; str/int/float/bool/None are written as is.


def encode_value(value: Any) -> Any:
    if isinstance(value, dict):
        return ["o", {k: encode_value(v) for k, v in value.items()}]
    if isinstance(value, list):
        return ["l", [encode_value(v) for v in value]]
    if isinstance(value, bytes):
        return ["b", base64.b64encode(value).decode("ascii")]
    if isinstance(value, _dt.datetime):
        return ["d", value.isoformat()]
    return value


def decode_value(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    tag, body = value
    if tag == "o":
        return {k: decode_value(v) for k, v in body.items()}
    if tag == "l":
        return [decode_value(v) for v in body]
    if tag == "b":
        return base64.b64decode(body)
    if tag == "d":
        return _dt.datetime.fromisoformat(body)
    raise ValueError(f"unknown tag {tag!r} in a persisted IndexedDB value")
