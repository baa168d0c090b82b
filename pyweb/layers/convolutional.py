"""Conv2D and DepthwiseConv2D (channels-last), computed as TF.js's CPU backend does.

TF.js's CPU kernels (tfjs-backend-cpu Conv2D / DepthwiseConv2dNative) add one
product at a time into a float32 output, in kernel-row, kernel-column, input-channel
order, skipping taps that fall in the padding. :func:`accumulate_taps` does the same
adds, each one vectorised over every output pixel, so results agree bit for bit.
Window geometry (output size, TF's ``same`` split with the odd pixel at the
bottom/right) follows tfjs-core ``conv_util.getPadAndOutInfo``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .activations import canonical_activation, get_activation
from .base import Layer, positive_int, unsupported_value
from .initializers import initializer_config, sample

__all__ = ["Conv2D", "DepthwiseConv2D", "Window", "pair"]

PADDINGS = ("valid", "same")


def pair(value: int | Sequence[int], layer_class: str, option: str) -> list[int]:
    """``3`` or ``[3, 2]`` → ``[3, 3]`` / ``[3, 2]``; anything else raises UnsupportedLayerError."""
    values = [value, value] if isinstance(value, (int, np.integer)) else list(value)
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in values):
        raise unsupported_value(layer_class, option, value)
    return [int(v) for v in values]


def check_layout(layer_class: str, padding: str, data_format: str | None) -> None:
    """Raise for what pyweb cannot run: channels_first, or padding other than valid/same."""
    if data_format not in (None, "channels_last"):
        raise unsupported_value(layer_class, "data_format", data_format)
    if padding not in PADDINGS:
        raise unsupported_value(layer_class, "padding", padding)


def _out_and_pad(size: int | None, kernel: int, stride: int, dilation: int, padding: str) -> tuple:
    effective = (kernel - 1) * dilation + 1
    if size is None:
        return None, (0, 0)
    if padding == "valid":
        return math.ceil((size - effective + 1) / stride), (0, 0)
    out = math.ceil(size / stride)
    total = max(0, (out - 1) * stride + effective - size)
    return out, (total // 2, total - total // 2)


class Window:
    """A 2-D sliding window: kernel size, strides, dilations and padding over an NHWC input."""

    def __init__(self, kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int], padding: str) -> None:
        self.kernel, self.strides, self.dilation, self.padding = list(kernel), list(strides), list(dilation), padding

    def output_hw(self, height: int | None, width: int | None) -> tuple[int | None, int | None]:
        return (_out_and_pad(height, self.kernel[0], self.strides[0], self.dilation[0], self.padding)[0],
                _out_and_pad(width, self.kernel[1], self.strides[1], self.dilation[1], self.padding)[0])

    def taps(self, x: np.ndarray, fill: float = 0.0) -> Iterator[np.ndarray]:
        """For each kernel tap (row-major), the input cells it sees: views of shape (N, OH, OW, C).

        Cells in the padding hold ``fill``.
        """
        (oh, (top, bottom)), (ow, (left, right)) = (
            _out_and_pad(x.shape[1], self.kernel[0], self.strides[0], self.dilation[0], self.padding),
            _out_and_pad(x.shape[2], self.kernel[1], self.strides[1], self.dilation[1], self.padding))
        if top or bottom or left or right:
            x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
        (sh, sw), (dh, dw) = self.strides, self.dilation
        for r in range(self.kernel[0]):
            for c in range(self.kernel[1]):
                yield x[:, r * dh:r * dh + (oh - 1) * sh + 1:sh, c * dw:c * dw + (ow - 1) * sw + 1:sw, :]


def accumulate_taps(x: np.ndarray, kernel: np.ndarray, window: Window, depthwise: bool) -> np.ndarray:
    """Convolution summed into float32 one product at a time, in TF.js CPU order.

    ``kernel`` is ``[kh, kw, cin, cout]`` (or ``[kh, kw, cin, multiplier]`` when
    ``depthwise``). Padding cells contribute ``0 * w``, which leaves the sum unchanged,
    just as TF.js skips them.
    """
    x64 = np.asarray(x, np.float32).astype(np.float64)
    w64 = np.asarray(kernel, np.float32).astype(np.float64)
    kw_ = window.kernel[1]
    y: np.ndarray | None = None
    for t, view in enumerate(window.taps(x64)):
        w = w64[t // kw_, t % kw_]
        if y is None:
            shape = view.shape[:3] + ((view.shape[3] * w.shape[1],) if depthwise else (w.shape[1],))
            y = np.zeros(shape, np.float32)
        if depthwise:
            # Each (channel, multiplier) output gets exactly one product per tap.
            flat = y.reshape(y.shape[:3] + w.shape)
            np.add(flat, view[..., :, None] * w, out=flat, casting="unsafe")
            continue
        for d in range(w.shape[0]):
            # float64 sum of float32 partial and exact product, rounded to float32, as JS does.
            np.add(y, view[..., d:d + 1] * w[d], out=y, casting="unsafe")
    return y


def bias_add(y: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``y + bias`` rounded once to float32, as TF.js's add kernel."""
    return (y.astype(np.float64) + bias).astype(np.float32)


class _BaseConv(Layer):
    """Keys and checks shared by Conv2D and DepthwiseConv2D (TF.js ``BaseConv``)."""

    keras_defaults = {"groups": 1}
    _BASE_KEYS = ("kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation", "use_bias",
                  "bias_initializer", "bias_regularizer", "activity_regularizer", "bias_constraint")

    def __init__(self, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 activation: str | None = None, use_bias: bool = True, bias_initializer: Any = "zeros",
                 bias_regularizer: Any = None, activity_regularizer: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        cls = self.class_name
        check_layout(cls, padding, data_format)
        self.kernel_size = pair(kernel_size, cls, "kernel_size")
        self.strides = pair(strides, cls, "strides")
        self.dilation_rate = pair(dilation_rate, cls, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            # tfjs-core's conv ops refuse this too ("Either strides or dilations must be 1").
            raise unsupported_value(cls, "dilation_rate", dilation_rate)
        self.padding = padding
        self.activation = canonical_activation(activation, cls)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializer_config(bias_initializer)
        self._base_kept = {"bias_regularizer": bias_regularizer, "activity_regularizer": activity_regularizer,
                           "bias_constraint": bias_constraint}
        super().__init__(**kwargs)
        self.window = Window(self.kernel_size, self.strides, self.dilation_rate, padding)

    def _channels(self, input_shape: Any) -> int:
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(f"{self.name}: {self.class_name} needs input of shape [batch, h, w, channels], "
                             f"got {list(input_shape)}")
        return int(input_shape[-1])

    def _finish(self, y: np.ndarray) -> np.ndarray:
        if self.use_bias:
            y = bias_add(y, self.weight("bias"))
        return get_activation(self.activation)(y)

    def _base_config(self) -> dict[str, Any]:
        return {"kernel_size": list(self.kernel_size), "strides": list(self.strides), "padding": self.padding,
                "data_format": "channels_last", "dilation_rate": list(self.dilation_rate),
                "activation": self.activation, "use_bias": self.use_bias, "bias_initializer": self.bias_initializer,
                "bias_regularizer": self._base_kept["bias_regularizer"],
                "activity_regularizer": self._base_kept["activity_regularizer"],
                "bias_constraint": self._base_kept["bias_constraint"]}


class Conv2D(_BaseConv):
    """2-D convolution over channels-last images: ``activation(conv(x, kernel) + bias)``.

    Parameters
    ----------
    filters
        Output channels.
    kernel_size, strides, dilation_rate
        An int or ``[rows, cols]``; strides and dilation cannot both exceed 1.
    padding
        ``"valid"`` or ``"same"`` (TF's split: the odd padding row/column goes last).
    activation, use_bias, kernel_initializer, bias_initializer
        As for :class:`Dense`; the kernel is ``[rows, cols, in_channels, filters]``.
    **kwargs
        ``name``, ``input_shape``, ``seed``... (see :class:`Layer`).

    Examples
    --------
    >>> from pyweb.layers import Conv2D, Sequential
    >>> model = Sequential([Conv2D(8, 3, padding="same", activation="relu", input_shape=[28, 28, 1])])
    """

    class_name = "Conv2D"
    config_keys = ("filters", "kernel_initializer", "kernel_regularizer", "kernel_constraint", *_BaseConv._BASE_KEYS)

    def __init__(self, filters: int, kernel_size: int | Sequence[int], *, kernel_initializer: Any = "glorot_normal",
                 kernel_regularizer: Any = None, kernel_constraint: Any = None, **kwargs: Any) -> None:
        self.filters = positive_int(filters, self.class_name, "filters")
        self.kernel_initializer = initializer_config(kernel_initializer)
        self._kernel_kept = {"kernel_regularizer": kernel_regularizer, "kernel_constraint": kernel_constraint}
        super().__init__(kernel_size, **kwargs)
        self._build_if_shaped()

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        rng = self._rng()
        shape = (*self.kernel_size, self._channels(input_shape), self.filters)
        self.add_weight("kernel", sample(self.kernel_initializer, shape, rng))
        if self.use_bias:
            self.add_weight("bias", sample(self.bias_initializer, (self.filters,), rng))
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], *self.window.output_hw(input_shape[1], input_shape[2]), self.filters)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return self._finish(accumulate_taps(inputs, self.weight("kernel"), self.window, depthwise=False))

    def layer_config(self) -> dict[str, Any]:
        return {"filters": self.filters, "kernel_initializer": self.kernel_initializer,
                "kernel_regularizer": self._kernel_kept["kernel_regularizer"],
                "kernel_constraint": self._kernel_kept["kernel_constraint"], **self._base_config()}

    @classmethod
    def _from_own(cls, own: dict[str, Any], base: dict[str, Any]) -> Layer:
        own = dict(own)
        return cls(own.pop("filters"), own.pop("kernel_size"), **own, **base)


class DepthwiseConv2D(_BaseConv):
    """Depthwise 2-D convolution: each input channel gets ``depth_multiplier`` filters of its own.

    The weight is ``depthwise_kernel`` of shape ``[rows, cols, in_channels, depth_multiplier]``;
    output channel ``c * depth_multiplier + m`` comes from input channel ``c``. Other
    parameters as :class:`Conv2D`.
    """

    class_name = "DepthwiseConv2D"
    _OWN = ("depth_multiplier", "depthwise_initializer", "depthwise_regularizer", "depthwise_constraint")
    config_keys = (*_BaseConv._BASE_KEYS, *_OWN)

    def __init__(self, kernel_size: int | Sequence[int], *, depth_multiplier: int = 1,
                 depthwise_initializer: Any = "glorot_normal", depthwise_regularizer: Any = None,
                 depthwise_constraint: Any = None, **kwargs: Any) -> None:
        self.depth_multiplier = positive_int(depth_multiplier, self.class_name, "depth_multiplier")
        self.depthwise_initializer = initializer_config(depthwise_initializer)
        self._dw_kept = {"depthwise_regularizer": depthwise_regularizer, "depthwise_constraint": depthwise_constraint}
        super().__init__(kernel_size, **kwargs)
        self._build_if_shaped()

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        rng = self._rng()
        channels = self._channels(input_shape)
        shape = (*self.kernel_size, channels, self.depth_multiplier)
        self.add_weight("depthwise_kernel", sample(self.depthwise_initializer, shape, rng))
        if self.use_bias:
            self.add_weight("bias", sample(self.bias_initializer, (channels * self.depth_multiplier,), rng))
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        channels = None if input_shape[3] is None else input_shape[3] * self.depth_multiplier
        return (input_shape[0], *self.window.output_hw(input_shape[1], input_shape[2]), channels)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return self._finish(accumulate_taps(inputs, self.weight("depthwise_kernel"), self.window, depthwise=True))

    def layer_config(self) -> dict[str, Any]:
        return self._base_config()

    def get_config(self) -> dict[str, Any]:
        # TF.js appends the depthwise keys after BaseConv's config, base keys included.
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": self.depthwise_initializer, **self._dw_kept}

    @classmethod
    def _from_own(cls, own: dict[str, Any], base: dict[str, Any]) -> Layer:
        own = dict(own)
        return cls(own.pop("kernel_size"), **own, **base)
