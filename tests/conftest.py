"""Shared fixtures: every test starts with a fresh registry and empty stores."""

from __future__ import annotations

import importlib

import pytest

from pyweb.handlers.memory import MemoryStore
from tests.tfjs_node import tfjs_goldens  # noqa: F401  (session fixture)

registry_module = importlib.import_module("pyweb.registry")


@pytest.fixture(autouse=True)
def _fresh_state():
    registered = dict(registry_module._registered)
    loaded = dict(registry_module._loaded)
    MemoryStore().clear()
    yield
    MemoryStore().clear()
    registry_module._registered.clear()
    registry_module._registered.update(registered)
    registry_module._loaded.clear()
    registry_module._loaded.update(loaded)
