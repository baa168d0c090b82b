"""Moving bytes to and from an fsspec filesystem, in parallel where it is async.

Two movers with one async interface: :class:`AsyncMover` over an
``AsyncFileSystem`` made with ``asynchronous=True`` (s3fs, gcsfs, adlfs: the
coroutines run on the caller's event loop, several shards at once) and
:class:`SyncMover` over a blocking one (memory, local, ...), whose coroutines
never suspend. Missing keys come out as :class:`Missing` (and objects that
changed size while read as :class:`Changed`); every other backend failure as
the ``OSError`` fsspec raises.

Weights are read straight into slices of one buffer the caller allocates
(:meth:`Mover.read_many_into`), never assembled into ``bytes`` first: s3fs's
own ``cat`` builds each object in a ``bytearray`` and copies it into
``bytes``, which holds twice the shards in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

__all__ = ["AsyncMover", "Changed", "Missing", "Mover", "SyncMover", "aclose"]

T = TypeVar("T")
Views = list[memoryview]
# Protocols whose filesystems take a file-like ``_pipe_file`` body with a length (s3fs
# hands it to botocore as it is), so a shard goes out without being joined into a copy.
_STREAMING_PROTOCOLS = frozenset({"s3", "s3a"})
#: Largest read asked of a stream at once. s3fs's streamed file hands back what aiohttp has
#: buffered (tens of KiB), so this only bounds backends that fetch each read as a range.
READ_CHUNK = 1 << 20
#: Range size for backends without a streamed ``open_async``: one ``_cat_file(start, end)`` each.
RANGE_CHUNK = 16 << 20


class Missing(Exception):
    """``keys[index]`` of a batch does not exist."""

    def __init__(self, index: int, key: str) -> None:
        super().__init__(key)
        self.index, self.key = index, key


class Changed(Missing):
    """``keys[index]`` did not hold the bytes its size promised (it was replaced while read)."""


class Mover:
    """What the object-store handler needs from a filesystem; keys are fsspec paths."""

    async def put_many(self, items: Sequence[tuple[str, Views]]) -> None:
        await self._each([partial(self.put, k, v) for k, v in items])

    async def cat_many(self, keys: Sequence[str]) -> list[bytes]:
        async def one(index: int, key: str) -> bytes:
            try:
                return await self.cat(key)
            except FileNotFoundError:
                raise Missing(index, key) from None

        return await self._each([partial(one, i, k) for i, k in enumerate(keys)])

    async def sizes(self, keys: Sequence[str]) -> list[int]:
        """The size of each key; :class:`Missing` names the first that does not exist."""

        async def one(index: int, key: str) -> int:
            try:
                return await self.size(key)
            except FileNotFoundError:
                raise Missing(index, key) from None

        return await self._each([partial(one, i, k) for i, k in enumerate(keys)])

    async def read_many_into(self, items: Sequence[tuple[str, memoryview]]) -> None:
        """Fill each view with the whole of its key's object (whose size must be the view's)."""

        async def one(index: int, key: str, view: memoryview) -> None:
            try:
                done = await self.read_into(key, view)
            except FileNotFoundError:
                raise Missing(index, key) from None
            if not done:
                raise Changed(index, key)

        await self._each([partial(one, i, k, v) for i, (k, v) in enumerate(items)])

    async def rm_many(self, keys: Sequence[str]) -> None:
        async def one(key: str) -> None:
            with contextlib.suppress(FileNotFoundError):
                await self.rm(key)

        await self._each([partial(one, k) for k in keys])

    async def put(self, key: str, views: Views) -> None:
        raise NotImplementedError

    async def cat(self, key: str) -> bytes:
        raise NotImplementedError

    async def rm(self, key: str) -> None:
        raise NotImplementedError

    async def size(self, key: str) -> int:
        raise NotImplementedError

    async def read_into(self, key: str, view: memoryview) -> bool:
        """Read ``key`` into ``view``; False if the object is not exactly ``view.nbytes`` long."""
        raise NotImplementedError

    async def rm_tree(self, prefix: str) -> None:
        raise NotImplementedError

    async def find(self, root: str) -> dict[str, dict[str, Any]]:
        """Every file below ``root`` (recursively) with its info; raises Missing if there is no such place."""
        raise NotImplementedError

    async def ls_dirs(self, folder: str) -> list[str]:
        """The folders directly in ``folder`` (none if it does not exist)."""
        raise NotImplementedError

    async def _each(self, calls: list[Callable[[], Awaitable[T]]]) -> list[T]:
        return [await call() for call in calls]


class AsyncMover(Mover):
    """An ``AsyncFileSystem`` on the running loop; up to ``concurrency`` transfers at once."""

    def __init__(self, fs: Any, concurrency: int) -> None:
        self.fs = fs
        self.concurrency = concurrency
        protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
        self.streams = bool(_STREAMING_PROTOCOLS & set(protocols))

    async def _each(self, calls: list[Callable[[], Awaitable[T]]]) -> list[T]:
        gate = asyncio.Semaphore(self.concurrency)

        async def gated(call: Callable[[], Awaitable[T]]) -> T:
            async with gate:
                return await call()

        tasks = [asyncio.ensure_future(gated(call)) for call in calls]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:  # the first failure ends the batch: no transfer outlives it
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def put(self, key: str, views: Views) -> None:
        body: Any = ViewReader(views) if self.streams else b"".join(views)
        await self.fs._pipe_file(key, body)

    async def cat(self, key: str) -> bytes:
        data: bytes = await self.fs._cat_file(key)
        return data

    async def size(self, key: str) -> int:
        return int((await self.fs._info(key))["size"])

    async def read_into(self, key: str, view: memoryview) -> bool:
        try:
            stream = await self.fs.open_async(key, "rb")
        except NotImplementedError:  # no streamed reads here: ranged ones, each copied in
            return await self._read_ranges_into(key, view)
        try:
            return await _stream_into(stream, view)
        finally:
            await _close_stream(stream)

    async def _read_ranges_into(self, key: str, view: memoryview) -> bool:
        for start in range(0, view.nbytes, RANGE_CHUNK):
            end = min(view.nbytes, start + RANGE_CHUNK)
            data = await self.fs._cat_file(key, start=start, end=end)
            if len(data) != end - start:
                return False
            view[start:end] = data
        return True  # an object that grew meanwhile is not seen here (integrity=True sees it)

    async def rm(self, key: str) -> None:
        await self.fs._rm_file(key)

    async def rm_tree(self, prefix: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await self.fs._rm(prefix, recursive=True)

    async def find(self, root: str) -> dict[str, dict[str, Any]]:
        try:
            found: dict[str, dict[str, Any]] = await self.fs._find(root, detail=True)
        except FileNotFoundError:
            raise Missing(0, root) from None
        return found

    async def ls_dirs(self, folder: str) -> list[str]:
        try:
            entries = await self.fs._ls(folder, detail=True)
        except FileNotFoundError:
            return []
        return [e["name"] for e in entries if e.get("type") == "directory"]


class SyncMover(Mover):
    """A blocking filesystem; one transfer at a time, and the coroutines never suspend."""

    def __init__(self, fs: Any) -> None:
        self.fs = fs

    async def put(self, key: str, views: Views) -> None:
        self.fs.pipe_file(key, b"".join(views))

    async def cat(self, key: str) -> bytes:
        data: bytes = self.fs.cat_file(key)
        return data

    async def size(self, key: str) -> int:
        return int(self.fs.info(key)["size"])

    async def read_into(self, key: str, view: memoryview) -> bool:
        with self.fs.open(key, "rb") as f:
            done = 0
            while done < view.nbytes:
                n = f.readinto(view[done:])
                if not n:
                    return False
                done += n
            return not f.read(1)

    async def rm(self, key: str) -> None:
        self.fs.rm_file(key)

    async def rm_tree(self, prefix: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(prefix, recursive=True)

    async def find(self, root: str) -> dict[str, dict[str, Any]]:
        try:
            found: dict[str, dict[str, Any]] = self.fs.find(root, detail=True)
        except FileNotFoundError:
            raise Missing(0, root) from None
        return found

    async def ls_dirs(self, folder: str) -> list[str]:
        try:
            entries = self.fs.ls(folder, detail=True)
        except FileNotFoundError:
            return []
        return [e["name"] for e in entries if e.get("type") == "directory"]


async def aclose(fs: Any) -> None:
    """Close what an ``asynchronous=True`` filesystem opened on this loop."""
    creator = getattr(fs, "_s3creator", None)  # s3fs: the aiobotocore client's context manager
    if creator is not None and hasattr(creator, "__aexit__"):
        with contextlib.suppress(Exception):
            await creator.__aexit__(None, None, None)
        fs._s3 = fs._s3creator = None


async def _stream_into(stream: Any, view: memoryview) -> bool:
    """Copy an ``open_async`` stream into ``view``, chunk by chunk as it arrives."""
    done = 0
    while done < view.nbytes:
        chunk = await stream.read(min(READ_CHUNK, view.nbytes - done))
        if not chunk:
            return False
        view[done : done + len(chunk)] = chunk
        done += len(chunk)
    return not await stream.read(1)


async def _close_stream(stream: Any) -> None:
    await stream.close()
    # s3fs's streamed file does not close its response body (``r``); an abandoned read would
    # keep its connection busy until the filesystem closes.
    body = getattr(stream, "r", None)
    if body is not None and hasattr(body, "close"):
        with contextlib.suppress(Exception):
            body.close()


class ViewReader(io.RawIOBase):
    """Buffers read as one seekable file with a ``len``, without joining them."""

    def __init__(self, views: Views) -> None:
        super().__init__()
        self.views = [v for v in views if v.nbytes]
        self.size = sum(v.nbytes for v in self.views)
        self.pos = 0

    def __len__(self) -> int:
        return self.size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = (0, self.pos, self.size)[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer: Any) -> int:
        out = memoryview(buffer).cast("B")
        done, start = 0, 0
        for view in self.views:
            end = start + view.nbytes
            if self.pos < end and done < out.nbytes:
                take = min(end - self.pos, out.nbytes - done)
                out[done : done + take] = view[self.pos - start : self.pos - start + take]
                done += take
                self.pos += take
            start = end
        return done
