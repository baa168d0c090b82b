from __future__ import annotations

import itertools

import pytest

import pyweb
from pyweb.testing.contract import HandlerContract, make_artifacts

_ids = itertools.count()


class TestMemory(HandlerContract):
    @pytest.fixture
    def model_url(self):
        folder = f"memory://models/t{next(_ids)}"
        return lambda name: f"{folder}/{name}"

    @pytest.fixture
    def list_url(self):
        return "memory://"

    @pytest.fixture
    def fail_next_save(self, monkeypatch):
        from pyweb.handlers import memory

        def arm():
            def boom(artifacts, *, date=None):
                raise OSError("disk full")

            monkeypatch.setattr(memory, "artifacts_info", boom)

        return arm


def test_saved_model_is_a_private_copy():
    art = make_artifacts(1)
    buf = bytearray(art.weight_bytes())
    art.weight_data = buf
    pyweb.save(art, "memory://x")
    buf[:4] = b"\xff\xff\xff\xff"
    assert bytes(pyweb.load("memory://x").weight_bytes())[:4] != b"\xff\xff\xff\xff"


def test_from_memory_and_with_save_handler_pass_by_reference():
    art = make_artifacts(2)
    assert pyweb.load(pyweb.from_memory(art)) is art
    seen = []
    result = pyweb.save(art, pyweb.with_save_handler(seen.append))
    assert seen == [art] and seen[0] is art
    assert result.model_artifacts_info.weight_data_bytes == art.weight_bytes().nbytes


def test_with_save_handler_returns_callback_result_and_awaits_async():
    art = make_artifacts(3)
    seen = []

    async def cb(a):
        seen.append(a)
        return "done"

    assert pyweb.save(art, pyweb.with_save_handler(cb)) == "done"
    assert seen == [art]


def test_from_memory_topology_form():
    handler = pyweb.from_memory({"a": 1}, [{"name": "w", "shape": [1], "dtype": "float32"}], b"\0\0\0\0")
    got = pyweb.load(handler)
    assert got.model_topology == {"a": 1}
    assert got.weight_specs[0]["name"] == "w"


def test_downloads_like_save_only_handler_cannot_load():
    with pytest.raises(pyweb.errors.OperationNotSupportedError):
        pyweb.load(pyweb.with_save_handler(lambda a: None))
    with pytest.raises(NotImplementedError):
        pyweb.save(make_artifacts(), pyweb.from_memory(make_artifacts()))
