"""Layers that move values without arithmetic: ZeroPadding2D, Cropping2D, UpSampling2D,
Permute, RepeatVector (tfjs-layers padding.ts, convolutional.ts, core.ts).

All but bilinear UpSampling2D copy values, so they are exact. Bilinear resizing
follows tfjs-backend-cpu's ResizeBilinear: float64 interpolation from TF's
``alignCorners=false`` source coordinates, rounded to float32 once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Layer, positive_int, unsupported_value

__all__ = ["Cropping2D", "Permute", "RepeatVector", "UpSampling2D", "ZeroPadding2D"]

_FORMATS = {None: "channels_last", "channels_last": "channels_last", "channels_first": "channels_first"}


def _data_format(layer_class: str, value: Any) -> str:
    if value not in _FORMATS:
        raise unsupported_value(layer_class, "data_format", value)
    return _FORMATS[value]


def _count(value: Any, layer_class: str, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{layer_class} option {option} must hold integers >= 0, not {value!r:.40}")
    return int(value)


def _two_pairs(value: Any, layer_class: str, option: str) -> list[list[int]]:
    """``n``, ``[rows, cols]`` or ``[[top, bottom], [left, right]]`` → the last form."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        n = _count(value, layer_class, option)
        return [[n, n], [n, n]]
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"{layer_class} option {option} must be an int, two ints or two pairs, not {value!r:.60}")
    out = []
    for side in value:
        if isinstance(side, (list, tuple)):
            if len(side) != 2:
                raise ValueError(f"{layer_class} option {option} pairs must have two ints, not {side!r:.40}")
            out.append([_count(side[0], layer_class, option), _count(side[1], layer_class, option)])
        else:
            n = _count(side, layer_class, option)
            out.append([n, n])
    return out


class _Spatial2D(Layer):
    """A layer on 4-D images, channels last (default) or first."""

    data_format: str  # set by each subclass's __init__

    def _spatial_axes(self) -> tuple[int, int]:
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    def _check_rank(self, input_shape: Any) -> None:
        if len(input_shape) != 4:
            raise ValueError(f"{self.name}: {self.class_name} needs 4-D input, got {list(input_shape)}")

    def _with_spatial(self, input_shape: Any, rows: Any, cols: Any) -> tuple[Any, ...]:
        shape = list(input_shape)
        (a, b) = self._spatial_axes()
        shape[a], shape[b] = rows, cols
        return tuple(shape)


class ZeroPadding2D(_Spatial2D):
    """Add rows and columns of zeros around images.

    ``padding`` is ``n``, ``[rows, cols]`` (symmetric) or ``[[top, bottom], [left, right]]``.
    """

    class_name = "ZeroPadding2D"
    config_keys = ("padding", "data_format")

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.padding = _two_pairs(1 if padding is None else padding, self.class_name, "padding")
        self.data_format = _data_format(self.class_name, data_format)

    def compute_output_shape(self, input_shape: Any) -> Any:
        self._check_rank(input_shape)
        a, b = self._spatial_axes()
        (top, bottom), (left, right) = self.padding
        return self._with_spatial(
            input_shape,
            None if input_shape[a] is None else input_shape[a] + top + bottom,
            None if input_shape[b] is None else input_shape[b] + left + right,
        )

    def call(self, inputs: np.ndarray) -> np.ndarray:
        widths: list[tuple[int, ...]] = [(0, 0)] * 4
        a, b = self._spatial_axes()
        widths[a], widths[b] = tuple(self.padding[0]), tuple(self.padding[1])
        return np.pad(np.asarray(inputs, np.float32), widths)

    def layer_config(self) -> dict[str, Any]:
        return {"padding": [list(p) for p in self.padding], "data_format": self.data_format}


class Cropping2D(_Spatial2D):
    """Remove rows and columns from the edges of images.

    ``cropping`` is ``n``, ``[rows, cols]`` (symmetric) or ``[[top, bottom], [left, right]]``.
    """

    class_name = "Cropping2D"
    config_keys = ("cropping", "data_format")

    def __init__(self, cropping: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cropping = _two_pairs(cropping, self.class_name, "cropping")
        self.data_format = _data_format(self.class_name, data_format)

    def compute_output_shape(self, input_shape: Any) -> Any:
        self._check_rank(input_shape)
        a, b = self._spatial_axes()
        sizes = []
        for axis, (lo, hi) in zip((a, b), self.cropping):
            size = input_shape[axis]
            if size is not None and size - lo - hi <= 0:
                raise ValueError(f"{self.name}: cropping {lo}+{hi} leaves nothing of a dimension of {size}")
            sizes.append(None if size is None else size - lo - hi)
        return self._with_spatial(input_shape, *sizes)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, np.float32)
        index = [slice(None)] * 4
        for axis, (lo, hi) in zip(self._spatial_axes(), self.cropping):
            if x.shape[axis] - lo - hi <= 0:
                raise ValueError(f"{self.name}: cropping {lo}+{hi} leaves nothing of a dimension of {x.shape[axis]}")
            index[axis] = slice(lo, x.shape[axis] - hi)
        return x[tuple(index)].copy()

    def layer_config(self) -> dict[str, Any]:
        return {"cropping": [list(c) for c in self.cropping], "data_format": self.data_format}


def _nearest_rows(old: int, new: int) -> np.ndarray:
    ratio = old / new  # float64, as the JS kernel
    return np.minimum(old - 1, np.floor(ratio * np.arange(new))).astype(np.intp)


def _bilinear_axis(x: np.ndarray, axis: int, new: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    old = x.shape[axis]
    frac = (old / new) * np.arange(new, dtype=np.float64)
    lo = np.maximum(0, np.floor(frac)).astype(np.intp)
    hi = np.minimum(old - 1, np.ceil(frac)).astype(np.intp)
    return lo, hi, frac - lo


class UpSampling2D(_Spatial2D):
    """Repeat image rows and columns ``size`` times (``"nearest"``) or interpolate (``"bilinear"``)."""

    class_name = "UpSampling2D"
    config_keys = ("size", "data_format", "interpolation")

    def __init__(
        self,
        size: int | Sequence[int] = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if size is None:
            size = (2, 2)
        values = [size, size] if isinstance(size, (int, np.integer)) else list(size)
        if len(values) != 2:
            raise ValueError(f"UpSampling2D size must be two positive ints, not {size!r:.40}")
        self.size = [positive_int(v, self.class_name, "size") for v in values]
        self.data_format = _data_format(self.class_name, data_format)
        if interpolation is None:
            interpolation = "nearest"
        if interpolation not in ("nearest", "bilinear"):
            raise unsupported_value(self.class_name, "interpolation", interpolation)
        self.interpolation = interpolation

    def compute_output_shape(self, input_shape: Any) -> Any:
        self._check_rank(input_shape)
        a, b = self._spatial_axes()
        return self._with_spatial(
            input_shape,
            None if input_shape[a] is None else input_shape[a] * self.size[0],
            None if input_shape[b] is None else input_shape[b] * self.size[1],
        )

    def call(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, np.float32)
        a, b = self._spatial_axes()
        new = (x.shape[a] * self.size[0], x.shape[b] * self.size[1])
        if self.interpolation == "nearest":
            x = np.take(x, _nearest_rows(x.shape[a], new[0]), axis=a)
            return np.take(x, _nearest_rows(x.shape[b], new[1]), axis=b)
        # TF.js: top/bottom interpolate across columns, then the result across rows, in float64.
        x64 = x.astype(np.float64)
        r_lo, r_hi, r_frac = _bilinear_axis(x64, a, new[0])
        c_lo, c_hi, c_frac = _bilinear_axis(x64, b, new[1])
        shape_r = [1] * 4
        shape_r[a] = -1
        shape_c = [1] * 4
        shape_c[b] = -1
        r_frac, c_frac = r_frac.reshape(shape_r), c_frac.reshape(shape_c)

        def row_interp(rows: np.ndarray) -> np.ndarray:
            left, right = np.take(rows, c_lo, axis=b), np.take(rows, c_hi, axis=b)
            return left + (right - left) * c_frac

        top = row_interp(np.take(x64, r_lo, axis=a))
        bottom = row_interp(np.take(x64, r_hi, axis=a))
        return (top + (bottom - top) * r_frac).astype(np.float32)

    def layer_config(self) -> dict[str, Any]:
        return {"size": list(self.size), "data_format": self.data_format, "interpolation": self.interpolation}


class Permute(Layer):
    """Reorder the non-batch axes: ``dims`` is a permutation of ``1..rank-1`` (``[2, 1]`` swaps two)."""

    class_name = "Permute"
    config_keys = ("dims",)

    def __init__(self, dims: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(dims, (list, tuple)) or sorted(
            int(d) if isinstance(d, (int, np.integer)) and not isinstance(d, bool) else -1 for d in dims
        ) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Permute dims must be consecutive integers from 1, in any order, not {dims!r:.60}")
        self.dims = [int(d) for d in dims]

    def compute_output_shape(self, input_shape: Any) -> Any:
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(
                f"{self.name}: Permute{self.dims} needs input of rank {len(self.dims) + 1}, got {list(input_shape)}"
            )
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.transpose(inputs, [0, *self.dims]))

    def layer_config(self) -> dict[str, Any]:
        return {"dims": list(self.dims)}


class RepeatVector(Layer):
    """``[batch, features]`` → ``[batch, n, features]``, the input repeated ``n`` times."""

    class_name = "RepeatVector"
    config_keys = ("n",)

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n = positive_int(n, self.class_name, "n")

    def compute_output_shape(self, input_shape: Any) -> Any:
        if len(input_shape) != 2:
            raise ValueError(f"{self.name}: RepeatVector needs 2-D input, got {list(input_shape)}")
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return np.repeat(np.asarray(inputs, np.float32)[:, None, :], self.n, axis=1)

    def layer_config(self) -> dict[str, Any]:
        return {"n": self.n}
