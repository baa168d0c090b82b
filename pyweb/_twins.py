"""The bridge between a handler's sync and async twins, used by the base classes.

A handler or store implements one method of each pair (``save``/``asave``,
``list_models``/``alist_models``, ...); the base class's other twin calls it.
An async twin standing in for a sync method calls it directly, with no event
loop; a sync twin standing in for an async method goes through
:func:`pyweb._run.run_sync`, the one sync-over-async bridge.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["overrides", "run_twin"]

T = TypeVar("T")


def overrides(obj: object, name: str, base: type) -> bool:
    """Whether ``obj``'s class implements ``name`` itself rather than inheriting ``base``'s."""
    return getattr(type(obj), name, None) is not getattr(base, name)


def run_twin(coro: Coroutine[Any, Any, T], twin: str) -> T:
    """Run the async twin's coroutine for a sync call (raises SyncUnavailableError where nothing may block)."""
    from ._run import run_sync

    return run_sync(coro, twin=twin)
