"""What handlers and stores can do is declared, and the declarations match the code."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path

import pytest

import pyweb
from pyweb import api
from pyweb.handlers.downloads import AsyncDownloadTarget, DownloadsHandler
from pyweb.handlers.memory import MemoryHandler
from pyweb.registry import _BUILTINS
from pyweb.testing.contract import make_artifacts
from pyweb.types import Base64Storage, Handler, IDBWholeOperations, StoreFactory

BUILTINS = sorted({path for path, _ in _BUILTINS.values()})


def _load(dotted: str) -> type[Handler]:
    module, _, name = dotted.partition(":")
    try:
        cls: type[Handler] = getattr(importlib.import_module(module), name)
    except ImportError as exc:  # an extra that is not installed
        pytest.skip(f"{dotted}: {exc}")
    return cls


def _keywords(function: Callable[..., object]) -> set[str]:
    params = inspect.signature(function).parameters.values()
    return {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


@pytest.mark.parametrize("dotted", BUILTINS)
def test_declared_options_are_the_constructors(dotted: str) -> None:
    cls = _load(dotted)
    assert cls.save_options | cls.load_options == _keywords(cls.__init__)
    assert cls.save_options <= _keywords(cls.__init__) and cls.load_options <= _keywords(cls.__init__)


@pytest.mark.parametrize("dotted", BUILTINS)
def test_store_factories_declare_their_store_options(dotted: str) -> None:
    cls = _load(dotted)
    if "open_store" not in vars(cls):
        assert not isinstance(cls, StoreFactory) and not cls.global_store and not cls.store_options
        return
    assert isinstance(cls, StoreFactory)
    assert cls.store_options == _keywords(cls.open_store)


def test_handler_options_answer_by_scheme() -> None:
    assert "on_progress" in api.handler_options("file:///tmp/m", "save")
    assert "on_progress" in api.handler_options("https://host/m.json", "load")
    assert "on_progress" not in api.handler_options("https://host/upload", "save")
    assert api.handler_options("memory://m", "save") == frozenset()
    with pytest.raises(ValueError):
        api.handler_options("memory://m", "list")


def test_a_plain_function_factory_declares_nothing() -> None:
    pyweb.register_handler("plainfn", lambda path, **options: MemoryHandler(path))
    assert api.handler_options("plainfn://m", "save") == frozenset()
    with pytest.raises(pyweb.errors.OperationNotSupportedError):
        pyweb.list_models("plainfn://")


def test_the_cli_refuses_options_the_handler_does_not_declare(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pyweb.cli import main

    pyweb.save(make_artifacts(), f"file://{tmp_path}/m")
    assert main(["convert", f"file://{tmp_path}/m", "memory://copy", "--integrity"]) == 1
    assert "--integrity" in capsys.readouterr().err
    assert "copy" not in pyweb.list_models("memory://")
    assert main(["convert", f"file://{tmp_path}/m", f"file://{tmp_path}/sharded", "--shard-bytes", "8"]) == 0
    assert len(list((tmp_path / "sharded").glob("group1-shard*"))) > 1


def test_location_is_declared_on_every_handler() -> None:
    assert Handler().location is None
    assert MemoryHandler("a").location == "a"
    assert DownloadsHandler("m").location is None


def test_fast_paths_are_protocols() -> None:
    from pyweb.emulation import FakeIndexedDB, FakeLocalStorage

    assert isinstance(FakeLocalStorage(), Base64Storage)
    assert not isinstance(FakeIndexedDB(), IDBWholeOperations)  # request by request

    class Sync:
        def download(self, files: object, *, deliver: str = "gesture") -> None:
            return None

    class Both(Sync):
        async def adownload(self, files: object, *, deliver: str = "gesture") -> None:
            return None

    assert not isinstance(Sync(), AsyncDownloadTarget) and isinstance(Both(), AsyncDownloadTarget)
