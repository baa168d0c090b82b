"""``indexeddb://path``: models in IndexedDB, in the records TF.js writes.

The database, stores and records are TF.js 4.22's (tfjs-core/src/io/indexed_db.ts),
so either side loads what the other saved:

- database ``tensorflowjs`` version 1, with two object stores keyed by ``modelPath``;
- ``models_store``: ``{modelPath, modelArtifacts, modelArtifactsInfo}``, where
  ``modelArtifacts`` is TF.js's camelCase object with ``weightData`` one
  ArrayBuffer, and ``modelArtifactsInfo`` has ``dateSaved`` as a Date;
- ``model_info_store``: ``{modelPath, modelArtifactsInfo}``, what listing reads.

The factory is any :class:`~pyweb.types.IDBFactoryLike`: the page's
IndexedDB in Pyodide, :class:`pyweb.emulation.FakeIndexedDB` in CPython, or
your own. IndexedDB is asynchronous, so this handler implements ``asave`` /
``aload`` only; ``save``/``load`` go through :func:`pyweb._run.run_sync`
(Pyodide with JSPI, or CPython outside a running loop).

Differences from TF.js:

- Both records are put in ONE transaction, so a save is all or nothing: an
  aborted save (quota, anything) leaves the previous model intact. TF.js uses
  two transactions, and a failure between them can leave an info record
  without its model.
- ``remove_model`` deletes both records in one transaction.
- pyweb never blocks ``deleteDatabase`` or an upgrade from another page:
  in the browser its connection closes itself on ``versionchange``.

Each operation (save, load, list, remove) is one transaction and its
requests. A factory that offers them whole (``whole_operations`` true, with
``put_records``/``get_record``/``get_all_records``/``delete_records``, as the
page's IndexedDB does in :mod:`pyweb.browser.idb`) runs each in one call, on
a connection it keeps open for a short idle time; any other goes request by
request through the IDBFactoryLike protocol, one open and close each.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any

from ..artifacts import (
    artifacts_from_json_dict,
    artifacts_info,
    artifacts_to_json_dict,
    info_from_json,
    info_to_json,
    js_iso,
    now_ms,
    require_json_topology,
)
from ..errors import (
    CorruptModelError,
    InvalidURLError,
    ModelNotFoundError,
    QuotaExceededError,
    StorageError,
)
from ..types import (
    Handler,
    IDBDatabaseLike,
    IDBFactoryLike,
    IDBWholeOperations,
    ModelArtifacts,
    ModelArtifactsInfo,
    ModelStore,
    SaveResult,
    join_weight_data,
)

__all__ = ["IndexedDBHandler", "IndexedDBStore"]

# TF.js compatibility: TF.js's database, version, store names and key path
# (indexed_db.ts). Not pyweb-namespaced on purpose: another name would hide
# every model from TF.js and TF.js's models from pyweb.
DATABASE_NAME = "tensorflowjs"
DATABASE_VERSION = 1
MODELS_STORE = "models_store"
INFO_STORE = "model_info_store"
KEY_PATH = "modelPath"
# (store, key path) of each; opening the database creates whichever is missing.
STORES = ((MODELS_STORE, KEY_PATH), (INFO_STORE, KEY_PATH))
SCHEME = "indexeddb://"

_Specs = Sequence[tuple[str, str]]  # (object store, key path) pairs, as STORES


def upgrade_database(db: IDBDatabaseLike, old_version: int) -> None:
    """Create whichever of TF.js's two object stores is missing."""
    _create_missing(db, STORES)


class IndexedDBHandler(Handler):
    """Save to and load from ``indexeddb://path`` (async; sync calls via run_sync).

    Parameters
    ----------
    path
        The model's key (``modelPath``); may contain ``/``.
    factory
        The IDBFactoryLike to use; by default :func:`pyweb.env.indexed_db`,
        looked up at each call (the page's IndexedDB in Pyodide).

    Examples
    --------
    >>> await pyweb.asave(artifacts, "indexeddb://my-model")  # doctest: +SKIP
    """

    save_options = load_options = store_options = frozenset({"factory"})
    global_store = True

    def __init__(self, path: str, *, factory: IDBFactoryLike | None = None) -> None:
        if not isinstance(path, str) or not path:
            raise InvalidURLError("indexeddb:// needs a model path, e.g. 'indexeddb://my-model'")
        self.path = path
        self.url = SCHEME + path
        self._factory = factory

    @property
    def factory(self) -> IDBFactoryLike:
        return self._factory if self._factory is not None else _default_factory()

    async def asave(self, artifacts: ModelArtifacts) -> SaveResult:
        require_json_topology(artifacts, "indexeddb://")
        # As TF.js: weightData becomes one buffer (empty when absent) before the info is taken.
        joined = dataclasses.replace(artifacts, weight_data=join_weight_data(artifacts.weight_data))
        info = artifacts_info(joined, date=now_ms())
        model_record, info_record = self._records(joined, info)
        with _errors_for(self.url, info):
            puts = [(MODELS_STORE, model_record), (INFO_STORE, info_record)]
            await _operations(self.factory).put_records(DATABASE_NAME, DATABASE_VERSION, STORES, puts)
        return SaveResult(info)

    def _records(self, artifacts: ModelArtifacts, info: ModelArtifactsInfo) -> tuple[dict[str, Any], dict[str, Any]]:
        info_doc = _info_record(info)
        arts = artifacts_to_json_dict(artifacts)
        model = {KEY_PATH: self.path, "modelArtifacts": arts, "modelArtifactsInfo": info_doc}
        return model, {KEY_PATH: self.path, "modelArtifactsInfo": info_doc}

    async def aload(self) -> ModelArtifacts:
        with _errors_for(self.url):
            ops = _operations(self.factory)
            record = await ops.get_record(DATABASE_NAME, DATABASE_VERSION, STORES, MODELS_STORE, self.path)
        if record is None:
            raise ModelNotFoundError(f"no model at {self.url}", url=self.url)
        if not isinstance(record, dict) or not isinstance(record.get("modelArtifacts"), dict):
            message = f"{self.url}: the stored record has no modelArtifacts"
            raise CorruptModelError(message, part="modelArtifacts", url=self.url)
        return artifacts_from_json_dict(record["modelArtifacts"])

    @classmethod
    def open_store(cls, location: str = "", *, factory: IDBFactoryLike | None = None) -> IndexedDBStore:
        """The scheme-wide store (``location`` is ignored: one database per origin).

        Raises RuntimeUnavailableError where there is no IndexedDB, so
        ``pyweb.list_models()`` skips the scheme there.
        """
        return IndexedDBStore(factory if factory is not None else _default_factory())


class IndexedDBStore(ModelStore):
    """Lists and removes ``indexeddb://`` models (TF.js's BrowserIndexedDBManager)."""

    def __init__(self, factory: IDBFactoryLike) -> None:
        self.factory = factory

    async def alist_models(self) -> dict[str, ModelArtifactsInfo]:
        with _errors_for(SCHEME):
            ops = _operations(self.factory)
            records = await ops.get_all_records(DATABASE_NAME, DATABASE_VERSION, STORES, INFO_STORE) or []
        if not isinstance(records, list):
            raise CorruptModelError(f"{SCHEME}: the info store did not give a list", part=INFO_STORE, url=SCHEME)
        found = {}
        for rec in records:
            path = rec.get(KEY_PATH) if isinstance(rec, dict) else None
            if not isinstance(path, str):
                raise CorruptModelError(f"{SCHEME}: a record in {INFO_STORE} has no text {KEY_PATH}", part=INFO_STORE)
            found[path] = _info_from_record(rec, SCHEME + path)
        return found

    async def aremove_model(self, path: str) -> ModelArtifactsInfo:
        path = path.removeprefix(SCHEME)
        url = SCHEME + path
        with _errors_for(url):
            ops = _operations(self.factory)
            # Read, then delete if present: two transactions, as a Python await ends one.
            record = await ops.get_record(DATABASE_NAME, DATABASE_VERSION, STORES, INFO_STORE, path)
            if record is None:
                raise ModelNotFoundError(f"no model at {url}", url=url)
            info = _info_from_record(record, url)
            deletes = [(INFO_STORE, path), (MODELS_STORE, path)]
            await ops.delete_records(DATABASE_NAME, DATABASE_VERSION, STORES, deletes)
        return info


class _ByRequest:
    """The whole operations, request by request over the IDBFactoryLike protocol.

    For factories that do not offer them (FakeIndexedDB, your own). Each
    opens a connection, runs one transaction and closes the connection.
    """

    def __init__(self, factory: IDBFactoryLike) -> None:
        self.factory = factory

    async def put_records(
        self, name: str, version: int, stores: _Specs, puts: Sequence[tuple[str, dict[str, Any]]]
    ) -> None:
        async with self._connection(name, version, stores) as db:
            await _all_or_nothing(db, puts, lambda tx, store, value: tx.put(store, value))

    async def get_record(self, name: str, version: int, stores: _Specs, store: str, key: str) -> Any:
        async with self._connection(name, version, stores) as db:
            tx = db.transaction([store], "readonly")
            request = tx.get(store, key)
            await tx.complete()
            return request.result

    async def get_all_records(self, name: str, version: int, stores: _Specs, store: str) -> list[Any]:
        async with self._connection(name, version, stores) as db:
            tx = db.transaction([store], "readonly")
            request = tx.get_all(store)
            await tx.complete()
            records: list[Any] = request.result
            return records

    async def delete_records(self, name: str, version: int, stores: _Specs, deletes: Sequence[tuple[str, str]]) -> None:
        async with self._connection(name, version, stores) as db:
            await _all_or_nothing(db, deletes, lambda tx, store, key: tx.delete(store, key))

    @contextlib.asynccontextmanager
    async def _connection(self, name: str, version: int, stores: _Specs) -> AsyncIterator[IDBDatabaseLike]:
        db = await self.factory.open(name, version, lambda conn, old_version: _create_missing(conn, stores))
        try:
            yield db
        finally:
            db.close()


# -- helpers -----------------------------------------------------------------------


async def _all_or_nothing(db: IDBDatabaseLike, items: Sequence[tuple[str, Any]], issue: Callable[..., Any]) -> None:
    """``issue(tx, store, arg)`` for each item in ONE readwrite transaction; a throw aborts it all."""
    tx = db.transaction(_unique(store for store, _ in items), "readwrite")
    try:
        for store, arg in items:
            issue(tx, store, arg)
    except BaseException:
        tx.abort()  # earlier requests of this transaction must not commit alone
        raise
    await tx.complete()


@contextlib.contextmanager
def _errors_for(url: str, info: ModelArtifactsInfo | None = None) -> Iterator[None]:
    """Give store errors the model's URL; a quota abort says what was asked for."""
    try:
        yield
    except QuotaExceededError as exc:
        needed = None if info is None else _payload_bytes(info)
        raise QuotaExceededError(
            f"IndexedDB refused to store {url} ({needed} bytes of model): the origin's storage quota is "
            "used up. The previous model there, if any, was kept. Free space with pyweb.remove_model(...).",
            url=url,
            requested_bytes=needed,
            available_bytes=exc.available_bytes,
        ) from exc
    except StorageError as exc:
        if exc.url is None:
            exc.url = url
        raise


def _operations(factory: IDBFactoryLike) -> IDBWholeOperations | _ByRequest:
    # The factory's own one-call operations when it has them (and has them on), else the protocol.
    if isinstance(factory, IDBWholeOperations) and factory.whole_operations:
        return factory
    return _ByRequest(factory)


def _create_missing(db: IDBDatabaseLike, stores: _Specs) -> None:
    existing = set(db.object_store_names)
    for name, key_path in stores:
        if name not in existing:
            db.create_object_store(name, key_path=key_path)


def _unique(stores: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(stores))


def _info_record(info: ModelArtifactsInfo) -> dict[str, Any]:
    doc = info_to_json(info)
    doc["dateSaved"] = info.date_saved  # a Date in IndexedDB, as TF.js stores it
    return doc


def _info_from_record(record: Any, url: str) -> ModelArtifactsInfo:
    doc = record.get("modelArtifactsInfo") if isinstance(record, dict) else None
    if not isinstance(doc, dict):
        message = f"{url}: the stored record has no modelArtifactsInfo"
        raise CorruptModelError(message, part="modelArtifactsInfo", url=url)
    date = doc.get("dateSaved")
    if isinstance(date, _dt.datetime):
        doc = {**doc, "dateSaved": js_iso(date)}
    return info_from_json(doc, url=url)


def _payload_bytes(info: ModelArtifactsInfo) -> int:
    # What the save asked the store to keep: topology and specs JSON plus the weights.
    return sum(n or 0 for n in (info.model_topology_bytes, info.weight_specs_bytes, info.weight_data_bytes))


def _default_factory() -> IDBFactoryLike:
    from .. import env

    return env.indexed_db()
