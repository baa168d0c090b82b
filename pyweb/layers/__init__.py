"""Keras-style Layers models that save and load exactly as TensorFlow.js 4.22 does.

Build with :class:`Sequential` or functional :class:`Model` (``Input`` and
``layer(x)`` calls), run with ``predict`` (numpy float32, rounded as TF.js's CPU
backend), save with ``model.save(url)``; load TF.js models with
:func:`load_layers_model`. Needs numpy; ``import pyweb`` imports this lazily.
"""

from __future__ import annotations

from .activations import ACTIVATIONS
from .base import Layer, SymbolicTensor, UnsupportedLayerError, WeightMismatchError
from .convolutional import Conv2D, DepthwiseConv2D
from .core import Activation, Add, Concatenate, Dense, Dropout, Flatten, Input, InputLayer, Reshape
from .embeddings import Embedding
from .loading import (
    LAYER_CLASSES,
    aload_layers_model,
    layer_from_config,
    load_layers_model,
    model_from_artifacts,
    model_from_topology,
    register_layer,
)
from .models import Model, Sequential
from .normalization import BatchNormalization, LayerNormalization
from .pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D

__all__ = [
    "ACTIVATIONS",
    "LAYER_CLASSES",
    "Activation",
    "Add",
    "AveragePooling2D",
    "BatchNormalization",
    "Concatenate",
    "Conv2D",
    "Dense",
    "DepthwiseConv2D",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAveragePooling2D",
    "Input",
    "InputLayer",
    "Layer",
    "LayerNormalization",
    "MaxPooling2D",
    "Model",
    "Reshape",
    "Sequential",
    "SymbolicTensor",
    "UnsupportedLayerError",
    "WeightMismatchError",
    "aload_layers_model",
    "layer_from_config",
    "load_layers_model",
    "model_from_artifacts",
    "model_from_topology",
    "register_layer",
]
