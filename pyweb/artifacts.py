"""model.json <-> ModelArtifacts: the one place the wire format is mapped.

On the wire everything is camelCase JSON written exactly as TF.js's
``JSON.stringify`` writes it (compact separators, JS number formatting,
integer-like keys first, minimal string escaping); in Python it is the
snake_case :class:`~pyweb.types.ModelArtifacts`. Pure functions, no I/O.

Weight file names used by the savers (TF.js tfjs-core/src/io/http.ts,
tfjs-node/src/io/file_system.ts, the converter's write_weights.py):
``./model.weights.bin`` for HTTP and browser saves, ``weights.bin`` for the
Node ``file://`` layout, ``group1-shard1ofK.bin`` when sharded.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import math
import re
from collections.abc import Iterable
from typing import Any

from .errors import ArtifactError, CorruptModelError
from .types import ModelArtifacts, ModelArtifactsInfo, WeightData, _byte_view, join_weight_data, weight_data_nbytes

__all__ = [
    "EMBEDDED_WEIGHTS_KEY",
    "FIELDS",
    "HTTP_WEIGHTS_PATH",
    "MODEL_JSON",
    "NODE_WEIGHTS_PATH",
    "WEIGHTS_FILE",
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
    "json_depth",
    "json_text_depth",
    "load_json",
    "manifest_paths",
    "now_ms",
    "parse_model_json",
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


# -- JSON.stringify ------------------------------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\ud800-\udfff]')
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def js_dumps(value: Any) -> str:
    """Serialise ``value`` exactly as JavaScript's ``JSON.stringify(value)``.

    ``None``, NaN and infinities become ``null``; floats use JS's shortest
    round-trip form (``1`` not ``1.0``, ``1e-7`` not ``1e-07``); object keys
    that are array indices come first in ascending order; only ``"``, ``\\``,
    control characters and lone surrogates are escaped.

    Examples
    --------
    >>> js_dumps({"b": 1.0, "2": 1e-7, "a": [None, float("nan")]})
    '{"2":1e-7,"b":1,"a":[null,null]}'
    """
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if value is None or value is True or value is False:
        out.append("null" if value is None else ("true" if value else "false"))
    elif isinstance(value, str):
        out.append(_js_string(value))
    elif isinstance(value, (int, float)):
        out.append(js_number(value))
    elif isinstance(value, dict):
        _write_object(value, out)
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, _dt.datetime):
        out.append(_js_string(js_iso(value)))
    elif hasattr(value, "tolist"):  # numpy scalars and arrays
        _write(value.tolist(), out)
    else:
        raise ArtifactError(f"cannot write a {type(value).__name__} into model JSON: {value!r}")


def _write_object(value: dict, out: list[str]) -> None:
    for key in value:
        if not isinstance(key, str):
            raise ArtifactError(f"JSON object keys must be strings, not {type(key).__name__}: {key!r}")
    index_keys = sorted((k for k in value if _is_array_index(k)), key=int)
    other_keys = [k for k in value if not _is_array_index(k)]
    out.append("{")
    first = True
    for key in index_keys + other_keys:
        if not first:
            out.append(",")
        first = False
        out.append(_js_string(key))
        out.append(":")
        _write(value[key], out)
    out.append("}")


def _is_array_index(key: str) -> bool:
    # JS orders "array index" keys (canonical integers below 2**32 - 1) first.
    return bool(_ARRAY_INDEX.fullmatch(key)) and int(key) < 2**32 - 1


def _js_string(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, _pair_surrogates(text)) + '"'


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _pair_surrogates(text: str) -> str:
    # A high+low surrogate pair held as two code points is one valid UTF-16
    # character in JS and is written raw; join such pairs first.
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def js_number(value: float) -> str:
    """Format a number as JS's ``Number.prototype.toString`` (JSON rules)."""
    if isinstance(value, int) and abs(value) <= 2**53:
        return str(value)  # beyond 2**53 JS holds a double, formatted below
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return "null"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits, exp = _shortest_digits(abs(value))
    return sign + _js_layout(digits, exp)


def _shortest_digits(value: float) -> tuple[str, int]:
    # repr() gives the shortest round-trip digits, as JS does; only the layout
    # differs. Returns digits d1..dk and n with value = 0.d1..dk * 10**n.
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    n = len(whole) + int(exponent or 0) - (len(whole + frac) - len((whole + frac).lstrip("0")))
    digits = digits.rstrip("0") or "0"
    return digits, n


def _js_layout(digits: str, n: int) -> str:
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    exp = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp)}"


def now_ms() -> _dt.datetime:
    """Now in UTC, cut to milliseconds: what a JS Date (and so a stored info) keeps."""
    now = _dt.datetime.now(_dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def utf16_units(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, JavaScript's ``.length`` (what localStorage quotas count)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def js_iso(when: _dt.datetime) -> str:
    """A datetime as JS ``Date.toISOString()``: UTC, milliseconds, ``Z``."""
    if when.tzinfo is not None:
        when = when.astimezone(_dt.UTC).replace(tzinfo=None)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


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


def parse_js_iso(text: str) -> _dt.datetime:
    """Parse ``Date.toISOString()`` output into an aware UTC datetime."""
    when = _dt.datetime.fromisoformat(text)  # Python 3.11+ reads the trailing "Z"
    return when if when.tzinfo is not None else when.replace(tzinfo=_dt.UTC)


# -- model.json ----------------------------------------------------------------


def to_model_json(
    artifacts: ModelArtifacts, weights_manifest: list[dict] | list[str] | None, *, layout: str = "browser"
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
    if isinstance(artifacts.model_topology, (bytes, bytearray, memoryview)):
        raise ArtifactError("model.json cannot hold a binary (GraphDef) topology; only JSON topologies can be saved")
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


def _manifest(artifacts: ModelArtifacts, manifest: list[dict] | list[str] | None) -> list[dict] | None:
    if manifest is None:
        return None
    if all(isinstance(p, str) for p in manifest):
        group: dict[str, Any] = {"paths": list(manifest)}
        if artifacts.weight_specs is not None:
            group["weights"] = artifacts.weight_specs
        return [group]
    return list(manifest)


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


def parse_model_json(text: str | bytes, *, url: str | None = None) -> tuple[ModelArtifacts, list[dict] | None]:
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


#: Deepest nesting of objects and arrays pyweb reads from a stored model (Keras and
#: TF.js topologies nest about 10 deep). Deeper text would exhaust Python's stack.
MAX_JSON_DEPTH = 100


def load_json(text: str | bytes, *, part: str, url: str | None = None) -> Any:
    """Parse JSON from a stored model as ``JSON.parse`` would, or raise CorruptModelError (``.part``).

    Bytes are UTF-8 (a leading BOM is dropped, as ``TextDecoder`` does); ``NaN``
    and ``Infinity``, which Python's parser takes and JavaScript's refuses, are
    refused; nesting deeper than :data:`MAX_JSON_DEPTH` is refused before parsing.

    Examples
    --------
    >>> load_json("[[1]]", part="model.json")
    [[1]]
    """
    try:
        if isinstance(text, (bytes, bytearray, memoryview)):
            text = bytes(text).decode("utf-8-sig")
        if json_text_depth(text) > MAX_JSON_DEPTH:
            raise CorruptModelError(f"{part}{_at(url)} nests deeper than {MAX_JSON_DEPTH}", part=part, url=url)
        return json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        if isinstance(exc, CorruptModelError):
            raise
        why = "nests too deeply" if isinstance(exc, RecursionError) else f"is not valid JSON: {exc}"
        raise CorruptModelError(f"{part}{_at(url)} {why}", part=part, url=url) from None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_text_depth(text: str) -> int:
    """How deep ``[``/``{`` nest in JSON text, strings skipped, without parsing it (linear time).

    Checked before ``json.loads``: its C parser recurses once per level, and
    in a browser a few thousand levels overflow the JavaScript stack under
    Pyodide (a fatal error, not a RecursionError).
    """
    if "[" not in text and "{" not in text:
        return 0
    # Drop escaped backslashes, then escaped quotes (str.replace is linear), so every
    # string is a plain "...": then drop those, and whatever is not a bracket.
    if "\\" in text:
        text = text.replace("\\\\", "").replace('\\"', "")
    brackets = _BRACKET_RUNS.sub("", _JSON_STRING.sub("", text))
    depth = deepest = 0
    for opening in brackets.replace("{", "[").replace("}", "]").split("]"):
        depth += len(opening)
        deepest = max(deepest, depth)
        depth -= 1
    return deepest


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep dicts and lists nest in ``value`` (0 for a scalar); stops counting past ``limit``."""
    depth, level = 0, [value]
    while depth <= limit:
        level = [i for i in level if isinstance(i, (dict, list, tuple))]
        if not level:
            break
        depth += 1
        level = [v for i in level for v in (i.values() if isinstance(i, dict) else i)]
    return depth


_JSON_STRING = re.compile(r'"[^"]*"?')  # no alternation, no backtracking: one pass
_BRACKET_RUNS = re.compile(r"[^\[\]{}]+")


def _load_json(text: str | bytes, url: str | None) -> dict[str, Any]:
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


def manifest_paths(manifest: Iterable[dict]) -> list[str]:
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


# -- info, shards, integrity -----------------------------------------------------


def artifacts_info(artifacts: ModelArtifacts, *, date: _dt.datetime | None = None) -> ModelArtifactsInfo:
    """TF.js's ``getModelArtifactsInfoForJSON``: UTF-8 byte counts of each part.

    Raises
    ------
    ArtifactError
        The topology is binary (TF.js raises too).
    """
    if isinstance(artifacts.model_topology, (bytes, bytearray, memoryview)):
        raise ArtifactError("expected a JSON model topology, got bytes (a binary GraphDef cannot be saved)")
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


def shard_paths(count: int, group: int = 1) -> list[str]:
    """The converter's shard names: ``group1-shard1of3.bin``, ..."""
    return [f"group{group}-shard{i}of{count}.bin" for i in range(1, count + 1)]


def check_shard_bytes(shard_bytes: int | None) -> int | None:
    """Validate a ``shard_bytes`` option: None or a positive int (not a bool)."""
    if shard_bytes is not None and (isinstance(shard_bytes, bool) or not isinstance(shard_bytes, int) or shard_bytes <= 0):
        raise ValueError(f"shard_bytes must be a positive integer, not {shard_bytes!r}")
    return shard_bytes


def split_shards(data: WeightData | None, shard_bytes: int | None) -> list[list[memoryview]]:
    """Cut weight bytes into files of ``shard_bytes``, each a list of views.

    No bytes are copied: a piece that spans two input buffers is two views.
    ``None`` gives one piece holding everything (an empty model still gets one
    empty file, as TF.js writes); a size gives ``ceil(total / size)`` pieces,
    so 0 bytes give none, as the converter does.
    """
    views = [_byte_view(b) for b in _buffers(data)]
    if check_shard_bytes(shard_bytes) is None:
        return [views]
    pieces: list[list[memoryview]] = []
    current: list[memoryview] = []
    room = shard_bytes
    for view in views:
        while view.nbytes:
            take = view[:room]
            current.append(take)
            view, room = view[take.nbytes :], room - take.nbytes
            if room == 0:
                pieces.append(current)
                current, room = [], shard_bytes
    if current:
        pieces.append(current)
    return pieces


def _buffers(data: WeightData | None) -> list[Any]:
    if data is None:
        return []
    return [data] if isinstance(data, (bytes, bytearray, memoryview)) else list(data)


def sha256_hex(data: Any) -> str:
    """sha256 of a buffer or of a list of buffers taken as one stream."""
    digest = hashlib.sha256()
    for view in _buffers(data):
        digest.update(_byte_view(view))
    return digest.hexdigest()


def add_integrity(group: dict[str, Any], pieces: list[Any]) -> None:
    """Record a ``sha256`` per path in a manifest group (TF.js ignores the key).

    ``pieces`` holds each file's content: a buffer or a list of buffers.
    """
    group["sha256"] = [sha256_hex(p) for p in pieces]


def check_integrity(group: dict[str, Any], index: int, data: Any, *, url: str | None = None) -> None:
    """Check shard ``index`` of ``group`` against its recorded sha256, if any.

    Raises
    ------
    CorruptModelError
        The digest differs; ``part`` is the shard's path.
    """
    digests = group.get("sha256")
    if not isinstance(digests, list) or index >= len(digests):
        return
    if sha256_hex(data) != digests[index]:
        path = group["paths"][index]
        raise CorruptModelError(f"weight file {path!r}{_at(url)} does not match its sha256", part=path, url=url)
