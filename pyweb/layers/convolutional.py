"""Conv1D, Conv2D, Conv3D, DepthwiseConv2D and SeparableConv2D, computed as TF.js's CPU backend does.

Every convolution is :func:`~pyweb.layers.windows.accumulate_taps`: TF.js's kernels
(Conv2D, Conv3D, DepthwiseConv2dNative) add one product at a time into float32,
kernel position by kernel position, input channel by input channel. Conv1D is
tfjs-core's ``conv1d``, a Conv2D over a height of 1; SeparableConv2D is a depthwise
convolution, then a 1x1 Conv2D on its float32 result. ``channels_first`` inputs are
transposed to channels-last and back, as tfjs-layers does.

Where TF.js 4.22 cannot run an option, or silently ignores it, pyweb refuses it by name:
Conv1D ``channels_first`` (TF.js returns the wrong layout), DepthwiseConv2D
``dilation_rate`` (TF.js ignores it), SeparableConv2D ``channels_first`` with a bias
(TF.js adds the bias along the wrong axis).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from .activations import canonical_activation, get_activation
from .base import Layer, positive_int, unsupported_value
from .initializers import initializer_config, sample
from .windows import Window, accumulate_taps, bias_add, channels_first, channels_last, ntuple, pair

__all__ = ["Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D", "Window", "check_layout", "pair"]

PADDINGS = ("valid", "same")
FORMATS = {None: "channels_last", "channels_last": "channels_last", "channels_first": "channels_first"}


def check_layout(layer_class: str, padding: str, data_format: str | None, paddings: Sequence[str] = PADDINGS) -> str:
    """The data format, or UnsupportedLayerError for a format or padding pyweb cannot run."""
    if data_format not in FORMATS:
        raise unsupported_value(layer_class, "data_format", data_format)
    if padding not in paddings:
        raise unsupported_value(layer_class, "padding", padding)
    return FORMATS[data_format]


class _BaseConv(Layer):
    """Keys and checks shared by the convolutions (TF.js ``BaseConv``); ``rank`` spatial axes."""

    rank = 2
    paddings: tuple[str, ...] = PADDINGS
    keras_defaults: ClassVar[dict[str, Any]] = {"groups": 1}
    _BASE_KEYS = (
        "kernel_size",
        "strides",
        "padding",
        "data_format",
        "dilation_rate",
        "activation",
        "use_bias",
        "bias_initializer",
        "bias_regularizer",
        "activity_regularizer",
        "bias_constraint",
    )

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        activation: str | None = None,
        use_bias: bool = True,
        bias_initializer: Any = "zeros",
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        cls, n = self.class_name, self.rank
        self.data_format = check_layout(cls, padding, data_format, self.paddings)
        self.kernel_size = ntuple(kernel_size, n, cls, "kernel_size")
        self.strides = ntuple(strides, n, cls, "strides")
        self.dilation_rate = ntuple(dilation_rate, n, cls, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            # tfjs-core's conv ops refuse this too ("Either strides or dilations must be 1").
            raise unsupported_value(cls, "dilation_rate", dilation_rate)
        self.padding = padding
        self.activation = canonical_activation(activation, cls)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializer_config(bias_initializer)
        self._base_kept = {
            "bias_regularizer": bias_regularizer,
            "activity_regularizer": activity_regularizer,
            "bias_constraint": bias_constraint,
        }
        super().__init__(**kwargs)
        # tfjs-core's 3-D geometry does not clamp a negative "same" padding; the 2-D one does.
        self.window = Window(self.kernel_size, self.strides, self.dilation_rate, padding, clamp=n != 3)

    @property
    def _first(self) -> bool:
        return self.data_format == "channels_first"

    def _channels(self, input_shape: Any) -> int:
        axis = 1 if self._first else -1
        if len(input_shape) != self.rank + 2 or input_shape[axis] is None:
            raise ValueError(
                f"{self.name}: {self.class_name} needs {self.rank + 2}-D input with known channels "
                f"({self.data_format}), got {list(input_shape)}"
            )
        return int(input_shape[axis])

    def _spatial(self, input_shape: Any) -> list[Any]:
        return list(input_shape[2:] if self._first else input_shape[1:-1])

    def _shape(self, batch: Any, spatial: Sequence[Any], channels: Any) -> tuple[Any, ...]:
        return (batch, channels, *spatial) if self._first else (batch, *spatial, channels)

    def _in(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        return channels_last(x) if self._first else x

    def _finish(self, y: np.ndarray) -> np.ndarray:
        if self.use_bias:
            y = bias_add(y, self.weight("bias"))
        y = get_activation(self.activation)(y)
        return channels_first(y) if self._first else y

    def _base_config(self) -> dict[str, Any]:
        return {
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": self.activation,
            "use_bias": self.use_bias,
            "bias_initializer": self.bias_initializer,
            "bias_regularizer": self._base_kept["bias_regularizer"],
            "activity_regularizer": self._base_kept["activity_regularizer"],
            "bias_constraint": self._base_kept["bias_constraint"],
        }


class _Conv(_BaseConv):
    """A convolution with ``filters`` outputs and a ``kernel`` weight (TF.js ``Conv``)."""

    config_keys = ("filters", "kernel_initializer", "kernel_regularizer", "kernel_constraint", *_BaseConv._BASE_KEYS)

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        *,
        kernel_initializer: Any = "glorot_normal",
        kernel_regularizer: Any = None,
        kernel_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        self.filters = positive_int(filters, self.class_name, "filters")
        self.kernel_initializer = initializer_config(kernel_initializer)
        self._kernel_kept = {"kernel_regularizer": kernel_regularizer, "kernel_constraint": kernel_constraint}
        super().__init__(kernel_size, **kwargs)
        self._build_if_shaped()

    def _kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, channels, self.filters)

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        rng = self._rng()
        self.add_weight("kernel", sample(self.kernel_initializer, self._kernel_shape(self._channels(input_shape)), rng))
        if self.use_bias:
            self.add_weight("bias", sample(self.bias_initializer, (self.filters,), rng))
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self._shape(input_shape[0], self.window.output_sizes(*self._spatial(input_shape)), self.filters)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return self._finish(accumulate_taps(self._in(inputs), self.weight("kernel"), self.window))

    def layer_config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "kernel_initializer": self.kernel_initializer,
            "kernel_regularizer": self._kernel_kept["kernel_regularizer"],
            "kernel_constraint": self._kernel_kept["kernel_constraint"],
            **self._base_config(),
        }

    @classmethod
    def _from_own(cls, own: dict[str, Any], base: dict[str, Any]) -> Layer:
        own = dict(own)
        return cls(own.pop("filters"), own.pop("kernel_size"), **own, **base)


class Conv2D(_Conv):
    """2-D convolution over images: ``activation(conv(x, kernel) + bias)``.

    Parameters
    ----------
    filters
        Output channels.
    kernel_size, strides, dilation_rate
        An int or ``[rows, cols]``; strides and dilation cannot both exceed 1.
    padding
        ``"valid"`` or ``"same"`` (TF's split: the odd padding row/column goes last).
    data_format
        ``"channels_last"`` (default, ``[batch, rows, cols, channels]``) or ``"channels_first"``.
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


class Conv1D(_Conv):
    """1-D convolution over sequences ``[batch, steps, channels]``; the kernel is ``[k, in, filters]``.

    ``padding`` may also be ``"causal"`` (Keras's: zeros before the first step only, so
    output ``t`` sees steps up to ``t``). TF.js 4.22 accepts ``causal`` in a config but
    throws when it predicts; pyweb computes it as a ``valid`` convolution of the padded
    sequence. TF.js does not write ``data_format`` for Conv1D; pyweb runs channels-last only.
    Other parameters as :class:`Conv2D`.
    """

    class_name = "Conv1D"
    rank = 1
    paddings = (*PADDINGS, "causal")

    def __init__(self, filters: int, kernel_size: int | Sequence[int], **kwargs: Any) -> None:
        if FORMATS.get(kwargs.get("data_format")) == "channels_first":
            raise unsupported_value(self.class_name, "data_format", kwargs["data_format"])
        super().__init__(filters, kernel_size, **kwargs)

    def _in(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, np.float32)[:, None]  # tfjs-core conv1d: a conv2d over a height of 1

    def call(self, inputs: np.ndarray) -> np.ndarray:
        window = Window([1, *self.kernel_size], [1, *self.strides], [1, *self.dilation_rate], self.padding)
        y = accumulate_taps(self._in(inputs), self.weight("kernel")[None], window)
        return self._finish(y[:, 0])

    def layer_config(self) -> dict[str, Any]:
        config = super().layer_config()
        del config["data_format"]
        return config


class Conv3D(_Conv):
    """3-D convolution over volumes ``[batch, depth, rows, cols, channels]`` (or channels first).

    The kernel is ``[kd, kh, kw, in_channels, filters]``. Other parameters as :class:`Conv2D`.
    """

    class_name = "Conv3D"
    rank = 3


class DepthwiseConv2D(_BaseConv):
    """Depthwise 2-D convolution: each input channel gets ``depth_multiplier`` filters of its own.

    The weight is ``depthwise_kernel`` of shape ``[rows, cols, in_channels, depth_multiplier]``;
    output channel ``c * depth_multiplier + m`` comes from input channel ``c``. TF.js 4.22
    ignores ``dilation_rate`` here, so pyweb accepts only 1. Other parameters as :class:`Conv2D`.
    """

    class_name = "DepthwiseConv2D"
    _OWN = ("depth_multiplier", "depthwise_initializer", "depthwise_regularizer", "depthwise_constraint")
    config_keys = (*_BaseConv._BASE_KEYS, *_OWN)

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        *,
        depth_multiplier: int = 1,
        depthwise_initializer: Any = "glorot_normal",
        depthwise_regularizer: Any = None,
        depthwise_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        self.depth_multiplier = positive_int(depth_multiplier, self.class_name, "depth_multiplier")
        self.depthwise_initializer = initializer_config(depthwise_initializer)
        self._dw_kept = {"depthwise_regularizer": depthwise_regularizer, "depthwise_constraint": depthwise_constraint}
        super().__init__(kernel_size, **kwargs)
        if max(self.dilation_rate) > 1:
            raise unsupported_value(self.class_name, "dilation_rate", kwargs.get("dilation_rate"))
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
        channels = input_shape[1 if self._first else -1]
        channels = None if channels is None else channels * self.depth_multiplier
        return self._shape(input_shape[0], self.window.output_sizes(*self._spatial(input_shape)), channels)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return self._finish(
            accumulate_taps(self._in(inputs), self.weight("depthwise_kernel"), self.window, depthwise=True)
        )

    def layer_config(self) -> dict[str, Any]:
        return self._base_config()

    def get_config(self) -> dict[str, Any]:
        # TF.js appends the depthwise keys after BaseConv's config, base keys included.
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": self.depthwise_initializer,
            **self._dw_kept,
        }

    @classmethod
    def _from_own(cls, own: dict[str, Any], base: dict[str, Any]) -> Layer:
        own = dict(own)
        return cls(own.pop("kernel_size"), **own, **base)


class SeparableConv2D(_BaseConv):
    """Depthwise then pointwise (1x1) 2-D convolution, as tfjs-core ``separableConv2d``.

    Weights: ``depthwise_kernel`` ``[rows, cols, in, depth_multiplier]``, ``pointwise_kernel``
    ``[1, 1, in * depth_multiplier, filters]``, then ``bias``. As in TF.js 4.22, the
    pointwise initializer is the depthwise one (TF.js reads ``depthwise_initializer`` for
    both), and ``channels_first`` runs only without a bias. TF.js does not save
    ``depth_multiplier``, so a TF.js resave of a model with a multiplier other than 1 no
    longer loads; pyweb writes it, last, whenever it is not 1.
    """

    class_name = "SeparableConv2D"
    _OWN = (
        "depth_multiplier",
        "depthwise_initializer",
        "pointwise_initializer",
        "depthwise_regularizer",
        "pointwise_regularizer",
        "depthwise_constraint",
        "pointwise_constraint",
    )
    config_keys = ("filters", *_BaseConv._BASE_KEYS, *_OWN)
    keras_defaults: ClassVar[dict[str, Any]] = {
        "groups": 1,
        "kernel_initializer": None,
        "kernel_regularizer": None,
        "kernel_constraint": None,
    }

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        *,
        depth_multiplier: int = 1,
        depthwise_initializer: Any = None,
        pointwise_initializer: Any = None,
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        self.filters = positive_int(filters, self.class_name, "filters")
        self.depth_multiplier = positive_int(depth_multiplier, self.class_name, "depth_multiplier")
        self.depthwise_initializer = initializer_config(depthwise_initializer or "glorot_uniform")
        self.pointwise_initializer = self.depthwise_initializer  # TF.js: config.depthwiseInitializer || default
        self._sep_kept = {
            "depthwise_regularizer": depthwise_regularizer,
            "pointwise_regularizer": pointwise_regularizer,
            "depthwise_constraint": depthwise_constraint,
            "pointwise_constraint": pointwise_constraint,
        }
        super().__init__(kernel_size, **kwargs)
        if self._first and self.use_bias:
            raise unsupported_value(self.class_name, "data_format", self.data_format)
        self._build_if_shaped()

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        rng = self._rng()
        channels = self._channels(input_shape)
        mid = channels * self.depth_multiplier
        self.add_weight(
            "depthwise_kernel",
            sample(self.depthwise_initializer, (*self.kernel_size, channels, self.depth_multiplier), rng),
        )
        self.add_weight("pointwise_kernel", sample(self.pointwise_initializer, (1, 1, mid, self.filters), rng))
        if self.use_bias:
            self.add_weight("bias", sample(self.bias_initializer, (self.filters,), rng))
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self._shape(input_shape[0], self.window.output_sizes(*self._spatial(input_shape)), self.filters)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        mid = accumulate_taps(self._in(inputs), self.weight("depthwise_kernel"), self.window, depthwise=True)
        pointwise = Window((1, 1), (1, 1), (1, 1), "valid")
        return self._finish(accumulate_taps(mid, self.weight("pointwise_kernel"), pointwise))

    def layer_config(self) -> dict[str, Any]:
        return {"filters": self.filters, **self._base_config()}

    def get_config(self) -> dict[str, Any]:
        config = {
            **super().get_config(),
            "depthwise_initializer": self.depthwise_initializer,
            "pointwise_initializer": self.pointwise_initializer,
        }
        for key in ("regularizer", "constraint"):
            config[f"depthwise_{key}"] = self._sep_kept[f"depthwise_{key}"]
            config[f"pointwise_{key}"] = self._sep_kept[f"pointwise_{key}"]
        if self.depth_multiplier != 1:
            config["depth_multiplier"] = self.depth_multiplier
        return config

    @classmethod
    def _from_own(cls, own: dict[str, Any], base: dict[str, Any]) -> Layer:
        own = dict(own)
        return cls(own.pop("filters"), own.pop("kernel_size"), **own, **base)
