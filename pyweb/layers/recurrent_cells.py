"""RNN cells: one time step of SimpleRNN, GRU and LSTM, and a stack of cells (tfjs-layers recurrent.ts).

Each step does TF.js's float32 operations in TF.js's order, so a step agrees
bit for bit with its CPU backend (matmuls as :func:`~pyweb.layers.core.tfjs_matmul`,
each add and multiply rounded to float32, activations in float64 then rounded):

* SimpleRNN: ``act((x @ kernel + bias) + h @ recurrent_kernel)``
* GRU (reset gate before the matmul, TF.js's only form): ``z, r = rec_act(x_zr + h @ rk_zr)``,
  ``hh = act(x_h + (r * h) @ rk_h)``, ``h' = z * h + (1 - z) * hh``, gates in the order z, r, h
* LSTM: ``(x @ kernel + h @ recurrent_kernel) + bias`` split into i, f, c, o;
  ``c' = f * c + i * act(z_c)``, ``h' = o * act(c')``

Dropout is a training-time option: the cells keep it for the config and ignore it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .activations import canonical_activation, get_activation
from .base import Layer, positive_int, unsupported_value
from .core import tfjs_matmul
from .initializers import initializer_config, sample

__all__ = ["GRUCell", "LSTMCell", "RNNCell", "SimpleRNNCell", "StackedRNNCells", "WeightsOf"]

F32 = np.float32


def add32(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """``a + b`` rounded once to float32, as TF.js's add kernel (float64 sum of float32 values)."""
    return (np.asarray(a, F32).astype(np.float64) + np.asarray(b, F32)).astype(F32)


def mul32(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """``a * b`` in float32 (the float64 product of two float32 values rounds to the same)."""
    return np.multiply(np.asarray(a, F32), np.asarray(b, F32), dtype=F32)


class WeightsOf:
    """Weights gathered from parts (cells, wrapped layers), each part's names behind a prefix.

    A mixin for Layer: ``_weights``/``_trainable`` read and write the parts' lists, so
    the base class's weight order, get/set and saving see one flat list as TF.js does.
    """

    def _weight_parts(self) -> list[tuple[str, Layer]]:
        raise NotImplementedError

    def _parts_or_none(self) -> list[tuple[str, Layer]] | None:
        try:
            return self._weight_parts()
        except AttributeError:  # inside Layer.__init__, before the parts exist
            return None

    @property
    def _weights(self) -> list[tuple[str, np.ndarray]]:
        return [(prefix + n, v) for prefix, part in self._parts_or_none() or [] for n, v in part._weights]

    @_weights.setter
    def _weights(self, values: list[tuple[str, np.ndarray]]) -> None:
        parts = self._parts_or_none()
        if parts is None or not values:  # Layer.__init__'s empty list leaves the parts alone
            return
        start = 0
        for prefix, part in parts:
            count = len(part._weights)
            part._weights = [(n[len(prefix) :], v) for n, v in values[start : start + count]]
            start += count

    def combined_order(self) -> tuple[list[int], list[int]]:
        """Each part's trainable weights, then each part's others (TF.js's wrappers' order)."""
        trainable: list[int] = []
        fixed: list[int] = []
        start = 0
        for _, part in self._parts_or_none() or []:
            t, f = part.weight_order()
            trainable += [start + i for i in t]
            fixed += [start + i for i in f]
            start += len(part._weights)
        return trainable, fixed

    @property
    def _trainable(self) -> list[bool]:
        return [t for _, part in self._parts_or_none() or [] for t in part._trainable]

    @_trainable.setter
    def _trainable(self, values: list[bool]) -> None:
        pass  # each part keeps its own flags


def _dropout(value: Any) -> float:
    return min(1.0, max(0.0, 0.0 if value is None else value))


class RNNCell(Layer):
    """Base of the cells: ``state_size``, a :meth:`step`, and TF.js's config order (base keys first)."""

    #: Size of each state; the first is the output size.
    state_size: list[int] = []  # noqa: RUF012  each cell sets its own in __init__
    #: The states are images, not vectors (ConvLSTM2DCell): only the cell's own layer can run it.
    spatial = False

    def step(self, x: np.ndarray, states: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """One time step: input ``[batch, features]`` and states → output and new states."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        own = self.layer_config()
        config = {k: v for k, v in super().get_config().items() if k not in own}
        config.update(own)
        return config


class _GatedCell(RNNCell):
    """Options shared by SimpleRNNCell, GRUCell and LSTMCell."""

    _KEPT = (
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
    )
    gates = 1
    has_recurrent_activation = True
    #: TF.js's default for a missing ``activation`` (GRU/LSTM take an explicit null as linear).
    null_activation = "linear"

    def __init__(
        self,
        units: int,
        activation: str | None = "tanh",
        recurrent_activation: str | None = "hard_sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_normal",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        dropout: float | None = 0.0,
        recurrent_dropout: float | None = 0.0,
        **kwargs: Any,
    ) -> None:
        kept = {k: kwargs.pop(k, None) for k in self._KEPT}
        self._extra = {k: kwargs.pop(k) for k in ("implementation", "unit_forget_bias") if k in kwargs}
        super().__init__(**kwargs)
        cls = self.class_name
        self.units = positive_int(units, cls, "units")
        self.activation = canonical_activation(activation if activation is not None else self.null_activation, cls)
        self.recurrent_activation = canonical_activation(
            recurrent_activation if recurrent_activation is not None else "linear", cls
        )
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializer_config(kernel_initializer)
        self.recurrent_initializer = initializer_config(recurrent_initializer)
        self.bias_initializer = initializer_config(bias_initializer)
        self._kept = kept
        self.dropout, self.recurrent_dropout = _dropout(dropout), _dropout(recurrent_dropout)
        self.state_size = [self.units]

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        rng, n = self._rng(), self.units * self.gates
        self.add_weight("kernel", sample(self.kernel_initializer, (int(input_shape[-1]), n), rng))
        self.add_weight("recurrent_kernel", sample(self.recurrent_initializer, (self.units, n), rng))
        if self.use_bias:
            self.add_weight("bias", self._bias(rng))
        self.built = True

    def _bias(self, rng: np.random.Generator) -> np.ndarray:
        return sample(self.bias_initializer, (self.units * self.gates,), rng)

    def _act(self, x: np.ndarray) -> np.ndarray:
        return get_activation(self.activation)(x)

    def _rec_act(self, x: np.ndarray) -> np.ndarray:
        return get_activation(self.recurrent_activation)(x)

    def layer_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"units": self.units, "activation": self.activation}
        if self.has_recurrent_activation:
            config["recurrent_activation"] = self.recurrent_activation
        config.update(
            {
                "use_bias": self.use_bias,
                "kernel_initializer": self.kernel_initializer,
                "recurrent_initializer": self.recurrent_initializer,
                "bias_initializer": self.bias_initializer,
            }
        )
        return config

    def _tail_config(self) -> dict[str, Any]:
        return {**self._kept, "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout}


class SimpleRNNCell(_GatedCell):
    """One step of a fully connected RNN: ``activation((x @ kernel + bias) + h @ recurrent_kernel)``."""

    class_name = "SimpleRNNCell"
    has_recurrent_activation = False
    null_activation = "tanh"
    config_keys = (
        "units",
        "activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "dropout",
        "recurrent_dropout",
        *_GatedCell._KEPT,
    )

    def step(self, x: np.ndarray, states: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        h = tfjs_matmul(x, self.weight("kernel"))
        if self.use_bias:
            h = add32(h, self.weight("bias"))
        out = self._act(add32(h, tfjs_matmul(states[0], self.weight("recurrent_kernel"))))
        return out, [out]

    def layer_config(self) -> dict[str, Any]:
        return {**super().layer_config(), **self._tail_config()}


class GRUCell(_GatedCell):
    """One GRU step, gates z, r, h; TF.js has only ``reset_after=False`` (the reset gate scales ``h``
    before the recurrent matmul), and refuses ``reset_after=True``, as pyweb does."""

    class_name = "GRUCell"
    gates = 3
    config_keys = (
        "units",
        "activation",
        "recurrent_activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "dropout",
        "recurrent_dropout",
        "implementation",
        "reset_after",
        *_GatedCell._KEPT,
    )

    def __init__(self, units: int, *, reset_after: bool | None = False, **kwargs: Any) -> None:
        if reset_after:
            raise unsupported_value(self.class_name, "reset_after", reset_after)
        super().__init__(units, **kwargs)

    def step(self, x: np.ndarray, states: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        u, h = self.units, states[0]
        mx = tfjs_matmul(x, self.weight("kernel"))
        if self.use_bias:
            mx = add32(mx, self.weight("bias"))
        rk = self.weight("recurrent_kernel")
        inner = tfjs_matmul(h, rk[:, : 2 * u])
        z = self._rec_act(add32(mx[:, :u], inner[:, :u]))
        r = self._rec_act(add32(mx[:, u : 2 * u], inner[:, u:]))
        hh = self._act(add32(mx[:, 2 * u :], tfjs_matmul(mul32(r, h), rk[:, 2 * u :])))
        new = add32(mul32(z, h), mul32(add32(1, -z), hh))
        return new, [new]

    def layer_config(self) -> dict[str, Any]:
        return {
            **super().layer_config(),
            **self._tail_config(),
            "implementation": self._extra.get("implementation"),
            "reset_after": False,
        }


class LSTMCell(_GatedCell):
    """One LSTM step, gates i, f, c, o; states ``[h, c]``.

    ``unit_forget_bias`` sets the forget gate's initial bias to 1 (only fresh
    weights change); ``implementation`` is kept for the config, as TF.js does.
    """

    class_name = "LSTMCell"
    gates = 4
    config_keys: tuple[str, ...] = (
        "units",
        "activation",
        "recurrent_activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "unit_forget_bias",
        "dropout",
        "recurrent_dropout",
        "implementation",
        *_GatedCell._KEPT,
    )

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.state_size = [self.units, self.units]

    def _bias(self, rng: np.random.Generator) -> np.ndarray:
        if not self._extra.get("unit_forget_bias"):
            return super()._bias(rng)
        u = self.units
        init = self.bias_initializer
        return np.concatenate([sample(init, (u,), rng), np.ones(u, F32), sample(init, (2 * u,), rng)])

    def step(self, x: np.ndarray, states: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        u, (h, c) = self.units, states
        z = add32(tfjs_matmul(x, self.weight("kernel")), tfjs_matmul(h, self.weight("recurrent_kernel")))
        if self.use_bias:
            z = add32(z, self.weight("bias"))
        i = self._rec_act(z[:, :u])
        f = self._rec_act(z[:, u : 2 * u])
        c = add32(mul32(f, c), mul32(i, self._act(z[:, 2 * u : 3 * u])))
        o = self._rec_act(z[:, 3 * u :])
        h = mul32(o, self._act(c))
        return h, [h, c]

    def layer_config(self) -> dict[str, Any]:
        config = super().layer_config()
        config["unit_forget_bias"] = self._extra.get("unit_forget_bias")
        return {**config, **self._tail_config(), "implementation": self._extra.get("implementation")}


class StackedRNNCells(WeightsOf, RNNCell):  # pyright: ignore[reportIncompatibleVariableOverride]  WeightsOf's properties stand in for the lists
    """Cells run one after another in each time step; weights named ``RNNCell_<i>/<weight>``.

    States are flat, last cell's first (TF.js's order), so ``state_size[0]`` is the
    output size.
    """

    class_name = "StackedRNNCells"
    config_keys = ("cells",)

    def __init__(self, cells: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cells = [_cell(c) for c in cells]
        for cell in self.cells:
            if cell.spatial:  # TF.js: "not possible at the moment to stack convolutional cells"
                raise unsupported_value(self.class_name, "cells", cell.class_name)

    @classmethod
    def _from_own(cls, own: dict[str, Any], base: dict[str, Any]) -> Layer:
        # TF.js rebuilds a stack from its cells alone and names it afresh; pyweb keeps the stored
        # name so that a loaded model saves back the bytes it was loaded from.
        return cls(own["cells"], **base)

    def _weight_parts(self) -> list[tuple[str, Layer]]:
        return [(f"RNNCell_{i}/", cell) for i, cell in enumerate(self.cells)]

    @property
    def state_size(self) -> list[int]:  # type: ignore[override]
        return [s for cell in reversed(self.cells) for s in cell.state_size]

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        for cell in self.cells:
            cell.build(shape)
            cell.built = True
            shape = (shape[0], cell.state_size[0])
        self.built = True

    def step(self, x: np.ndarray, states: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        nested, rest = [], list(states)
        for cell in reversed(self.cells):
            nested.append(rest[: len(cell.state_size)])
            rest = rest[len(cell.state_size) :]
        nested.reverse()
        new_nested = []
        for cell, cell_states in zip(self.cells, nested):
            x, new = cell.step(x, cell_states)
            new_nested.append(new)
        return x, [s for new in reversed(new_nested) for s in new]

    def layer_config(self) -> dict[str, Any]:
        return {"cells": [{"class_name": c.class_name, "config": c.get_config()} for c in self.cells]}


def _cell(spec: Any) -> RNNCell:
    """A cell object, or one built from its ``{class_name, config}``."""
    if isinstance(spec, dict):
        from .loading import layer_from_config  # loading imports this module

        spec = layer_from_config(spec)
    if not isinstance(spec, RNNCell):
        raise ValueError(f"an RNN cell must be an RNNCell, not {type(spec).__name__}")
    return spec
