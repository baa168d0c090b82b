"""The single sync-over-async bridge.

Async is the contract every handler can meet; a sync call to an async-only
handler lands here. It never starts threads and never nests event loops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar, cast

from .env import IN_PYODIDE
from .errors import SyncUnavailableError

__all__ = ["can_block", "run_sync"]

T = TypeVar("T")


def can_block() -> bool:
    """True if a coroutine may be run to completion from sync code here."""
    if IN_PYODIDE:
        try:
            from pyodide.ffi import can_run_sync
        except ImportError:  # Pyodide older than 0.27
            return False
        return bool(can_run_sync())
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


def run_sync(coro: Coroutine[Any, Any, T], *, twin: str = "the async twin") -> T:
    """Run ``coro`` to completion, or raise SyncUnavailableError naming ``twin``."""
    if not can_block():
        coro.close()
        where = "in Pyodide without JSPI" if IN_PYODIDE else "inside a running event loop (e.g. Jupyter)"
        raise SyncUnavailableError(f"cannot block {where}; use 'await pyweb.{twin}(...)' instead")
    if IN_PYODIDE:
        from pyodide.ffi import run_sync as pyodide_run_sync

        return cast(T, pyodide_run_sync(coro))
    return asyncio.run(coro)
