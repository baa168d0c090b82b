"""The browser stores as handlers see them: Protocols for ``localStorage`` and IndexedDB.

In Pyodide, :mod:`pyweb.browser` wraps the real ``window.localStorage`` /
``indexedDB`` in these shapes (converting values at the edge); in CPython,
:mod:`pyweb.emulation` provides stand-ins with the same rules. Tests and users
may pass their own. Optional fast paths are Protocols of their own
(:class:`Base64Storage`, :class:`IDBWholeOperations`), so a handler asks
``isinstance(store, Base64Storage)`` and a type checker sees the methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "Base64Storage",
    "EngineStorage",
    "IDBDatabaseLike",
    "IDBFactoryLike",
    "IDBRequestLike",
    "IDBTransactionLike",
    "IDBWholeOperations",
    "StorageLike",
]


@runtime_checkable
class StorageLike(Protocol):
    """What ``window.localStorage`` offers (the Web Storage API), values are str.

    ``setItem`` raises :class:`~pyweb.errors.QuotaExceededError` when the
    value does not fit, leaving the store unchanged. A store may add the fast
    paths of :class:`Base64Storage`.
    """

    @property
    def length(self) -> int: ...

    def key(self, index: int) -> str | None: ...

    def getItem(self, key: str) -> str | None: ...  # noqa: N802  (Web Storage names)

    def setItem(self, key: str, value: str) -> None: ...  # noqa: N802

    def removeItem(self, key: str) -> None: ...  # noqa: N802


@runtime_checkable
class Base64Storage(StorageLike, Protocol):
    """A :class:`StorageLike` with a fast path for bytes, each call crossing into the store once.

    ``set_base64(key, data)`` stores bytes as their base64 text;
    ``get_base64(key)`` reads them back (``None`` when the key is absent).
    """

    def set_base64(self, key: str, data: bytes | bytearray | memoryview) -> None: ...

    def get_base64(self, key: str) -> bytes | None: ...


@runtime_checkable
class EngineStorage(StorageLike, Protocol):
    """A :class:`StorageLike` that says whose quota accounting it has.

    ``engine`` is ``"chromium"``, ``"firefox"`` (UTF-16 units) or ``"webkit"`` (bytes:
    1 a character of an all-Latin-1 string, else 2 a unit); a store without it is
    taken to count as Chromium does.
    """

    engine: str


@runtime_checkable
class IDBRequestLike(Protocol):
    """A read issued in a transaction; ``result`` is valid once it completed."""

    @property
    def result(self) -> Any: ...


@runtime_checkable
class IDBTransactionLike(Protocol):
    """An IndexedDB transaction over some object stores.

    Requests are issued synchronously (a real IDB transaction auto-commits
    once control returns to the event loop with nothing pending), then
    ``await complete()`` resolves when the transaction committed, or raises
    (QuotaExceededError, StorageError) when it aborted; an aborted
    transaction changes nothing. Values are dicts with Python values:
    bytes-like for ArrayBuffers, aware datetimes for Dates.
    """

    def put(self, store: str, value: dict[str, Any]) -> None: ...

    def get(self, store: str, key: str) -> IDBRequestLike: ...

    def get_all(self, store: str) -> IDBRequestLike: ...

    def delete(self, store: str, key: str) -> None: ...

    def abort(self) -> None: ...

    async def complete(self) -> None: ...


@runtime_checkable
class IDBDatabaseLike(Protocol):
    """An open IndexedDB connection."""

    @property
    def object_store_names(self) -> list[str]: ...

    def create_object_store(self, name: str, *, key_path: str) -> None: ...

    def transaction(self, stores: list[str], mode: str = "readonly") -> IDBTransactionLike: ...

    def close(self) -> None: ...


@runtime_checkable
class IDBFactoryLike(Protocol):
    """What ``window.indexedDB`` offers, in a Pythonic async subset.

    ``open`` calls ``upgrade(db, old_version)`` when the database is new or
    older than ``version`` (only there may ``create_object_store`` be used).
    """

    async def open(self, name: str, version: int, upgrade: Any) -> IDBDatabaseLike: ...

    async def delete_database(self, name: str) -> None: ...


@runtime_checkable
class IDBWholeOperations(Protocol):
    """A factory that does whole operations in one call each (the page's, over its kept connection).

    Each opens the database ``name`` at ``version`` (creating the missing
    ``(store, key_path)`` object stores of ``stores``) and runs one transaction:
    all of ``puts``/``deletes`` or none of them. ``whole_operations`` False
    sends the handler request by request instead (to inject faults there).
    """

    whole_operations: bool

    async def put_records(
        self, name: str, version: int, stores: Sequence[tuple[str, str]], puts: Sequence[tuple[str, dict[str, Any]]]
    ) -> None: ...

    async def get_record(
        self, name: str, version: int, stores: Sequence[tuple[str, str]], store: str, key: str
    ) -> Any: ...

    async def get_all_records(
        self, name: str, version: int, stores: Sequence[tuple[str, str]], store: str
    ) -> list[Any]: ...

    async def delete_records(
        self, name: str, version: int, stores: Sequence[tuple[str, str]], deletes: Sequence[tuple[str, str]]
    ) -> None: ...
