"""Element-wise merge layers: Add, Multiply, Average, Maximum, Minimum (tfjs-layers merge.ts).

Inputs are combined left to right, each step rounded to float32 as TF.js's CPU
kernels do. Shapes broadcast as in TF.js's ``Merge``: an input of lower rank gains
axes right after the batch axis, then dimensions of 1 stretch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Layer

__all__ = ["Add", "Average", "Maximum", "Minimum", "Multiply"]


def _broadcast(shape1: list | None, shape2: list | None, layer: str) -> list | None:
    """TF.js ``computeElementwiseOpOutputShape`` on shapes without the batch axis."""
    if shape1 is None or shape2 is None:
        return None
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    out = list(shape1[:len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
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
        out = list(input_shape[0][1:])
        for shape in input_shape[1:]:
            out = _broadcast(out, list(shape[1:]), self.name)
        return (batches.pop() if batches else None, *out)

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
