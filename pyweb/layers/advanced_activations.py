"""Activation layers with options: ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax.

Each computes as TF.js's CPU kernels do (tfjs-layers advanced_activations.ts over
tfjs-backend-cpu): one float64 operation per element, rounded to float32. A layer
option that TF.js reads but was never given is left out of the saved config, as
``JSON.stringify`` leaves out ``undefined``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from .activations import elu
from .activations import softmax as _softmax_last
from .base import Layer, unsupported_value
from .initializers import initializer_config, sample

__all__ = ["ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax", "ThresholdedReLU"]

_UNSET: Any = object()


def _number(value: Any, layer_class: str, option: str) -> float | np.number[Any]:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value):
        raise ValueError(f"{layer_class} option {option} must be a finite number, not {value!r:.40}")
    return value


class ReLU(Layer):
    """``max(x, 0)``, clipped to ``max_value`` when one is given (Keras's ``ReLU(6.0)``).

    Keras's ``negative_slope`` and ``threshold`` are accepted at their defaults (0);
    TF.js does not implement other values, so neither does pyweb.
    """

    class_name = "ReLU"
    supports_masking = True
    config_keys = ("max_value",)
    keras_defaults: ClassVar[dict[str, Any]] = {"negative_slope": 0, "threshold": 0}

    def __init__(self, max_value: float | None = _UNSET, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if max_value is not _UNSET and max_value is not None:
            _number(max_value, self.class_name, "max_value")
        self.max_value = max_value

    def call(self, inputs: np.ndarray) -> np.ndarray:
        out = np.maximum(np.asarray(inputs, np.float32), np.float32(0))
        if self.max_value is not _UNSET and self.max_value is not None:
            # clipByValue compares with the float64 bound and stores it rounded to float32.
            out = np.where(out.astype(np.float64) > self.max_value, np.float32(self.max_value), out)
        return out.astype(np.float32)

    def layer_config(self) -> dict[str, Any]:
        return {} if self.max_value is _UNSET else {"max_value": self.max_value}


class LeakyReLU(Layer):
    """``x`` where ``x >= 0``, else ``alpha * x`` (``alpha`` default 0.3, TF.js's default)."""

    class_name = "LeakyReLU"
    config_keys = ("alpha",)

    def __init__(self, alpha: float = 0.3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = _number(alpha if alpha is not None else 0.3, self.class_name, "alpha")

    def call(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, np.float32)
        return np.where(x < 0, (float(self.alpha) * x.astype(np.float64)).astype(np.float32), x)

    def layer_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class PReLU(Layer):
    """Leaky ReLU with a learned slope per element: ``x`` where ``x >= 0``, else ``alpha * x``.

    Parameters
    ----------
    alpha_initializer
        Initial slopes (default zeros).
    shared_axes
        Axes (1-based, batch excluded) along which one slope is shared, e.g. ``[1, 2]``
        for one slope per channel of an image.
    """

    class_name = "PReLU"
    supports_masking = True
    config_keys = ("alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes")

    def __init__(
        self,
        alpha_initializer: Any = "zeros",
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: int | Sequence[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer = initializer_config(alpha_initializer or "zeros")
        self._kept = {"alpha_regularizer": alpha_regularizer, "alpha_constraint": alpha_constraint}
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [int(a) for a in shared_axes]
        elif isinstance(shared_axes, (int, np.integer)) and not isinstance(shared_axes, bool):
            self.shared_axes = [int(shared_axes)]
        else:
            raise ValueError(f"PReLU shared_axes must be an int or a list of ints, not {shared_axes!r:.40}")
        self._build_if_shaped()

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis <= len(shape):
                raise ValueError(f"{self.name}: shared axis {axis} is outside an input of rank {len(input_shape)}")
            shape[axis - 1] = 1
        if None in shape:
            raise ValueError(
                f"{self.name}: PReLU needs every non-shared input dimension known, got {list(input_shape)}"
            )
        self.add_weight("alpha", sample(self.alpha_initializer, tuple(shape), self._rng()))
        self.built = True

    def call(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, np.float32)
        return np.where(x < 0, x * self.weight("alpha"), x).astype(np.float32)

    def layer_config(self) -> dict[str, Any]:
        return {"alpha_initializer": self.alpha_initializer, **self._kept, "shared_axes": self.shared_axes}


class ELU(Layer):
    """``x`` where ``x >= 0``, else ``exp(x) - 1``. TF.js supports only ``alpha=1``."""

    class_name = "ELU"
    config_keys = ("alpha",)

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        if alpha is not None and alpha != 1.0:
            raise unsupported_value(self.class_name, "alpha", alpha)
        super().__init__(**kwargs)
        self.alpha = 1.0 if alpha is None else alpha

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return elu(inputs)

    def layer_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class ThresholdedReLU(Layer):
    """``x`` where ``x > theta``, else 0 (``theta`` default 1, compared in float32)."""

    class_name = "ThresholdedReLU"
    config_keys = ("theta",)

    def __init__(self, theta: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.theta = _number(1.0 if theta is None else theta, self.class_name, "theta")

    def call(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, np.float32)
        # mul(x, cast(greater(x, theta))): a zero keeps x's sign, as in JS.
        return x * (x > np.float32(self.theta)).astype(np.float32)

    def layer_config(self) -> dict[str, Any]:
        return {"theta": self.theta}


class Softmax(Layer):
    """Softmax along ``axis``. TF.js's default axis is 1 and its kernel runs only on the
    last axis; a list of several axes is ``exp(x - logsumexp(x, axes))``."""

    class_name = "Softmax"
    config_keys = ("axis",)

    def __init__(self, axis: int | Sequence[int] = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis: int | list[int] = [int(a) for a in axis]
        elif isinstance(axis, (int, float, np.number)) and not isinstance(axis, bool) and axis == int(axis):
            self.axis = int(axis)
        else:
            raise ValueError(f"Softmax axis must be an int or a list of ints, not {axis!r:.40}")

    def call(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, np.float32)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if len(axes) == 1:
            if axes[0] not in (-1, x.ndim - 1):
                raise unsupported_value(self.class_name, "axis", self.axis)  # TF.js: "not yet supported"
            return _softmax_last(x)
        axes_t = tuple(a % x.ndim for a in axes)
        top = x.max(axis=axes_t, keepdims=True)
        shifted = (x.astype(np.float64) - top).astype(np.float32)
        total = np.exp(shifted.astype(np.float64)).astype(np.float32).sum(axis=axes_t, keepdims=True, dtype=np.float64)
        lse = (top.astype(np.float64) + np.log(total.astype(np.float32)).astype(np.float32)).astype(np.float32)
        return np.exp((x.astype(np.float64) - lse).astype(np.float32)).astype(np.float32)

    def layer_config(self) -> dict[str, Any]:
        return {"axis": self.axis}
