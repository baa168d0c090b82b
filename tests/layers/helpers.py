"""Shared helpers: read golden io.json, count float32 ulps, list the classes in a topology."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np


def read_io(case_dir: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    doc = json.loads((case_dir / "io.json").read_text())

    def arr(e: dict) -> np.ndarray:
        return np.frombuffer(base64.b64decode(e["values_b64"]), "<f4").reshape(e["shape"])

    return [arr(e) for e in doc["inputs"]], [arr(e) for e in doc["outputs"]]


def ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in float32 units in the last place (ordered-integer difference)."""

    def ordered(x: np.ndarray) -> np.ndarray:
        i = np.asarray(x, np.float32).view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)

    return np.abs(ordered(a) - ordered(b))


def class_names(node: Any) -> set[str]:
    """Every "class_name" in a model.json topology, nested ones (wrapped layers, cells, models) included."""
    if isinstance(node, dict):
        found = {node["class_name"]} if isinstance(node.get("class_name"), str) else set()
        return found.union(*(class_names(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(class_names(v) for v in node))
    return set()
