"""model.json <-> ModelArtifacts: the one place the wire format is mapped.

On the wire everything is camelCase JSON written exactly as TF.js's
``JSON.stringify`` writes it (:mod:`pyweb.jsjson`); in Python it is the
snake_case :class:`~pyweb.types.ModelArtifacts`. Pure functions, no I/O.
Weight shards and their integrity live in :mod:`pyweb.shards`; both modules'
names are re-exported here, so ``from pyweb.artifacts import js_dumps`` works.

Weight file names used by the savers (TF.js tfjs-core/src/io/http.ts,
tfjs-node/src/io/file_system.ts, the converter's write_weights.py):
``./model.weights.bin`` for HTTP and browser saves, ``weights.bin`` for the
Node ``file://`` layout, ``group1-shard1ofK.bin`` when sharded.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
from collections.abc import Iterable
from typing import Any, cast

from .data import BytesLike, ModelArtifacts, ModelArtifactsInfo, WeightData, join_weight_data, weight_data_nbytes
from .errors import ArtifactError, CorruptModelError
from .jsjson import (
    MAX_JSON_DEPTH,
    js_dumps,
    js_iso,
    js_number,
    json_depth,
    json_text_depth,
    load_json,
    now_ms,
    parse_js_iso,
    utf16_units,
)
from .shards import add_integrity, check_integrity, check_shard_bytes, sha256_hex, shard_paths, split_shards

__all__ = [
    "EMBEDDED_WEIGHTS_KEY",
    "FIELDS",
    "HTTP_WEIGHTS_PATH",
    "MAX_JSON_DEPTH",
    "MODEL_JSON",
    "NODE_WEIGHTS_PATH",
    "WEIGHTS_FILE",
    "add_integrity",
    "artifacts_from_json_dict",
    "artifacts_info",
    "artifacts_to_json_dict",
    "check_integrity",
    "check_shard_bytes",
    "embed_weights",
    "embedded_weights",
    "from_model_json",
    "info_from_json",
    "info_to_json",
    "js_dumps",
    "js_iso",
    "js_number",
    "json_depth",
    "json_text_depth",
    "load_json",
    "manifest_paths",
    "now_ms",
    "parse_js_iso",
    "parse_model_json",
    "require_json_topology",
    "sha256_hex",
    "shard_paths",
    "split_shards",
    "to_model_json",
    "utf16_units",
]

MODEL_JSON = "model.json"
WEIGHTS_FILE = "model.weights.bin"
HTTP_WEIGHTS_PATH = "./" + WEIGHTS_FILE
NODE_WEIGHTS_PATH = "weights.bin"
#: pyweb's single-file form (pyweb.handlers.downloads): this top-level key of
#: model.json holds the base64 of every weight file, joined in manifest order.
#: TF.js drops unknown keys, so the rest of the file stays a TF.js model.json.
EMBEDDED_WEIGHTS_KEY = "pywebWeightsData"

#: (snake_case attribute, camelCase key) of every ModelArtifacts field that
#: model.json carries besides the manifest, in TF.js's ModelArtifacts order.
FIELDS = (
    ("model_topology", "modelTopology"),
    ("format", "format"),
    ("generated_by", "generatedBy"),
    ("converted_by", "convertedBy"),
    ("training_config", "trainingConfig"),
    ("signature", "signature"),
    ("user_defined_metadata", "userDefinedMetadata"),
    ("model_initializer", "modelInitializer"),
    ("initializer_signature", "initializerSignature"),
)
# (snake_case attribute, camelCase key) for the metadata after weightsManifest.
_OPTIONAL_BROWSER = (
    ("signature", "signature"),
    ("user_defined_metadata", "userDefinedMetadata"),
    ("model_initializer", "modelInitializer"),
    ("initializer_signature", "initializerSignature"),
    ("training_config", "trainingConfig"),
)
# tfjs-node's file saver writes these three, in this order, and never the
# initializer fields; pyweb appends those only when set, so nothing is lost.
_OPTIONAL_NODE = (
    ("training_config", "trainingConfig"),
    ("signature", "signature"),
    ("user_defined_metadata", "userDefinedMetadata"),
    ("model_initializer", "modelInitializer"),
    ("initializer_signature", "initializerSignature"),
)
_HEAD = (("format", "format"), ("generated_by", "generatedBy"), ("converted_by", "convertedBy"))


def info_to_json(info: ModelArtifactsInfo) -> dict[str, Any]:
    """TF.js's camelCase form of an info, as its stores keep it (None left out)."""
    doc = {
        "dateSaved": js_iso(info.date_saved),
        "modelTopologyType": info.model_topology_type,
        "modelTopologyBytes": info.model_topology_bytes,
        "weightSpecsBytes": info.weight_specs_bytes,
        "weightDataBytes": info.weight_data_bytes,
    }
    return {k: v for k, v in doc.items() if v is not None}


def info_from_json(doc: Any, *, part: str = "modelArtifactsInfo", url: str | None = None) -> ModelArtifactsInfo:
    """The inverse of :func:`info_to_json`; a missing date reads as now.

    Raises
    ------
    CorruptModelError
        ``doc`` is not an object, its date is not an ISO date, or a byte
        count is not a non-negative integer (``.part`` is ``part``).
    """

    def bad(why: str) -> CorruptModelError:
        return CorruptModelError(f"{part}{_at(url)} {why}", part=part, url=url)

    if not isinstance(doc, dict):
        raise bad(f"is a {type(doc).__name__}, not an object")
    counts = {}
    for key in ("modelTopologyBytes", "weightSpecsBytes", "weightDataBytes"):
        value = doc.get(key)
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise bad(f"has {key} {value!r:.40}, not a byte count")
        counts[key] = value
    kind = doc.get("modelTopologyType", "JSON")
    if not isinstance(kind, str):
        raise bad("has a modelTopologyType that is not text")
    date = doc.get("dateSaved")
    try:
        when = parse_js_iso(date) if date else _dt.datetime.now(_dt.UTC)
    except (TypeError, ValueError):
        raise bad(f"has dateSaved {date!r:.40}, not an ISO date") from None
    return ModelArtifactsInfo(
        date_saved=when,
        model_topology_type=kind,
        model_topology_bytes=counts["modelTopologyBytes"],
        weight_specs_bytes=counts["weightSpecsBytes"],
        weight_data_bytes=counts["weightDataBytes"],
    )


def require_json_topology(artifacts: ModelArtifacts, where: str) -> None:
    """Refuse a binary (GraphDef) topology: model.json and TF.js's stores hold JSON ones only.

    Every saver calls this first; ``where`` starts the message and names who
    refused (a scheme such as ``"localstorage://"``, a URL, or ``"model.json"``).

    Raises
    ------
    ArtifactError
        ``artifacts.model_topology`` is bytes.

    Examples
    --------
    >>> require_json_topology(ModelArtifacts(model_topology=b"graph"), "memory://")
    Traceback (most recent call last):
    ...
    pyweb.errors.ArtifactError: memory:// cannot save a binary (GraphDef) model topology; only JSON topologies can be saved
    """
    if isinstance(artifacts.model_topology, (bytes, bytearray, memoryview)):
        raise ArtifactError(
            f"{where} cannot save a binary (GraphDef) model topology; only JSON topologies can be saved"
        )


# -- model.json ----------------------------------------------------------------


def to_model_json(
    artifacts: ModelArtifacts, weights_manifest: list[dict[str, Any]] | list[str] | None, *, layout: str = "browser"
) -> str:
    """The ``model.json`` text TF.js writes for ``artifacts``.

    Parameters
    ----------
    artifacts
        The model; ``weight_data`` is not used.
    weights_manifest
        TF.js's list of groups ``[{"paths": [...], "weights": [...]}]``, or a
        list of paths for one group holding all of ``artifacts.weight_specs``.
    layout
        ``"browser"`` (browser, HTTP and downloads savers: ``modelTopology,
        format, generatedBy, convertedBy, weightsManifest, ...``) or
        ``"node"`` (tfjs-node ``file://``: ``weightsManifest`` second).

    Returns
    -------
    str
        Compact JSON, byte-identical to TF.js's for the same content.

    Raises
    ------
    ArtifactError
        A binary (GraphDef) topology, or a value JSON cannot hold.

    Examples
    --------
    >>> to_model_json(ModelArtifacts(model_topology={"a": 1}, weight_specs=[]), ["./model.weights.bin"])
    '{"modelTopology":{"a":1},"convertedBy":null,"weightsManifest":[{"paths":["./model.weights.bin"],"weights":[]}]}'
    """
    require_json_topology(artifacts, "model.json")
    manifest = _manifest(artifacts, weights_manifest)
    doc: dict[str, Any] = {}
    if layout == "browser":
        _put(doc, "modelTopology", artifacts.model_topology)
        _put_head(doc, artifacts)
        _put(doc, "weightsManifest", manifest)
        optional = _OPTIONAL_BROWSER
    elif layout == "node":
        _put(doc, "modelTopology", artifacts.model_topology)
        _put(doc, "weightsManifest", manifest)
        _put_head(doc, artifacts)
        optional = _OPTIONAL_NODE
    else:
        raise ValueError(f"layout must be 'browser' or 'node', not {layout!r}")
    for attr, key in optional:
        _put(doc, key, getattr(artifacts, attr))
    return js_dumps(doc)


def _put(doc: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        doc[key] = value


def _put_head(doc: dict[str, Any], artifacts: ModelArtifacts) -> None:
    # TF.js assigns these three unconditionally: null stays, undefined
    # vanishes. A None here is absent for format/generatedBy and null for
    # convertedBy (what TF.js's own saves hold), unless the source said otherwise.
    for attr, key in _HEAD:
        value = getattr(artifacts, attr)
        if value is not None:
            doc[key] = value
        elif key in artifacts.null_keys or (key == "convertedBy" and key not in artifacts.absent_keys):
            doc[key] = None


def _manifest(
    artifacts: ModelArtifacts, manifest: list[dict[str, Any]] | list[str] | None
) -> list[dict[str, Any]] | None:
    if manifest is None:
        return None
    if all(isinstance(p, str) for p in manifest):
        group: dict[str, Any] = {"paths": list(manifest)}
        if artifacts.weight_specs is not None:
            group["weights"] = artifacts.weight_specs
        return [group]
    return list(cast("list[dict[str, Any]]", manifest))  # groups, as given


def from_model_json(text: str | bytes) -> ModelArtifacts:
    """Parse ``model.json`` text into ModelArtifacts (without weight bytes).

    ``weight_specs`` is every group's ``weights`` in order, or ``None`` when
    the file has no ``weightsManifest``; ``weight_data`` is left ``None``.

    Raises
    ------
    CorruptModelError
        Not JSON, not an object, or fields of the wrong type.

    Examples
    --------
    >>> from_model_json('{"modelTopology":{},"weightsManifest":[]}').weight_specs
    []
    """
    return parse_model_json(text)[0]


def parse_model_json(
    text: str | BytesLike, *, url: str | None = None
) -> tuple[ModelArtifacts, list[dict[str, Any]] | None]:
    """Like :func:`from_model_json`, and also return the weights manifest."""
    doc = _load_json(text, url)
    manifest = doc.get("weightsManifest")
    _check_manifest(manifest, url)
    absent = frozenset(key for _, key in _HEAD if key not in doc)
    nulls = frozenset(key for _, key in _HEAD if key in doc and doc[key] is None)
    artifacts = ModelArtifacts(
        model_topology=doc.get("modelTopology"),
        weight_specs=None if manifest is None else [spec for group in manifest for spec in group["weights"]],
        format=doc.get("format"),
        generated_by=doc.get("generatedBy"),
        converted_by=doc.get("convertedBy"),
        training_config=doc.get("trainingConfig"),
        signature=doc.get("signature"),
        user_defined_metadata=doc.get("userDefinedMetadata"),
        model_initializer=doc.get("modelInitializer"),
        initializer_signature=doc.get("initializerSignature"),
        absent_keys=absent,
        null_keys=nulls,
        weights_manifest=manifest,
    )
    embedded = embedded_weights(doc, url=url) if manifest is not None else None
    if embedded is not None:  # single-file form: no weight files left to read
        artifacts.weight_data = embedded
        return artifacts, None
    return artifacts, manifest


def embedded_weights(doc: dict[str, Any], *, url: str | None = None) -> bytes | None:
    """The weight bytes a single-file model.json embeds, or None when it has none.

    Raises
    ------
    CorruptModelError
        The :data:`EMBEDDED_WEIGHTS_KEY` value is not a base64 string.
    """
    value = doc.get(EMBEDDED_WEIGHTS_KEY)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise TypeError(type(value).__name__)
        return base64.b64decode(value, validate=True)
    except (TypeError, ValueError, binascii.Error) as exc:
        message = f"model.json{_at(url)}: {EMBEDDED_WEIGHTS_KEY} is not base64 text ({exc})"
        raise CorruptModelError(message, part=MODEL_JSON, url=url) from exc


def embed_weights(model_json: bytes, data: WeightData | None) -> bytes:
    """Append :data:`EMBEDDED_WEIGHTS_KEY` to a compact model.json (UTF-8 bytes).

    The result minus ``,"pywebWeightsData":"..."`` is ``model_json`` byte for byte.
    """
    if not model_json.endswith(b"}"):
        raise ArtifactError("embed_weights needs the compact model.json text of to_model_json()")
    encoded = base64.b64encode(join_weight_data(data))  # one buffer: encoded in place, not copied first
    return b"".join((model_json[:-1], b',"', EMBEDDED_WEIGHTS_KEY.encode(), b'":"', encoded, b'"}'))


def _load_json(text: str | BytesLike, url: str | None) -> dict[str, Any]:
    doc = load_json(text, part=MODEL_JSON, url=url)
    if not isinstance(doc, dict):
        raise CorruptModelError(f"model.json{_at(url)} must hold a JSON object", part=MODEL_JSON, url=url)
    if "modelTopology" not in doc and "weightsManifest" not in doc:
        raise CorruptModelError(
            f"model.json{_at(url)} has neither modelTopology nor weightsManifest", part=MODEL_JSON, url=url
        )
    return doc


def _check_manifest(manifest: Any, url: str | None) -> None:
    if manifest is None:
        return
    ok = isinstance(manifest, list) and all(
        isinstance(g, dict)
        and isinstance(g.get("paths"), list)
        and all(isinstance(p, str) for p in g["paths"])
        and isinstance(g.get("weights", []), list)
        and all(isinstance(s, dict) and "name" in s and "dtype" in s and "shape" in s for s in g.get("weights", []))
        for g in manifest
    )
    if not ok:
        raise CorruptModelError(f"weightsManifest{_at(url)} is malformed", part=MODEL_JSON, url=url)
    for group in manifest:
        group.setdefault("weights", [])


def _at(url: str | None) -> str:
    return f" at {url}" if url else ""


def manifest_paths(manifest: Iterable[dict[str, Any]]) -> list[str]:
    """Every shard path, group by group, in manifest order."""
    return [path for group in manifest for path in group["paths"]]


# -- in-memory camelCase artifacts (TF.js's ModelArtifacts object) ----------------

# (snake_case attribute, camelCase key) in the order TF.js's LayersModel.save
# builds its ModelArtifacts object (tfjs-layers training.ts), which is what
# its IndexedDB saver stores.
_JSON_DICT_FIELDS = (*FIELDS, ("weight_data", "weightData"), ("weight_specs", "weightSpecs"))


def artifacts_to_json_dict(artifacts: ModelArtifacts) -> dict[str, Any]:
    """TF.js's in-memory ``ModelArtifacts`` object: camelCase keys, values as they are.

    Fields left ``None`` are omitted, except that ``format``, ``generatedBy``
    and ``convertedBy`` follow :func:`to_model_json`'s rule (``convertedBy``
    null unless it was absent at the source; the other two null only if the
    source said null). ``weightData`` is one buffer (shards joined; a view
    when there is one), the form TF.js's savers store.

    Examples
    --------
    >>> artifacts_to_json_dict(ModelArtifacts(model_topology={"a": 1}, format="layers-model"))
    {'modelTopology': {'a': 1}, 'format': 'layers-model', 'convertedBy': None}
    """
    doc: dict[str, Any] = {}
    for attr, key in _JSON_DICT_FIELDS:
        value = getattr(artifacts, attr)
        if key == "format":
            _put_head(doc, artifacts)  # format, generatedBy, convertedBy
        elif key in ("generatedBy", "convertedBy"):
            continue
        elif key == "weightData" and value is not None:
            doc[key] = join_weight_data(value)
        elif value is not None:
            doc[key] = value
    return doc


def artifacts_from_json_dict(doc: dict[str, Any]) -> ModelArtifacts:
    """The inverse of :func:`artifacts_to_json_dict`; unknown keys are dropped.

    ``weightData`` is kept as given (one buffer or a list of buffers).

    Raises
    ------
    CorruptModelError
        ``doc`` is not a dict.
    """
    if not isinstance(doc, dict):
        kind = type(doc).__name__
        raise CorruptModelError(f"stored model artifacts must be an object, not {kind}", part="modelArtifacts")
    fields = {attr: doc.get(key) for attr, key in _JSON_DICT_FIELDS}
    absent = frozenset(key for _, key in _HEAD if key not in doc)
    nulls = frozenset(key for _, key in _HEAD if key in doc and doc[key] is None)
    return ModelArtifacts(**fields, absent_keys=absent, null_keys=nulls)


# -- info ------------------------------------------------------------------------


def artifacts_info(artifacts: ModelArtifacts, *, date: _dt.datetime | None = None) -> ModelArtifactsInfo:
    """TF.js's ``getModelArtifactsInfoForJSON``: UTF-8 byte counts of each part.

    Raises
    ------
    ArtifactError
        The topology is binary (TF.js raises too).
    """
    require_json_topology(artifacts, "model.json")
    return ModelArtifactsInfo(
        date_saved=date or _dt.datetime.now(_dt.UTC),
        model_topology_type="JSON",
        model_topology_bytes=_utf8_len(artifacts.model_topology),
        weight_specs_bytes=_utf8_len(artifacts.weight_specs),
        weight_data_bytes=_weight_data_bytes(artifacts.weight_data),
    )


def _utf8_len(value: Any) -> int:
    if value is None:
        return 0
    # Lone surrogates count 3 bytes each, as Blob.size and Buffer.byteLength do.
    return len(js_dumps(value).encode("utf-8", "surrogatepass"))


def _weight_data_bytes(data: WeightData | None) -> int | None:
    if isinstance(data, list) and not data:
        return None  # TF.js quirk: weightData [] gives undefined
    return weight_data_nbytes(data)
