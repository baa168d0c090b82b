"""``s3://``, ``gs://``, ``az://`` and every other fsspec protocol: models in object stores.

Needs the ``fsspec`` extra (``pip install 'pyweb[fsspec]'``) and the
protocol's own package (s3fs, gcsfs, adlfs, ...). Each fsspec protocol that
is not already a pyweb scheme is one (the registry asks
:func:`handler_for_protocol` when a scheme is not found otherwise);
``fsspec://URL`` takes any fsspec URL, including the protocols pyweb's own
schemes shadow (``fsspec://memory://models/m``) and chained ones
(``fsspec://simplecache::s3://bucket/m``). ``storage_options=`` goes to the
filesystem as it is; without it the backend's own configuration applies
(for s3fs: ``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_PROFILE``, ...).

The layout is ``file://``'s (``model.json`` + ``weights.bin`` or
``group1-shardIofK.bin``), with the shards in a per-save folder that
``model.json`` names, so that ``model.json`` can be the commit point (see
:mod:`pyweb._object_layout`):

- a save writes its shards (in parallel, through the backend's async API
  where it has one), then ``model.json``; then it removes the shards of the
  model it replaced and leftovers of failed saves;
- a load reads ``model.json`` and then the shards it names, streamed in
  parallel straight into one buffer of their total size; a shard that is
  gone because a save replaced the model meanwhile makes the load start
  again from the new ``model.json``; ``sha256`` digests are checked when the
  manifest records them (``integrity=True``);
- a failed or killed save leaves the previous model as it was.

Concurrent saves to one name: the last ``model.json`` written wins, whole;
the other saves' shards become leftovers, removed by a later save once
:data:`~pyweb._object_layout.LEFTOVER_SECONDS` old.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections.abc import AsyncIterator, Coroutine
from typing import Any, ClassVar, TypeVar

import fsspec
from fsspec.core import split_protocol, url_to_fs

from .. import _object_layout as layout
from .._buffers import allocate
from .._run import run_sync
from ..artifacts import (
    MODEL_JSON,
    NODE_WEIGHTS_PATH,
    add_integrity,
    artifacts_info,
    check_integrity,
    check_shard_bytes,
    manifest_paths,
    parse_model_json,
    require_json_topology,
    shard_paths,
    split_shards,
    to_model_json,
)
from ..errors import (
    ArtifactError,
    CorruptModelError,
    HandlerUnavailableError,
    ModelNotFoundError,
    PyWebError,
    SchemeError,
    StorageError,
)
from ..types import Handler, ModelArtifacts, ModelArtifactsInfo, ModelStore, SaveResult
from ._object_io import AsyncMover, Mover, SyncMover, aclose
from ._object_io import Changed as _Changed
from ._object_io import Missing as _Missing

__all__ = ["GENERIC_SCHEME", "MAX_CONCURRENCY", "FsspecHandler", "FsspecStore", "handler_for_protocol"]

#: The scheme that takes a whole fsspec URL as its path.
GENERIC_SCHEME = "fsspec"
#: Shards moving at once. Loads stream into the model's one buffer; saves of backends other than s3fs
#: join each shard moving into one ``bytes`` first, so there memory grows with this.
MAX_CONCURRENCY = 8
_LOAD_ATTEMPTS = 3  # model.json replaced under a load this many times in a row: give up

T = TypeVar("T")


def handler_for_protocol(protocol: str) -> type[FsspecHandler] | None:
    """A handler class for fsspec ``protocol``, or None if fsspec does not know it."""
    if protocol not in fsspec.available_protocols():
        return None
    return type(f"FsspecHandler_{protocol}", (FsspecHandler,), {"protocol": protocol})


class FsspecHandler(Handler):
    """Save to and load from a model folder in any fsspec filesystem.

    Parameters
    ----------
    path
        The model's folder (``bucket/models/m`` for ``s3://bucket/models/m``),
        or its ``model.json``; for ``fsspec://``, a whole fsspec URL.
    storage_options
        Keyword arguments for the filesystem (``endpoint_url``, ``key``,
        ``anon``, ...), as fsspec's ``storage_options``.
    shard_bytes
        Cut the weights into ``group1-shardIofK.bin`` files of this many bytes;
        ``None`` writes one ``weights.bin``.
    integrity
        Record a sha256 per shard in the manifest; loads check them.
    max_concurrency
        Shards moving at once (async backends); saves to backends other than
        s3fs hold a copy of each shard in flight.
    leftover_seconds
        Remove other saves' unnamed shard folders once this old.

    Raises
    ------
    HandlerUnavailableError
        The protocol's package (s3fs, gcsfs, adlfs, ...) is not installed;
        the message names it.

    Examples
    --------
    >>> pyweb.save(artifacts, "s3://bucket/models/m", shard_bytes=64 << 20)  # doctest: +SKIP
    >>> pyweb.load("s3://bucket/models/m", storage_options={"anon": True})  # doctest: +SKIP
    """

    protocol: ClassVar[str] = ""  # "" is fsspec://, whose path is a whole fsspec URL
    global_store = False
    save_options = frozenset({"storage_options", "shard_bytes", "integrity", "max_concurrency", "leftover_seconds"})
    load_options = frozenset({"storage_options", "max_concurrency"})
    store_options = frozenset({"storage_options", "max_concurrency", "leftover_seconds"})

    def __init__(
        self,
        path: str,
        *,
        storage_options: dict[str, Any] | None = None,
        shard_bytes: int | None = None,
        integrity: bool = False,
        max_concurrency: int = MAX_CONCURRENCY,
        leftover_seconds: float = layout.LEFTOVER_SECONDS,
    ) -> None:
        check_shard_bytes(shard_bytes)
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency!r}")
        self.target = _Target(self.protocol, path, dict(storage_options or {}), max_concurrency)
        self.url = self.target.url
        self.folder, self.json_key = layout.model_json_key(self.target.root)
        self.shard_bytes = shard_bytes
        self.integrity = integrity
        self.leftover_seconds = leftover_seconds

    @property
    def location(self) -> str:
        """The filesystem and folder: two URLs naming one model agree here."""
        return f"{self.target.protocol}://{self.folder}"

    @classmethod
    def open_store(
        cls,
        location: str = "",
        *,
        storage_options: dict[str, Any] | None = None,
        max_concurrency: int = MAX_CONCURRENCY,
        leftover_seconds: float = layout.LEFTOVER_SECONDS,
        **_: Any,
    ) -> FsspecStore:
        return FsspecStore(
            _Target(cls.protocol, location, dict(storage_options or {}), max_concurrency),
            leftover_seconds=leftover_seconds,
        )

    # -- save ------------------------------------------------------------------

    def save(self, artifacts: ModelArtifacts) -> SaveResult:
        return self.target.run(self._save(artifacts), twin="asave")

    async def asave(self, artifacts: ModelArtifacts) -> SaveResult:
        return await self._save(artifacts)

    async def _save(self, artifacts: ModelArtifacts) -> SaveResult:
        require_json_topology(artifacts, self.url)
        info = artifacts_info(artifacts)
        generation = layout.new_generation()
        files, manifest = self._plan(artifacts, generation)
        text = to_model_json(artifacts, manifest, layout="node").encode("utf-8", "surrogatepass")
        async with self.target.open() as mover:
            previous = await _named_keys(mover, self.folder, self.json_key)
            try:
                await mover.put_many([(layout.join(self.folder, rel), piece) for rel, piece in files])
                try:
                    await mover.put(self.json_key, [memoryview(text)])  # the commit point
                except BaseException:
                    # A PUT can fail on the way back after the store took it (a timeout, a reset): then
                    # model.json names this save's shards, and removing them would break the model.
                    if not await _committed(mover, self.json_key, text):
                        raise
            except BaseException as exc:  # KeyboardInterrupt and cancellation too: take back what was written
                await _quietly(mover.rm_tree(layout.join(self.folder, generation)))
                if isinstance(exc, OSError) and not isinstance(exc, PyWebError):
                    raise StorageError(f"cannot save to {self.url}: {exc}", url=self.url) from exc
                raise
            keep = {rel for rel, _ in files}
            await _quietly(mover.rm_many([layout.join(self.folder, k) for k in sorted(previous - keep)]))
            await _quietly(_sweep(mover, self.folder, keep, self.leftover_seconds))
        return SaveResult(info)

    def _plan(
        self, artifacts: ModelArtifacts, generation: str
    ) -> tuple[list[tuple[str, list[memoryview]]], list[dict[str, Any]] | None]:
        if artifacts.weight_specs is None and artifacts.weight_data is None:
            return [], None  # topology only: no manifest, no shards
        pieces = split_shards(artifacts.weight_data, self.shard_bytes)
        names = [NODE_WEIGHTS_PATH] if self.shard_bytes is None else shard_paths(len(pieces))
        paths = [f"{generation}/{name}" for name in names]
        group: dict[str, Any] = {"paths": paths, "weights": artifacts.weight_specs or []}
        if self.integrity:
            add_integrity(group, pieces)
        return list(zip(paths, pieces)), [group]

    # -- load ------------------------------------------------------------------

    def load(self) -> ModelArtifacts:
        return self.target.run(self._load(), twin="aload")

    async def aload(self) -> ModelArtifacts:
        return await self._load()

    async def _load(self) -> ModelArtifacts:
        async with self.target.open() as mover:
            text = await _read_model_json(mover, self.json_key, self.url)
            for _ in range(_LOAD_ATTEMPTS):
                artifacts, manifest = parse_model_json(text, url=self.url)
                if manifest is None:
                    return artifacts
                try:
                    artifacts.weight_data = await self._read_shards(mover, manifest)
                    return artifacts
                except _ShardGone as gone:
                    newer = await _read_model_json(mover, self.json_key, self.url)
                    if newer == text:  # not a save replacing the model: the model is broken
                        why = "changed while it was read" if gone.changed else "is missing"
                        raise CorruptModelError(
                            f"weight file {gone.rel!r} of {self.url} {why}", part=gone.rel, url=self.url
                        ) from None
                    text = newer
        raise StorageError(f"{self.url} was replaced {_LOAD_ATTEMPTS} times while loading it", url=self.url)

    async def _read_shards(self, mover: Mover, manifest: list[dict[str, Any]]) -> memoryview:
        """Every shard, in manifest order, read straight into one buffer (no per-shard ``bytes``)."""
        refs = [
            (group, i, rel, layout.join(self.folder, _inside(rel, self.url)))
            for group in manifest
            for i, rel in enumerate(group["paths"])
        ]
        try:
            sizes = await mover.sizes([key for *_, key in refs])
            view = allocate(sum(sizes))
            pieces, pos = [], 0
            for size in sizes:
                pieces.append(view[pos : pos + size])
                pos += size
            await mover.read_many_into([(key, piece) for (*_, key), piece in zip(refs, pieces)])
        except _Missing as exc:  # gone, or replaced while read: a save replacing the model?
            raise _ShardGone(refs[exc.index][2], changed=isinstance(exc, _Changed)) from None
        except OSError as exc:
            raise StorageError(f"cannot read the weights of {self.url}: {exc}", url=self.url) from exc
        for (group, index, _, _), piece in zip(refs, pieces):
            check_integrity(group, index, piece, url=self.url)
        return view


class FsspecStore(ModelStore):
    """Lists the models under a folder of an fsspec filesystem, and removes them.

    Keys keep the spelling of the location, so ``scheme://key`` loads each.
    """

    def __init__(self, target: _Target, *, leftover_seconds: float = layout.LEFTOVER_SECONDS) -> None:
        self.target = target
        self.leftover_seconds = leftover_seconds

    def list_models(self) -> dict[str, ModelArtifactsInfo]:
        return self.target.run(self._list(), twin="alist_models")

    async def alist_models(self) -> dict[str, ModelArtifactsInfo]:
        return await self._list()

    def remove_model(self, path: str) -> ModelArtifactsInfo:
        return self.target.run(self._remove(path), twin="aremove_model")

    async def aremove_model(self, path: str) -> ModelArtifactsInfo:
        return await self._remove(path)

    async def _list(self) -> dict[str, ModelArtifactsInfo]:
        root = self.target.root.rstrip("/")
        async with self.target.open() as mover:
            found = await _translated(mover.find(root), self.target.url)
            keys = [k for k in found if _is_model_json(k, root)]
            texts = await _translated(mover.cat_many(keys), self.target.url)
        listing: dict[str, ModelArtifactsInfo] = {}
        for key, text in zip(keys, texts):
            folder = key[: -len(MODEL_JSON)].rstrip("/")
            rel = folder[len(root) :].strip("/")
            spelled = self.target.spelling.rstrip("/")
            name = f"{spelled}/{rel}" if rel else spelled
            listing[name] = _stored_info(text, found, folder, key, self.target.url_of(name))
        return dict(sorted(listing.items()))

    async def _remove(self, path: str) -> ModelArtifactsInfo:
        handler_target = _Target(
            self.target.protocol_scheme, path, self.target.storage_options, self.target.concurrency
        )
        folder, json_key = layout.model_json_key(handler_target.root)
        url = handler_target.url
        async with handler_target.open() as mover:
            text = await _read_model_json(mover, json_key, url)
            found = await _translated(mover.find(folder), url)
            info = _stored_info(text, found, folder, json_key, url, strict=True)
            named = await _named_keys(mover, folder, json_key)
            await _translated(mover.rm_many([json_key]), url)  # first: no half model stays loadable
            await _quietly(mover.rm_many([layout.join(folder, k) for k in sorted(named)]))
            await _quietly(_sweep(mover, folder, set(), self.leftover_seconds))
        return info


# -- the filesystem a URL names ------------------------------------------------------


class _Target:
    """Which filesystem class, options and key a URL names; opens a mover per operation."""

    cls: Any  # the fsspec filesystem class; None for a chained URL, which fsspec resolves

    def __init__(self, scheme_protocol: str, path: str, storage_options: dict[str, Any], concurrency: int) -> None:
        self.protocol_scheme = scheme_protocol
        self.storage_options = storage_options
        self.concurrency = concurrency
        self.spelling = path
        scheme = scheme_protocol or GENERIC_SCHEME
        self.url = f"{scheme}://{path}"
        self.chained = not scheme_protocol and "::" in path
        if self.chained:  # fsspec resolves the chain; its async members run on fsspec's own thread
            self.protocol, self.root, self.cls = "chain", path, None
            return
        if scheme_protocol:
            self.protocol, rest = scheme_protocol, path
        else:
            protocol, rest = split_protocol(path)
            self.protocol = protocol or "file"
        self.cls = _filesystem_class(self.protocol, scheme)
        self.root = self.cls._strip_protocol(f"{self.protocol}://{rest}") if rest else ""

    def url_of(self, path: str) -> str:
        return f"{self.protocol_scheme or GENERIC_SCHEME}://{path}"

    def run(self, coro: Coroutine[Any, Any, T], *, twin: str) -> T:
        """Run an operation from sync code: directly for a sync filesystem, else through run_sync."""
        if self.chained or not self.cls.async_impl:
            return _drive(coro)
        return run_sync(coro, twin=twin)

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[Mover]:
        if self.chained:
            fs, self.root = url_to_fs(self.spelling, **self.storage_options)
            yield SyncMover(fs)
        elif self.cls.async_impl:
            # asynchronous=True: the filesystem runs on the caller's loop, no fsspec IO thread;
            # a fresh instance per operation, because a cached one is bound to another loop.
            fs = self.cls(asynchronous=True, skip_instance_cache=True, **self.storage_options)
            try:
                yield AsyncMover(fs, self.concurrency)
            finally:
                await aclose(fs)
        else:
            yield SyncMover(self.cls(**self.storage_options))


def _filesystem_class(protocol: str, scheme: str) -> Any:
    try:
        return fsspec.get_filesystem_class(protocol)
    except ImportError as exc:  # fsspec's message names the package: "Install s3fs to access S3"
        raise HandlerUnavailableError(f"{scheme}:// cannot be used here: {exc}") from exc
    except ValueError as exc:
        raise SchemeError(f"fsspec knows no protocol {protocol!r} ({exc})") from exc


def _drive(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that only awaits a sync filesystem (never suspends), with no event loop.

    So sync calls on sync filesystems work inside Jupyter and Pyodide, as ``file://`` does.
    """
    try:
        coro.send(None)
    except StopIteration as done:
        value: T = done.value
        return value
    coro.close()
    raise RuntimeError("a sync filesystem operation suspended; use the async twin")


# -- reading, listing, sweeping ----------------------------------------------------------


class _ShardGone(Exception):
    def __init__(self, rel: str, *, changed: bool = False) -> None:
        super().__init__(rel)
        self.rel, self.changed = rel, changed


def _inside(rel: str, url: str) -> str:
    key = layout.relative_key(rel)
    if key is None:
        raise CorruptModelError(f"weight path {rel!r} in {url} leaves the model's folder", part=rel, url=url)
    return key


async def _read_model_json(mover: Mover, key: str, url: str) -> bytes:
    try:
        return (await mover.cat_many([key]))[0]
    except _Missing:
        raise ModelNotFoundError(f"no model at {url} ({key} does not exist)", url=url) from None
    except OSError as exc:
        raise StorageError(f"cannot read {url}: {exc}", url=url) from exc


async def _named_keys(mover: Mover, folder: str, json_key: str) -> set[str]:
    """The model-relative keys the model now at ``json_key`` names (none if absent or unreadable)."""
    try:
        text = (await mover.cat_many([json_key]))[0]
        _, manifest = parse_model_json(text)
    except (_Missing, OSError, ArtifactError):
        return set()
    keys = (layout.relative_key(rel) for rel in manifest_paths(manifest or []))
    return {k for k in keys if k is not None}


async def _sweep(mover: Mover, folder: str, keep: set[str], max_age: float) -> None:
    """Remove generation folders that no model.json names, once ``max_age`` seconds old."""
    named = {layout.generation_of(k) for k in keep}
    now = _dt.datetime.now(_dt.UTC)
    for entry in await mover.ls_dirs(folder):
        name = entry.rstrip("/").rsplit("/", 1)[-1]
        if layout.GENERATION.match(name) and name not in named and layout.is_stale(name, max_age, now):
            await mover.rm_tree(layout.join(folder, name))


def _is_model_json(key: str, root: str) -> bool:
    if not key.endswith("/" + MODEL_JSON) and key != MODEL_JSON:
        return False
    rel = key[len(root) :].strip("/")
    return not any(layout.GENERATION.match(part) for part in rel.split("/")[:-1])


def _stored_info(
    text: bytes, found: dict[str, dict[str, Any]], folder: str, json_key: str, url: str, *, strict: bool = False
) -> ModelArtifactsInfo:
    """What is stored, from the listing and model.json alone (date = model.json's modification time)."""
    date = _modified(found.get(json_key, {}))
    try:
        artifacts, manifest = parse_model_json(text, url=url)
        info = artifacts_info(artifacts, date=date)
    except ArtifactError:
        if strict:
            raise
        return ModelArtifactsInfo(date_saved=date, model_topology_bytes=None)
    keys = (layout.relative_key(rel) for rel in manifest_paths(manifest or []))
    info.weight_data_bytes = sum(int(found.get(layout.join(folder, k), {}).get("size") or 0) for k in keys if k)
    return info


def _modified(entry: dict[str, Any]) -> _dt.datetime:
    for name in ("LastModified", "mtime", "last_modified", "created"):  # s3fs, local/memory, adlfs, gcsfs
        value = entry.get(name)
        if isinstance(value, _dt.datetime):
            return value.astimezone(_dt.UTC)
        if isinstance(value, (int, float)):
            return _dt.datetime.fromtimestamp(value, _dt.UTC)
    return _dt.datetime.now(_dt.UTC)


async def _translated(coro: Coroutine[Any, Any, T], url: str) -> T:
    try:
        return await coro
    except _Missing:
        raise ModelNotFoundError(f"nothing at {url}", url=url) from None
    except OSError as exc:
        raise StorageError(f"{url}: {exc}", url=url) from exc


async def _committed(mover: Any, json_key: str, text: bytes) -> bool:
    """Whether the store holds exactly this save's model.json (its PUT went through after all)."""
    try:
        return bytes(await mover.cat(json_key)) == text
    except Exception:  # noqa: BLE001  (whatever the backend raised: not committed as far as we can tell)
        return False


async def _quietly(coro: Coroutine[Any, Any, Any]) -> None:
    # Cleanup after the commit point (or after a failure): the model is already as it should be,
    # so a cleanup that fails, whatever the backend raised, leaves only leftovers the next save sweeps.
    with contextlib.suppress(Exception):
        await coro
