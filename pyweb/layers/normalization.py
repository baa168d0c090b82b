"""BatchNormalization (inference) and LayerNormalization, as TF.js's CPU backend computes them.

Both end in TF.js's batchNorm kernel (tfjs-backend-cpu BatchNorm): per element, in
float64, ``offset + (x - mean) * scale / sqrt(variance + epsilon)``, rounded once
to float32. LayerNormalization first takes tf.moments over its axes (mean, then the
mean of ``float32(x - mean) ** 2``, each op rounded to float32).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from .base import Layer, unsupported_value
from .initializers import initializer_config, sample
from .pooling import tfjs_mean

__all__ = ["BatchNormalization", "LayerNormalization", "tfjs_batch_norm"]


def tfjs_batch_norm(
    x: np.ndarray,
    mean: np.ndarray,
    variance: np.ndarray,
    offset: np.ndarray | None,
    scale: np.ndarray | None,
    epsilon: float,
) -> np.ndarray:
    """The batchNorm kernel; arguments broadcast against ``x``; ``None`` offset/scale are 0/1."""

    def f(a: Any) -> np.ndarray:
        return np.asarray(a, np.float32).astype(np.float64)

    out = (f(x) - f(mean)) * (1.0 if scale is None else f(scale)) / np.sqrt(f(variance) + epsilon)
    return (out if offset is None else f(offset) + out).astype(np.float32)


class BatchNormalization(Layer):
    """Normalize the last axis with the stored moving mean and variance (inference only).

    Weights, in TF.js order: ``gamma`` (if ``scale``), ``beta`` (if ``center``), then the
    non-trainable ``moving_mean`` and ``moving_variance`` (saved after every trainable
    weight of the model, as TF.js does).

    Parameters
    ----------
    axis
        Only the last axis (``-1``, or its positive index) is supported; TF.js's CPU
        kernel gives wrong results for any other.
    epsilon
        Added to the variance.
    center, scale
        Use ``beta`` / ``gamma``.
    momentum
        Kept for the config; inference does not update the moving statistics.

    Examples
    --------
    >>> from pyweb.layers import BatchNormalization, Dense, Sequential
    >>> model = Sequential([Dense(4, input_shape=[3]), BatchNormalization()])
    """

    class_name = "BatchNormalization"
    supports_masking = True
    config_keys = (
        "axis",
        "momentum",
        "epsilon",
        "center",
        "scale",
        "beta_initializer",
        "gamma_initializer",
        "moving_mean_initializer",
        "moving_variance_initializer",
        "beta_regularizer",
        "gamma_regularizer",
        "beta_constraint",
        "gamma_constraint",
    )

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(axis, int):
            raise unsupported_value(self.class_name, "axis", axis)
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center, self.scale = bool(center), bool(scale)
        self.initializers = {
            "beta_initializer": initializer_config(beta_initializer),
            "gamma_initializer": initializer_config(gamma_initializer),
            "moving_mean_initializer": initializer_config(moving_mean_initializer),
            "moving_variance_initializer": initializer_config(moving_variance_initializer),
        }
        self._kept = {
            "beta_regularizer": beta_regularizer,
            "gamma_regularizer": gamma_regularizer,
            "beta_constraint": beta_constraint,
            "gamma_constraint": gamma_constraint,
        }
        self._build_if_shaped()

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        rank = len(input_shape)
        if self.axis not in (-1, rank - 1):
            raise unsupported_value(self.class_name, "axis", self.axis)
        if not 2 <= rank <= 4:  # TF.js's batchNormalization handles ranks 2-4 only
            raise ValueError(f"{self.name}: BatchNormalization needs input of rank 2 to 4, got {list(input_shape)}")
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(f"{self.name}: the normalized axis needs a known size, got {list(input_shape)}")
        rng, init = self._rng(), self.initializers
        if self.scale:
            self.add_weight("gamma", sample(init["gamma_initializer"], (dim,), rng))
        if self.center:
            self.add_weight("beta", sample(init["beta_initializer"], (dim,), rng))
        self.add_weight("moving_mean", sample(init["moving_mean_initializer"], (dim,), rng), trainable=False)
        self.add_weight("moving_variance", sample(init["moving_variance_initializer"], (dim,), rng), trainable=False)
        self.built = True

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return tfjs_batch_norm(
            inputs,
            self.weight("moving_mean"),
            self.weight("moving_variance"),
            self.weight("beta") if self.center else None,
            self.weight("gamma") if self.scale else None,
            self.epsilon,
        )

    def layer_config(self) -> dict[str, Any]:
        init = self.initializers
        return {
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": init["beta_initializer"],
            "gamma_initializer": init["gamma_initializer"],
            "moving_mean_initializer": init["moving_mean_initializer"],
            "moving_variance_initializer": init["moving_variance_initializer"],
            **self._kept,
        }


class LayerNormalization(Layer):
    """Normalize each example over ``axis`` (default the last), then scale by ``gamma`` and shift by ``beta``.

    Parameters
    ----------
    axis
        An int or a list of ints; written back as TF.js does after building: a list of
        non-negative axes (``-1`` on a rank-3 input becomes ``[2]``).
    epsilon, center, scale, beta_initializer, gamma_initializer
        As in Keras; ``gamma``/``beta`` have the shape of the normalized axes.

    Examples
    --------
    >>> from pyweb.layers import Input, LayerNormalization
    >>> y = LayerNormalization()(Input(shape=[6, 4]))
    """

    class_name = "LayerNormalization"
    supports_masking = True
    config_keys = (
        "axis",
        "epsilon",
        "center",
        "scale",
        "beta_initializer",
        "gamma_initializer",
        "beta_regularizer",
        "gamma_regularizer",
    )

    def __init__(
        self,
        axis: int | Sequence[int] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        axes = [axis] if isinstance(axis, int) else list(axis)
        if not axes or not all(isinstance(a, int) for a in axes):
            raise unsupported_value(self.class_name, "axis", axis)
        super().__init__(**kwargs)
        self.axis: int | list[int] = axis if isinstance(axis, int) else axes
        self.epsilon, self.center, self.scale = epsilon, bool(center), bool(scale)
        self.beta_initializer = initializer_config(beta_initializer)
        self.gamma_initializer = initializer_config(gamma_initializer)
        self._kept = {"beta_regularizer": beta_regularizer, "gamma_regularizer": gamma_regularizer}
        self._build_if_shaped()

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        rank = len(input_shape)
        axes = [a + rank if a < 0 else a for a in ([self.axis] if isinstance(self.axis, int) else self.axis)]
        if any(not 0 <= a < rank for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(f"{self.name}: invalid axis {self.axis} for input of rank {rank}")
        if not 2 <= rank <= 4:  # TF.js ends in batchNormalization, which handles ranks 2-4 only
            raise ValueError(f"{self.name}: LayerNormalization needs input of rank 2 to 4, got {list(input_shape)}")
        self.axis = axes
        shape = tuple(input_shape[a] for a in axes)
        rng = self._rng()
        if self.scale:
            self.add_weight("gamma", sample(self.gamma_initializer, shape, rng))
        if self.center:
            self.add_weight("beta", sample(self.beta_initializer, shape, rng))
        self.built = True

    def _broadcast(self, value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        # A plain reshape, as TF.js does (no transpose, even for unsorted axes).
        target = [1] * len(shape)
        for a in cast(list[int], self.axis):  # a list once built
            target[a] = shape[a]
        return value.reshape(target)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, np.float32)
        axes = tuple(cast(list[int], self.axis))
        mean = tfjs_mean(x, axes, keepdims=True)
        dev = (x.astype(np.float64) - mean).astype(np.float32)
        variance = tfjs_mean((dev.astype(np.float64) ** 2).astype(np.float32), axes, keepdims=True)
        scale = self._broadcast(self.weight("gamma"), x.shape) if self.scale else None
        offset = self._broadcast(self.weight("beta"), x.shape) if self.center else None
        return tfjs_batch_norm(x, mean, variance, offset, scale, self.epsilon)

    def layer_config(self) -> dict[str, Any]:
        axis = list(self.axis) if isinstance(self.axis, list) else self.axis
        return {
            "axis": axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": self.beta_initializer,
            "gamma_initializer": self.gamma_initializer,
            **self._kept,
        }
