"""ConvLSTM2D and its cell: an LSTM whose matmuls are 2-D convolutions (tfjs-layers convolutional_recurrent.ts).

Input is a sequence of images, ``[batch, time, rows, cols, channels]`` (or
``[batch, time, channels, rows, cols]`` for ``channels_first``); the states ``h``
and ``c`` are images of ``filters`` channels. One step, as TF.js computes it:

* ``x_g = conv(x, kernel_g, strides, padding, dilation_rate) + bias_g`` for each gate g in i, f, c, o
* ``h_g = conv(h, recurrent_kernel_g, 1, "same")`` (no dilation)
* ``i, f, o = rec_act(x_i + h_i), rec_act(x_f + h_f), rec_act(x_o + h_o)``;
  ``c' = f * c + i * act(x_c + h_c)``, ``h' = o * act(c')``

Each convolution is :func:`~pyweb.layers.windows.accumulate_taps` (TF.js's CPU
Conv2D order, every output channel its own sum, so one convolution over all four
gates gives the four TF.js makes), each add and multiply rounded to float32, so
results are bit-exact. ``channels_first`` steps are transposed to channels-last and
back; masks and states stay in the layer's layout, as in TF.js.

Refused by name, as TF.js refuses them or fails to run them: ``unroll=True``,
``padding="causal"``, ``strides`` and ``dilation_rate`` both above 1, and the cell
in the generic RNN or a StackedRNNCells (whose vector states it cannot use).
pyweb also runs initial states fed to the layer (``[x, h, c]``), which TF.js 4.22
cannot build: its ConvRNN2D reads only the first input's shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import positive_int, unsupported_value
from .convolutional import check_layout
from .initializers import sample
from .recurrent import _RNN_KEYS, _CellRNN
from .recurrent_cells import LSTMCell, add32, mul32
from .windows import Window, accumulate_taps, bias_add, channels_first, channels_last, pair

__all__ = ["ConvLSTM2D", "ConvLSTM2DCell"]

_CONV_KEYS = ("filters", "kernel_size", "padding", "data_format", "dilation_rate", "strides")


class ConvLSTM2DCell(LSTMCell):
    """One ConvLSTM2D step on images; weights ``kernel`` ``[rows, cols, in, 4 * filters]``,
    ``recurrent_kernel`` ``[rows, cols, filters, 4 * filters]`` and ``bias`` ``[4 * filters]``.

    Options as :class:`ConvLSTM2D`. Only that layer can run this cell, as in TF.js.
    """

    class_name = "ConvLSTM2DCell"
    spatial = True
    config_keys = (*(k for k in LSTMCell.config_keys if k != "units"), *_CONV_KEYS)

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        *,
        strides: int | Sequence[int] | None = 1,
        padding: str | None = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] | None = 1,
        **kwargs: Any,
    ) -> None:
        cls = self.class_name
        padding = padding or "valid"
        self.data_format = check_layout(cls, padding, data_format)
        self.kernel_size = pair(kernel_size, cls, "kernel_size")
        self.strides = pair(strides or 1, cls, "strides")
        self.dilation_rate = pair(dilation_rate or 1, cls, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            # tfjs-core's conv2d throws when it runs: "Either strides or dilations must be 1".
            raise unsupported_value(cls, "dilation_rate", dilation_rate)
        self.padding = padding
        super().__init__(positive_int(filters, cls, "filters"), **kwargs)
        self.filters = self.units
        self.window = Window(self.kernel_size, self.strides, self.dilation_rate, padding)
        self.recurrent_window = Window(self.kernel_size, (1, 1), (1, 1), "same")

    @property
    def _first(self) -> bool:
        return self.data_format == "channels_first"

    def output_image(self, batch: Any, rows: Any, cols: Any) -> tuple[Any, ...]:
        """The shape of ``h`` and ``c`` for a ``rows`` x ``cols`` input image, in the layer's layout."""
        out_rows, out_cols = self.window.output_sizes(rows, cols)
        return (batch, self.filters, out_rows, out_cols) if self._first else (batch, out_rows, out_cols, self.filters)

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        shape = tuple(input_shape)
        channels = shape[1 if self._first else -1] if len(shape) == 4 else None
        if channels is None:
            raise ValueError(
                f"{self.name}: {self.class_name} needs steps of shape [batch, rows, cols, channels] "
                f"({self.data_format}) with known channels, got {list(shape)}"
            )
        rng, n = self._rng(), 4 * self.filters
        self.add_weight("kernel", sample(self.kernel_initializer, (*self.kernel_size, int(channels), n), rng))
        self.add_weight(
            "recurrent_kernel", sample(self.recurrent_initializer, (*self.kernel_size, self.filters, n), rng)
        )
        if self.use_bias:
            self.add_weight("bias", self._bias(rng))
        self.built = True

    def step(self, x: np.ndarray, states: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        f = self.filters
        x, h, c = (channels_last(a) if self._first else a for a in (x, *states))
        zx = accumulate_taps(x, self.weight("kernel"), self.window)
        if self.use_bias:
            zx = bias_add(zx, self.weight("bias"))
        zh = accumulate_taps(h, self.weight("recurrent_kernel"), self.recurrent_window)
        z = add32(zx, zh)
        i = self._rec_act(z[..., :f])
        forget = self._rec_act(z[..., f : 2 * f])
        c = add32(mul32(forget, c), mul32(i, self._act(z[..., 2 * f : 3 * f])))
        h = mul32(self._rec_act(z[..., 3 * f :]), self._act(c))
        if self._first:
            h, c = channels_first(h), channels_first(c)
        return h, [h, c]

    def layer_config(self) -> dict[str, Any]:
        config = super().layer_config()
        del config["units"]
        config.update(
            {
                "filters": self.filters,
                "kernel_size": list(self.kernel_size),
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate),
                "strides": list(self.strides),
            }
        )
        return config


class ConvLSTM2D(_CellRNN):
    """A convolutional LSTM over a sequence of images (:class:`ConvLSTM2DCell` over time).

    Parameters
    ----------
    filters
        Channels of the output and of the states ``h`` and ``c``.
    kernel_size, strides, dilation_rate
        An int or ``[rows, cols]`` for the input convolution; strides and dilation cannot
        both exceed 1. The recurrent convolution is always stride 1, ``"same"``, undilated.
    padding
        ``"valid"`` or ``"same"`` for the input convolution.
    data_format
        ``"channels_last"`` (default, ``[batch, time, rows, cols, channels]``) or
        ``"channels_first"`` (``[batch, time, channels, rows, cols]``).
    activation, recurrent_activation, use_bias, unit_forget_bias, initializers, dropout, recurrent_dropout
        As for :class:`LSTM` (dropout is for training and does nothing here).
    return_sequences, return_state, go_backwards, stateful
        As for :class:`RNN`; ``return_state`` adds the images ``h`` and ``c``.
    **kwargs
        ``name``, ``input_shape``, ``batch_input_shape``... (``unroll=True`` is refused, as TF.js does).

    Examples
    --------
    >>> from pyweb.layers import ConvLSTM2D, Sequential
    >>> model = Sequential([ConvLSTM2D(4, 3, padding="same", input_shape=[5, 8, 8, 1])])
    >>> model.predict(np.zeros((2, 5, 8, 8, 1))).shape
    (2, 8, 8, 4)
    """

    class_name = "ConvLSTM2D"
    cell_class = ConvLSTM2DCell
    spatial_cells = True
    config_keys = (*ConvLSTM2DCell.config_keys, *_RNN_KEYS)
    cell: ConvLSTM2DCell  # pyright: ignore[reportIncompatibleVariableOverride]  always built from cell_class

    def __init__(self, filters: int, kernel_size: int | Sequence[int], **kwargs: Any) -> None:
        if kwargs.get("unroll"):  # TF.js: "Unrolling is not possible with convolutional RNNs."
            raise unsupported_value(self.class_name, "unroll", kwargs["unroll"])
        super().__init__(filters, kernel_size=kernel_size, **kwargs)

    def build(self, input_shape: Any) -> None:
        shape = self._first(input_shape)
        if len(shape) != 5:
            raise ValueError(
                f"{self.name}: ConvLSTM2D needs input of shape [batch, time, rows, cols, channels], got {list(shape)}"
            )
        super().build(input_shape)

    def state_shapes(self, input_shape: Sequence[Any]) -> list[tuple[Any, ...]]:
        rows, cols = input_shape[3:5] if self.cell._first else input_shape[2:4]
        return [self.cell.output_image(input_shape[0], rows, cols)] * 2

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = self._first(input_shape)
        state = self.state_shapes(shape)[0]
        out = (shape[0], shape[1], *state[1:]) if self.return_sequences else state
        return [out, state, state] if self.return_state else out
