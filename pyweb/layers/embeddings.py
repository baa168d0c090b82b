"""Embedding: look up rows of the ``embeddings`` matrix by integer index, as TF.js does.

TF.js casts non-int32 input to int32 (``Int32Array.from``: truncation toward zero, NaN
to 0) and gathers; an index outside ``[0, input_dim)`` is an error there and here.
Without ``input_shape``/``batch_input_shape`` TF.js sets the batch input shape to
``[batch_size, input_length]`` itself, and then writes no ``dtype`` (tfjs-layers
src/layers/embeddings.ts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Layer, positive_int
from .initializers import initializer_config, sample

__all__ = ["Embedding"]

_DEFAULT_INITIALIZER = {"class_name": "RandomUniform", "config": {"minval": -0.05, "maxval": 0.05, "seed": None}}


def tfjs_int32(x: np.ndarray) -> np.ndarray:
    """float → int32 as ``Int32Array.from``: truncate toward zero, NaN/±inf to 0, wrap modulo 2**32."""
    x = np.asarray(x, np.float64)
    t = np.trunc(np.where(np.isfinite(x), x, 0.0))
    return np.mod(t, 2.0**32).astype(np.int64).astype(np.uint32).view(np.int32)


class Embedding(Layer):
    """Map integer indices to dense vectors: ``[batch, ...]`` → ``[batch, ..., output_dim]``.

    Parameters
    ----------
    input_dim
        Vocabulary size; indices must lie in ``[0, input_dim)``.
    output_dim
        Vector size.
    embeddings_initializer
        Default TF.js's RandomUniform(-0.05, 0.05).
    mask_zero
        Hand on the mask ``inputs != 0`` (taken before the cast to int32, so a token 0.25
        looks up row 0 but is not masked, as in TF.js); RNNs then skip masked steps.
    input_length
        Fixed sequence length, needed to Flatten the output (TF.js/Keras semantics).
    **kwargs
        ``name``, ``input_shape``, ``batch_input_shape``, ``batch_size``, ``seed``...

    Examples
    --------
    >>> from pyweb.layers import Embedding, Sequential
    >>> model = Sequential([Embedding(100, 8, input_length=5)])
    >>> model.predict(np.array([[1, 2, 3, 4, 5]])).shape
    (1, 5, 8)
    """

    class_name = "Embedding"
    config_keys = (
        "input_dim",
        "output_dim",
        "embeddings_initializer",
        "embeddings_regularizer",
        "activity_regularizer",
        "embeddings_constraint",
        "mask_zero",
        "input_length",
    )

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = None,
        embeddings_regularizer: Any = None,
        activity_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool | None = None,
        input_length: int | Sequence[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if self.batch_input_shape is None:
            lengths = list(input_length) if isinstance(input_length, (list, tuple)) else [input_length]
            self.batch_input_shape = [kwargs.get("batch_size"), *lengths]
        self.input_dim = positive_int(input_dim, "Embedding", "input_dim")
        self.output_dim = positive_int(output_dim, "Embedding", "output_dim")
        if self.input_dim <= 0 or self.output_dim <= 0:
            raise ValueError(f"Embedding needs positive input_dim and output_dim, got {input_dim}, {output_dim}")
        self.embeddings_initializer = (
            dict(_DEFAULT_INITIALIZER) if embeddings_initializer is None else initializer_config(embeddings_initializer)
        )
        self._kept = {
            "embeddings_regularizer": embeddings_regularizer,
            "activity_regularizer": activity_regularizer,
            "embeddings_constraint": embeddings_constraint,
        }
        self.mask_zero, self.input_length = mask_zero, input_length
        self.build(tuple(self.batch_input_shape))

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        shape = (self.input_dim, self.output_dim)
        self.add_weight("embeddings", sample(self.embeddings_initializer, shape, self._rng()))
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self.input_length is None:
            return (*input_shape, self.output_dim)
        lengths = list(self.input_length) if isinstance(self.input_length, (list, tuple)) else [self.input_length]
        if len(lengths) != len(input_shape) - 1:
            raise ValueError(
                f"{self.name}: input_length {self.input_length} does not fit input shape {list(input_shape)}"
            )
        return (
            input_shape[0],
            *[given if given is not None else got for given, got in zip(lengths, input_shape[1:])],
            self.output_dim,
        )

    def call(self, inputs: np.ndarray) -> np.ndarray:
        index = tfjs_int32(inputs)
        bad = (index < 0) | (index >= self.input_dim)
        if bad.any():
            raise ValueError(f"{self.name}: index {int(index[bad].flat[0])} is not in [0, {self.input_dim - 1}]")
        return self.weight("embeddings")[index]

    @property
    def supports_masking(self) -> bool:  # type: ignore[override]
        return bool(self.mask_zero)  # TF.js: supportsMasking = maskZero

    def compute_mask(self, inputs: list[np.ndarray], masks: list[np.ndarray | None]) -> Any:
        return np.asarray(inputs[0], np.float32) != 0 if self.mask_zero else None

    def layer_config(self) -> dict[str, Any]:
        return {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": self.embeddings_initializer,
            **self._kept,
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        }
