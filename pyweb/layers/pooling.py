"""MaxPooling2D, AveragePooling2D and global pooling (1-D and 2-D), as TF.js's CPU backend.

TF.js's CPU pool (tfjs-backend-cpu utils/pool_utils.ts) looks only at the cells inside
the input: max ignores NaN and padding, average sums the valid cells in float64 and
divides by their count, so ``same`` borders average fewer cells. tf.mean divides every
element by the count (float32) and sums the quotients in float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Layer, unsupported_value
from .convolutional import Window, check_layout, pair

__all__ = ["AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
           "GlobalMaxPooling2D", "MaxPooling2D", "tfjs_mean"]


def tfjs_mean(x: np.ndarray, axis: Any, keepdims: bool = False) -> np.ndarray:
    """tf.mean on the CPU backend: ``sum(float32(x / n))`` with a float64 running sum."""
    x = np.asarray(x, np.float32)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    n = int(np.prod([x.shape[a] for a in axes]))
    parts = (x.astype(np.float64) / np.float32(n)).astype(np.float32)
    return parts.sum(axis=axes, keepdims=keepdims, dtype=np.float64).astype(np.float32)


class _Pooling2D(Layer):
    config_keys = ("pool_size", "padding", "strides", "data_format")

    def __init__(self, pool_size: int | Sequence[int] = (2, 2), strides: int | Sequence[int] | None = None,
                 padding: str = "valid", data_format: str | None = None, **kwargs: Any) -> None:
        cls = self.class_name
        check_layout(cls, padding, data_format)
        self.pool_size = pair(pool_size, cls, "pool_size")
        self.strides = list(self.pool_size) if strides is None else pair(strides, cls, "strides")
        self.padding = padding
        super().__init__(**kwargs)
        self.window = Window(self.pool_size, self.strides, (1, 1), padding)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], *self.window.output_hw(input_shape[1], input_shape[2]), input_shape[3])

    def layer_config(self) -> dict[str, Any]:
        return {"pool_size": list(self.pool_size), "padding": self.padding, "strides": list(self.strides),
                "data_format": "channels_last"}


class MaxPooling2D(_Pooling2D):
    """Max over each ``pool_size`` window; ``strides`` default to ``pool_size``.

    Examples
    --------
    >>> from pyweb.layers import MaxPooling2D
    >>> layer = MaxPooling2D(pool_size=2, padding="same")
    """

    class_name = "MaxPooling2D"

    def call(self, inputs: np.ndarray) -> np.ndarray:
        out = None
        for view in self.window.taps(np.asarray(inputs, np.float32), fill=-np.inf):
            out = view.copy() if out is None else np.fmax(out, view)  # fmax: NaN never wins, as in TF.js
        return out


class AveragePooling2D(_Pooling2D):
    """Mean over each window; with ``padding="same"`` only cells inside the input count, as in TF."""

    class_name = "AveragePooling2D"

    def call(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, np.float32).astype(np.float64)
        total = count = None
        ones = np.ones((1, *x.shape[1:3], 1))
        for view, valid in zip(self.window.taps(x), self.window.taps(ones)):
            total = view.copy() if total is None else total + view
            count = valid.copy() if count is None else count + valid
        return (total / count).astype(np.float32)


class _GlobalPooling2D(Layer):
    config_keys = ("data_format",)

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        if data_format not in (None, "channels_last", "channels_first"):
            raise unsupported_value(self.class_name, "data_format", data_format)
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"

    def _axes(self) -> tuple[int, int]:
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if len(input_shape) != 4:
            raise ValueError(f"{self.name}: {self.class_name} needs 4-D input, got {list(input_shape)}")
        return (input_shape[0], input_shape[3] if self.data_format == "channels_last" else input_shape[1])

    def layer_config(self) -> dict[str, Any]:
        return {"data_format": self.data_format}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over the two spatial axes: ``[batch, h, w, c]`` → ``[batch, c]``."""

    class_name = "GlobalAveragePooling2D"

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return tfjs_mean(inputs, self._axes())


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Maximum over the two spatial axes: ``[batch, h, w, c]`` → ``[batch, c]``."""

    class_name = "GlobalMaxPooling2D"

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return np.asarray(inputs, np.float32).max(axis=self._axes())


class _GlobalPooling1D(Layer):
    def compute_output_shape(self, input_shape: Any) -> Any:
        if len(input_shape) != 3:
            raise ValueError(f"{self.name}: {self.class_name} needs 3-D input, got {list(input_shape)}")
        return (input_shape[0], input_shape[2])


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the steps of a sequence: ``[batch, steps, features]`` → ``[batch, features]``."""

    class_name = "GlobalAveragePooling1D"

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return tfjs_mean(inputs, 1)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Maximum over the steps of a sequence: ``[batch, steps, features]`` → ``[batch, features]``."""

    class_name = "GlobalMaxPooling1D"

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return np.asarray(inputs, np.float32).max(axis=1)
