"""Activations, computed as TF.js's CPU backend does: each op in float64, rounded to float32.

Formulas follow tfjs-layers/src/activations.ts and tfjs-backend-cpu kernels:
hard_sigmoid is ``clip(0.2 x + 0.5, 0, 1)``, gelu is the erf form with the
Abramowitz-Stegun erf TF.js uses, swish is ``sigmoid(x) * x``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .base import unsupported_value

__all__ = ["ACTIVATIONS", "canonical_activation", "get_activation"]

F32 = np.float32


def _f(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _r(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=F32)


def linear(x: np.ndarray) -> np.ndarray:
    return _r(x)


def relu(x: np.ndarray) -> np.ndarray:
    return _r(np.maximum(x, 0))


def relu6(x: np.ndarray) -> np.ndarray:
    return _r(np.clip(np.maximum(x, 0), 0, 6))


def elu(x: np.ndarray) -> np.ndarray:
    x = _f(x)
    return _r(np.where(x >= 0, x, np.exp(np.minimum(x, 0)) - 1))


_SELU_SCALE = 1.0507009873554804934193349852946
_SELU_SCALEALPHA = 1.7580993408473768599402175208123


def selu(x: np.ndarray) -> np.ndarray:
    x = _f(x)
    return _r(np.where(x >= 0, _SELU_SCALE * x, _SELU_SCALEALPHA * (np.exp(np.minimum(x, 0)) - 1)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return _r(1 / (1 + np.exp(-_f(x))))


def hard_sigmoid(x: np.ndarray) -> np.ndarray:
    y = _r(0.5 + _r(F32(0.2) * _f(_r(x))))
    return _r(np.clip(y, 0, 1))


def tanh(x: np.ndarray) -> np.ndarray:
    return _r(np.tanh(_f(x)))


def softmax(x: np.ndarray) -> np.ndarray:
    x = _f(x)
    shifted = _r(x - x.max(axis=-1, keepdims=True))
    e = _r(np.exp(_f(shifted)))
    return _r(_f(e) / _f(_r(_f(e).sum(axis=-1, keepdims=True))))


_SOFTPLUS_THRESHOLD = np.log(1.1920928955078125e-7) + 2.0


def softplus(x: np.ndarray) -> np.ndarray:
    x = _f(x)
    with np.errstate(over="ignore"):
        e = np.exp(x)
        out = np.where(x < _SOFTPLUS_THRESHOLD, e, np.where(x > -_SOFTPLUS_THRESHOLD, x, np.log1p(e)))
    return _r(out)


def softsign(x: np.ndarray) -> np.ndarray:
    x = _f(_r(x))
    return _r(x / _f(_r(1 + np.abs(x))))


def swish(x: np.ndarray) -> np.ndarray:
    return _r(_f(sigmoid(x)) * _f(x))


_ERF = (0.3275911, 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def tfjs_erf(x: np.ndarray) -> np.ndarray:
    """The erf approximation of TF.js's CPU kernel (Abramowitz-Stegun 7.1.26)."""
    p, a1, a2, a3, a4, a5 = _ERF
    x = _f(x)
    v = np.abs(x)
    t = 1.0 / (1.0 + p * v)
    poly = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t
    return _r(np.sign(x) * (1.0 - poly * np.exp(-v * v)))


def gelu(x: np.ndarray) -> np.ndarray:
    x32 = _r(x)
    cdf = _r(0.5 * _f(_r(1 + _f(tfjs_erf(_r(_f(x32) / np.sqrt(2)))))))
    return _r(_f(x32) * _f(cdf))


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "elu": elu,
    "gelu": gelu,
    "hard_sigmoid": hard_sigmoid,
    "linear": linear,
    "relu": relu,
    "relu6": relu6,
    "selu": selu,
    "sigmoid": sigmoid,
    "softmax": softmax,
    "softplus": softplus,
    "softsign": softsign,
    "swish": swish,
    "tanh": tanh,
}

_ALIASES = {"hardSigmoid": "hard_sigmoid", None: "linear"}


def canonical_activation(name: str | None, layer_class: str = "Activation") -> str:
    """The wire name TF.js writes (snake_case); unsupported ones raise UnsupportedLayerError."""
    key = _ALIASES.get(name, name)
    if key not in ACTIVATIONS:
        raise unsupported_value(layer_class, "activation", name)
    return key


def get_activation(name: str | None, layer_class: str = "Activation") -> Callable[[np.ndarray], np.ndarray]:
    """The function for an activation name (``"relu"``, ``"hard_sigmoid"``, ...)."""
    return ACTIVATIONS[canonical_activation(name, layer_class)]
