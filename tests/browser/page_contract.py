"""The handler contract against the browser's own stores, run by pytest inside the page.

Not collected on the host (the name has no ``test_`` prefix; its tests need the
page's ``pyodide`` and ``js``): pyproject's ``pyweb_bundle`` ships it to the page and
tests/browser/test_storage_handlers.py runs it there with ``PyodidePage.run_pytest``,
after putting the URL of a ``pyweb serve`` on the host in ``SERVER_ENV``.
The classes are the ones CPython runs against ``pyweb.emulation``, from the bundled
``pyweb.testing.contract``, so the stand-ins and the real stores answer to one contract.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import pyweb.env
from pyweb.testing.contract import HandlerContract

_ids = itertools.count()

#: The environment variable holding the host's model server URL, for http://.
SERVER_ENV = "PYWEB_CONTRACT_SERVER"


def run_js(code: str) -> Any:
    from pyodide.code import run_js as page_run_js  # the page's; imported late so the host can read SERVER_ENV

    return page_run_js(code)


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


class TestPageHTTP(HandlerContract):
    """http:// through the browser's fetch, against ``pyweb serve`` on the host."""

    @pytest.fixture
    def server(self) -> str:
        return os.environ[SERVER_ENV]

    @pytest.fixture
    def model_url(self, server: str) -> Callable[[str], str]:
        folder = f"{server}/models/t{next(_ids)}"
        return lambda name: f"{folder}/{name}/model.json"

    @pytest.fixture
    def list_url(self, server: str) -> str:
        return server + "/"

    @pytest.fixture
    def fail_next_save(self, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
        from pyweb.browser import fetch

        real = fetch.browser_fetch

        def arm() -> None:  # the next request carries half its body: a broken upload
            async def cut(url: str, init: Any = None) -> Any:
                monkeypatch.setattr(fetch, "browser_fetch", real)
                body = bytes(init["body"])
                return await real(url, {**init, "body": body[: len(body) // 2]})

            monkeypatch.setattr(fetch, "browser_fetch", cut)

        return arm
