"""The data pyweb moves around and the shapes of the things that move it, in one namespace.

Each lives in the module of its job, re-exported here so ``from pyweb.types
import X`` keeps working:

- :mod:`pyweb.data`: ``ModelArtifacts``, ``ModelArtifactsInfo``, ``SaveResult``
  and the weight buffers (``WeightData``, ``join_weight_data``);
- :mod:`pyweb.handler`: the extension points ``Handler`` and ``ModelStore``,
  with ``HandlerFactory`` and ``StoreFactory`` (see CONTRIBUTING.md, "Adding a scheme");
- :mod:`pyweb.platforms`: the Protocols of the browser stores (``StorageLike``,
  ``IDBFactoryLike``, ...);
- :mod:`pyweb._twins`: the bridge by which a sync method and its async twin
  stand in for each other.
"""

from __future__ import annotations

from .data import (
    BytesLike,
    ModelArtifacts,
    ModelArtifactsInfo,
    SaveResult,
    WeightData,
    join_weight_data,
    weight_data_nbytes,
)
from .handler import Handler, HandlerFactory, ModelStore, StoreFactory
from .platforms import (
    Base64Storage,
    EngineStorage,
    IDBDatabaseLike,
    IDBFactoryLike,
    IDBRequestLike,
    IDBTransactionLike,
    IDBWholeOperations,
    StorageLike,
)

__all__ = [
    "Base64Storage",
    "BytesLike",
    "EngineStorage",
    "Handler",
    "HandlerFactory",
    "IDBDatabaseLike",
    "IDBFactoryLike",
    "IDBRequestLike",
    "IDBTransactionLike",
    "IDBWholeOperations",
    "ModelArtifacts",
    "ModelArtifactsInfo",
    "ModelStore",
    "SaveResult",
    "StorageLike",
    "StoreFactory",
    "WeightData",
    "join_weight_data",
    "weight_data_nbytes",
]
