"""Core layers: InputLayer/Input, Dense, Activation, Dropout, Flatten, Reshape, Add, Concatenate."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, cast

import numpy as np

from .activations import canonical_activation, get_activation
from .base import Layer, Node, SymbolicTensor, get_uid, positive_int, unsupported_value
from .initializers import initializer_config, sample
from .merge import Add

__all__ = [
    "Activation",
    "Add",
    "Concatenate",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "Reshape",
    "tfjs_matmul",
]

#: tfjs-backend-cpu's ``blockSize``: batchMatMul sums each block of 48 products in
#: float64, then adds the block sum into a float32 result.
MATMUL_BLOCK = 48


def tfjs_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` rounded as TF.js's CPU batchMatMul does (float64 block sums, float32 result)."""
    a64 = np.asarray(a, dtype=np.float32).astype(np.float64)
    b64 = np.asarray(b, dtype=np.float32).astype(np.float64)
    k = a64.shape[-1]
    out = np.zeros(a64.shape[:-1] + b64.shape[-1:], dtype=np.float32)
    for k0 in range(0, k, MATMUL_BLOCK):
        block = a64[..., k0 : k0 + MATMUL_BLOCK] @ b64[k0 : k0 + MATMUL_BLOCK]
        out = (out.astype(np.float64) + block).astype(np.float32)
    return out


class InputLayer(Layer):
    """The entry point of a functional model; holds the batch input shape."""

    class_name = "InputLayer"
    config_keys = ("sparse",)
    keras_defaults: ClassVar[dict[str, Any]] = {"ragged": False}

    def __init__(
        self,
        *,
        input_shape: Sequence[Any] | None = None,
        batch_input_shape: Sequence[Any] | None = None,
        batch_size: int | None = None,
        dtype: str | None = None,
        sparse: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if batch_input_shape is None and input_shape is None:
            raise ValueError("InputLayer needs input_shape or batch_input_shape")
        super().__init__(
            name=name if name is not None else get_uid("input"),
            input_shape=input_shape,
            batch_input_shape=batch_input_shape,
            batch_size=batch_size,
            dtype=dtype,
            **kwargs,
        )
        if sparse:
            raise unsupported_value("InputLayer", "sparse", sparse)
        self.built = True
        Node(self, [], [tuple(cast(list[Any], self.batch_input_shape))])

    @property
    def output(self) -> SymbolicTensor:
        return self.inbound_nodes[0].outputs[0]

    def get_config(self) -> dict[str, Any]:
        return {
            "batch_input_shape": list(cast(list[Any], self.batch_input_shape)),
            "dtype": self.dtype,
            "sparse": False,
            "name": self.name,
        }

    def call(self, inputs: Any) -> Any:
        return inputs


def Input(  # noqa: N802  Keras's spelling (keras.Input)
    shape: Sequence[int | None] | None = None,
    *,
    batch_shape: Sequence[Any] | None = None,
    name: str | None = None,
    dtype: str = "float32",
) -> SymbolicTensor:
    """A symbolic model input, like ``tf.input``: ``Input(shape=[5])`` has batch shape ``[None, 5]``.

    Examples
    --------
    >>> from pyweb.layers import Dense, Input, Model
    >>> inp = Input(shape=[5]); model = Model(inputs=inp, outputs=Dense(3)(inp))
    """
    layer = InputLayer(input_shape=shape, batch_input_shape=batch_shape, name=name, dtype=dtype)
    return layer.output


class Dense(Layer):
    """A densely connected layer: ``activation(x @ kernel + bias)``, matmul rounded as TF.js's CPU backend.

    Parameters
    ----------
    units
        Output size.
    activation
        Name such as ``"relu"``; ``None`` is linear.
    use_bias
        Add a bias vector.
    kernel_initializer, bias_initializer
        Names (``"glorot_uniform"``, ``"zeros"``...) or TF.js configs. The default
        kernel initializer is TF.js's Dense default, glorot_normal.
    **kwargs
        ``name``, ``input_shape``, ``seed``... (see :class:`Layer`).
    """

    class_name = "Dense"
    supports_masking = True
    _KEYS = (
        "units",
        "activation",
        "use_bias",
        "kernel_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "kernel_constraint",
        "bias_constraint",
    )
    config_keys = _KEYS

    def __init__(
        self,
        units: int,
        activation: str | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_normal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = positive_int(units, self.class_name, "units")
        self.activation = canonical_activation(activation, "Dense")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializer_config(kernel_initializer)
        self.bias_initializer = initializer_config(bias_initializer)
        # Regularizers and constraints do not change inference; kept to save them back as given.
        self._kept = {
            "kernel_regularizer": kernel_regularizer,
            "bias_regularizer": bias_regularizer,
            "activity_regularizer": activity_regularizer,
            "kernel_constraint": kernel_constraint,
            "bias_constraint": bias_constraint,
        }
        self._build_if_shaped()

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        rng = self._rng()
        self.add_weight("kernel", sample(self.kernel_initializer, (int(input_shape[-1]), self.units), rng))
        if self.use_bias:
            self.add_weight("bias", sample(self.bias_initializer, (self.units,), rng))
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape[:-1], self.units)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        out = tfjs_matmul(inputs, self.weight("kernel"))
        if self.use_bias:
            out = (out.astype(np.float64) + self.weight("bias")).astype(np.float32)
        return get_activation(self.activation)(out)

    def layer_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            **self._kept,
        }


class Activation(Layer):
    """Apply an activation function by name."""

    class_name = "Activation"
    supports_masking = True
    config_keys = ("activation",)

    def __init__(self, activation: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = canonical_activation(activation, "Activation")

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return get_activation(self.activation)(inputs)

    def layer_config(self) -> dict[str, Any]:
        return {"activation": self.activation}


class Dropout(Layer):
    """Dropout; the identity at inference."""

    class_name = "Dropout"
    supports_masking = True
    config_keys = ("rate", "noise_shape", "seed")

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate, self.noise_shape, self.dropout_seed = rate, noise_shape, seed

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return inputs

    def layer_config(self) -> dict[str, Any]:
        return {"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.dropout_seed}


class Flatten(Layer):
    """Flatten all but the batch axis; ``data_format="channels_first"`` moves channels last first."""

    class_name = "Flatten"
    config_keys = ("data_format",)

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        if data_format not in (None, "channels_last", "channels_first"):
            raise unsupported_value("Flatten", "data_format", data_format)
        super().__init__(**kwargs)
        # TF.js writes data_format back only when it was given.
        self.data_format = data_format

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], math.prod(input_shape[1:]))

    def call(self, inputs: np.ndarray) -> np.ndarray:
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = np.transpose(inputs, [0, *range(2, inputs.ndim), 1])
        return np.ascontiguousarray(inputs).reshape(inputs.shape[0], -1)

    def layer_config(self) -> dict[str, Any]:
        return {} if self.data_format is None else {"data_format": self.data_format}


class Reshape(Layer):
    """Reshape all but the batch axis to ``target_shape`` (one entry may be -1 or None).

    TF.js writes an inferred dimension as ``null`` in the saved config, so
    pyweb reads ``None`` as -1 and writes -1 back as ``null``.
    """

    class_name = "Reshape"
    config_keys = ("target_shape",)

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        shape = [-1 if d is None or d == -1 else positive_int(d, "Reshape", "target_shape") for d in target_shape]
        if shape.count(-1) > 1:
            raise ValueError(f"Reshape target_shape {list(target_shape)!r} has more than one unknown dimension")
        self.target_shape = shape

    def compute_output_shape(self, input_shape: Any) -> Any:
        if -1 not in self.target_shape:
            return (input_shape[0], *self.target_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        total = math.prod(input_shape[1:]) if None not in input_shape[1:] else None
        return (input_shape[0], *[(total // known if total else None) if d == -1 else d for d in self.target_shape])

    def call(self, inputs: np.ndarray) -> np.ndarray:
        return inputs.reshape(inputs.shape[0], *self.target_shape)

    def layer_config(self) -> dict[str, Any]:
        return {"target_shape": [None if d == -1 else d for d in self.target_shape]}


class Concatenate(Layer):
    """Join inputs along ``axis`` (default the last)."""

    class_name = "Concatenate"
    supports_masking = True
    config_keys = ("axis",)

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = list(input_shape[0])
        sizes = [s[self.axis] for s in input_shape]
        shape[self.axis] = None if None in sizes else sum(sizes)
        return tuple(shape)

    def call(self, inputs: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(inputs, axis=self.axis)

    def compute_mask(self, inputs: list[np.ndarray], masks: list[np.ndarray | None]) -> Any:
        """TF.js's: unmasked inputs count as all ones, masks gain a last axis, joined, then all(-1)."""
        if all(m is None for m in masks):
            return None
        parts = [
            np.ones(x.shape, bool) if m is None else (m[..., None] if m.ndim < x.ndim else m) != 0
            for x, m in zip(inputs, masks)
        ]
        return np.all(np.concatenate(parts, axis=self.axis), axis=-1)

    def layer_config(self) -> dict[str, Any]:
        return {"axis": self.axis}
