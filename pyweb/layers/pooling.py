"""Max and average pooling (1-D, 2-D, 3-D) and global pooling (1-D, 2-D), as TF.js's CPU backend.

TF.js's CPU pool (tfjs-backend-cpu utils/pool_utils.ts) looks only at the cells inside
the input: max ignores NaN and padding, average sums the valid cells in float64 and
divides by their count, so ``same`` borders average fewer cells. tf.mean divides every
element by the count (float32) and sums the quotients in float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from .base import Layer, unsupported_value
from .convolutional import check_layout
from .windows import Window, channels_first, channels_last, ntuple

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "tfjs_mean",
]


def tfjs_mean(x: np.ndarray, axis: Any, keepdims: bool = False) -> np.ndarray:
    """tf.mean on the CPU backend: ``sum(float32(x / n))`` with a float64 running sum."""
    x = np.asarray(x, np.float32)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    n = int(np.prod([x.shape[a] for a in axes]))
    parts = (x.astype(np.float64) / np.float32(n)).astype(np.float32)
    return parts.sum(axis=axes, keepdims=keepdims, dtype=np.float64).astype(np.float32)


class _Pooling(Layer):
    """Max or average over windows of ``rank`` spatial axes (TF.js ``Pooling1D/2D/3D``)."""

    rank = 2
    mode = "avg"
    config_keys: tuple[str, ...] = ("pool_size", "padding", "strides", "data_format")

    def __init__(
        self,
        pool_size: int | Sequence[int] | None = None,
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        cls, n = self.class_name, self.rank
        self.data_format = check_layout(cls, padding, data_format)
        self.pool_size = ntuple(2 if pool_size is None else pool_size, n, cls, "pool_size")
        self.strides = list(self.pool_size) if strides is None else ntuple(strides, n, cls, "strides")
        self.padding = padding
        super().__init__(**kwargs)
        # 1-D pooling is 2-D pooling over a width of 1 in TF.js; only the 3-D geometry leaves
        # a negative "same" padding unclamped.
        self.window = Window(self.pool_size, self.strides, [1] * n, padding, clamp=n != 3)

    @property
    def _first(self) -> bool:
        return self.data_format == "channels_first"

    def compute_output_shape(self, input_shape: Any) -> Any:
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{self.name}: {self.class_name} needs {self.rank + 2}-D input, got {list(input_shape)}")
        if self._first:
            return (*input_shape[:2], *self.window.output_sizes(*input_shape[2:]))
        return (input_shape[0], *self.window.output_sizes(*input_shape[1:-1]), input_shape[-1])

    def call(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, np.float32)
        y = self.pool(channels_last(x) if self._first else x)
        return channels_first(y) if self._first else y

    def pool(self, x: np.ndarray) -> np.ndarray:
        return max_pool(x, self.window) if self.mode == "max" else avg_pool(x, self.window)

    def layer_config(self) -> dict[str, Any]:
        return {
            "pool_size": list(self.pool_size),
            "padding": self.padding,
            "strides": list(self.strides),
            "data_format": self.data_format,
        }


def max_pool(x: np.ndarray, window: Window) -> np.ndarray:
    """TF.js keeps a cell only if it is greater than the running max (from -inf): NaN never
    wins, and a window of NaN alone gives -inf. fmax from -inf does the same."""
    out = np.full((x.shape[0], *window.output_sizes(*x.shape[1:-1]), x.shape[-1]), -np.inf, np.float32)
    for view in window.taps(x, fill=-np.inf):
        np.fmax(out, view, out=out)
    return out


def avg_pool(x: np.ndarray, window: Window) -> np.ndarray:
    """The cells inside the input summed in float64, divided by their count (at least 1)."""
    x64 = x.astype(np.float64)
    total = np.zeros((x.shape[0], *window.output_sizes(*x.shape[1:-1]), x.shape[-1]))
    count = np.zeros((1, *total.shape[1:-1], 1))
    ones = np.ones((1, *x.shape[1:-1], 1))
    for view, valid in zip(window.taps(x64), window.taps(ones)):
        total += view
        count += valid
    return (total / np.maximum(count, 1)).astype(np.float32)


class MaxPooling2D(_Pooling):
    """Max over each ``pool_size`` window; ``strides`` default to ``pool_size``.

    ``data_format`` is ``"channels_last"`` (default) or ``"channels_first"``.

    Examples
    --------
    >>> from pyweb.layers import MaxPooling2D
    >>> layer = MaxPooling2D(pool_size=2, padding="same")
    """

    class_name = "MaxPooling2D"
    mode = "max"


class AveragePooling2D(_Pooling):
    """Mean over each window; with ``padding="same"`` only cells inside the input count, as in TF."""

    class_name = "AveragePooling2D"


class MaxPooling3D(_Pooling):
    """Max over ``[depth, rows, cols]`` windows of ``[batch, depth, rows, cols, channels]`` volumes."""

    class_name = "MaxPooling3D"
    mode = "max"
    rank = 3


class AveragePooling3D(_Pooling):
    """Mean over ``[depth, rows, cols]`` windows; ``same`` borders average the cells inside only."""

    class_name = "AveragePooling3D"
    rank = 3


class _Pooling1D(_Pooling):
    # TF.js's Pooling1D has no data_format (Keras's is refused unless channels_last).
    rank = 1
    config_keys = ("pool_size", "padding", "strides")
    keras_defaults: ClassVar[dict[str, Any]] = {"data_format": "channels_last"}

    def __init__(
        self,
        pool_size: int | Sequence[int] | None = None,
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        **kwargs: Any,
    ) -> None:
        super().__init__(pool_size, strides, padding, **kwargs)

    def layer_config(self) -> dict[str, Any]:
        config = super().layer_config()
        del config["data_format"]
        return config


class MaxPooling1D(_Pooling1D):
    """Max over windows of ``pool_size`` steps of ``[batch, steps, features]``."""

    class_name = "MaxPooling1D"
    mode = "max"


class AveragePooling1D(_Pooling1D):
    """Mean over windows of ``pool_size`` steps; ``same`` borders average the steps inside only."""

    class_name = "AveragePooling1D"


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
