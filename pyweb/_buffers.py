"""Buffers that weight bytes are read into."""

from __future__ import annotations

__all__ = ["allocate"]


def allocate(nbytes: int) -> memoryview:
    """A writable buffer of ``nbytes`` that costs nothing until it is written.

    ``bytearray(n)`` zero-fills with memset, a whole extra pass over the
    memory (about +50% load time at 1 GiB). A private anonymous map is zeroed
    lazily by the kernel, page by page as readinto fills it. (A shared map
    would be shmem. Huge pages, as numpy's allocator asks for, read 1 GiB in
    0.30 s at best but 1.0-1.7 s whenever the kernel compacts memory first
    (transparent_hugepage defrag=madvise), against 0.43-0.49 s every time
    here; MAP_POPULATE gained nothing.)
    """
    try:
        import mmap

        return memoryview(mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS))
    except (ImportError, AttributeError, OSError, ValueError):  # no mmap (some Pyodide builds), or 0 bytes
        return memoryview(bytearray(nbytes))
