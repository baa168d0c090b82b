"""Conv2DTranspose and Conv3DTranspose, computed as TF.js's CPU backend does.

TF.js runs a transposed convolution as the input gradient of a convolution
(tfjs-backend-cpu Conv2DBackpropInput / Conv3DBackpropInputV2): each output cell sums,
in a JS number (float64), the products of the input cells whose window covers it,
input position by input position (row-major), input channel by input channel, with
the kernel flipped; the sum is rounded to float32 once. :func:`transpose_taps` adds
the same products in the same order, each add vectorised over every output cell.

The output size is tfjs-layers ``deconvLength``: ``size * stride`` for ``same``,
``size * stride + max(kernel - stride, 0)`` for ``valid``. TF.js has no
``output_padding`` and ignores ``dilation_rate`` here; pyweb accepts both only at
their defaults and, like TF.js, does not write ``dilation_rate``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from .base import unsupported_value
from .convolutional import _Conv
from .windows import out_and_pad

__all__ = ["Conv2DTranspose", "Conv3DTranspose", "deconv_length", "transpose_taps"]


def deconv_length(size: int | None, stride: int, kernel: int, padding: str) -> int | None:
    """tfjs-layers ``deconvLength``: the output length of a transposed convolution."""
    if size is None:
        return None
    return size * stride + max(kernel - stride, 0) if padding == "valid" else size * stride


def _axis_plan(in_size: int, out_size: int, kernel: int, stride: int, padding: str, clamp: bool) -> list[Any]:
    """For one axis: per contribution ``j``, (input index, flipped kernel index, valid) of each output cell."""
    _, (lo, _hi) = out_and_pad(out_size, kernel, stride, 1, padding, clamp)
    corner = np.arange(out_size) - (kernel - 1 - lo)
    first = np.maximum(0, -(-corner // stride))  # ceil(corner / stride), at least 0
    plan = []
    for j in range(-(-kernel // stride)):
        y = first + j
        tap = y * stride - corner
        valid = (tap < kernel) & (y < in_size)
        plan.append((np.where(valid, y, 0), np.where(valid, kernel - 1 - tap, 0), valid))
    return plan


def transpose_taps(
    x: np.ndarray,
    kernel: np.ndarray,
    strides: Sequence[int],
    padding: str,
    out_sizes: Sequence[int],
    clamp: bool = True,
) -> np.ndarray:
    """Transposed convolution of channels-last ``x`` with ``kernel`` ``[*k, filters, in]``, in TF.js order."""
    x = np.asarray(x, np.float32)
    w = np.asarray(kernel, np.float32).astype(np.float64)
    rank = len(out_sizes)
    plans = [_axis_plan(x.shape[1 + a], out_sizes[a], w.shape[a], strides[a], padding, clamp) for a in range(rank)]
    acc = np.zeros((x.shape[0], *out_sizes, w.shape[-2]), np.float64)
    for combo in itertools.product(*plans):
        grids = np.ix_(*(ys for ys, _, _ in combo))
        valid = np.ones(out_sizes, bool)
        for axis, (_, _, ok) in enumerate(combo):
            valid = valid & ok.reshape([-1 if a == axis else 1 for a in range(rank)])
        pixels = np.where(valid[None, ..., None], x[(slice(None), *grids)], 0).astype(np.float64)
        weights = w[np.ix_(*(taps for _, taps, _ in combo))]  # [*out, filters, in]
        for d in range(x.shape[-1]):
            acc += pixels[..., d : d + 1] * weights[..., d]
    return acc.astype(np.float32)


class _ConvTranspose(_Conv):
    """Shared by the transposed convolutions: ``kernel`` is ``[*k, filters, in_channels]``."""

    keras_defaults: ClassVar[dict[str, Any]] = {"groups": 1, "output_padding": None}

    def __init__(self, filters: int, kernel_size: int | Sequence[int], **kwargs: Any) -> None:
        dilation = kwargs.get("dilation_rate", 1)
        super().__init__(filters, kernel_size, **kwargs)
        if max(self.dilation_rate) > 1:
            raise unsupported_value(self.class_name, "dilation_rate", dilation)

    def _kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, self.filters, channels)

    def _out_sizes(self, spatial: Sequence[Any]) -> list[Any]:
        return [deconv_length(n, s, k, self.padding) for n, s, k in zip(spatial, self.strides, self.kernel_size)]

    def compute_output_shape(self, input_shape: Any) -> Any:
        self._channels(input_shape)
        return self._shape(input_shape[0], self._out_sizes(self._spatial(input_shape)), self.filters)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        x = self._in(inputs)
        y = transpose_taps(
            x, self.weight("kernel"), self.strides, self.padding, self._out_sizes(x.shape[1:-1]), clamp=self.rank != 3
        )
        return self._finish(y)

    def layer_config(self) -> dict[str, Any]:
        config = super().layer_config()
        del config["dilation_rate"]
        return config


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution ("deconvolution"): images ``strides`` times larger.

    Parameters as :class:`Conv2D`, except that ``padding`` is ``"valid"`` or ``"same"``,
    ``dilation_rate`` must be 1 and the kernel is ``[rows, cols, filters, in_channels]``.
    """

    class_name = "Conv2DTranspose"


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution; the kernel is ``[kd, kh, kw, filters, in_channels]``."""

    class_name = "Conv3DTranspose"
    rank = 3
