"""Masking: mark time steps whose features all equal ``mask_value`` as padding (tfjs-layers core.ts).

The layer zeroes those steps (``x * any(x != mask_value)``, in float32, so a negative
value turns into -0) and hands on the mask ``any(x != mask_value, axis=-1)``, which
RNNs read to skip the steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Layer

__all__ = ["Masking"]


class Masking(Layer):
    """Mask time steps equal to ``mask_value`` in every feature.

    Parameters
    ----------
    mask_value
        The padding value (default 0).

    Examples
    --------
    >>> from pyweb.layers import LSTM, Masking, Sequential
    >>> model = Sequential([Masking(input_shape=[5, 2]), LSTM(3)])
    """

    class_name = "Masking"
    config_keys = ("mask_value",)
    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = 0 if mask_value is None else mask_value

    def _keep(self, x: np.ndarray, keepdims: bool) -> np.ndarray:
        return np.any(np.asarray(x, np.float32) != np.float32(self.mask_value), axis=-1, keepdims=keepdims)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, np.float32)
        return np.multiply(x, self._keep(x, True).astype(np.float32), dtype=np.float32)

    def compute_mask(self, inputs: list[np.ndarray], masks: list[np.ndarray | None]) -> Any:
        return self._keep(inputs[0], False)

    def layer_config(self) -> dict[str, Any]:
        return {"mask_value": self.mask_value}
