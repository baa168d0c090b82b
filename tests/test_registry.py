from __future__ import annotations

import importlib
from typing import ClassVar

import pytest

import pyweb
from pyweb.errors import HandlerUnavailableError, SchemeError
from pyweb.testing.contract import assert_same_model, make_artifacts
from pyweb.types import Handler, ModelStore

reg = importlib.import_module("pyweb.registry")


class DictHandler(Handler):
    store: ClassVar[dict] = {}

    def __init__(self, path, *, tag=None):
        self.path, self.tag = path, tag
        self.url = f"dict://{path}"

    def save(self, artifacts):
        DictHandler.store[self.path] = artifacts
        return pyweb.SaveResult(pyweb.artifacts.artifacts_info(artifacts))

    def load(self):
        return DictHandler.store[self.path]


def test_register_and_route():
    pyweb.register_handler("dict", DictHandler)
    art = make_artifacts()
    pyweb.save(art, "dict://a")
    assert_same_model(pyweb.load("dict://a"), art)
    assert "dict" in pyweb.registry


def test_options_reach_the_factory():
    seen = {}

    def factory(path, **options):
        seen.update(options, path=path)
        return DictHandler(path)

    pyweb.register_handler("opt", factory)
    pyweb.save(make_artifacts(), "opt://p", tag=3)
    assert seen == {"tag": 3, "path": "p"}


def test_scheme_with_suffix_and_case():
    pyweb.register_handler("Dict://", DictHandler)
    assert reg.get_factory("dict") is DictHandler


def test_no_silent_replace():
    pyweb.register_handler("dict", DictHandler)
    with pytest.raises(ValueError):
        pyweb.register_handler("dict", DictHandler)
    with pytest.raises(ValueError):
        pyweb.register_handler("file", DictHandler)
    pyweb.register_handler("file", DictHandler, replace=True)
    assert reg.get_factory("file") is DictHandler
    pyweb.unregister_handler("file")
    assert reg.get_factory("file").__name__ == "FileHandler"


def test_unknown_scheme_lists_known_ones():
    with pytest.raises(SchemeError) as exc:
        pyweb.load("nope://x")
    assert isinstance(exc.value, LookupError)
    assert "file" in str(exc.value) and "memory" in str(exc.value)


def test_dotted_path_is_lazy_and_reports_missing_module():
    pyweb.register_handler("lazy", "tests.test_registry:DictHandler")
    assert pyweb.registry["lazy"] == "tests.test_registry:DictHandler"
    assert reg.get_factory("lazy") is DictHandler
    pyweb.register_handler("broken", "no_such_module_xyz:Handler")
    with pytest.raises(HandlerUnavailableError) as exc:
        pyweb.load("broken://x")
    assert isinstance(exc.value, ImportError) and isinstance(exc.value, SchemeError)


def test_registry_view_is_read_only():
    with pytest.raises(TypeError):
        pyweb.registry["x"] = DictHandler  # type: ignore[index]
    assert list(pyweb.registry) == sorted(pyweb.registry)


def test_entry_points_are_found(monkeypatch):
    class EP:
        name, value = "thirdparty", "tests.test_registry:DictHandler"

    monkeypatch.setattr(reg, "_entry_points", {"thirdparty": EP()})
    assert "thirdparty" in reg.known_schemes()
    assert reg.get_factory("thirdparty") is DictHandler


def test_importing_pyweb_registers_nothing_and_reads_no_metadata():
    import subprocess
    import sys

    code = (
        "import importlib.metadata as m\n"
        "def boom(*a, **k): raise AssertionError('metadata read at import')\n"
        "m.entry_points = boom\n"
        "import pyweb, sys\n"
        "assert 'pyweb.handlers.file' not in sys.modules\n"
        "assert 'numpy' not in sys.modules, 'numpy imported eagerly'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


class ListedStore(ModelStore):
    def list_models(self):
        return {k: pyweb.artifacts.artifacts_info(v) for k, v in DictHandler.store.items()}


def test_list_models_uses_global_stores():
    DictHandler.store.clear()

    class Listed(DictHandler):
        global_store = True

        @classmethod
        def open_store(cls, location=""):
            return ListedStore()

    pyweb.register_handler("dict", Listed)
    pyweb.save(make_artifacts(), "dict://x/y")
    pyweb.save(make_artifacts(), "memory://m")
    listed = pyweb.list_models()
    assert set(listed) >= {"dict://x/y", "memory://m"}
