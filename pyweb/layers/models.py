"""Functional ``Model`` and ``Sequential``: graph order, predict, weights, topology and saving.

Layer order follows tfjs-layers/src/engine/container.ts: layers sorted by depth
(deepest, i.e. inputs, first), ties broken by first visit in a depth-first walk
from the outputs; the config lists them in that order.

A model is a layer too (TF.js's ``Container`` extends ``Layer``): called on
symbolic tensors it becomes one node of an enclosing model, and its config is
written there as ``{class_name: "Sequential"/"Model", config}``. Its weights keep
their own layers' names (``dense_Dense1/kernel``, no model prefix) and join the
enclosing model's order layer by layer: every trainable weight of the whole tree
first, then every non-trainable one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np

from .base import Layer, Node, SymbolicTensor, WeightMismatchError, get_uid
from .core import InputLayer
from .summary import print_summary

__all__ = ["GENERATED_BY", "KERAS_VERSION", "Model", "Sequential"]

TFJS_VERSION = "4.22.0"
KERAS_VERSION = f"tfjs-layers {TFJS_VERSION}"
GENERATED_BY = f"TensorFlow.js tfjs-layers v{TFJS_VERSION}"


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _walk(outputs: list[SymbolicTensor]) -> tuple[dict[int, int], dict[int, int], dict[int, Node]]:
    """Depths of nodes and layers, and first-visit indices of layers, from the outputs.

    TF.js's ``Container`` order (container.ts): a depth-first walk from the
    outputs numbers layers on first visit and lists nodes as they finish; then,
    from the outputs back, a node's depth is the largest of one more than its
    consumers' and its layer's depth so far. Each node is walked once (linear in
    nodes + connections), iteratively (no recursion limit for deep chains).
    """
    node_depth: dict[int, int] = {}
    layer_index: dict[int, int] = {}
    nodes: dict[int, Any] = {}
    finished: list[Any] = []
    done: set[int] = set()
    in_progress: set[int] = set()
    for out in outputs:
        stack: list[tuple[Any, int]] = [(out.node, 0)]
        while stack:
            node, next_input = stack.pop()
            if next_input == 0:
                if id(node) in in_progress:
                    raise ValueError(f"the graph has a cycle through layer {node.layer.name!r}")
                if id(node) in done:
                    continue
                layer_index.setdefault(id(node.layer), len(layer_index))
                nodes[id(node)] = node
                in_progress.add(id(node))
            if next_input < len(node.inputs):
                stack.append((node, next_input + 1))
                child = node.inputs[next_input].node
                if id(child) not in done:
                    stack.append((child, 0))
                continue
            in_progress.discard(id(node))
            done.add(id(node))
            finished.append(node)
    layer_depth: dict[int, int] = {}
    for node in reversed(finished):
        depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        for x in node.inputs:
            node_depth[id(x.node)] = max(depth + 1, node_depth.get(id(x.node), 0))
    return node_depth, layer_index, nodes


def _execution_order(inputs: list[SymbolicTensor], outputs: list[SymbolicTensor]) -> list[SymbolicTensor]:
    """The tensors predict computes, in TF.js's order (tfjs-layers executor.ts).

    For each output in turn, a depth-first walk lists a tensor after its inputs, the
    last input walked first; tensors listed for an earlier output are not repeated.
    The order decides which mask a layer sees (TF.js hands the last mask seen on).
    Each tensor is walked once: linear in tensors + connections.
    """

    def key(t: SymbolicTensor) -> tuple[int, int]:
        return (id(t.node), t.tensor_index)

    visited = {key(t) for t in inputs}
    order: list[SymbolicTensor] = []
    for fetch in outputs:
        stack: list[SymbolicTensor] = [fetch]
        marks: list[Any] = []
        while stack:
            top = stack[-1]
            if key(top) in visited:
                stack.pop()
                continue
            marked = bool(marks) and marks[-1] == len(stack) - 1
            if not top.node.inputs or marked:
                stack.pop()
                order.append(top)
                visited.add(key(top))
                if marked:
                    marks.pop()
                continue
            marks.append(len(stack) - 1)
            stack.extend(t for t in top.node.inputs if key(t) not in visited)
    return order


Slot = tuple[Layer, int]


class Model(Layer):
    """A functional model: a graph of layers from ``inputs`` to ``outputs``; usable as a layer.

    Parameters
    ----------
    inputs, outputs
        One symbolic tensor or a list (from :func:`Input` and layer calls).
    name
        Model name; default ``model<n>`` as TF.js.

    Examples
    --------
    >>> from pyweb.layers import Dense, Input, Model
    >>> inp = Input(shape=[5])
    >>> model = Model(inputs=inp, outputs=Dense(3, seed=0)(inp))
    >>> model.predict(np.ones((2, 5), np.float32)).shape
    (2, 3)
    """

    class_name = "Model"

    def __init__(self, inputs: Any = None, outputs: Any = None, *, name: str | None = None) -> None:
        super().__init__(name=name if name is not None else get_uid("model"))
        self.built = True
        self.training_config: dict[str, Any] | None = None
        self.user_defined_metadata: dict[str, Any] | None = None
        if inputs is not None:
            self._init_graph(_as_list(inputs), _as_list(outputs))

    def _init_graph(self, inputs: list[SymbolicTensor], outputs: list[SymbolicTensor]) -> None:
        self.inputs, self.outputs = inputs, outputs
        node_depth, layer_index, nodes = _walk(outputs)
        layer_depth: dict[int, int] = {}
        by_id: dict[int, Layer] = {}
        for nid, node in nodes.items():
            lid = id(node.layer)
            by_id[lid] = node.layer
            layer_depth[lid] = max(layer_depth.get(lid, 0), node_depth[nid])
        order = sorted(by_id, key=lambda lid: (-layer_depth[lid], layer_index[lid]))
        self.layers: list[Layer] = [by_id[lid] for lid in order]
        self._nodes = sorted(nodes.values(), key=lambda n: -node_depth[id(n)])
        self._node_ids = {id(n) for n in self._nodes}
        self._order = _execution_order(inputs, outputs)
        self.input_names = [t.layer.name for t in inputs]
        # What a Sequential reads from its first layer to make the input layer.
        self.batch_input_shape = list(inputs[0].shape) if len(inputs) == 1 else None
        self.dtype = "float32"

    # -- running ---------------------------------------------------------------
    def _feed(self, x: Any) -> list[np.ndarray]:
        if isinstance(x, Mapping):
            missing = [n for n in self.input_names if n not in x]
            if missing:
                raise ValueError(f"predict: no value for input(s) {missing}; inputs are {self.input_names}")
            arrays = [x[n] for n in self.input_names]
        else:
            arrays = _as_list(x) if len(self.inputs) > 1 or isinstance(x, (list, tuple)) else [x]
        if len(arrays) != len(self.inputs):
            raise ValueError(f"predict: model has {len(self.inputs)} inputs, got {len(arrays)}")
        out = []
        for t, a in zip(self.inputs, arrays):
            a = np.asarray(a, dtype=np.float32)
            want = t.shape[1:]
            if a.ndim != len(t.shape) or any(w is not None and w != g for w, g in zip(want, a.shape[1:])):
                raise ValueError(f"predict: input {t.layer.name} expects shape {list(t.shape)}, got {list(a.shape)}")
            out.append(a)
        return out

    def predict(self, x: Any) -> np.ndarray | list[np.ndarray]:
        """Run the model on a batch, as TF.js's CPU backend computes it.

        Parameters
        ----------
        x
            One array (batch first); for several inputs a list in input order
            or a dict by input name. Cast to float32.

        Returns
        -------
        numpy.ndarray or list of numpy.ndarray
            float32; a list when the model has several outputs.
        """
        outs = self._run(self._feed(x))
        return outs if len(outs) > 1 else outs[0]

    def _run(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        values: dict[tuple[int, int], np.ndarray] = {}
        masks: dict[tuple[int, int], Any] = {}
        for t, a in zip(self.inputs, arrays):
            values[(id(t.node), t.tensor_index)] = a
        done: set[int] = set()
        mask: Any = None  # TF.js passes the last mask seen to every later layer, masked or not
        for tensor in self._order:
            node = tensor.node
            if not node.inputs or (id(node) in done and not node.layer.stateful):
                continue
            keys = [(id(t.node), t.tensor_index) for t in node.inputs]
            args = [values[k] for k in keys]
            in_masks = [masks.get(k) for k in keys]
            if any(m is not None for m in in_masks):
                mask = in_masks[0]
            layer = node.layer
            arg = args if len(args) > 1 else args[0]
            # a layer with uses_mask takes the mask as call(inputs, mask=...)
            result = cast(Any, layer.call)(arg, mask=mask) if layer.uses_mask else layer.call(arg)
            if id(node) in done:  # TF.js runs a stateful layer again for each output it needs
                continue
            done.add(id(node))
            out_mask = layer.compute_mask(args, in_masks) if layer.supports_masking else None
            out_mask = out_mask[0] if isinstance(out_mask, list) else out_mask
            for i, r in enumerate(_as_list(result)):
                values[(id(node), i)] = np.asarray(r, dtype=np.float32)
                if out_mask is not None:
                    masks[(id(node), i)] = out_mask
        return [values[(id(t.node), t.tensor_index)] for t in self.outputs]

    # -- as a layer of another model ---------------------------------------------
    def __call__(self, inputs: Any) -> Any:
        """Add this model to an enclosing graph as one node; one output tensor, or a list for several."""
        tensors = _as_list(inputs)
        if not all(isinstance(t, SymbolicTensor) for t in tensors):
            raise TypeError(f"{self.name}: call a model on Input()/layer outputs; use predict for arrays")
        if len(tensors) != len(self.inputs):
            raise ValueError(f"{self.name}: model has {len(self.inputs)} inputs, got {len(tensors)}")
        batch = tensors[0].shape[0]
        node = Node(self, tensors, [(batch, *t.shape[1:]) for t in self.outputs])
        return node.outputs if len(node.outputs) > 1 else node.outputs[0]

    def compute_output_shape(self, input_shape: Any) -> Any:
        shapes = [tuple(t.shape) for t in self.outputs]
        return shapes if len(shapes) > 1 else shapes[0]

    def call(self, inputs: Any) -> Any:
        outs = self._run(_as_list(inputs) if len(self.inputs) > 1 else [inputs])
        return outs if len(outs) > 1 else outs[0]

    # -- weights ---------------------------------------------------------------
    def weight_slots(self) -> tuple[list[Slot], list[Slot]]:
        """TF.js ``trainableWeights``/``nonTrainableWeights`` of a container: each layer's in layer order
        (a nested model's recursively); a non-trainable model lists all of them as non-trainable."""
        trainable: list[Slot] = []
        fixed: list[Slot] = []
        for layer in self.layers:
            t, f = layer.weight_slots()
            trainable += t
            fixed += f
        return ([], trainable + fixed) if not self.trainable else (trainable, fixed)

    def _weight_slots(self) -> list[Slot]:
        """(layer, weight index) in TF.js ``model.weights`` order: every trainable weight, then every
        non-trainable one (e.g. BatchNormalization's moving stats), through nested models."""
        trainable, fixed = self.weight_slots()
        return trainable + fixed

    @property
    def weight_names(self) -> list[str]:
        """Every weight's TF.js originalName, in save order."""
        return [f"{layer.name}/{layer._weights[i][0]}" for layer, i in self._weight_slots()]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights in TF.js order: trainable ones layer by layer (kernel then bias), then
        non-trainable ones."""
        return [layer._weights[i][1].copy() for layer, i in self._weight_slots()]

    def set_weights(self, weights: Sequence[Any]) -> None:  # pyright: ignore[reportIncompatibleMethodOverride]  TF.js/Keras name it weights here
        """Replace all weights, in :meth:`get_weights` order; count and shapes must match.

        Raises
        ------
        WeightMismatchError
            Wrong number of arrays (``reason="count"``) or a wrong shape (``"shape"``).
        """
        slots = self._weight_slots()
        if len(weights) != len(slots):
            raise WeightMismatchError(
                f"model has {len(slots)} weights, got {len(weights)}", reason="count", names=self.weight_names
            )
        given = {(id(layer), i): w for (layer, i), w in zip(slots, weights)}
        leaves = {id(layer): layer for layer, _ in slots}
        for layer in leaves.values():
            layer.set_weights([given[(id(layer), i)] for i in layer._ordered()])

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, line_length: int = 98) -> None:
        """Print a Keras-style table of layers, output shapes and parameter counts."""
        print_summary(self, line_length)

    # -- topology and saving -----------------------------------------------------
    def _node_key(self, layer: Layer, node: Any) -> int:
        kept = [n for n in layer.inbound_nodes if id(n) in self._node_ids]
        # TF.js numbers a nested model's calls from 1: node 0 is the one its constructor makes.
        return kept.index(node) + (1 if isinstance(layer, Model) else 0)

    def _inbound(self, layer: Layer) -> list[Any]:
        entries = []
        for node in layer.inbound_nodes:
            if id(node) not in self._node_ids or not node.inputs:
                continue
            entries.append([[t.layer.name, self._node_key(t.layer, t.node), t.tensor_index, {}] for t in node.inputs])
        return entries

    def get_config(self) -> dict[str, Any]:
        """The functional config TF.js writes: name, layers with inbound_nodes, input/output layers."""
        layers = [
            {
                "name": layer.name,
                "class_name": layer.class_name,
                "config": layer.get_config(),
                "inbound_nodes": self._inbound(layer),
            }
            for layer in self.layers
        ]

        def ends(ts: list[SymbolicTensor]) -> list[list[Any]]:
            return [[t.layer.name, self._node_key(t.layer, t.node), t.tensor_index] for t in ts]

        return {
            "name": self.name,
            "layers": layers,
            "input_layers": ends(self.inputs),
            "output_layers": ends(self.outputs),
        }

    def to_json(self) -> dict[str, Any]:
        """``model.toJSON(null, false)``: class_name, config, keras_version, backend."""
        return {
            "class_name": self.class_name,
            "config": self.get_config(),
            "keras_version": KERAS_VERSION,
            "backend": "tensor_flow.js",
        }

    def to_artifacts(self) -> Any:
        """The :class:`~pyweb.ModelArtifacts` TF.js's ``model.save`` hands to a handler."""
        from ..types import ModelArtifacts
        from ..weights import encode_weights

        # The stored arrays themselves, not get_weights() copies: encode_weights copies them once.
        arrays = [layer._weights[i][1] for layer, i in self._weight_slots()]
        data, specs = encode_weights(list(zip(self.weight_names, arrays)))
        return ModelArtifacts(
            model_topology=self.to_json(),
            weight_specs=specs,
            weight_data=data,
            format="layers-model",
            generated_by=GENERATED_BY,
            converted_by=None,
            training_config=self.training_config,
            user_defined_metadata=self.user_defined_metadata,
        )

    def save(self, url: Any, **options: Any) -> Any:
        """Save to ``url`` (any pyweb scheme); see :func:`pyweb.save`."""
        from ..api import save

        return save(self, url, **options)

    async def asave(self, url: Any, **options: Any) -> Any:
        """Async twin of :meth:`save`."""
        from ..api import asave

        return await asave(self, url, **options)


class Sequential(Model):
    """A linear stack of layers, like ``tf.sequential``.

    Parameters
    ----------
    layers
        Layers in order; the first needs ``input_shape`` (or is an InputLayer)
        for the model to be built at once.
    name
        Default ``sequential_<n>`` as TF.js.

    Examples
    --------
    >>> from pyweb.layers import Dense, Sequential
    >>> model = Sequential([Dense(4, activation="relu", input_shape=[5]), Dense(3)])
    """

    class_name = "Sequential"

    def __init__(self, layers: Sequence[Layer] = (), *, name: str | None = None) -> None:
        super().__init__(name=name if name is not None else get_uid("sequential_"))
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._output: SymbolicTensor | None = None
        for layer in layers:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        """Append a layer, building the graph once the input shape is known."""
        self._stack.append(layer)
        if self._output is None:
            if isinstance(layer, InputLayer):
                self._input_layer, self._output = layer, layer.output
                self._init_graph([self._output], [self._output])
                return
            if layer.batch_input_shape is None:
                raise ValueError("the first layer of a Sequential needs input_shape (or use an InputLayer)")
            self._input_layer = InputLayer(
                batch_input_shape=layer.batch_input_shape, dtype=layer.dtype, name=f"{layer.name}_input"
            )
            self._output = self._input_layer.output
        self._output = layer(self._output)
        self._init_graph([cast(InputLayer, self._input_layer).output], [cast(SymbolicTensor, self._output)])

    def get_config(self) -> dict[str, Any]:
        """``{name, layers: [{class_name, config}]}``; an implicit input layer is not listed."""
        return {
            "name": self.name,
            "layers": [{"class_name": layer.class_name, "config": layer.get_config()} for layer in self._stack],
        }
