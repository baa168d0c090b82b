"""``shelf://``: a handler as a third party would write one, with pyweb's public API only.

It stands in for another package's scheme in tests/handlers/test_third_party.py,
which shows such a handler passes :mod:`pyweb.testing.contract` by subclassing it.
It is async-only underneath (as a fetch or IndexedDB backend is) and keeps each
model as its model.json text and weight bytes in a :class:`Shelf`.
"""

from __future__ import annotations

import datetime as dt

import pyweb
from pyweb.errors import ModelNotFoundError, StorageError

WEIGHTS_NAME = "weights.bin"


class Shelf:
    """The backing store: path -> (model.json text, weight bytes); ``refuse_next`` breaks one write."""

    def __init__(self) -> None:
        self.records: dict[str, tuple[str, bytes]] = {}
        self.refuse_next = False

    def put(self, path: str, record: tuple[str, bytes]) -> None:
        if self.refuse_next:
            self.refuse_next = False
            raise StorageError(f"shelf://{path}: the shelf is full", url=f"shelf://{path}")
        self.records[path] = record  # one assignment: the old model stays until the new one is whole


SHELF = Shelf()


class ShelfHandler(pyweb.Handler):
    """Saves to and loads from :data:`SHELF`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.url = f"shelf://{path}"

    async def asave(self, artifacts: pyweb.ModelArtifacts) -> pyweb.SaveResult:
        weights = bytes(artifacts.weight_bytes())
        text = pyweb.to_model_json(artifacts, [WEIGHTS_NAME] if artifacts.weight_specs else None)
        SHELF.put(self.path, (text, weights))
        return pyweb.SaveResult(_info(text, weights))

    async def aload(self) -> pyweb.ModelArtifacts:
        try:
            text, weights = SHELF.records[self.path]
        except KeyError:
            raise ModelNotFoundError(f"no model at {self.url}", url=self.url) from None
        artifacts = pyweb.from_model_json(text)
        artifacts.weight_data = weights
        return artifacts

    @classmethod
    def open_store(cls, location: str = "") -> ShelfStore:
        return ShelfStore(location)


class ShelfStore(pyweb.ModelStore):
    """Lists and removes the models under one path prefix of :data:`SHELF`."""

    def __init__(self, location: str) -> None:
        self.prefix = location.rstrip("/")

    async def alist_models(self) -> dict[str, pyweb.ModelArtifactsInfo]:
        return {
            path: _info(text, weights)
            for path, (text, weights) in SHELF.records.items()
            if not self.prefix or path.startswith(self.prefix + "/")
        }

    async def aremove_model(self, path: str) -> pyweb.ModelArtifactsInfo:
        try:
            text, weights = SHELF.records.pop(path)
        except KeyError:
            raise ModelNotFoundError(f"no model at shelf://{path}", url=f"shelf://{path}") from None
        return _info(text, weights)


def _info(text: str, weights: bytes) -> pyweb.ModelArtifactsInfo:
    return pyweb.ModelArtifactsInfo(
        date_saved=dt.datetime.now(dt.UTC), model_topology_bytes=len(text.encode()), weight_data_bytes=len(weights)
    )
