"""Wrappers: TimeDistributed (a layer applied at each time step) and Bidirectional (an RNN
read both ways), as tfjs-layers wrappers.ts.

TimeDistributed runs the wrapped layer on one step ``[batch, ...]`` at a time and
stacks the results; its weights keep the wrapped layer's names under the wrapper's
(``td/kernel``), and its ``trainable`` is the wrapped layer's.

Bidirectional builds a forward and a backward copy of the RNN from its config
(named ``forward_<rnn>``/``backward_<rnn>``; weights ``<bidi>/forward_<rnn>/kernel``...),
reverses the backward sequence back when ``return_sequences``, and merges with
``merge_mode`` ``concat``, ``sum``, ``mul``, ``ave`` (``0.5 * (a + b)``) or ``None``
(two outputs). Like TF.js, it writes ``trainable: true`` whatever it was given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np

from .base import Layer
from .recurrent import RNN
from .recurrent_cells import WeightsOf, add32, mul32

__all__ = ["Bidirectional", "TimeDistributed"]

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _layer(spec: Any) -> Layer:
    if isinstance(spec, dict):
        from .loading import layer_from_config  # loading imports this module

        return layer_from_config(spec)
    if not isinstance(spec, Layer):
        raise ValueError(f"a wrapper needs a layer, not {type(spec).__name__}")
    return spec


def _entry(layer: Layer) -> dict[str, Any]:
    return {"class_name": layer.class_name, "config": layer.get_config()}


class TimeDistributed(WeightsOf, Layer):  # pyright: ignore[reportIncompatibleVariableOverride]  WeightsOf's properties stand in for the lists
    """Apply ``layer`` to every time step: ``[batch, time, ...]`` → ``[batch, time, ...layer output]``.

    Examples
    --------
    >>> from pyweb.layers import Dense, Sequential, TimeDistributed
    >>> model = Sequential([TimeDistributed(Dense(2), input_shape=[5, 3])])
    >>> model.predict(np.zeros((1, 5, 3))).shape
    (1, 5, 2)
    """

    class_name = "TimeDistributed"
    config_keys = ("layer",)
    supports_masking = True
    uses_mask = True

    def __init__(self, layer: Any, **kwargs: Any) -> None:
        self.layer = _layer(layer)
        super().__init__(**kwargs)
        self._build_if_shaped()

    @property
    def trainable(self) -> bool:
        return self.layer.trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        pass  # TF.js's wrapper reads its layer's flag and never writes it from its own config

    def _weight_parts(self) -> list[tuple[str, Layer]]:
        return [("", self.layer)]

    def weight_order(self) -> tuple[list[int], list[int]]:
        return self.combined_order()

    def _child(self, input_shape: Any) -> tuple[Any, ...]:
        shape = tuple(input_shape)
        if len(shape) < 3:
            raise ValueError(f"{self.name}: TimeDistributed needs input of 3 or more dimensions, got {list(shape)}")
        return (shape[0], *shape[2:])

    def build(self, input_shape: Any) -> None:
        if not self.layer.built:
            self.layer.build(self._child(input_shape))
            self.layer.built = True
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        child = tuple(self.layer.compute_output_shape(self._child(input_shape)))
        return (child[0], input_shape[1], *child[1:])

    def call(self, inputs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        x = np.asarray(inputs, np.float32)
        if x.ndim < 3:
            raise ValueError(f"{self.name}: TimeDistributed needs input of 3 or more dimensions, got {list(x.shape)}")
        run: Callable[[Any], Any] = (
            (lambda step: cast(Any, self.layer.call)(step, mask=mask)) if self.layer.uses_mask else self.layer.call
        )
        return np.stack([np.asarray(run(x[:, t]), np.float32) for t in range(x.shape[1])], axis=1)

    def layer_config(self) -> dict[str, Any]:
        return {"layer": _entry(self.layer)}


class Bidirectional(WeightsOf, Layer):  # pyright: ignore[reportIncompatibleVariableOverride]  WeightsOf's properties stand in for the lists
    """Run an RNN forwards and backwards over the sequence and merge the two outputs.

    Parameters
    ----------
    layer
        An RNN layer (LSTM, GRU, SimpleRNN, RNN, ConvLSTM2D); it is copied twice through its config.
    merge_mode
        ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or ``None`` (outputs both).

    Examples
    --------
    >>> from pyweb.layers import LSTM, Bidirectional, Sequential
    >>> model = Sequential([Bidirectional(LSTM(4, return_sequences=True), input_shape=[6, 3])])
    >>> model.predict(np.zeros((2, 6, 3))).shape
    (2, 6, 8)
    """

    class_name = "Bidirectional"
    config_keys = ("layer", "merge_mode")
    supports_masking = True
    uses_mask = True

    def __init__(self, layer: Any, merge_mode: str | None = "concat", **kwargs: Any) -> None:
        kwargs["trainable"] = True  # TF.js sets its own flag to true after the base constructor
        super().__init__(**kwargs)
        self.layer = _layer(layer)
        if not isinstance(self.layer, RNN):
            raise ValueError(f"Bidirectional needs an RNN layer, not {self.layer.class_name}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Bidirectional merge_mode must be one of {list(MERGE_MODES)}, not {merge_mode!r:.40}")
        self.merge_mode = merge_mode
        entry = _entry(self.layer)
        self.forward_layer = cast(RNN, _layer(entry))  # the same class as self.layer: an RNN
        entry["config"] = {**entry["config"], "go_backwards": not entry["config"].get("go_backwards")}
        self.backward_layer = cast(RNN, _layer(entry))
        self.forward_layer.name = f"forward_{self.forward_layer.name}"
        self.backward_layer.name = f"backward_{self.backward_layer.name}"
        self.stateful = self.layer.stateful
        self.return_sequences, self.return_state = self.layer.return_sequences, self.layer.return_state
        self._build_if_shaped()

    def _weight_parts(self) -> list[tuple[str, Layer]]:
        return [
            (f"{self.forward_layer.name}/", self.forward_layer),
            (f"{self.backward_layer.name}/", self.backward_layer),
        ]

    def weight_order(self) -> tuple[list[int], list[int]]:
        return self.combined_order()

    def build(self, input_shape: Any) -> None:
        for rnn in (self.forward_layer, self.backward_layer):
            if not rnn.built:
                rnn.build(input_shape)
                rnn.built = True
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        shapes = self.forward_layer.compute_output_shape(input_shape)
        shapes = [tuple(s) for s in shapes] if self.return_state else [tuple(shapes)]
        out, states = shapes[0], shapes[1:]
        if self.merge_mode == "concat":
            out = (*out[:-1], None if out[-1] is None else out[-1] * 2)
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return [*outs, *states, *states]
        return outs if len(outs) > 1 else outs[0]

    def compute_mask(self, inputs: list[np.ndarray], masks: list[np.ndarray | None]) -> Any:
        out = masks[0] if self.return_sequences else None
        outs: list[Any] = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return [*outs, *[None] * (2 * len(self.forward_layer.cell.state_size))]
        return outs if self.merge_mode is None else out

    def reset_states(self) -> None:
        """Reset both directions' states (stateful RNNs only)."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def call(self, inputs: Any, mask: np.ndarray | None = None) -> Any:
        if isinstance(inputs, (list, tuple)) and len(inputs) > 1:  # [x, *forward states, *backward states]
            half = (len(inputs) - 1) // 2
            fwd_in, bwd_in = [inputs[0], *inputs[1 : 1 + half]], [inputs[0], *inputs[1 + half :]]
        else:
            fwd_in = bwd_in = inputs
        y = self.forward_layer.call(fwd_in, mask=mask)
        y_rev = self.backward_layer.call(bwd_in, mask=mask)
        states: list[np.ndarray] = []
        if self.return_state:
            states = [*y[1:], *y_rev[1:]]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        merged = self._merge(y, y_rev)
        if self.return_state:
            return [*merged, *states] if self.merge_mode is None else [merged, *states]
        return merged

    def _merge(self, y: np.ndarray, y_rev: np.ndarray) -> Any:
        if self.merge_mode == "concat":
            return np.concatenate([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return add32(y, y_rev)
        if self.merge_mode == "ave":
            return mul32(np.float32(0.5), add32(y, y_rev))
        if self.merge_mode == "mul":
            return mul32(y, y_rev)
        return [y, np.ascontiguousarray(y_rev)]

    def layer_config(self) -> dict[str, Any]:
        return {"merge_mode": self.merge_mode, "layer": _entry(self.layer)}
