"""pyweb against files written by real TensorFlow.js 4.22 (tools/tfjs/make_goldens.js).

Every comparison is byte for byte: weight bytes, spec JSON, model.json text, dequantized values
(compared as bit patterns, so NaN payloads and -0 count) and JSON.stringify output.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pyweb
from pyweb.artifacts import artifacts_info, from_model_json, js_dumps, to_model_json
from pyweb.types import ModelArtifacts
from pyweb.weights import decode_weights, encode_weights
from tests.tfjs_node import load_check

pytestmark = pytest.mark.node

MODEL_CASES = ["dense_reference", "metadata_optimizer", "functional_conv", "no_weights"]
ENCODE_CASES = [
    "float32_special", "float32_shapes", "int32", "bool", "complex64", "string", "string_bytes",
    "zero_size", "mixed_unaligned", "empty", "optimizer_group",
]  # fmt: skip
DECODE_CASES = [
    "uint8_reference", "uint8_negative_ties", "uint8_converter_like", "uint16", "float16_all",
    "mixed_groups", "trailing_bytes",
]  # fmt: skip

_NUMPY = {"float32": "<f4", "int32": "<i4", "bool": "|b1", "complex64": "<c8"}
# Same-size unsigned ints, to compare values as bit patterns.
_BITS = {"float32": "<u4", "int32": "<u4", "bool": "|u1", "complex64": "<u4"}
# ModelArtifacts as TF.js hands it to a save handler (camelCase) -> pyweb's snake_case fields.
_ARTIFACT_FIELDS = {
    "modelTopology": "model_topology",
    "weightSpecs": "weight_specs",
    "format": "format",
    "generatedBy": "generated_by",
    "convertedBy": "converted_by",
    "trainingConfig": "training_config",
    "signature": "signature",
    "userDefinedMetadata": "user_defined_metadata",
    "modelInitializer": "model_initializer",
    "initializerSignature": "initializer_signature",
}


@pytest.fixture(scope="module")
def goldens(tfjs_goldens: Path) -> Path:
    return tfjs_goldens


@pytest.fixture(scope="module")
def index(goldens: Path) -> dict[str, Any]:
    return json.loads((goldens / "index.json").read_text("utf-8"))


def _entry(index: dict[str, Any], section: str, case: str) -> dict[str, Any]:
    return next(e for e in index[section] if e["case"] == case)


def _string_array(values_b64: list[str], shape: list[int]) -> np.ndarray:
    out = np.empty(len(values_b64), dtype=object)
    out[:] = [base64.b64decode(v) for v in values_b64]
    return out.reshape(shape)


def _array(spec: dict[str, Any]) -> np.ndarray:
    """Rebuild a tensor from an index.json input / decoded entry."""
    if spec["dtype"] == "string":
        return _string_array(spec["values_b64"], spec["shape"])
    return np.frombuffer(base64.b64decode(spec["values_b64"]), _NUMPY[spec["dtype"]]).reshape(spec["shape"])


def _assert_same_bits(got: np.ndarray, want: dict[str, Any], where: str) -> None:
    """Equal dtype, shape and bit patterns; on failure show the first differing elements."""
    dtype = want["dtype"]
    assert list(got.shape) == want["shape"], f"{where}: shape {list(got.shape)} != {want['shape']}"
    if dtype == "string":
        assert [bytes(x) for x in got.ravel()] == [bytes(x) for x in _array(want).ravel()], where
        return
    assert got.dtype == np.dtype(_NUMPY[dtype]), f"{where}: dtype {got.dtype} != {_NUMPY[dtype]}"
    got_bits = np.ascontiguousarray(got).reshape(-1).view(_BITS[dtype])
    want_bits = np.frombuffer(base64.b64decode(want["values_b64"]), _BITS[dtype])
    bad = np.flatnonzero(got_bits != want_bits)
    detail = [f"[{i}] got bits {got_bits[i]:#x}, TF.js {want_bits[i]:#x}" for i in bad[:5]]
    assert not bad.size, f"{where}: {bad.size} elements differ from TF.js: " + "; ".join(detail)


def test_goldens_cover_the_expected_cases(index: dict[str, Any]) -> None:
    assert index["tfjs_version"] == "4.22.0"
    assert [e["case"] for e in index["models"]] == MODEL_CASES
    assert [e["case"] for e in index["encode"]] == ENCODE_CASES
    assert [e["case"] for e in index["decode"]] == DECODE_CASES


# -- weights -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ENCODE_CASES)
def test_encode_weights_matches_tfjs(case: str, index: dict[str, Any], goldens: Path) -> None:
    entry = _entry(index, "encode", case)
    named = [(w["name"], _array(w)) for w in entry["inputs"]]
    data, specs = encode_weights(named, group=entry["group"])
    spec_text = (goldens / entry["files"]["specs"]).read_text("utf-8")
    assert specs == json.loads(spec_text)
    assert js_dumps(specs) == spec_text
    assert bytes(data) == (goldens / entry["files"]["weights"]).read_bytes()


def test_encode_weights_str_input_matches_tfjs(index: dict[str, Any], goldens: Path) -> None:
    # TF.js was given text here; pyweb must write the same UTF-8 bytes for str input.
    entry = _entry(index, "encode", "string")
    named = [(w["name"], np.vectorize(bytes.decode, otypes=[object])(_array(w))) for w in entry["inputs"]]
    data, _ = encode_weights(named)
    assert bytes(data) == (goldens / entry["files"]["weights"]).read_bytes()


@pytest.mark.parametrize("case", ENCODE_CASES)
def test_decode_weights_reads_tfjs_encoding(case: str, index: dict[str, Any], goldens: Path) -> None:
    entry = _entry(index, "encode", case)
    specs = json.loads((goldens / entry["files"]["specs"]).read_text("utf-8"))
    decoded = decode_weights((goldens / entry["files"]["weights"]).read_bytes(), specs, strict=True)
    assert list(decoded) == [w["name"] for w in entry["inputs"]]
    for want in entry["inputs"]:
        _assert_same_bits(decoded[want["name"]], want, f"{case}/{want['name']}")


@pytest.mark.parametrize("case", DECODE_CASES)
def test_decode_weights_dequantizes_like_tfjs(case: str, index: dict[str, Any], goldens: Path) -> None:
    files = _entry(index, "decode", case)["files"]
    specs = json.loads((goldens / files["specs"]).read_text("utf-8"))
    expected = json.loads((goldens / files["decoded"]).read_text("utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trailing_bytes: TF.js ignores them silently, pyweb may warn
        decoded = decode_weights((goldens / files["weights"]).read_bytes(), specs, strict=False)
    assert list(decoded) == [w["name"] for w in expected]
    for want in expected:
        _assert_same_bits(decoded[want["name"]], want, f"{case}/{want['name']}")


# -- JSON.stringify ----------------------------------------------------------------------------


def test_js_dumps_matches_json_stringify(index: dict[str, Any], goldens: Path) -> None:
    cases = json.loads((goldens / index["json"]["file"]).read_text("utf-8"))
    assert len(cases) == index["json"]["count"]
    failures = []
    for case in cases:
        try:
            got = js_dumps(json.loads(case["text"]))
        except Exception as exc:  # noqa: BLE001  report every case, not just the first
            got = f"<{type(exc).__name__}: {exc}>"
        if got != case["expected"]:
            failures.append(f"{case['id']}: text {case['text']!r}\n  want {case['expected']!r}\n  got  {got!r}")
    assert not failures, f"{len(failures)} of {len(cases)} differ from JSON.stringify:\n" + "\n".join(failures)


# -- models --------------------------------------------------------------------------------------


def _http_files(entry: dict[str, Any], goldens: Path) -> tuple[str, bytes]:
    text = (goldens / entry["files"]["http_model_json"]).read_bytes().decode("utf-8")
    weights = (goldens / entry["files"]["http_weights"]).read_bytes()
    return text, weights


def _tfjs_artifacts(entry: dict[str, Any], goldens: Path) -> ModelArtifacts:
    """The ModelArtifacts TF.js passed to its save handler, as pyweb's dataclass."""
    doc = json.loads((goldens / entry["files"]["artifacts"]).read_text("utf-8"))
    unknown = set(doc) - set(_ARTIFACT_FIELDS)
    assert not unknown, f"artifacts fields this test does not map: {unknown}"
    fields = {_ARTIFACT_FIELDS[k]: v for k, v in doc.items()}
    absent = frozenset(k for k in ("format", "generatedBy", "convertedBy") if k not in doc)
    return ModelArtifacts(**fields, weight_data=(goldens / entry["files"]["weights"]).read_bytes(), absent_keys=absent)


def test_reference_example_is_what_tfjs_writes(index: dict[str, Any]) -> None:
    # Guards the reference text the rest of pyweb is written from (§13, HTTP path).
    check = _entry(index, "models", "dense_reference")["reference_model_json"]
    assert check == {"expected_bytes": 1459, "matches": True}


@pytest.mark.parametrize("case", MODEL_CASES)
def test_model_json_round_trip_is_byte_identical(case: str, index: dict[str, Any], goldens: Path) -> None:
    entry = _entry(index, "models", case)
    text, weights = _http_files(entry, goldens)
    artifacts = dataclasses.replace(from_model_json(text), weight_data=weights)
    assert to_model_json(artifacts, ["./model.weights.bin"]) == text


@pytest.mark.parametrize("case", MODEL_CASES)
def test_model_json_from_save_artifacts_is_byte_identical(case: str, index: dict[str, Any], goldens: Path) -> None:
    # From the in-memory artifacts TF.js saves, not from a parse of the file we compare with.
    entry = _entry(index, "models", case)
    text, weights = _http_files(entry, goldens)
    artifacts = _tfjs_artifacts(entry, goldens)
    assert to_model_json(artifacts, ["./model.weights.bin"]) == text
    assert bytes(artifacts.weight_bytes()) == weights


@pytest.mark.parametrize("case", MODEL_CASES)
def test_artifacts_info_matches_tfjs(case: str, index: dict[str, Any], goldens: Path) -> None:
    entry = _entry(index, "models", case)
    text, weights = _http_files(entry, goldens)
    want = entry["artifacts_info"]
    for artifacts in (dataclasses.replace(from_model_json(text), weight_data=weights), _tfjs_artifacts(entry, goldens)):
        info = artifacts_info(artifacts)
        got = {
            "modelTopologyType": info.model_topology_type,
            "modelTopologyBytes": info.model_topology_bytes,
            "weightSpecsBytes": info.weight_specs_bytes,
            "weightDataBytes": info.weight_data_bytes,
        }
        assert got == want


@pytest.mark.parametrize("case", MODEL_CASES)
def test_model_weights_decode_to_tfjs_bytes(case: str, index: dict[str, Any], goldens: Path) -> None:
    entry = _entry(index, "models", case)
    text, weights = _http_files(entry, goldens)
    artifacts = from_model_json(text)
    decoded = decode_weights(weights, artifacts.weight_specs, strict=True)
    data, specs = encode_weights(list(decoded.items()))
    assert bytes(data) == weights
    assert [{k: s[k] for k in ("name", "shape", "dtype")} for s in artifacts.weight_specs] == specs


def test_public_names_are_the_ones_tested() -> None:
    assert pyweb.to_model_json is to_model_json and pyweb.from_model_json is from_model_json
    assert pyweb.encode_weights is encode_weights and pyweb.decode_weights is decode_weights


@pytest.mark.parametrize("case", ["metadata_optimizer", "functional_conv"])
def test_tfjs_loads_what_pyweb_writes(case: str, index: dict[str, Any], goldens: Path, tmp_path: Path) -> None:
    entry = _entry(index, "models", case)
    artifacts = _tfjs_artifacts(entry, goldens)
    (tmp_path / "model.json").write_text(to_model_json(artifacts, ["./model.weights.bin"]), "utf-8")
    (tmp_path / "model.weights.bin").write_bytes(artifacts.weight_bytes())
    seen = load_check(tmp_path)
    assert seen["model_loaded"] and seen["predict"] == entry["predict"]
    assert seen.get("userDefinedMetadata") == artifacts.user_defined_metadata
    decoded = decode_weights(artifacts.weight_data, artifacts.weight_specs)
    assert [w["name"] for w in seen["weights"]] == list(decoded)
    for want in seen["weights"]:
        _assert_same_bits(decoded[want["name"]], want, f"{case}/{want['name']}")
