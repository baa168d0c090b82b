"""FakeIndexedDB: ``window.indexedDB`` for CPython, with the browser's rules.

What it reproduces:

- versioned ``open``: ``upgrade(db, old_version)`` runs when the database is
  new or older; only there may object stores be created or deleted; a lower
  version than stored fails (VersionError); a failing upgrade changes nothing;
- records are structured clones, keyed in-line by their store's keyPath
  (a record without it: DataError; a value that cannot be cloned, e.g. a
  function: DataCloneError, raised from ``put`` itself);
- transactions: "readonly" ones refuse writes (ReadOnlyError); requests are
  issued synchronously and the transaction commits all-or-nothing once the
  issuing code returns to the event loop (auto-commit), so a request made
  after an ``await`` raises TransactionInactiveError, as in a browser;
- as in :mod:`pyweb.browser.idb` (the wrapper of the real store, whose
  behaviour this must match through the protocol): a request that raises
  while being issued aborts its transaction, so earlier writes never commit
  alone; ``abort()`` of a finished transaction does nothing; connections
  close themselves when another open or a deletion needs a version change;
  an exception in ``upgrade`` propagates as it is and the upgrade is undone;
- a quota, checked at commit: an over-quota transaction aborts and
  ``complete()`` raises QuotaExceededError, as Chromium reports it (§2 of the
  browser facts: only the transaction's abort shows it).

DOM errors are :class:`~pyweb.errors.StorageError` (QuotaExceededError for the
quota) whose ``name`` attribute is the DOMException name, the same mapping
pyweb.browser applies to the real errors. Record sizes are those of
:func:`pyweb.emulation._clone.size_of`: bytes-likes exactly, the rest roughly.

Not modelled: the queueing of overlapping read-write transactions (here every
request runs against the committed state when it is issued, and commits apply
in order), indexes, cursors, out-of-line keys and key generators.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import QuotaExceededError
from ._clone import check_key, clone, dom_error, key_id, key_of, key_sort_key, size_of
from ._idb_state import Database, Store, dump_databases, load_databases, sorted_records
from .local_storage import write_atomic

__all__ = ["FakeIDBDatabase", "FakeIDBRequest", "FakeIDBTransaction", "FakeIndexedDB"]

_MODES = ("readonly", "readwrite")
_DELETED = object()  # a delete in a transaction's write set


class FakeIndexedDB:
    """The IndexedDB of one origin (an IDBFactoryLike).

    Parameters
    ----------
    quota_bytes
        Room over all databases of this origin, or ``None`` for no limit.
        May be changed at any time (tests set it just above ``usage_bytes``).
    persist_path
        A JSON file: loaded on creation if it exists, rewritten atomically
        after every commit, upgrade and deletion.

    Examples
    --------
    >>> idb = FakeIndexedDB()
    >>> db = await idb.open("db", 1, lambda db, old: db.create_object_store("s", key_path="id"))  # doctest: +SKIP
    >>> tx = db.transaction(["s"], "readwrite")  # doctest: +SKIP
    >>> tx.put("s", {"id": "a", "data": b"..."}); await tx.complete()  # doctest: +SKIP
    """

    def __init__(self, *, quota_bytes: int | None = None, persist_path: str | os.PathLike[str] | None = None) -> None:
        self.quota_bytes = quota_bytes
        self.persist_path = Path(persist_path) if persist_path is not None else None
        self._dbs: dict[str, Database] = {}
        self._connections: dict[str, list[FakeIDBDatabase]] = {}
        if self.persist_path is not None and self.persist_path.exists():
            self._load()

    async def open(self, name: str, version: int, upgrade: Callable[..., Any] | None = None) -> FakeIDBDatabase:
        """Open ``name`` at ``version``, upgrading it first if it is new or older.

        Raises
        ------
        StorageError
            ``VersionError`` (stored version is higher); ``InvalidStateError``
            (an upgrade is needed while a connection whose ``onversionchange``
            was replaced stays open: a browser reports "blocked").
        Exception
            Whatever ``upgrade`` raised; the database is left as it was.
        """
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise TypeError(f"version must be a positive integer, not {version!r}")
        db = self._dbs.get(name)
        old_version = db.version if db is not None else 0
        if version < old_version:
            raise dom_error("VersionError", f"database {name!r} is at version {old_version}, higher than {version}")
        if version == old_version:
            assert db is not None
            return self._connect(db)
        self._notify_versionchange(name, old_version, version)
        staged = dict(db.stores) if db is not None else {}
        conn = FakeIDBDatabase(self, name, version, staged, upgrading=True)
        try:
            result = upgrade(conn, old_version) if upgrade is not None else None
            if inspect.isawaitable(result):
                # The versionchange transaction, like any other, goes inactive at the next loop turn.
                asyncio.get_running_loop().call_soon(conn._end_upgrade)
                await result
        except BaseException:
            conn._closed = True  # the versionchange transaction aborts: nothing of it stays
            raise
        conn._end_upgrade()
        if db is None:
            db = self._dbs[name] = Database(name, version, staged)
        db.version, db.stores = version, staged
        self._connections.setdefault(name, []).append(conn)
        self._persist()
        return conn

    async def delete_database(self, name: str) -> None:
        """Delete ``name`` and all its records (nothing happens if it does not exist)."""
        db = self._dbs.get(name)
        if db is None:
            return
        self._notify_versionchange(name, db.version, None)
        del self._dbs[name]
        self._persist()

    def database_names(self) -> list[str]:
        """Names of the existing databases (``indexedDB.databases()``), sorted."""
        return sorted(self._dbs, key=key_sort_key)

    @property
    def usage_bytes(self) -> int:
        """Bytes counted against ``quota_bytes`` (see :func:`~pyweb.emulation._clone.size_of`)."""
        return sum(s.nbytes for db in self._dbs.values() for s in db.stores.values())

    async def estimate(self) -> dict[str, int]:
        """``navigator.storage.estimate()``: usage and quota (10 GiB when unlimited, as Chromium shows)."""
        quota = self.quota_bytes if self.quota_bytes is not None else self.usage_bytes + 10 * 2**30
        return {"usage": self.usage_bytes, "quota": quota}

    def __repr__(self) -> str:
        return f"<FakeIndexedDB {self.database_names()} {self.usage_bytes}/{self.quota_bytes} bytes>"

    # -- helpers --------------------------------------------------------------------

    def _connect(self, db: Database) -> FakeIDBDatabase:
        conn = FakeIDBDatabase(self, db.name, db.version, db.stores)
        self._connections.setdefault(db.name, []).append(conn)
        return conn

    def _notify_versionchange(self, name: str, old: int, new: int | None) -> None:
        for conn in list(self._connections.get(name, [])):
            if conn.onversionchange is not None:
                conn.onversionchange(old, new)
        if self._connections.get(name):
            # A browser fires "blocked" and waits; pyweb.browser rejects it as InvalidStateError.
            raise dom_error("InvalidStateError", f"{len(self._connections[name])} connection(s) to {name!r} stay open")

    def _disconnect(self, conn: FakeIDBDatabase) -> None:
        conns = self._connections.get(conn.name, [])
        if conn in conns:
            conns.remove(conn)

    def _persist(self) -> None:
        if self.persist_path is not None:
            write_atomic(self.persist_path, dump_databases(self._dbs))

    def _load(self) -> None:
        assert self.persist_path is not None
        try:
            self._dbs = load_databases(self.persist_path.read_bytes())
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise dom_error("UnknownError", f"cannot read the stored IndexedDB at {self.persist_path}: {exc}") from exc


class FakeIDBDatabase:
    """An open connection (an IDBDatabaseLike).

    ``onversionchange(old_version, new_version)`` is called when another open
    or a deletion needs this connection closed. By default it closes the
    connection, as pyweb.browser's connections do; one that leaves it open
    makes that open/deletion fail with InvalidStateError ("blocked").
    """

    def __init__(
        self, factory: FakeIndexedDB, name: str, version: int, stores: dict[str, Store], *, upgrading: bool = False
    ) -> None:
        self._factory, self.name, self.version = factory, name, version
        self._stores = stores
        self._upgrading = upgrading
        self._closed = False
        self.onversionchange: Callable[[int, int | None], Any] | None = lambda old, new: self.close()

    @property
    def object_store_names(self) -> list[str]:
        """Store names, sorted by code unit as a DOMStringList is."""
        return sorted(self._stores, key=key_sort_key)

    def create_object_store(self, name: str, *, key_path: str) -> None:
        """Create a store whose records are keyed by their ``key_path`` field (only inside ``upgrade``)."""
        self._check_upgrading("create_object_store")
        if name in self._stores:
            raise dom_error("ConstraintError", f"an object store named {name!r} already exists")
        if not isinstance(key_path, str) or not all(p.isidentifier() for p in key_path.split(".")):
            raise dom_error("SyntaxError", f"{key_path!r} is not a valid keyPath")
        self._stores[name] = Store(name, key_path)

    def delete_object_store(self, name: str) -> None:
        """Delete a store and its records (only inside ``upgrade``)."""
        self._check_upgrading("delete_object_store")
        if name not in self._stores:
            raise dom_error("NotFoundError", f"no object store named {name!r}")
        del self._stores[name]

    def transaction(self, stores: list[str] | str, mode: str = "readonly") -> FakeIDBTransaction:
        """A transaction over ``stores``; issue its requests before the next ``await``."""
        if self._closed:
            raise dom_error("InvalidStateError", f"the connection to {self.name!r} is closed")
        if self._upgrading:
            raise dom_error("InvalidStateError", "a version change transaction is running")
        names = [stores] if isinstance(stores, str) else list(stores)
        if mode not in _MODES:
            raise TypeError(f"mode must be one of {_MODES}, not {mode!r}")
        if not names:
            raise dom_error("InvalidAccessError", "a transaction needs at least one object store")
        for n in names:
            if n not in self._stores:
                raise dom_error("NotFoundError", f"no object store named {n!r} in {self.name!r}")
        return FakeIDBTransaction(self, {n: self._stores[n] for n in names}, mode)

    def close(self) -> None:
        """Close the connection; transactions already made still finish."""
        self._closed = True
        self._factory._disconnect(self)

    def _check_upgrading(self, what: str) -> None:
        if not self._upgrading:
            raise dom_error("InvalidStateError", f"{what} is only allowed inside the upgrade callback of open()")

    def _end_upgrade(self) -> None:
        self._upgrading = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<FakeIDBDatabase {self.name!r} v{self.version} {state} stores={self.object_store_names}>"


class FakeIDBRequest:
    """A request's outcome: ``result`` once done (InvalidStateError before); ``error`` after an abort."""

    def __init__(self, result: Any) -> None:
        self._result = result
        self.ready_state = "pending"
        self.error: Exception | None = None

    @property
    def result(self) -> Any:
        if self.ready_state == "pending":
            raise dom_error(
                "InvalidStateError", "the request has not finished; await the transaction's complete() first"
            )
        return self._result

    def _finish(self, error: Exception | None = None) -> None:
        if self.ready_state == "pending":
            self.ready_state = "done"
            if error is not None:
                self.error, self._result = error, None


class FakeIDBTransaction:
    """A transaction (an IDBTransactionLike): all of its writes commit, or none.

    Created inside a running event loop, it stays active until the loop next
    runs other work (``loop.call_soon``), then commits on its own even if
    nobody awaits :meth:`complete`, as a browser transaction does.
    """

    def __init__(self, conn: FakeIDBDatabase, stores: dict[str, Store], mode: str) -> None:
        self._conn, self._stores, self.mode = conn, stores, mode
        self.object_store_names = sorted(stores, key=key_sort_key)
        self.state = "active"  # active -> inactive -> finished
        self.error: Exception | None = None
        self._writes: dict[str, dict[Any, tuple[Any, Any, int]]] = {n: {} for n in stores}
        self._requests: list[FakeIDBRequest] = []
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None  # made outside a loop: it deactivates when complete() is awaited
        self._done = loop.create_future() if loop is not None else None
        if loop is not None:
            loop.call_soon(self._deactivate)

    def put(self, store: str, value: dict[str, Any]) -> FakeIDBRequest:
        """Write ``value`` (a clone of it) under its keyPath; the request's result is the key."""
        with self._issuing():
            st = self._writable(store)
            record = clone(value)
            key = key_of(record, st.key_path)
            self._writes[store][key_id(key)] = (key, record, size_of(record))
            return self._request(key)

    def delete(self, store: str, key: Any) -> FakeIDBRequest:
        """Delete the record at ``key`` (no error if there is none)."""
        with self._issuing():
            self._writable(store)
            check_key(key)
            self._writes[store][key_id(key)] = (key, _DELETED, 0)
            return self._request(None)

    def get(self, store: str, key: Any) -> FakeIDBRequest:
        """The record at ``key`` (a fresh clone), or ``None``; read ``.result`` after completion."""
        with self._issuing():
            st = self._readable(store)
            check_key(key)
            kid = key_id(key)
            hit = self._writes[store].get(kid) or st.records.get(kid)
            value = None if hit is None or hit[1] is _DELETED else clone(hit[1])
            return self._request(value)

    def get_all(self, store: str) -> FakeIDBRequest:
        """Every record of ``store`` in key order (fresh clones); read ``.result`` after completion."""
        with self._issuing():
            st = self._readable(store)
            merged = {**st.records, **self._writes[store]}
            values = [clone(v) for _, v, _ in sorted_records(merged) if v is not _DELETED]
            return self._request(values)

    def abort(self) -> None:
        """Discard every write; ``complete()`` then raises AbortError. No-op once finished."""
        if self.state != "finished":
            self._abort(dom_error("AbortError", "the transaction was aborted"))

    async def complete(self) -> None:
        """Wait until the transaction committed.

        Raises
        ------
        QuotaExceededError
            The writes did not fit; nothing was committed.
        StorageError
            ``AbortError``: the transaction was aborted; nothing was committed.
        """
        if self._done is None:
            self._deactivate()
        elif not self._done.done():
            await asyncio.shield(self._done)
        if self.error is not None:
            raise self.error

    # -- internals ----------------------------------------------------------------

    @contextlib.contextmanager
    def _issuing(self) -> Iterator[None]:
        # Real IDB keeps a transaction running when a request throws; pyweb's
        # browser wrapper aborts it, and the two must agree through the protocol.
        try:
            yield
        except BaseException:
            self.abort()
            raise

    def _check_active(self) -> None:
        if self.state != "active":
            raise dom_error(
                "TransactionInactiveError",
                "the transaction is not active: it auto-committed when control returned to the event "
                "loop; issue every request before the first await",
            )

    def _readable(self, store: str) -> Store:
        self._check_active()
        if store not in self._stores:
            raise dom_error("NotFoundError", f"object store {store!r} is not in this transaction's scope")
        return self._stores[store]

    def _writable(self, store: str) -> Store:
        st = self._readable(store)
        if self.mode == "readonly":
            raise dom_error("ReadOnlyError", "the transaction is read-only")
        return st

    def _request(self, result: Any) -> FakeIDBRequest:
        req = FakeIDBRequest(result)
        self._requests.append(req)
        return req

    def _deactivate(self) -> None:
        if self.state != "active":
            return
        self.state = "inactive"
        for req in self._requests:
            req._finish()
        self._commit()  # nothing is ever pending here, so it commits at once

    def _commit(self) -> None:
        factory = self._conn._factory
        added = freed = 0
        for name, writes in self._writes.items():
            records = self._stores[name].records
            for kid, (_, value, size) in writes.items():
                freed += records[kid][2] if kid in records else 0
                added += 0 if value is _DELETED else size
        quota = factory.quota_bytes
        available = None if quota is None else quota - (factory.usage_bytes - freed)
        # A transaction that does not grow the data always commits (deleting frees room).
        if available is not None and added > max(available, freed):
            error = QuotaExceededError(
                f"QuotaExceededError: the transaction needs {added} bytes, {max(available, 0)} are free",
                requested_bytes=added,
                available_bytes=max(available, 0),
            )
            error.name = "QuotaExceededError"  # type: ignore[attr-defined]
            self._abort(error)
            return
        for name, writes in self._writes.items():
            st = self._stores[name]
            for kid, (key, value, size) in writes.items():
                st.delete(kid) if value is _DELETED else st.put(kid, key, value, size)
        if any(self._writes.values()):
            factory._persist()
        self._finish()

    def _abort(self, error: Exception) -> None:
        self.error = error
        self._writes = {n: {} for n in self._stores}
        for req in self._requests:
            req._finish(dom_error("AbortError", "the transaction was aborted"))
        self._finish()

    def _finish(self) -> None:
        self.state = "finished"
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    def __repr__(self) -> str:
        return f"<FakeIDBTransaction {self.mode} {self.object_store_names} {self.state}>"
