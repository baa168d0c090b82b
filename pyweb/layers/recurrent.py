"""Recurrent layers: the generic RNN (any cell, or a list of cells), SimpleRNN, GRU and LSTM
(ConvLSTM2D, in convolutional_recurrent.py, is an RNN too, with image states: :meth:`RNN.state_shapes`).

Time steps run as in tfjs-layers recurrent.ts ``rnn()``: the input goes time-major,
``go_backwards`` reverses it (and the output sequence stays reversed), and where a
mask is 0 a step keeps the previous output and states, computed TF.js's way as
``new * m + old * (1 - m)``. ``unroll`` changes nothing (TF.js ignores it too).
``stateful=True`` keeps the last states between predict calls, as TF.js does;
:meth:`RNN.reset_states` sets them back to zeros (or to given values).

Config and weights are TF.js's: SimpleRNN/GRU/LSTM write their cell's keys at the
top level, the generic RNN also nests the cell as ``cell: {class_name, config}``;
weights are named ``<layer>/kernel``, ``<layer>/recurrent_kernel``, ``<layer>/bias``
(``<layer>/RNNCell_<i>/...`` for a stack).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from .base import Layer, unsupported_value
from .recurrent_cells import (
    GRUCell,
    LSTMCell,
    RNNCell,
    SimpleRNNCell,
    StackedRNNCells,
    WeightsOf,
    _cell,
    add32,
    mul32,
)

__all__ = ["GRU", "LSTM", "RNN", "SimpleRNN", "run_rnn"]

F32 = np.float32
_RNN_KEYS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")
_BASE_KEYS = ("name", "trainable", "input_shape", "batch_input_shape", "batch_size", "dtype", "seed")

Step = Callable[[np.ndarray, list[np.ndarray]], tuple[np.ndarray, list[np.ndarray]]]


def run_rnn(
    step: Step,
    inputs: np.ndarray,
    states: list[np.ndarray],
    go_backwards: bool = False,
    mask: np.ndarray | None = None,
    need_sequences: bool = False,
) -> tuple[np.ndarray, np.ndarray | None, list[np.ndarray]]:
    """Iterate ``step`` over axis 1 of ``inputs``: ``(last output, outputs or None, last states)``.

    ``mask`` (``[batch, time]``, nonzero = keep) makes a masked step carry the previous
    output and states forward, as TF.js's ``rnn()`` does.
    """
    if inputs.ndim < 3:
        raise ValueError(f"an RNN input needs at least 3 dimensions, got shape {list(inputs.shape)}")
    axes = [1, 0, *range(2, inputs.ndim)]
    x = np.transpose(inputs, axes)
    keep = None
    if mask is not None:
        keep = (np.asarray(mask) != 0).astype(F32)
        if keep.ndim == inputs.ndim - 1:
            keep = keep[..., None]
        keep = np.transpose(keep, axes)
    if go_backwards:
        x = x[::-1]
        keep = None if keep is None else keep[::-1]
    last, outputs = None, []
    for t in range(x.shape[0]):
        out, new = step(x[t], states)
        if keep is not None:
            drop = (1 - keep[t]).astype(F32)
            out = add32(mul32(out, keep[t]), mul32(states[0], drop))
            new = [add32(mul32(n, keep[t]), mul32(s, drop)) for n, s in zip(new, states)]
        last, states = out, new
        if need_sequences:
            outputs.append(last)
    if last is None:
        raise ValueError("an RNN input needs at least one time step")
    return last, (np.stack(outputs, axis=1) if need_sequences else None), states


class RNN(WeightsOf, Layer):  # pyright: ignore[reportIncompatibleVariableOverride]  WeightsOf's properties stand in for the lists
    """Run a cell over the time axis: ``[batch, time, features]`` → last output or the sequence.

    Parameters
    ----------
    cell
        An RNN cell (:class:`LSTMCell`...), a list of cells (stacked), or a cell config.
    return_sequences
        Output every step (``[batch, time, units]``) instead of the last.
    return_state
        Also output the final states (for LSTM ``h`` and ``c``), after the output.
    go_backwards
        Read the sequence last step first; a returned sequence stays in that order.
    stateful
        Start each call from the states the last one ended with; needs a fixed batch size.
    unroll
        Accepted and saved; no effect, as in TF.js.
    **kwargs
        ``name``, ``input_shape``, ``batch_input_shape``...

    Examples
    --------
    >>> from pyweb.layers import LSTMCell, RNN, Sequential
    >>> model = Sequential([RNN(LSTMCell(4), input_shape=[10, 3])])
    >>> model.predict(np.zeros((2, 10, 3))).shape
    (2, 4)
    """

    class_name = "RNN"
    config_keys: tuple[str, ...] = ("cell", *_RNN_KEYS)
    keras_defaults: ClassVar[dict[str, Any]] = {"time_major": False}
    #: The layer runs cells whose states are images (:attr:`RNNCell.spatial`).
    spatial_cells = False
    supports_masking = True
    uses_mask = True

    def __init__(
        self,
        cell: Any,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        **kwargs: Any,
    ) -> None:
        if cell is None:
            raise ValueError("RNN needs a cell")
        super().__init__(**kwargs)
        self.cell: RNNCell = StackedRNNCells(cell) if isinstance(cell, (list, tuple)) else _cell(cell)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful, self.unroll = bool(go_backwards), bool(stateful), bool(unroll)
        if self.cell.spatial != self.spatial_cells:  # a conv cell needs its own layer, and only it
            raise unsupported_value(self.class_name, "cell", self.cell.class_name)
        self._states: list[np.ndarray] | None = None
        self._shape: tuple[Any, ...] | None = None
        self._build_if_shaped()

    def _weight_parts(self) -> list[tuple[str, Layer]]:
        return [("", self.cell)]

    @staticmethod
    def _first(shape: Any) -> tuple[Any, ...]:
        return (
            tuple(shape[0])
            if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple))
            else tuple(shape)
        )

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        shape = self._first(input_shape)
        if len(shape) < 3:
            raise ValueError(f"{self.name}: an RNN needs input of shape [batch, time, ...], got {list(shape)}")
        if not self.cell.built:
            self.cell.build((shape[0], *shape[2:]))
            self.cell.built = True
        self._shape = shape
        if self.stateful:
            self.reset_states()
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = self._first(input_shape)
        sizes = self.cell.state_size
        out = (shape[0], shape[1], sizes[0]) if self.return_sequences else (shape[0], sizes[0])
        return [out, *[(shape[0], d) for d in sizes]] if self.return_state else out

    def state_shapes(self, input_shape: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The shape of each state for an input of ``input_shape`` (``[batch, size]`` each here)."""
        return [(input_shape[0], d) for d in self.cell.state_size]

    def compute_mask(self, inputs: list[np.ndarray], masks: list[np.ndarray | None]) -> Any:
        out = masks[0] if self.return_sequences else None
        return [out, *[None] * len(self.cell.state_size)] if self.return_state else out

    def reset_states(self, states: Sequence[Any] | None = None) -> None:
        """Set a stateful RNN's states to zeros, or to ``states`` (one array each, shaped as
        :meth:`state_shapes` says: ``[batch, size]``, or an image for ConvLSTM2D)."""
        if not self.stateful:
            raise AttributeError(f"{self.name}: reset_states() needs a stateful RNN")
        if self._shape is None or self._shape[0] is None:
            raise ValueError(
                f"{self.name}: a stateful RNN needs a fixed batch size (batch_input_shape or Input(batch_shape=...))"
            )
        shapes = self.state_shapes(self._shape)
        if any(d is None for shape in shapes for d in shape):
            raise ValueError(f"{self.name}: a stateful RNN needs fixed state shapes, got {shapes}")
        if states is None:
            self._states = [np.zeros(shape, F32) for shape in shapes]
            return
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        if len(states) != len(shapes):
            raise ValueError(f"{self.name} has {len(shapes)} state(s), got {len(states)}")
        arrays = [np.asarray(s, F32) for s in states]
        for i, (a, shape) in enumerate(zip(arrays, shapes)):
            if a.shape != shape:
                raise ValueError(f"state {i} of {self.name} must have shape {list(shape)}, got {list(a.shape)}")
        self._states = [a.copy() for a in arrays]

    @property
    def states(self) -> list[np.ndarray | None]:
        """The current states of a stateful RNN (``None`` each before it is built)."""
        return list(self._states) if self._states is not None else [None] * len(self.cell.state_size)

    def call(self, inputs: Any, mask: np.ndarray | None = None) -> Any:
        if isinstance(inputs, (list, tuple)):  # [x, *initial states], as a saved model feeds them
            x, initial = np.asarray(inputs[0], F32), [np.asarray(s, F32) for s in inputs[1:]]
        else:
            x, initial = np.asarray(inputs, F32), []
        count = len(self.cell.state_size)
        if not initial:
            initial = (
                self._states
                if self.stateful and self._states is not None
                else [np.zeros(shape, F32) for shape in self.state_shapes(x.shape)]
            )
        if len(initial) != count:
            raise ValueError(f"{self.name} has {count} state(s) but was passed {len(initial)} initial state(s)")
        last, seq, states = run_rnn(self.cell.step, x, list(initial), self.go_backwards, mask, self.return_sequences)
        if self.stateful:
            self._states = states
        out = seq if self.return_sequences else last
        return [out, *states] if self.return_state else out

    def _rnn_config(self) -> dict[str, Any]:
        return {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
        }

    def get_config(self) -> dict[str, Any]:
        # TF.js: the cell's config, overwritten by the layer's base keys, then the RNN's own.
        cell_config = self.cell.get_config()
        config = dict(cell_config)
        config.update(Layer.get_config(self))
        config.update(self._rnn_config())
        if self.class_name == RNN.class_name:
            config["cell"] = {"class_name": self.cell.class_name, "config": cell_config}
        return config

    def layer_config(self) -> dict[str, Any]:
        return {}


class _CellRNN(RNN):
    """An RNN whose cell is made from the layer's own options (SimpleRNN, GRU, LSTM)."""

    cell_class: type[Any] = RNNCell  # an RNNCell subclass taking (units, **options)

    def __init__(self, units: int, **kwargs: Any) -> None:
        rnn = {k: kwargs.pop(k) for k in _RNN_KEYS if k in kwargs}
        base = {k: kwargs[k] for k in _BASE_KEYS if k in kwargs}
        super().__init__(self.cell_class(units, **kwargs), **rnn, **base)


class SimpleRNN(_CellRNN):
    """A fully connected RNN layer (:class:`SimpleRNNCell` over time); options as the cell's and RNN's."""

    class_name = "SimpleRNN"
    cell_class = SimpleRNNCell
    config_keys = (*SimpleRNNCell.config_keys, *_RNN_KEYS)


class GRU(_CellRNN):
    """A GRU layer (:class:`GRUCell` over time); ``reset_after=True`` is refused, as TF.js refuses it."""

    class_name = "GRU"
    cell_class = GRUCell
    config_keys = (*GRUCell.config_keys, *_RNN_KEYS)

    def __init__(self, units: int, **kwargs: Any) -> None:
        if kwargs.get("reset_after"):
            raise unsupported_value(self.class_name, "reset_after", kwargs["reset_after"])
        super().__init__(units, **kwargs)


class LSTM(_CellRNN):
    """An LSTM layer (:class:`LSTMCell` over time); ``return_state`` adds ``h`` and ``c``.

    Examples
    --------
    >>> from pyweb.layers import LSTM, Sequential
    >>> model = Sequential([LSTM(8, return_sequences=True, input_shape=[None, 3])])
    >>> model.predict(np.zeros((2, 5, 3))).shape
    (2, 5, 8)
    """

    class_name = "LSTM"
    cell_class = LSTMCell
    config_keys = (*LSTMCell.config_keys, *_RNN_KEYS)
