"""The handler contract against the browser's own stores, run by pytest inside the page.

Not collected on the host (the name has no ``test_`` prefix, and it imports
Pyodide's ``pyodide.code``): pyproject's ``pyweb_bundle`` ships it to the page and
tests/browser/test_storage_handlers.py runs it there with ``PyodidePage.run_pytest``.
The classes are the ones CPython runs against ``pyweb.emulation``, from the bundled
``pyweb.testing.contract``, so the stand-ins and the real stores answer to one contract.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pyodide.code import run_js

import pyweb.env
from pyweb.testing.contract import HandlerContract

_ids = itertools.count()


class _InPage:
    scheme = ""

    @pytest.fixture
    def model_url(self) -> Callable[[str], str]:
        folder = f"{self.scheme}://contract/t{next(_ids)}"
        return lambda name: f"{folder}/{name}"

    @pytest.fixture
    def list_url(self) -> str:
        return f"{self.scheme}://"


class TestRealLocalStorage(_InPage, HandlerContract):
    scheme = "localstorage"

    @pytest.fixture(autouse=True)
    def _clear(self) -> Iterator[None]:
        run_js("localStorage.clear()")
        yield
        run_js("localStorage.clear()")

    @pytest.fixture
    def fail_next_save(self) -> Callable[[], None]:
        def arm() -> None:  # fill the real quota (5,242,880 units of key + value) to the last unit
            run_js("""{
              let used = 0;
              for (const k of Object.keys(localStorage)) used += k.length + localStorage.getItem(k).length;
              localStorage.setItem('filler', 'f'.repeat(5242880 - used - 'filler'.length));
            }""")

        return arm


class TestRealIndexedDB(_InPage, HandlerContract):
    scheme = "indexeddb"

    @pytest.fixture
    def fail_next_save(self, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
        from pyweb.browser import idb

        real = idb.BrowserIDBTransaction.complete

        def arm() -> None:  # the next transaction aborts after its requests were issued
            factory = pyweb.env.indexed_db()

            async def complete(tx: Any) -> None:
                monkeypatch.setattr(idb.BrowserIDBTransaction, "complete", real)
                monkeypatch.setattr(factory, "whole_operations", True)
                tx.abort()
                await real(tx)

            monkeypatch.setattr(factory, "whole_operations", False)  # fault goes on the request path
            monkeypatch.setattr(idb.BrowserIDBTransaction, "complete", complete)

        return arm


class TestPageMemory(_InPage, HandlerContract):
    scheme = "memory"

    @pytest.fixture
    def fail_next_save(self, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
        from pyweb.handlers import memory

        def arm() -> None:
            def boom(artifacts: object, *, date: object = None) -> None:
                raise OSError("out of memory")

            monkeypatch.setattr(memory, "artifacts_info", boom)

        return arm


class TestPageFileSystem(HandlerContract):
    """file:// on Pyodide's in-memory file system (Emscripten's MEMFS)."""

    @pytest.fixture
    def folder(self) -> str:
        return f"/tmp/contract/t{next(_ids)}"

    @pytest.fixture
    def model_url(self, folder: str) -> Callable[[str], str]:
        return lambda name: f"file://{folder}/{name}"

    @pytest.fixture
    def list_url(self, folder: str) -> str:
        return f"file://{folder}"

    @pytest.fixture
    def fail_next_save(self, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
        from pyweb import _atomic

        def arm() -> None:  # the second file written fails, as a full disk would
            real = _atomic.write_file
            calls: list[str] = []

            def fail_after_first(path: str, parts: Any, progress: Any) -> None:
                calls.append(path)
                if len(calls) > 1:
                    raise OSError(28, "No space left on device")
                real(path, parts, progress)

            monkeypatch.setattr(_atomic, "write_file", fail_after_first)

        return arm
