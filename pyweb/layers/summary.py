"""``model.summary()``: the Keras table of layers, output shapes and parameter counts."""

from __future__ import annotations

from typing import Any

__all__ = ["print_summary", "summary_lines", "summary_rows"]


def _shape(layer: Any) -> str:
    node = layer.inbound_nodes[-1] if layer.inbound_nodes else None
    if node is None:
        return "?"
    shape = node.outputs[0].shape
    return "[" + ",".join("null" if d is None else str(d) for d in shape) + "]"


def _row(cells: list[str], widths: list[int]) -> str:
    # As TF.js's printRow: append each cell, cut at its column end, pad to it.
    line = ""
    for cell, end in zip(cells, widths):
        line = (line + cell)[:end].ljust(end)
    return line


def summary_rows(model: Any) -> list[tuple[str, str, str, int]]:
    """(layer name, class name, output shape, parameter count) per summary row."""
    return [(layer.name, layer.class_name, _shape(layer), layer.count_params()) for layer in _listed(model)]


def _listed(model: Any) -> list[Any]:
    # A Sequential model's own InputLayer is not a row (TF.js leaves it out too).
    sequential = model.class_name == "Sequential"
    return [
        layer
        for layer in model.layers
        if not (sequential and layer.class_name == "InputLayer" and layer not in model._stack)
    ]


def summary_lines(model: Any, line_length: int = 98) -> list[str]:
    """The summary as lines (what :meth:`Model.summary` prints)."""
    sequential = model.class_name == "Sequential"
    widths = [int(line_length * f) for f in ((0.45, 0.85, 1.0) if sequential else (0.33, 0.55, 0.67, 1.0))]
    head = ["Layer (type)", "Output shape", "Param #"] + ([] if sequential else ["Receives inputs"])
    layers = _listed(model)
    lines = [f'Model: "{model.name}"', "_" * line_length, _row(head, widths), "=" * line_length]
    for i, (layer, (name, class_name, shape, params)) in enumerate(zip(layers, summary_rows(model))):
        cells = [f"{name} ({class_name})", shape, str(params)]
        if not sequential:
            cells.append(
                ", ".join(
                    f"{t.layer.name}[{t.node_index}][{t.tensor_index}]"
                    for n in layer.inbound_nodes[-1:]
                    for t in n.inputs
                )
            )
        lines.append(_row(cells, widths))
        lines.append("=" * line_length if i == len(layers) - 1 else "_" * line_length)
    total = model.count_params()
    trainable = sum(int(layer._weights[i][1].size) for layer, i in model.weight_slots()[0])
    lines += [
        f"Total params: {total}",
        f"Trainable params: {trainable}",
        f"Non-trainable params: {total - trainable}",
        "_" * line_length,
    ]
    return lines


def print_summary(model: Any, line_length: int = 98) -> None:
    """Print :func:`summary_lines` to stdout."""
    print("\n".join(summary_lines(model, line_length)))
