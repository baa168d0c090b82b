"""Build models from TF.js topology JSON and load Layers models from any pyweb URL.

Weight matching follows tfjs-layers/src/engine/container.ts ``loadWeights`` (strict):
every saved weight needs a target, every model weight needs a value, names are
unique, shapes match; an unmatched ``a/cell/kernel`` is retried as ``a/kernel``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ArtifactError
from .base import Layer, UnsupportedLayerError, WeightMismatchError
from .convolutional import Conv2D, DepthwiseConv2D
from .core import Activation, Add, Concatenate, Dense, Dropout, Flatten, InputLayer, Reshape
from .embeddings import Embedding
from .models import Model, Sequential
from .normalization import BatchNormalization, LayerNormalization
from .pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D

__all__ = ["LAYER_CLASSES", "aload_layers_model", "layer_from_config", "load_layers_model", "model_from_artifacts",
           "model_from_topology"]

LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.class_name: cls for cls in (
        Activation, Add, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, Dense, DepthwiseConv2D, Dropout,
        Embedding, Flatten, GlobalAveragePooling2D, InputLayer, LayerNormalization, MaxPooling2D, Reshape)
}


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Make a Layer subclass loadable by its ``class_name``."""
    LAYER_CLASSES[cls.class_name] = cls
    return cls


def layer_from_config(entry: dict[str, Any]) -> Layer:
    """``{class_name, config}`` → a Layer; an unknown class raises UnsupportedLayerError."""
    name = entry.get("class_name")
    cls = LAYER_CLASSES.get(name)
    if cls is None:
        raise UnsupportedLayerError(f"layer class {name!r} is not supported by pyweb", layer_class=str(name))
    return cls.from_config(dict(entry.get("config") or {}))


def _sequential(config: Any) -> Sequential:
    if isinstance(config, list):  # tfjs < 1.x and old Keras: a bare list of layers
        config = {"layers": config}
    layers = [layer_from_config(entry) for entry in config.get("layers", [])]
    return Sequential(layers, name=config.get("name"))


def _functional(config: dict[str, Any]) -> Model:
    created: dict[str, Layer] = {}
    outputs: dict[str, list] = {}
    pending = list(config["layers"])
    for entry in pending:
        created[entry["name"]] = layer_from_config(entry)
    # Layers are listed inputs first, so one pass in order resolves every inbound tensor.
    for entry in pending:
        layer = created[entry["name"]]
        for node in entry.get("inbound_nodes", []):
            args = [outputs[src][node_index] for src, node_index, _tensor, *_ in node]
            outputs.setdefault(entry["name"], []).append(layer(args if len(args) > 1 else args[0]))
        if isinstance(layer, InputLayer):
            outputs[entry["name"]] = [layer.output]
    pick = lambda refs: [outputs[name][index] for name, index, _t in refs]
    return Model(inputs=pick(config["input_layers"]), outputs=pick(config["output_layers"]), name=config.get("name"))


def model_from_topology(topology: dict[str, Any]) -> Model:
    """A model from TF.js ``modelTopology`` (a ``model_config`` wrapper is unwrapped)."""
    if "model_config" in topology:
        topology = topology["model_config"]
    kind = topology.get("class_name")
    if kind == "Sequential":
        return _sequential(topology["config"])
    if kind in ("Model", "Functional"):
        return _functional(topology["config"])
    raise UnsupportedLayerError(f"model class {kind!r} is not supported by pyweb", layer_class=str(kind))


def _match(model: Model, weights: dict[str, np.ndarray]) -> list[np.ndarray]:
    names = model.weight_names
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise WeightMismatchError(f"Duplicate weight name: {dup}", reason="duplicate", names=[dup])
    targets = set(names)
    found: dict[str, np.ndarray] = {}
    for key, value in weights.items():
        parts = key.split("/")
        alt = "/".join(parts[:-2] + parts[-1:]) if len(parts) >= 3 else key
        name = key if key in targets else alt if alt in targets else None
        if name is None:
            raise WeightMismatchError(f"Provided weight data has no target variable: {key}", reason="extra", names=[key])
        found[name] = value
    missing = [n for n in names if n not in found]
    if missing:
        raise WeightMismatchError(f"{len(missing)} of {len(names)} weights are not set: {','.join(missing)}",
                                  reason="missing", names=missing)
    return [found[n] for n in names]


def model_from_artifacts(artifacts: Any) -> Model:
    """A model from :class:`~pyweb.ModelArtifacts` of a Layers model, weights matched strictly.

    Raises
    ------
    UnsupportedLayerError
        A layer class or option pyweb cannot run.
    WeightMismatchError
        Extra, missing, duplicate or misshapen weights.
    ArtifactError
        Not a Layers model, or weight data without specs.
    """
    from ..weights import decode_weights

    topology = artifacts.model_topology
    if not isinstance(topology, dict):
        raise ArtifactError("not a Layers model: modelTopology is missing or is a graph model")
    model = model_from_topology(topology)
    specs, data = artifacts.weight_specs, artifacts.weight_data
    if data is not None and specs is None:
        raise ArtifactError("LayersModel artifacts contains weight data, but not weight specs. "
                            "Therefore loading of weights cannot proceed.")
    if data is not None:  # TF.js keeps the initial weights when none are stored
        specs = [s for s in specs if s.get("group") != "optimizer"]
        decoded = decode_weights(artifacts.weight_bytes(), specs) if specs else {}
        model.set_weights(_match(model, decoded))
    model.training_config = artifacts.training_config
    model.user_defined_metadata = artifacts.user_defined_metadata
    return model


def load_layers_model(url: Any, **options: Any) -> Model:
    """Load a TF.js Layers model from ``url`` (any pyweb scheme), like ``tf.loadLayersModel``.

    Examples
    --------
    >>> model = pyweb.load_layers_model("file:///tmp/my-model")  # doctest: +SKIP
    >>> model.predict(x)  # doctest: +SKIP
    """
    from ..api import load

    return model_from_artifacts(load(url, **options))


async def aload_layers_model(url: Any, **options: Any) -> Model:
    """Async twin of :func:`load_layers_model`."""
    from ..api import aload

    return model_from_artifacts(await aload(url, **options))
