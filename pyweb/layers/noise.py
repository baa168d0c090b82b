"""Layers that add noise or drop values while training and pass their input through
at inference: GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout1D
(tfjs-layers noise.ts and core.ts). pyweb runs inference only, so each is the identity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Layer
from .core import Dropout

__all__ = ["AlphaDropout", "GaussianDropout", "GaussianNoise", "SpatialDropout1D"]


class _PassThrough(Layer):
    def call(self, inputs: np.ndarray) -> np.ndarray:
        return inputs


class GaussianNoise(_PassThrough):
    """Adds zero-centred noise of ``stddev`` while training; the identity at inference."""

    class_name = "GaussianNoise"
    supports_masking = True
    config_keys = ("stddev", "seed")

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stddev = stddev

    def layer_config(self) -> dict[str, Any]:
        return {"stddev": self.stddev}


class GaussianDropout(_PassThrough):
    """Multiplies by noise of mean 1 while training; the identity at inference."""

    class_name = "GaussianDropout"
    supports_masking = True
    config_keys = ("rate", "seed")

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = rate

    def layer_config(self) -> dict[str, Any]:
        return {"rate": self.rate}


class AlphaDropout(_PassThrough):
    """Dropout that keeps SELU's mean and variance while training; the identity at inference."""

    class_name = "AlphaDropout"
    supports_masking = True
    config_keys = ("rate", "noise_shape", "seed")

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = rate

    def layer_config(self) -> dict[str, Any]:
        return {"rate": self.rate}


class SpatialDropout1D(Dropout):
    """Dropout of whole channels of a sequence while training; the identity at inference."""

    class_name = "SpatialDropout1D"
