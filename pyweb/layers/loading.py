"""Build models from TF.js topology JSON and load Layers models from any pyweb URL.

Weight matching follows tfjs-layers/src/engine/container.ts ``loadWeights`` (strict):
every saved weight needs a target, every model weight needs a value, names are
unique, shapes match; an unmatched ``a/cell/kernel`` is retried as ``a/kernel``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ArtifactError, CorruptModelError, PyWebError
from .advanced_activations import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from .base import Layer, SymbolicTensor, UnsupportedLayerError, WeightMismatchError
from .convolutional import Conv1D, Conv2D, Conv3D, DepthwiseConv2D, SeparableConv2D
from .convolutional_recurrent import ConvLSTM2D, ConvLSTM2DCell
from .convolutional_transpose import Conv2DTranspose, Conv3DTranspose
from .core import Activation, Concatenate, Dense, Dropout, Flatten, InputLayer, Reshape
from .embeddings import Embedding
from .initializers import placeholders
from .masking import Masking
from .merge import Add, Average, Dot, Maximum, Minimum, Multiply
from .models import Model, Sequential
from .nlp import EinsumDense, PositionEmbedding
from .noise import AlphaDropout, GaussianDropout, GaussianNoise, SpatialDropout1D
from .normalization import BatchNormalization, LayerNormalization
from .pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from .preprocessing import CategoryEncoding, CenterCrop, RandomWidth, Rescaling, Resizing
from .recurrent import GRU, LSTM, RNN, SimpleRNN
from .recurrent_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from .reshaping import Cropping2D, Permute, RepeatVector, UpSampling2D, ZeroPadding2D
from .wrappers import Bidirectional, TimeDistributed

__all__ = [
    "LAYER_CLASSES",
    "aload_layers_model",
    "layer_from_config",
    "load_layers_model",
    "model_from_artifacts",
    "model_from_topology",
]

LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.class_name: cls
    for cls in (
        Activation,
        Add,
        AlphaDropout,
        Average,
        AveragePooling1D,
        AveragePooling2D,
        AveragePooling3D,
        BatchNormalization,
        CategoryEncoding,
        CenterCrop,
        Concatenate,
        Conv1D,
        Conv2D,
        Conv2DTranspose,
        Conv3D,
        Conv3DTranspose,
        Cropping2D,
        Dense,
        DepthwiseConv2D,
        Dot,
        Dropout,
        EinsumDense,
        ELU,
        Embedding,
        Flatten,
        GaussianDropout,
        GaussianNoise,
        GlobalAveragePooling1D,
        GlobalAveragePooling2D,
        GlobalMaxPooling1D,
        GlobalMaxPooling2D,
        InputLayer,
        LayerNormalization,
        LeakyReLU,
        MaxPooling1D,
        MaxPooling2D,
        MaxPooling3D,
        Maximum,
        Minimum,
        Multiply,
        Permute,
        PositionEmbedding,
        PReLU,
        RandomWidth,
        ReLU,
        RepeatVector,
        Rescaling,
        Reshape,
        Resizing,
        SeparableConv2D,
        Softmax,
        SpatialDropout1D,
        ThresholdedReLU,
        UpSampling2D,
        ZeroPadding2D,
        # recurrent layers, their cells, wrappers and masking
        Bidirectional,
        ConvLSTM2D,
        ConvLSTM2DCell,
        GRU,
        GRUCell,
        LSTM,
        LSTMCell,
        Masking,
        RNN,
        SimpleRNN,
        SimpleRNNCell,
        StackedRNNCells,
        TimeDistributed,
    )
}


#: Model classes TF.js writes, at the top of a topology or as a layer of another model.
MODEL_CLASSES = ("Sequential", "Model", "Functional")


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Make a Layer subclass loadable by its ``class_name``."""
    LAYER_CLASSES[cls.class_name] = cls
    return cls


# What malformed configs make layer code raise; turned into CorruptModelError at this boundary.
_MALFORMED = (
    TypeError,
    ValueError,
    KeyError,
    AttributeError,
    IndexError,
    OverflowError,
    ZeroDivisionError,
    RecursionError,
    MemoryError,
)


def layer_from_config(entry: dict[str, Any]) -> Layer:
    """``{class_name, config}`` → a Layer; an unknown class raises UnsupportedLayerError.

    A Sequential or functional model nested as a layer is built as a :class:`Model`.
    A config the layer cannot be built from (wrong types, impossible values)
    raises CorruptModelError with ``part="modelTopology"``.
    """
    if not isinstance(entry, dict):
        raise _malformed(f"a layer entry is a {type(entry).__name__}, not an object")
    name = entry.get("class_name")
    if name in MODEL_CLASSES:
        return _model(name, entry.get("config"))
    cls = LAYER_CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise UnsupportedLayerError(f"layer class {name!r:.80} is not supported by pyweb", layer_class=str(name)[:80])
    config = entry.get("config") or {}
    if not isinstance(config, dict):
        raise _malformed(f"the config of a {name} layer is not an object")
    try:
        return cls.from_config(dict(config))
    except PyWebError:
        raise
    except _MALFORMED as exc:
        given = config.get("name")
        label = given if isinstance(given, str) else "?"
        raise _malformed(
            f"{name} layer {label[:80]!r} has a config pyweb cannot build: {type(exc).__name__}: {str(exc)[:200]}"
        ) from exc


def _malformed(message: str) -> CorruptModelError:
    return CorruptModelError(f"modelTopology: {message}", part="modelTopology")


def _sequential(config: Any) -> Sequential:
    if isinstance(config, list):  # tfjs < 1.x and old Keras: a bare list of layers
        config = {"layers": config}
    layers = [layer_from_config(entry) for entry in config.get("layers", [])]
    return Sequential(layers, name=config.get("name"))


def _functional(config: dict[str, Any]) -> Model:
    created: dict[str, Layer] = {}
    outputs: dict[str, list[list[Any]]] = {}  # layer name -> its nodes -> their output tensors
    pending = list(config["layers"])
    for entry in pending:
        created[entry["name"]] = layer_from_config(entry)
    # Layers are listed inputs first, so one pass in order resolves every inbound tensor.
    for entry in pending:
        layer = created[entry["name"]]
        if isinstance(layer, Model):  # node 0 of a nested model is its own graph (TF.js's Container)
            outputs[entry["name"]] = [layer.outputs]
        for node in entry.get("inbound_nodes", []):
            args = [outputs[src][node_index][tensor] for src, node_index, tensor, *_ in node]
            result = layer(args if len(args) > 1 else args[0])
            outputs.setdefault(entry["name"], []).append(result if isinstance(result, list) else [result])
        if isinstance(layer, InputLayer):
            outputs[entry["name"]] = [[layer.output]]

    def pick(refs: list[list[Any]]) -> list[SymbolicTensor]:
        return [outputs[name][index][tensor] for name, index, tensor in refs]

    return Model(inputs=pick(config["input_layers"]), outputs=pick(config["output_layers"]), name=config.get("name"))


def model_from_topology(topology: dict[str, Any]) -> Model:
    """A model from TF.js ``modelTopology`` (a ``model_config`` wrapper is unwrapped).

    Raises
    ------
    UnsupportedLayerError
        A model or layer class, or an option, pyweb cannot run.
    CorruptModelError
        The topology is malformed (``part="modelTopology"``): wrong types,
        connections to layers that do not exist, shapes that do not fit.
    """
    if isinstance(topology, dict) and "model_config" in topology:
        topology = topology["model_config"]
    if not isinstance(topology, dict):
        raise _malformed("the model config is not an object")
    kind = topology.get("class_name")
    if kind not in MODEL_CLASSES:
        raise UnsupportedLayerError(f"model class {kind!r:.80} is not supported by pyweb", layer_class=str(kind)[:80])
    return _model(kind, topology.get("config"))


def _model(kind: str, config: Any) -> Model:
    try:
        if kind == "Sequential":
            return _sequential(config)
        model = _functional(config)
        model.class_name = kind  # Keras 2.4+ writes "Functional"; TF.js saves the name it loaded
        return model
    except PyWebError:
        raise
    except _MALFORMED as exc:
        raise _malformed(f"the {kind} graph cannot be built: {type(exc).__name__}: {str(exc)[:200]}") from exc


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
            raise WeightMismatchError(
                f"Provided weight data has no target variable: {key}", reason="extra", names=[key]
            )
        if value.dtype != np.float32:  # TF.js: "dtype of the new value and previous value must match"
            raise WeightMismatchError(
                f"weight {key} is stored as {_tfjs_dtype(value)}; the layer holds float32", reason="dtype", names=[key]
            )
        found[name] = value
    missing = [n for n in names if n not in found]
    if missing:
        raise WeightMismatchError(
            f"{len(missing)} of {len(names)} weights are not set: {','.join(missing)}", reason="missing", names=missing
        )
    return [found[n] for n in names]


def _tfjs_dtype(value: np.ndarray) -> str:
    return {"i": "int32", "b": "bool", "c": "complex64", "O": "string"}.get(value.dtype.kind, str(value.dtype))


def model_from_artifacts(artifacts: Any) -> Model:
    """A model from :class:`~pyweb.ModelArtifacts` of a Layers model, weights matched strictly.

    Raises
    ------
    UnsupportedLayerError
        A layer class or option pyweb cannot run.
    WeightMismatchError
        Extra, missing, duplicate or misshapen weights, or weights not stored as float32.
    CorruptModelError
        A malformed topology, specs or weight data.
    ArtifactError
        Not a Layers model, or weight data without specs.
    """
    from .._checks import check_artifacts
    from ..weights import decode_weights

    check_artifacts(artifacts)
    topology = artifacts.model_topology
    if not isinstance(topology, dict):
        raise ArtifactError("not a Layers model: modelTopology is missing or is a graph model")
    specs, data = artifacts.weight_specs, artifacts.weight_data
    if data is None:
        model = model_from_topology(topology)  # TF.js keeps the initial weights: draw them
    else:
        with placeholders():  # every initial value is about to be overwritten
            model = model_from_topology(topology)
    if data is not None and specs is None:
        raise ArtifactError(
            "LayersModel artifacts contains weight data, but not weight specs. "
            "Therefore loading of weights cannot proceed."
        )
    if data is not None:  # TF.js keeps the initial weights when none are stored
        specs = [s for s in specs if s.get("group") != "optimizer"]
        decoded = decode_weights(artifacts.weight_bytes(), specs) if specs else {}
        try:
            model.set_weights(_match(model, decoded))
        except PyWebError:
            raise
        except _MALFORMED as exc:
            raise WeightMismatchError(f"the stored weights do not fit the model: {exc}", reason="shape") from exc
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
