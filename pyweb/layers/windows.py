"""Sliding windows over 1-D, 2-D and 3-D inputs: geometry, taps and tap-by-tap sums.

Geometry follows tfjs-core ``conv_util``: ``valid`` windows stay inside the input;
``same`` gives ``ceil(size / stride)`` outputs and splits the padding with the odd
cell at the end. The 2-D code clamps a negative padding to 0; the 3-D code
(``get3DPadAndOutInfo``) does not, so a 3-D window whose kernel is smaller than its
stride starts ``-pad`` cells in, and ``clamp=False`` reproduces that.

TF.js's CPU convolution kernels add one product at a time into a float32 output,
in kernel-position then input-channel order, skipping taps that fall in the
padding. :func:`accumulate_taps` does the same adds, each vectorised over every
output position, so results agree bit for bit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .base import unsupported_value

__all__ = ["Window", "accumulate_taps", "bias_add", "channels_first", "channels_last", "ntuple", "pair"]


def ntuple(value: Any, n: int, layer_class: str, option: str) -> list[int]:
    """``3`` or ``[3, 2]`` → a list of ``n`` positive ints; anything else raises UnsupportedLayerError."""
    values = [value] * n if isinstance(value, (int, np.integer)) else list(value)
    if len(values) != n or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in values
    ):
        raise unsupported_value(layer_class, option, value)
    return [int(v) for v in values]


def pair(value: int | Sequence[int], layer_class: str, option: str) -> list[int]:
    """``3`` or ``[3, 2]`` → ``[3, 3]`` / ``[3, 2]``; anything else raises UnsupportedLayerError."""
    return ntuple(value, 2, layer_class, option)


def channels_last(x: np.ndarray) -> np.ndarray:
    """``[batch, channels, *spatial]`` → ``[batch, *spatial, channels]``."""
    return np.moveaxis(x, 1, -1)


def channels_first(x: np.ndarray) -> np.ndarray:
    """``[batch, *spatial, channels]`` → ``[batch, channels, *spatial]``."""
    return np.ascontiguousarray(np.moveaxis(x, -1, 1))


def out_and_pad(
    size: int | None, kernel: int, stride: int, dilation: int, padding: str, clamp: bool = True
) -> tuple[Any, tuple[int, int]]:
    """Output length and (before, after) padding of one axis, as tfjs-core computes them."""
    effective = (kernel - 1) * dilation + 1
    if size is None:
        return None, (0, 0)
    if padding == "valid":
        return max(0, math.ceil((size - effective + 1) / stride)), (0, 0)
    if padding == "causal":  # Keras: pad the start only, so an output never sees later steps
        return math.ceil(size / stride), (effective - 1, 0)
    out = math.ceil(size / stride)
    total = (out - 1) * stride + effective - size
    if clamp:
        total = max(0, total)
    return out, (total // 2, total - total // 2)


class Window:
    """A sliding window over ``[batch, *spatial, channels]``: kernel, strides, dilations, padding."""

    def __init__(
        self, kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int], padding: str, clamp: bool = True
    ) -> None:
        self.kernel, self.strides, self.dilation = list(kernel), list(strides), list(dilation)
        self.padding, self.clamp = padding, clamp

    def _axes(self, sizes: Sequence[int | None]) -> list[tuple[Any, tuple[int, int]]]:
        return [
            out_and_pad(n, k, s, d, self.padding, self.clamp)
            for n, k, s, d in zip(sizes, self.kernel, self.strides, self.dilation)
        ]

    def output_sizes(self, *sizes: int | None) -> tuple[Any, ...]:
        return tuple(out for out, _ in self._axes(sizes))

    def output_hw(self, height: int | None, width: int | None) -> tuple[Any, ...]:
        return self.output_sizes(height, width)

    def pads(self, *sizes: int) -> list[tuple[int, int]]:
        return [pad for _, pad in self._axes(sizes)]

    def taps(self, x: np.ndarray, fill: float = 0.0) -> Iterator[np.ndarray]:
        """For each kernel tap (row-major), the input cells it sees: views ``[batch, *out, channels]``.

        Cells in the padding hold ``fill``.
        """
        axes = self._axes(x.shape[1:-1])
        widths = [(0, 0)] + [(max(lo, 0), max(hi, 0)) for _, (lo, hi) in axes] + [(0, 0)]
        if any(w != (0, 0) for w in widths):
            x = np.pad(x, widths, constant_values=fill)
        starts = [max(lo, 0) - lo for _, (lo, _hi) in axes]
        for tap in itertools.product(*(range(k) for k in self.kernel)):
            index = [slice(None)]
            for t, (out, _), start, s, d in zip(tap, axes, starts, self.strides, self.dilation):
                first = start + t * d
                index.append(slice(first, first + (out - 1) * s + 1, s))
            yield x[(*index, slice(None))]


def accumulate_taps(x: np.ndarray, kernel: np.ndarray, window: Window, depthwise: bool = False) -> np.ndarray:
    """Convolution summed into float32 one product at a time, in TF.js CPU order.

    ``kernel`` is ``[*k, cin, cout]`` (or ``[kh, kw, cin, multiplier]`` when
    ``depthwise``). Padding cells contribute ``0 * w``, which leaves the sum unchanged,
    just as TF.js skips them.
    """
    x64: np.ndarray = np.asarray(x, np.float32).astype(np.float64)
    w64: np.ndarray = np.asarray(kernel, np.float32).astype(np.float64)
    w_taps: np.ndarray = w64.reshape((-1, *w64.shape[-2:]))
    y: np.ndarray | None = None
    for w, view in zip(w_taps, window.taps(x64)):
        if y is None:
            channels = view.shape[-1] * w.shape[1] if depthwise else w.shape[1]
            y = np.zeros((*view.shape[:-1], channels), np.float32)
        if depthwise:
            # Each (channel, multiplier) output gets exactly one product per tap.
            flat = y.reshape(y.shape[:-1] + w.shape)
            np.add(flat, view[..., :, None] * w, out=flat, casting="unsafe")
            continue
        for d in range(w.shape[0]):
            # float64 sum of float32 partial and exact product, rounded to float32, as JS does.
            np.add(y, view[..., d : d + 1] * w[d], out=y, casting="unsafe")
    assert y is not None
    return y


def bias_add(y: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``y + bias`` rounded once to float32, as TF.js's add kernel."""
    return (y.astype(np.float64) + bias).astype(np.float32)
