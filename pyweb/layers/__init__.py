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
from .convolutional import Conv1D, Conv2D, Conv3D, DepthwiseConv2D, SeparableConv2D
from .convolutional_recurrent import ConvLSTM2D, ConvLSTM2DCell
from .convolutional_transpose import Conv2DTranspose, Conv3DTranspose
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
    "ACTIVATIONS",
    "ELU",
    "GRU",
    "LAYER_CLASSES",
    "LSTM",
    "RNN",
    "Activation",
    "Add",
    "AlphaDropout",
    "Average",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "BatchNormalization",
    "Bidirectional",
    "CategoryEncoding",
    "CenterCrop",
    "Concatenate",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DTranspose",
    "ConvLSTM2D",
    "ConvLSTM2DCell",
    "Cropping2D",
    "Dense",
    "DepthwiseConv2D",
    "Dot",
    "Dropout",
    "EinsumDense",
    "Embedding",
    "Flatten",
    "GRUCell",
    "GaussianDropout",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "LSTMCell",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "Masking",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "Maximum",
    "Minimum",
    "Model",
    "Multiply",
    "PReLU",
    "Permute",
    "PositionEmbedding",
    "RandomWidth",
    "ReLU",
    "RepeatVector",
    "Rescaling",
    "Reshape",
    "Resizing",
    "SeparableConv2D",
    "Sequential",
    "SimpleRNN",
    "SimpleRNNCell",
    "Softmax",
    "SpatialDropout1D",
    "StackedRNNCells",
    "SymbolicTensor",
    "ThresholdedReLU",
    "TimeDistributed",
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
