"""Keras-style Layers models that save and load exactly as TensorFlow.js 4.22 does.

Build with :class:`Sequential` or functional :class:`Model` (``Input`` and
``layer(x)`` calls), run with ``predict`` (numpy float32, rounded as TF.js's CPU
backend), save with ``model.save(url)``; load TF.js models with
:func:`load_layers_model`. Needs numpy; ``import pyweb`` imports this lazily.
"""

from __future__ import annotations

from .activations import ACTIVATIONS
from .advanced_activations import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from .base import Layer, SymbolicTensor, UnsupportedLayerError, WeightMismatchError
from .convolutional import Conv2D, DepthwiseConv2D
from .core import Activation, Concatenate, Dense, Dropout, Flatten, Input, InputLayer, Reshape
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
from .merge import Add, Average, Maximum, Minimum, Multiply
from .models import Model, Sequential
from .nlp import EinsumDense, PositionEmbedding
from .noise import AlphaDropout, GaussianDropout, GaussianNoise, SpatialDropout1D
from .normalization import BatchNormalization, LayerNormalization
from .pooling import (
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling2D,
)
from .reshaping import Cropping2D, Permute, RepeatVector, UpSampling2D, ZeroPadding2D

__all__ = [
    "ACTIVATIONS",
    "LAYER_CLASSES",
    "Activation",
    "Add",
    "AlphaDropout",
    "Average",
    "AveragePooling2D",
    "BatchNormalization",
    "Concatenate",
    "Conv2D",
    "Cropping2D",
    "Dense",
    "DepthwiseConv2D",
    "Dropout",
    "ELU",
    "EinsumDense",
    "Embedding",
    "Flatten",
    "GaussianDropout",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "MaxPooling2D",
    "Maximum",
    "Minimum",
    "Model",
    "Multiply",
    "PReLU",
    "Permute",
    "PositionEmbedding",
    "ReLU",
    "RepeatVector",
    "Reshape",
    "Sequential",
    "Softmax",
    "SpatialDropout1D",
    "SymbolicTensor",
    "ThresholdedReLU",
    "UnsupportedLayerError",
    "UpSampling2D",
    "WeightMismatchError",
    "ZeroPadding2D",
    "aload_layers_model",
    "layer_from_config",
    "load_layers_model",
    "model_from_artifacts",
    "model_from_topology",
    "register_layer",
]
