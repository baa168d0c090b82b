"""Hypothesis strategies for hostile models: broken JSON, specs, shards, records and topologies.

Most examples start from a valid model and mutate it (a value swapped for
any JSON, a key dropped, bytes cut or added), so they reach deep into the
readers instead of stopping at the first check.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
from hypothesis import strategies as st

import pyweb

# Scalars that break assumptions: huge and negative ints, floats JSON cannot hold, odd text.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**53, 2**63, 2**64, -(2**63)]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "\0", "../x", "/etc/hostname", "float64", "string", "uint8", "a" * 300, "\ud800"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
DTYPES = st.sampled_from(["float32", "int32", "bool", "complex64", "string", "float64", "uint8", "", None])
SHAPES = st.one_of(
    st.lists(st.integers(min_value=0, max_value=5), max_size=4),
    st.lists(st.sampled_from([0, 1, 3, -1, 2**31, 2**62, 2**63, 1.5, True, "2", None]), max_size=4),
    st.just([0] * 70),
)
QUANT = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"dtype": st.sampled_from(["uint8", "uint16", "float16", "int4", None])},
        optional={
            "min": st.one_of(st.floats(allow_nan=True), st.integers(), st.text(max_size=3)),
            "scale": st.one_of(st.floats(allow_nan=True), st.integers(), st.text(max_size=3)),
        },
    ),
    JSON,
)
SPEC = st.fixed_dictionaries(
    {"name": st.one_of(st.sampled_from(["w", "b", "dense/kernel"]), st.text(max_size=6), JSON)},
    optional={"shape": SHAPES, "dtype": DTYPES, "quantization": QUANT, "group": st.sampled_from(["optimizer", "m"])},
)
SPECS = st.one_of(st.lists(SPEC, max_size=5), JSON)


def valid_model(seed: int) -> tuple[dict[str, Any], bytes]:
    """A small valid model.json document (one group, one shard) and its weight bytes."""
    rng = np.random.default_rng(seed)
    arrays = {
        "dense/kernel": rng.standard_normal((2, 3)).astype(np.float32),
        "dense/bias": np.arange(3, dtype=np.int32),
        "flags": np.array([True, False]),
        "words": np.array(["a", "bc"]),
        "z": np.array([1 + 2j], dtype=np.complex64),
    }
    data, specs = pyweb.encode_weights(arrays)
    specs.append(
        {"name": "q", "shape": [2], "dtype": "float32", "quantization": {"dtype": "uint8", "min": -1.0, "scale": 0.5}}
    )
    data += b"\x03\x07"
    doc = {
        "modelTopology": {"class_name": "Sequential", "config": {"layers": []}},
        "format": "layers-model",
        "weightsManifest": [{"paths": ["weights.bin"], "weights": specs}],
    }
    return doc, data


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: Any, doc: Any, *, max_mutations: int = 3) -> Any:
    """``doc`` with a few values replaced by any JSON, or keys and items dropped."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(min_value=1, max_value=max_mutations))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, list) and draw(st.booleans()):
            parent.append(copy.deepcopy(parent[path[-1]]))  # duplicates: two specs with one name
        else:
            parent[path[-1]] = draw(JSON)
    return doc


@st.composite
def model_files(draw: Any) -> tuple[bytes, dict[str, bytes]]:
    """(model.json bytes, {file name: bytes}) for a mostly-broken model folder."""
    doc, data = valid_model(draw(st.integers(0, 3)))
    kind = draw(st.sampled_from(["mutated", "mutated", "bytes", "sizes", "deep"]))
    files = {"weights.bin": data}
    if kind == "mutated":
        doc = draw(mutated(doc))
    elif kind == "sizes":
        cut = draw(st.integers(min_value=-len(data), max_value=16))
        files["weights.bin"] = data[:cut] if cut < 0 else data + draw(st.binary(min_size=cut, max_size=cut))
    elif kind == "deep":
        depth = draw(st.integers(min_value=90, max_value=5000))
        return (b'{"modelTopology":' + b"[" * depth + b"]" * depth + b"}"), files
    else:
        return draw(st.binary(max_size=64)), files
    text = json.dumps(doc).encode()
    if draw(st.booleans()):
        files["weights.bin"] = draw(st.binary(max_size=64))
    return text, files
