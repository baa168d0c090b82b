"""Merge layers: element-wise Add, Multiply, Average, Maximum, Minimum, and Dot (tfjs-layers merge.ts).

Inputs are combined left to right, each step rounded to float32 as TF.js's CPU
kernels do. Shapes broadcast as in TF.js's ``Merge``: an input of lower rank gains
axes right after the batch axis, then dimensions of 1 stretch.

Dot is tfjs-layers ``batchDot``: for two 2-D inputs a float32 product summed along the
axis in float64 (tfjs-backend-cpu Sum); otherwise TF.js's CPU batchMatMul, which sums
blocks of 48 products in float64 and adds each block into a float32 result. With
``normalize``, each input is first divided by its L2 norm (``sqrt(max(sum(x * x), 1e-7))``),
each step in float32 as TF.js does.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .base import Layer, unsupported_value

__all__ = ["Add", "Average", "Dot", "Maximum", "Minimum", "Multiply"]

#: tfjs-backend-cpu's matMul block size (float64 within a block, float32 between blocks).
MATMUL_BLOCK = 48
#: tfjs-layers ``epsilon()``, the floor of a squared norm in l2Normalize.
EPSILON = np.float32(1e-7)


def _broadcast(shape1: list[Any] | None, shape2: list[Any] | None, layer: str) -> list[Any] | None:
    """TF.js ``computeElementwiseOpOutputShape`` on shapes without the batch axis."""
    if shape1 is None or shape2 is None:
        return None
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    out = list(shape1[: len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2) :], shape2):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1:
            out.append(j if i == 1 else i)
        elif i != j:
            raise ValueError(f"{layer}: inputs of shapes {list(shape1)} and {list(shape2)} cannot be combined")
        else:
            out.append(i)
    return out


class _Merge(Layer):
    """Combine two or more inputs element-wise; subclasses define :meth:`combine`."""

    supports_masking = True

    def compute_mask(self, inputs: list[np.ndarray], masks: list[np.ndarray | None]) -> Any:
        """TF.js's Merge mask, as written there: the first mask with a new leading axis, and-ed
        with the masks of the inputs between the first and the last."""
        if all(m is None for m in masks):
            return None
        expanded = [None if m is None else np.asarray(m)[None] != 0 for m in masks]
        out = expanded[0]
        for m in expanded[1:-1]:
            if out is None or m is None:
                raise ValueError(f"{self.name}: TF.js cannot combine a missing mask with a present one")
            out = np.logical_and(out, m)
        return out

    def compute_output_shape(self, input_shape: Any) -> Any:
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(f"{self.name}: a {self.class_name} layer needs a list of at least 2 inputs")
        batches = {s[0] for s in input_shape if s[0] is not None}
        if len(batches) > 1:
            raise ValueError(f"{self.name}: inputs have different batch sizes {sorted(batches)}")
        out: list[Any] | None = list(input_shape[0][1:])
        for shape in input_shape[1:]:
            out = _broadcast(out, list(shape[1:]), self.name)
        return (batches.pop() if batches else None, *cast(list[Any], out))  # not None: the shapes are known

    def call(self, inputs: list[np.ndarray]) -> np.ndarray:
        arrays = [np.asarray(x, np.float32) for x in inputs]
        rank = max(x.ndim for x in arrays)
        # K.expandDims(x, 1) until every input has the highest rank.
        arrays = [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in arrays]
        out = arrays[0]
        for x in arrays[1:]:
            out = self.combine(out, x)
        return self.finish(out, len(arrays))

    def combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def finish(self, out: np.ndarray, count: int) -> np.ndarray:
        return out


class Add(_Merge):
    """Element-wise sum of several inputs."""

    class_name = "Add"

    def combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b


class Multiply(_Merge):
    """Element-wise product of several inputs."""

    class_name = "Multiply"

    def combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b


class Average(_Merge):
    """Element-wise mean: the inputs summed in order, then times ``float32(1 / n)``."""

    class_name = "Average"

    def combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def finish(self, out: np.ndarray, count: int) -> np.ndarray:
        return out * np.float32(1 / count)


class Maximum(_Merge):
    """Element-wise maximum (NaN wins, as ``Math.max``)."""

    class_name = "Maximum"

    def combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum(a, b)


class Minimum(_Merge):
    """Element-wise minimum (NaN wins, as ``Math.min``)."""

    class_name = "Minimum"

    def combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.minimum(a, b)


def sequential_sum(x: np.ndarray, axis: int, keepdims: bool = False) -> np.ndarray:
    """tf.sum on the CPU backend: a float64 running sum along ``axis`` in index order, rounded to float32."""
    total = np.zeros(np.delete(x.shape, axis), np.float64)
    for part in np.moveaxis(np.asarray(x, np.float32), axis, 0):
        total += part
    out = total.astype(np.float32)
    return np.expand_dims(out, axis) if keepdims else out


def batch_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for ``[batch, m, k]`` and ``[batch, k, n]`` in TF.js CPU batchMatMul order."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    out = np.zeros((a.shape[0], a.shape[1], b.shape[2]), np.float32)
    for k0 in range(0, a.shape[2], MATMUL_BLOCK):
        block = np.zeros(out.shape, np.float64)
        for k in range(k0, min(k0 + MATMUL_BLOCK, a.shape[2])):
            block += a64[:, :, k, None] * b64[:, None, k, :]
        out = (out.astype(np.float64) + block).astype(np.float32)
    return out


def l2_normalize(x: np.ndarray, axis: int) -> np.ndarray:
    """tfjs-layers ``l2Normalize``: ``x / sqrt(max(sum(x * x), epsilon))``, in float32."""
    norm = np.sqrt(np.maximum(sequential_sum(x * x, axis, keepdims=True), EPSILON))
    return x / norm


def batch_dot(x: np.ndarray, y: np.ndarray, axes: tuple[int, int]) -> np.ndarray:
    """tfjs-layers ``batchDot`` for inputs of rank 2 or 3."""
    xn, yn = x.ndim, y.ndim
    diff = abs(xn - yn)
    if xn > yn:
        y = y.reshape(y.shape + (1,) * diff)
    elif yn > xn:
        x = x.reshape(x.shape + (1,) * diff)
    if x.ndim == 2 and y.ndim == 2:
        out = sequential_sum(x * y, axes[0]) if axes[0] == axes[1] else sequential_sum(x.T * y, axes[1])
    else:
        a = x if axes[0] == x.ndim - 1 else np.swapaxes(x, -1, -2)
        b = np.swapaxes(y, -1, -2) if axes[1] == y.ndim - 1 else y
        out = batch_matmul(a, b)
    if diff > 0:
        start = xn + yn - 3 if xn > yn else xn - 1
        out = out.reshape([n for i, n in enumerate(out.shape) if not start <= i < start + diff])
    return out[:, None] if out.ndim == 1 else out


class Dot(Layer):
    """Dot product of two inputs along ``axes`` (an int, or one axis per input).

    Inputs have rank 2 or 3 (with the batch axis), as in TF.js. ``[batch, n]`` with
    ``[batch, n]`` gives ``[batch, 1]``; ``[batch, a, n]`` with ``[batch, b, n]`` and
    ``axes=2`` gives ``[batch, a, b]``. ``normalize=True`` gives cosine similarities.
    """

    class_name = "Dot"
    config_keys = ("axes", "normalize")

    def __init__(self, axes: int | list[int], normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axes, bool) or not (
            isinstance(axes, int)
            or (
                isinstance(axes, (list, tuple))
                and len(axes) == 2
                and all(isinstance(a, int) and not isinstance(a, bool) for a in axes)
            )
        ):
            raise unsupported_value(self.class_name, "axes", axes)
        self.axes = list(axes) if isinstance(axes, (list, tuple)) else axes
        self.normalize = bool(normalize)

    def _axes(self, rank1: int, rank2: int) -> tuple[int, int]:
        pair = self.axes if isinstance(self.axes, list) else [self.axes, self.axes]
        return pair[0] % rank1, pair[1] % rank2

    def compute_output_shape(self, input_shape: Any) -> Any:
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"{self.name}: a Dot layer needs a list of exactly 2 inputs")
        shape1, shape2 = list(input_shape[0]), list(input_shape[1])
        if len(shape1) > 3 or len(shape2) > 3 or min(len(shape1), len(shape2)) < 2:
            raise ValueError(f"{self.name}: Dot needs inputs of rank 2 or 3 (as TF.js), got {shape1} and {shape2}")
        a1, a2 = self._axes(len(shape1), len(shape2))
        if shape1[a1] != shape2[a2]:
            raise ValueError(f"{self.name}: dimension incompatibility: {shape1[a1]} != {shape2[a2]}")
        del shape1[a1], shape2[a2]
        out = shape1 + shape2[1:]
        return tuple(out + [1] if len(out) == 1 else out)

    def call(self, inputs: list[np.ndarray]) -> np.ndarray:
        x, y = (np.asarray(t, np.float32) for t in inputs)
        axes = self._axes(x.ndim, y.ndim)
        if self.normalize:
            x, y = l2_normalize(x, axes[0]), l2_normalize(y, axes[1])
        return batch_dot(x, y, axes)

    def layer_config(self) -> dict[str, Any]:
        return {"axes": self.axes, "normalize": self.normalize}
