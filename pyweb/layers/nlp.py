"""TF.js 4.22's NLP layers that it can save, load and run in a model: EinsumDense and PositionEmbedding.

TF.js ships them in tfjs-layers/src/layers/nlp/ but in none of its prebuilt bundles, so
only an application that imports those modules through a bundler can use them. The
other classes there cannot make the round trip (build, predict, save, load, predict) in
TF.js itself, so pyweb leaves them out (tools/tfjs/nlp_roundtrip.js records each step):
MultiHeadAttention and CachedMultiHeadAttention fail in ``predict`` and
``loadLayersModel`` ("Must pass in `value` argument in `kwargs.`") and save no weights;
TransformerDecoder and GPT2Backbone predict NaN and save none of the decoder's weights;
GPT2CausalLM cannot be constructed; the tokenizers, GPT2Preprocessor and StartEndPacker
load but cannot ``predict`` in a model.

TF.js's CPU einsum does not call matMul: it lays both operands out along one list of
axes (output axes first, then the summed ones), multiplies them element-wise in float32,
and sums the summed axes one at a time, each sum in float64 in index order and rounded
to float32. :func:`tfjs_einsum` does the same, so EinsumDense matches TF.js to the bit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from .activations import canonical_activation, get_activation
from .base import Layer, positive_int, unsupported_value
from .initializers import initializer_config, sample

__all__ = ["EinsumDense", "PositionEmbedding", "analyze_einsum", "tfjs_einsum"]

_EQUATION = re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)")


def _axes(equation: str) -> tuple[list[str], str, int]:
    """The operand terms, TF.js's axis list (output axes, then the others by first use) and the output rank."""
    inputs, output = equation.split("->")
    axes = list(dict.fromkeys(output))
    axes += [ch for ch in dict.fromkeys(inputs.replace(",", "")) if ch not in axes]
    return inputs.split(","), "".join(axes), len(output)


def _aligned(x: np.ndarray, term: str, axes: str) -> np.ndarray:
    """``x`` transposed to ``axes`` order, with a length-1 axis for each axis it lacks."""
    order = sorted(range(len(term)), key=lambda j: axes.index(term[j]))
    x = np.transpose(x, order)
    return x.reshape([x.shape[order.index(term.index(ch))] if ch in term else 1 for ch in axes])


def _sum_in_order(x: np.ndarray, axis: int) -> np.ndarray:
    # TF.js's CPU sum: a float64 accumulator over the axis in index order, rounded once to float32.
    acc = np.zeros(x.shape[:axis] + x.shape[axis + 1 :])
    for j in range(x.shape[axis]):
        acc += np.take(x, j, axis=axis).astype(np.float64)
    return acc.astype(np.float32)


def _one_step(equation: str) -> bool:
    """Whether TF.js's kernel takes both operands in at its first step: nothing is summed, or the
    first summed axis is in both (otherwise it brings one in later, which pyweb does not follow)."""
    terms, axes, n_out = _axes(equation)
    return len(axes) == n_out or all(axes[n_out] in t for t in terms)


def tfjs_einsum(equation: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two-operand einsum ``"ab,bc->ac"`` rounded as TF.js's CPU Einsum kernel.

    No ellipsis, no letter twice in one operand, and (see :func:`_one_step`) the first
    summed axis in both operands; ValueError otherwise.
    """
    if _EQUATION.fullmatch(equation) is None or not _one_step(equation):
        raise ValueError(f"einsum {equation!r} is not an equation pyweb computes as TF.js")
    terms, axes, n_out = _axes(equation)
    summed = axes[n_out:]
    out = _aligned(np.asarray(b, np.float32), terms[1], axes) * _aligned(np.asarray(a, np.float32), terms[0], axes)
    for _ in summed:
        out = _sum_in_order(out, n_out)
    return out


def analyze_einsum(
    equation: str, bias_axes: str | None, input_shape: Sequence[int | None], output_shape: Sequence[int | None]
) -> tuple[list[int], list[int] | None, list[int | None]]:
    """Kernel shape, bias shape (None without ``bias_axes``) and full output shape, as TF.js's EinsumDense.

    ``output_shape`` leaves out the batch axis; an entry may be None (left unknown, as TF.js does).
    """
    match = _EQUATION.fullmatch(equation)
    if match is None:
        raise ValueError(f"EinsumDense equation {equation!r} is not of the form [X],[Y]->[Z]")
    in_spec, w_spec, out_spec = match.groups()
    if len(in_spec) != len(input_shape):
        raise ValueError(
            f"EinsumDense equation {equation!r} needs inputs of rank {len(in_spec)}, got shape {list(input_shape)}"
        )
    full = [input_shape[0], *output_shape]
    if len(full) != len(out_spec):
        raise ValueError(f"EinsumDense output_shape {list(output_shape)} does not fit {equation!r}")
    for i, dim in enumerate(in_spec):
        if dim in out_spec and full[out_spec.index(dim)] is not None and full[out_spec.index(dim)] != input_shape[i]:
            raise ValueError(f"EinsumDense: input and output sizes differ at shared axis {dim!r}")
    for dim in out_spec:
        if dim not in in_spec and dim not in w_spec:
            raise ValueError(f"EinsumDense: output axis {dim!r} is in neither the input nor the kernel")
    kernel = []
    for dim in w_spec:
        size = (
            input_shape[in_spec.index(dim)]
            if dim in in_spec
            else full[out_spec.index(dim)]
            if (dim in out_spec)
            else None
        )
        if size is None:
            raise ValueError(f"EinsumDense: kernel axis {dim!r} of {equation!r} has no known size")
        kernel.append(int(size))
    bias = None
    if bias_axes is not None:
        if any(ch not in out_spec for ch in bias_axes):
            raise ValueError(f"EinsumDense bias_axes {bias_axes!r} are not all in the output {out_spec!r}")
        # No letters: TF.js makes a bias of shape [] (one number added everywhere).
        first = min((out_spec.index(ch) for ch in bias_axes), default=len(out_spec))
        bias = [int(full[i]) if out_spec[i] in bias_axes else 1 for i in range(first, len(out_spec))]  # type: ignore[arg-type]
    return kernel, bias, full


class EinsumDense(Layer):
    """A dense layer whose product is an einsum: ``activation(einsum(equation, x, kernel) + bias)``.

    Parameters
    ----------
    equation
        ``"<input>,<kernel>-><output>"``, e.g. ``"abc,cde->abde"``; the first letters
        are the batch axis. TF.js cannot run ellipsis (``...``) equations, nor can pyweb.
    output_shape
        Output sizes without the batch axis (an int for one); None leaves a size unknown.
    bias_axes
        Output letters that get a bias (e.g. ``"de"``); None for no bias; ``""`` a
        single number (a bias of shape ``[]``, as TF.js makes it).
    activation, kernel_initializer, bias_initializer
        As :class:`Dense`; the default kernel initializer is glorot_uniform, as TF.js.
    **kwargs
        ``name``, ``input_shape``, ``seed``... (see :class:`Layer`).

    Examples
    --------
    >>> from pyweb.layers import EinsumDense, Input, Model
    >>> x = Input(shape=[3, 8])
    >>> heads = EinsumDense("abc,cde->abde", output_shape=[3, 2, 4], bias_axes="de", seed=0)(x)
    >>> Model(inputs=x, outputs=heads).predict(np.ones((1, 3, 8), np.float32)).shape
    (1, 3, 2, 4)
    """

    class_name = "EinsumDense"
    config_keys = (
        "output_shape",
        "equation",
        "activation",
        "bias_axes",
        "kernel_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "bias_regularizer",
        "kernel_constraint",
        "bias_constraint",
    )

    def __init__(
        self,
        equation: str,
        output_shape: int | Sequence[int | None],
        activation: str | None = None,
        bias_axes: str | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(equation, str) and "..." in equation:
            # TF.js's einsum op: 'The ellipsis notation ("...") is not supported yet.'
            raise unsupported_value(self.class_name, "equation", equation)
        match = _EQUATION.fullmatch(equation) if isinstance(equation, str) else None
        if match is None or any(len(set(term)) != len(term) for term in match.groups()):
            raise ValueError(
                f"EinsumDense equation {equation!r:.80} is not of the form [X],[Y]->[Z] "
                "with distinct letters in each term"
            )
        if not _one_step(equation):
            raise unsupported_value(self.class_name, "equation", equation)
        self.equation = equation
        shape = output_shape if isinstance(output_shape, (list, tuple)) else [output_shape]
        self.output_shape = [None if d is None else positive_int(d, self.class_name, "output_shape") for d in shape]
        self.activation = canonical_activation(activation, self.class_name)
        self.bias_axes = bias_axes
        self.kernel_initializer = initializer_config(kernel_initializer)
        self.bias_initializer = initializer_config(bias_initializer)
        # Regularizers and constraints do not change inference; kept to save them back as given.
        self._kept = {
            "kernel_regularizer": kernel_regularizer,
            "bias_regularizer": bias_regularizer,
            "kernel_constraint": kernel_constraint,
            "bias_constraint": bias_constraint,
        }
        self._build_if_shaped()

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        kernel, bias, _ = analyze_einsum(self.equation, self.bias_axes, input_shape, self.output_shape)
        rng = self._rng()
        self.add_weight("kernel", sample(self.kernel_initializer, tuple(kernel), rng))
        if bias is not None:
            self.add_weight("bias", sample(self.bias_initializer, tuple(bias), rng))
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(analyze_einsum(self.equation, self.bias_axes, input_shape, self.output_shape)[2])

    def call(self, inputs: np.ndarray) -> np.ndarray:
        out = tfjs_einsum(self.equation, inputs, self.weight("kernel"))
        if self.bias_axes is not None:
            out = out + self.weight("bias")
        return get_activation(self.activation)(out)

    def layer_config(self) -> dict[str, Any]:
        return {
            "output_shape": list(self.output_shape),
            "equation": self.equation,
            "activation": self.activation,
            "bias_axes": self.bias_axes,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            **self._kept,
        }


class PositionEmbedding(Layer):
    """Learned position embeddings: the first ``n`` rows of ``embeddings`` for an input of ``n`` positions.

    The output has the input's shape (``[..., positions, features]``) and holds no
    input values; add it to the input, as GPT-2 does.

    Parameters
    ----------
    sequence_length
        Rows of the ``embeddings`` weight, the longest sequence the layer takes.
    initializer
        Default glorot_uniform, as TF.js.
    **kwargs
        ``name``, ``input_shape``, ``seed``... (see :class:`Layer`).
    """

    class_name = "PositionEmbedding"
    config_keys = ("sequence_length", "initializer")

    def __init__(self, sequence_length: int, initializer: Any = "glorot_uniform", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sequence_length = positive_int(sequence_length, self.class_name, "sequence_length")
        self.initializer = initializer_config(initializer)
        self._build_if_shaped()

    def build(self, input_shape: Any) -> None:
        if self.built:
            return
        if len(input_shape) < 3 or input_shape[-1] is None:
            raise ValueError(
                f"{self.name}: PositionEmbedding needs [batch, ..., positions, features] with known "
                f"features, got {list(input_shape)}"
            )
        shape = (self.sequence_length, int(input_shape[-1]))
        self.add_weight("embeddings", sample(self.initializer, shape, self._rng()))
        self.built = True

    def call(self, inputs: np.ndarray) -> np.ndarray:
        positions = inputs.shape[-2]
        if positions > self.sequence_length:
            raise ValueError(f"{self.name}: {positions} positions, but sequence_length is {self.sequence_length}")
        table = self.weight("embeddings")[:positions]
        return np.ascontiguousarray(np.broadcast_to(table, inputs.shape))

    def layer_config(self) -> dict[str, Any]:
        return {"sequence_length": self.sequence_length, "initializer": self.initializer}
