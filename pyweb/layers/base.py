"""The Layer base class, symbolic tensors and nodes, names and errors.

Names follow TF.js (tfjs-layers/src/backend/state.ts ``getUid``): one counter per
prefix, global to the process, so the first Dense is ``dense_Dense1`` and the
first functional model ``model1``. Configs are kept in the wire form TF.js
writes (snake_case keys, base keys ``name``/``trainable`` after the layer's own).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, ClassVar, cast

import numpy as np

from ..errors import UnsupportedLayerError, WeightMismatchError

__all__ = [
    "Layer",
    "Node",
    "SymbolicTensor",
    "UnsupportedLayerError",
    "WeightMismatchError",
    "get_uid",
    "positive_int",
]

_UIDS: defaultdict[str, int] = defaultdict(int)


def get_uid(prefix: str) -> str:
    """``prefix`` followed by its next counter value, as TF.js's ``getUid``."""
    _UIDS[prefix] += 1
    return f"{prefix}{_UIDS[prefix]}"


def snake_case(name: str) -> str:
    """TF.js's ``toSnakeCase``: ``DepthwiseConv2D`` -> ``depthwise_conv2d``."""
    first = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", first).lower()


class SymbolicTensor:
    """A placeholder for a layer output while a model is being built."""

    def __init__(self, shape: Sequence[int | None], layer: Layer, node_index: int, tensor_index: int) -> None:
        self.shape = tuple(shape)
        self.layer = layer
        self.node_index = node_index
        self.tensor_index = tensor_index

    @property
    def node(self) -> Node:
        return self.layer.inbound_nodes[self.node_index]

    def __repr__(self) -> str:
        return f"SymbolicTensor(shape={list(self.shape)}, layer={self.layer.name!r})"


class Node:
    """One call of a layer: the tensors it consumed and produced."""

    def __init__(self, layer: Layer, inputs: list[SymbolicTensor], output_shapes: list[tuple[Any, ...]]) -> None:
        self.layer = layer
        self.inputs = inputs
        index = len(layer.inbound_nodes)
        self.outputs = [SymbolicTensor(s, layer, index, i) for i, s in enumerate(output_shapes)]
        layer.inbound_nodes.append(self)


def _shape_list(shape: Sequence[int | None]) -> list[int | None]:
    return [None if d is None else int(d) for d in shape]


class Layer:
    """Base of every layer: name, weights, config and the call protocol.

    Parameters
    ----------
    name
        Layer name; default ``<snake_case class>_<Class><n>`` as TF.js.
    trainable
        Written to the config; weights of a non-trainable layer are still saved.
    input_shape, batch_input_shape, batch_size, dtype
        As in Keras; a first layer given a shape gets its weights at once.
    """

    class_name = "Layer"
    #: Config keys this class reads besides the base ones.
    config_keys: tuple[str, ...] = ()
    #: Keras config keys TF.js ignores whose non-default values would change results.
    keras_defaults: ClassVar[dict[str, Any]] = {}
    #: TF.js ``supportsMasking``: the layer passes its first input's mask on (or makes its own,
    #: see :meth:`compute_mask`); other layers drop masks.
    supports_masking = False
    #: The layer's :meth:`call` takes a ``mask`` keyword (RNNs and the wrappers do).
    uses_mask = False
    #: The layer keeps state between predict calls (a stateful RNN).
    stateful = False

    def __init__(
        self,
        *,
        name: str | None = None,
        trainable: bool = True,
        input_shape: Sequence[int | None] | None = None,
        batch_input_shape: Sequence[int | None] | None = None,
        batch_size: int | None = None,
        dtype: str | None = None,
        seed: int | None = None,
    ) -> None:
        cls = self.class_name
        self.name = name if name is not None else f"{snake_case(cls)}_{get_uid(cls)}"
        self.trainable = trainable
        self.batch_input_shape: list[Any] | None = None
        self.dtype: str | None = None
        if batch_input_shape is not None or input_shape is not None:
            shape = (
                batch_input_shape if batch_input_shape is not None else [batch_size, *cast(Sequence[Any], input_shape)]
            )
            self.batch_input_shape = _shape_list(shape)
            self.dtype = dtype or "float32"
        self.seed = seed
        self.inbound_nodes: list[Node] = []
        self.built = False
        self._weights: list[tuple[str, np.ndarray]] = []
        self._trainable: list[bool] = []

    # -- weights -------------------------------------------------------------
    def add_weight(self, name: str, value: np.ndarray, *, trainable: bool = True) -> None:
        """Create a weight; non-trainable ones (BatchNormalization's moving stats) save last."""
        self._weights.append((name, np.ascontiguousarray(value, dtype=np.float32)))
        self._trainable.append(trainable)

    def weight_order(self) -> tuple[list[int], list[int]]:
        """Indices of the trainable and the non-trainable weights, as TF.js's
        ``trainableWeights``/``nonTrainableWeights`` (a non-trainable layer has only the latter)."""
        if not self.trainable:
            return [], list(range(len(self._weights)))
        return ([i for i, t in enumerate(self._trainable) if t], [i for i, t in enumerate(self._trainable) if not t])

    def weight_slots(self) -> tuple[list[tuple[Layer, int]], list[tuple[Layer, int]]]:
        """:meth:`weight_order` as ``(layer, index)`` pairs; a model lists its layers' weights."""
        trainable, fixed = self.weight_order()
        return [(self, i) for i in trainable], [(self, i) for i in fixed]

    def _ordered(self) -> list[int]:
        trainable, fixed = self.weight_order()
        return trainable + fixed

    @property
    def weight_names(self) -> list[str]:
        """TF.js originalNames: ``<layer name>/<weight>``, trainable weights first."""
        return [f"{self.name}/{self._weights[i][0]}" for i in self._ordered()]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of this layer's weights, trainable first, each group in creation order (TF.js order)."""
        return [self._weights[i][1].copy() for i in self._ordered()]

    def set_weights(self, values: Sequence[Any]) -> None:
        """Replace this layer's weights, in :meth:`get_weights` order; shapes must match exactly."""
        if len(values) != len(self._weights):
            raise WeightMismatchError(
                f"layer {self.name} has {len(self._weights)} weights, got {len(values)}",
                reason="count",
                names=self.weight_names,
            )
        new = list(self._weights)
        for i, value in zip(self._ordered(), values):
            wname, old = self._weights[i]
            arr = np.asarray(value, dtype=np.float32)
            if arr.shape != old.shape:
                raise WeightMismatchError(
                    f"Shape mismatch: {list(old.shape)} vs. {list(arr.shape)} for {self.name}/{wname}",
                    reason="shape",
                    names=[f"{self.name}/{wname}"],
                )
            new[i] = (wname, np.ascontiguousarray(arr))
        self._weights = new

    def weight(self, name: str) -> np.ndarray:
        """The current value of the weight called ``name`` (e.g. ``"kernel"``)."""
        return next(v for n, v in self._weights if n == name)

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def _build_if_shaped(self) -> None:
        """Create the weights now if the layer was given its input shape (subclasses call this last)."""
        if self.batch_input_shape is not None:
            self.build(tuple(self.batch_input_shape))

    # -- building and calling ------------------------------------------------
    def build(self, input_shape: Any) -> None:
        """Create weights for ``input_shape`` (a tuple, or a list of tuples)."""
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def call(self, inputs: Any) -> Any:
        """Run the layer on numpy float32 input(s)."""
        raise NotImplementedError

    def compute_mask(self, inputs: list[np.ndarray], masks: list[np.ndarray | None]) -> Any:
        """The output mask (or a list, whose first entry TF.js gives every output), from the inputs
        and their masks; by default the first input's mask if the layer supports masking."""
        return masks[0] if self.supports_masking else None

    def __call__(self, inputs: SymbolicTensor | Sequence[SymbolicTensor]) -> Any:
        many = isinstance(inputs, (list, tuple))
        tensors = list(cast(Sequence[SymbolicTensor], inputs)) if many else [cast(SymbolicTensor, inputs)]
        if not all(isinstance(t, SymbolicTensor) for t in tensors):
            raise TypeError(f"{self.name}: call a layer on Input()/layer outputs; use model.predict for arrays")
        shapes = [t.shape for t in tensors] if many else tensors[0].shape
        if not self.built:
            self.build(shapes)
            self.built = True
        out = self.compute_output_shape(shapes)
        if _is_shape_list(out):  # several outputs, e.g. an RNN with return_state
            return Node(self, tensors, [tuple(s) for s in out]).outputs
        return Node(self, tensors, [tuple(out)]).outputs[0]

    # -- config --------------------------------------------------------------
    def layer_config(self) -> dict[str, Any]:
        """The class's own config keys, in TF.js order."""
        return {}

    def get_config(self) -> dict[str, Any]:
        """The config TF.js writes: own keys, then name/trainable[/batch_input_shape/dtype]."""
        config = self.layer_config()
        config["name"] = self.name
        config["trainable"] = self.trainable
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        if self.dtype is not None:
            config["dtype"] = self.dtype
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Build the layer from a TF.js/Keras config, as TF.js's deserializer does.

        Keys the class reads (``config_keys``) are passed on. A key in
        ``keras_defaults`` (Keras options TF.js does not implement, such as
        Conv2D's ``groups``) is accepted when it holds its default and raises
        UnsupportedLayerError otherwise, naming class, option and value. Any other
        key is ignored and not saved back, as TF.js ignores it (Keras exports carry
        many such keys: ``shared_object_id``, ``renorm``, ``fused``...).
        """
        base: dict[str, Any] = {
            k: config[k] for k in ("name", "trainable", "batch_input_shape", "dtype") if k in config
        }
        own = {}
        for key, value in config.items():
            if key in base:
                continue
            if key in cls.config_keys:
                own[key] = value
            elif key in cls.keras_defaults and not _is_default(value, cls.keras_defaults[key]):
                raise unsupported_value(cls.class_name, key, value)
        return cls._from_own(own, base)

    @classmethod
    def _from_own(cls, own: dict[str, Any], base: dict[str, Any]) -> Layer:
        return cls(**own, **base)

    def count_params(self) -> int:
        return int(sum(v.size for _, v in self._weights))

    def __repr__(self) -> str:
        return f"<{self.class_name} name={self.name!r}>"


def _is_shape_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(s, (list, tuple)) for s in value)


def positive_int(value: Any, layer_class: str, option: str) -> int:
    """``value`` as an int if it is a positive integer (not a bool or 2.5); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{layer_class} option {option} must be a positive integer, not {value!r:.40}")
    return int(value)


def unsupported_value(layer_class: str, option: str, value: Any) -> UnsupportedLayerError:
    """The error for an option whose value pyweb cannot honour."""
    return UnsupportedLayerError(
        f"{layer_class} option {option}={value!r:.80} is not supported by pyweb", layer_class=layer_class, option=option
    )


def _is_default(value: Any, default: Any) -> bool:
    # 1 and 1.0 are the same default; True is not 1 (a bool where a number belongs is not the default).
    if isinstance(value, bool) != isinstance(default, bool):
        return False
    return type(value) in (int, float, bool, str, type(None)) and value == default
