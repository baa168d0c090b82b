"""Weight initializers and their TF.js configs (tfjs-layers/src/initializers.ts).

A config is kept as written (``{"class_name", "config"}``) so a loaded model saves
back the same bytes; only ``sample`` interprets it. VarianceScaling's ``normal``
draws a truncated normal with Keras's 0.8796 correction, as TF.js does.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["initializer_config", "placeholders", "sample"]

_PLACEHOLDERS = contextvars.ContextVar("pyweb_layers_placeholders", default=False)


@contextlib.contextmanager
def placeholders() -> Iterator[None]:
    """Inside, :func:`sample` draws nothing: it returns zeros, which the OS maps lazily.

    For loading, where every initial value is overwritten by a stored weight:
    no time goes into random numbers and no memory is touched for shapes the
    stored weights then turn out not to fill.
    """
    token = _PLACEHOLDERS.set(True)
    try:
        yield
    finally:
        _PLACEHOLDERS.reset(token)


_VS = {
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "glorot_normal": (1.0, "fan_avg", "normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "he_normal": (2.0, "fan_in", "normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
    "lecun_normal": (1.0, "fan_in", "normal"),
}
_SIMPLE = {"zeros": "Zeros", "ones": "Ones"}
_ORTHOGONAL: dict[str, Any] = {"class_name": "Orthogonal", "config": {"gain": 1, "seed": None}}
_CAMEL = {
    "glorotUniform": "glorot_uniform",
    "glorotNormal": "glorot_normal",
    "heUniform": "he_uniform",
    "heNormal": "he_normal",
    "leCunUniform": "lecun_uniform",
    "leCunNormal": "lecun_normal",
}


def initializer_config(spec: Any) -> dict[str, Any]:
    """``"glorot_uniform"``/``"zeros"``/a config dict → the ``{class_name, config}`` TF.js writes."""
    if isinstance(spec, dict):
        # TF.js rebuilds the initializer and writes back only these two keys (Keras 2.10's
        # "shared_object_id" goes).
        return {k: spec[k] for k in ("class_name", "config") if k in spec}
    key = _CAMEL.get(spec, spec)
    if key in _VS:
        scale, mode, dist = _VS[key]
        return {
            "class_name": "VarianceScaling",
            "config": {"scale": scale, "mode": mode, "distribution": dist, "seed": None},
        }
    if key in _SIMPLE:
        return {"class_name": _SIMPLE[key], "config": {}}
    if key == "orthogonal":
        return {"class_name": "Orthogonal", "config": dict(_ORTHOGONAL["config"])}
    raise ValueError(f"unknown initializer {spec!r}; use a name such as 'glorot_uniform' or a config dict")


def _fans(shape: tuple[int, ...]) -> tuple[float, float]:
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    if len(shape) > 2:
        field = math.prod(shape[:-2])
        return float(shape[-2] * field), float(shape[-1] * field)
    n = float(shape[0]) if shape else 1.0
    return n, n


def _truncated(rng: np.random.Generator, std: float, mean: float, shape: tuple[int, ...]) -> np.ndarray:
    out = rng.normal(mean, std, size=shape)
    bad = np.abs(out - mean) > 2 * std
    while bad.any():
        out[bad] = rng.normal(mean, std, size=int(bad.sum()))
        bad = np.abs(out - mean) > 2 * std
    return out


def _variance_scaling(cfg: dict[str, Any], shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    fan_in, fan_out = _fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out}.get(cfg.get("mode", "fan_in"), (fan_in + fan_out) / 2)
    scale = cfg.get("scale", 1.0) / max(1.0, n)
    if cfg.get("distribution", "normal") == "uniform":
        limit = math.sqrt(3 * scale)
        return rng.uniform(-limit, limit, size=shape)
    return _truncated(rng, math.sqrt(scale) / 0.87962566103423978, 0.0, shape)


def _orthogonal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    # Keras's draw: Q of the QR of a normal matrix (rows x cols), signs fixed by R's diagonal.
    cols = shape[-1]
    rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
    q, r = np.linalg.qr(rng.normal(size=(max(rows, cols), min(rows, cols))))
    q = q * np.sign(np.diag(r))
    return (q if rows >= cols else q.T).reshape(shape)


def sample(config: dict[str, Any], shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Draw float32 values of ``shape`` for an initializer config."""
    cls, cfg = config.get("class_name"), config.get("config", {})
    if _PLACEHOLDERS.get():
        return np.zeros(shape, dtype=np.float32)
    if cls == "Zeros":
        out = np.zeros(shape)
    elif cls == "Ones":
        out = np.ones(shape)
    elif cls == "Constant":
        out = np.full(shape, cfg.get("value", 0.0))
    elif cls == "VarianceScaling":
        out = _variance_scaling(cfg, shape, rng)
    elif cls == "RandomUniform":
        out = rng.uniform(cfg.get("minval", -0.05), cfg.get("maxval", 0.05), size=shape)
    elif cls == "RandomNormal":
        out = rng.normal(cfg.get("mean", 0.0), cfg.get("stddev", 0.05), size=shape)
    elif cls == "Orthogonal":
        out = _orthogonal(shape, rng) * cfg.get("gain", 1.0)
    elif cls == "TruncatedNormal":
        out = _truncated(rng, cfg.get("stddev", 0.05), cfg.get("mean", 0.0), shape)
    else:
        # Unknown initializers only matter for fresh weights; loaded models overwrite them.
        out = np.zeros(shape)
    return np.asarray(out, dtype=np.float32)
