"""Weight codec: numpy arrays ↔ TF.js weight bytes + specs (pure, no I/O).

TF.js's layout (``tfjs-core/src/io/io_utils.ts``): tensors in spec order, row-major, little-endian, unpadded;
a string element is a uint32 LE byte count then its UTF-8 bytes. Quantized specs decode exactly as TF.js 4.22
does and are encoded as its converter does. numpy is imported only inside the functions that need it, so this
module (and :func:`weights_nbytes`) works in a Pyodide page that has not loaded numpy.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
import warnings
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from .errors import ArtifactError, CorruptModelError, UnsupportedDTypeError
from .types import ModelArtifacts, WeightData, join_weight_data

__all__ = [
    "DTYPES",
    "QUANT_DTYPES",
    "DTypeInfo",
    "TrailingBytesWarning",
    "decode_weights",
    "encode_weights",
    "quantize_artifacts",
    "quantize_weights",
    "weights_nbytes",
]


class DTypeInfo(NamedTuple):
    """A numpy dtype string (little-endian) and bytes per element (``None``: variable)."""

    numpy: str
    size: int | None


#: The dtypes a TF.js weight spec may have.
DTYPES: Mapping[str, DTypeInfo] = MappingProxyType(
    {
        "float32": DTypeInfo("<f4", 4),
        "int32": DTypeInfo("<i4", 4),
        "bool": DTypeInfo("|b1", 1),  # one byte, 0 or 1
        "complex64": DTypeInfo("<c8", 8),  # real, imag float32 interleaved
        "string": DTypeInfo("O", None),  # per element: uint32 LE byte count, then the bytes
    }
)

#: The dtypes a spec's ``quantization.dtype`` may have (how the values are stored).
QUANT_DTYPES: Mapping[str, DTypeInfo] = MappingProxyType(
    {"uint8": DTypeInfo("|u1", 1), "uint16": DTypeInfo("<u2", 2), "float16": DTypeInfo("<f2", 2)}
)

# numpy dtype name -> TF.js dtype: the converter's auto-conversion, plus small ints
# (TF.js has no int16/uint8 tensors either: tf.tensor(new Uint8Array(...)) is int32).
_FROM_NUMPY = {
    **dict.fromkeys(["float16", "float32", "float64"], "float32"),
    **dict.fromkeys(["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"], "int32"),
    **{"bool": "bool", "complex64": "complex64", "complex128": "complex64"},
}
_QUANT_MAX = {"uint8": 255, "uint16": 65535}
_LEN = 4  # bytes in a string element's length prefix


class TrailingBytesWarning(UserWarning):
    """Weight data holds bytes after the last weight (TF.js ignores them)."""


class _Spec(NamedTuple):
    name: str
    shape: tuple[int, ...]
    count: int
    dtype: str
    quant: Mapping[str, Any] | None


def _np():
    try:
        import numpy
    except ImportError as exc:  # Pyodide: numpy is a separate package
        raise ModuleNotFoundError("pyweb's weight codec needs numpy (Pyodide: pyodide.loadPackage('numpy'))") from exc
    return numpy


def encode_weights(
    named_arrays: Mapping[str, Any] | Iterable[tuple[str, Any]], *, group: str | None = None
) -> tuple[bytes, list[dict]]:
    """Encode arrays into one TF.js weight buffer and its specs.

    Parameters
    ----------
    named_arrays
        ``{name: array}`` or ``[(name, array), ...]``, order kept. float64/float16 become float32,
        complex128 complex64, integers int32 (values outside int32 are refused, not wrapped);
        str/bytes arrays become ``"string"`` (str as UTF-8).
    group
        Added to every spec as ``"group"`` (TF.js writes ``"optimizer"``).

    Returns
    -------
    tuple[bytes, list[dict]]
        Little-endian bytes and specs ``{"name", "shape", "dtype"[, "group"]}``.

    Raises
    ------
    UnsupportedDTypeError
        A dtype TF.js cannot store (``.dtype``, ``.name``).
    ArtifactError
        Duplicate or non-str names.

    Examples
    --------
    >>> data, specs = encode_weights({"w": [[1.0, 2.0]], "s": ["a", "bc"]})
    >>> len(data), specs[0]
    (19, {'name': 'w', 'shape': [1, 2], 'dtype': 'float32'})
    """
    np = _np()
    parts: list[Any] = []
    specs: list[dict] = []
    for name, value in _named_items(named_arrays):
        dtype, arr = _normalize(np, name, value)
        parts.append(_encode_one(np, name, dtype, arr))
        specs.append({"name": name, "shape": [int(d) for d in arr.shape], "dtype": dtype})
        if group is not None:
            specs[-1]["group"] = group
    return b"".join(parts), specs


def _named_items(named_arrays: Any) -> Iterator[tuple[str, Any]]:
    seen: set[str] = set()
    for item in named_arrays.items() if isinstance(named_arrays, Mapping) else named_arrays:
        if not isinstance(item, tuple) or len(item) != 2 or not isinstance(item[0], str):
            raise ArtifactError(f"expected (name, array) pairs with str names, got {item!r:.80}")
        if item[0] in seen:
            raise ArtifactError(f"duplicate weight name {item[0]!r}; weight names must be unique")
        seen.add(item[0])
        yield item


def _normalize(np: Any, name: str, value: Any) -> tuple[str, Any]:
    arr = _as_array(np, value)
    if arr.dtype.kind in "SUO":
        return "string", arr
    dtype = _FROM_NUMPY.get(arr.dtype.name)
    if dtype is None:
        raise _unsupported(name, arr.dtype.name, "use float32, int32, bool, complex64 or str")
    if dtype == "int32" and arr.dtype.itemsize >= 4 and arr.size:
        if int(arr.min()) < -(2**31) or int(arr.max()) >= 2**31:
            raise _unsupported(name, arr.dtype.name, "its values do not fit int32, which is how TF.js stores integers")
    return dtype, arr


def _as_array(np: Any, value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (str, bytes)):
        return np.array(value, dtype=object)
    arr = np.asarray(value)
    # numpy U/S arrays drop trailing NULs; an object array keeps every byte.
    return np.array(value, dtype=object) if arr.dtype.kind in "SU" else arr


def _unsupported(name: str | None, dtype: Any, hint: str) -> UnsupportedDTypeError:
    return UnsupportedDTypeError(f"unsupported dtype in weight {name!r}: {dtype}; {hint}", dtype=str(dtype), name=name)


def _encode_one(np: Any, name: str, dtype: str, arr: Any) -> Any:
    if dtype == "string":
        return b"".join(_encode_string(name, item) for item in arr.ravel().tolist())
    flat = np.ascontiguousarray(arr, dtype=DTYPES[dtype].numpy).reshape(-1)
    return memoryview(flat.view(np.uint8))


def _encode_string(name: str, item: Any) -> bytes:
    if isinstance(item, str):
        raw = _utf8(item)
    elif isinstance(item, (bytes, bytearray, memoryview)):
        raw = bytes(item)
    else:
        raise _unsupported(name, "object", f"a string weight holds a {type(item).__name__}; only str and bytes fit")
    if len(raw) >= 2**32:
        raise ArtifactError(f"an element of string weight {name!r} is 4 GiB or longer")
    return len(raw).to_bytes(_LEN, "little") + raw


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: JS TextEncoder writes U+FFFD, pairs combine
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode("utf-8")


def decode_weights(data: WeightData, specs: Iterable[Mapping[str, Any]], *, strict: bool = False) -> dict[str, Any]:
    """Decode TF.js weight bytes into numpy arrays, one per spec.

    Parameters
    ----------
    data
        One bytes-like buffer, or a list of shards split at any byte.
    specs
        Weight specs. ``"quantization": None`` counts as not quantized (TF.js would crash on it).
    strict
        Raise on bytes after the last weight instead of warning.

    Returns
    -------
    dict[str, numpy.ndarray]
        In spec order. Plain numeric weights are zero-copy views onto ``data`` (onto the joined copy
        when there are several shards); strings are object arrays of ``bytes``; quantized weights are
        dequantized exactly as TF.js does.

    Raises
    ------
    UnsupportedDTypeError
        Unknown dtype or quantization dtype, or float16 on a non-float32 weight.
    CorruptModelError
        Bad shape, min or scale, or too few bytes (``.part`` is the weight's name); with ``strict``,
        trailing bytes (``.part == "weight_data"``).

    Warns
    -----
    TrailingBytesWarning
        Bytes follow the last weight.

    Examples
    --------
    >>> spec = {"name": "b", "shape": [2], "dtype": "int32"}
    >>> decode_weights(b"\\x01\\x00\\x00\\x00\\x02\\x00\\x00\\x00", [spec])["b"]
    array([1, 2], dtype=int32)
    """
    np = _np()
    buf = join_weight_data(data)
    out: dict[str, Any] = {}
    end = 0
    for w, start, end in _walk(buf, specs):
        out[w.name] = _decode_one(np, buf, w, start).reshape(w.shape)
    _check_trailing(buf, end, strict)
    return out


def weights_nbytes(specs: Iterable[Mapping[str, Any]], data: WeightData | None = None) -> int:
    """Count the bytes the weights in ``specs`` occupy; needs no numpy.

    Parameters
    ----------
    specs
        Weight specs, as for :func:`decode_weights`.
    data
        The weight bytes; read only for the length prefixes of ``"string"`` weights.

    Returns
    -------
    int
        The byte count (quantized weights count their stored size).

    Raises
    ------
    UnsupportedDTypeError, CorruptModelError
        As :func:`decode_weights`; ``ArtifactError`` for a string weight without ``data``.

    Examples
    --------
    >>> weights_nbytes([{"name": "w", "shape": [3, 2], "dtype": "float32"}])
    24
    """
    buf = None if data is None else join_weight_data(data)
    total = 0
    for spec in specs:
        total += _nbytes(_parse_spec(spec), buf, total)
    return total


def _walk(buf: memoryview, specs: Iterable[Mapping[str, Any]]) -> Iterator[tuple[_Spec, int, int]]:
    """Validate each spec and yield it with its byte range, before anything is allocated."""
    offset = 0
    for spec in specs:
        w = _parse_spec(spec)
        n = _nbytes(w, buf, offset)
        if n > len(buf) - offset:
            left = len(buf) - offset
            raise CorruptModelError(f"weight {w.name!r} needs {n} bytes, {left} left; data truncated?", part=w.name)
        yield w, offset, offset + n
        offset += n


def _parse_spec(spec: Any) -> _Spec:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        raise CorruptModelError(f"a weight spec needs a str 'name': {spec!r:.80}", part="weight_specs")
    name, dtype, quant = spec["name"], spec.get("dtype"), spec.get("quantization")
    if quant is not None:
        _check_quantization(name, dtype, quant)
    if not isinstance(dtype, str) or dtype not in (DTYPES if quant is None else ("float32", "int32")):
        raise _unsupported(name, dtype, "a quantized weight must be float32 or int32" if quant else f"use {[*DTYPES]}")
    shape = spec.get("shape")
    if not isinstance(shape, (list, tuple)) or not all(_is_dim(d) for d in shape):
        raise CorruptModelError(f"weight {name!r} has shape {shape!r:.80}; need non-negative ints", part=name)
    return _Spec(name, tuple(int(d) for d in shape), math.prod(int(d) for d in shape), dtype, quant)


def _check_quantization(name: str, dtype: Any, quant: Any) -> None:
    if not isinstance(quant, Mapping):
        raise CorruptModelError(f"weight {name!r} has a quantization that is not an object", part=name)
    qdtype = quant.get("dtype")
    if not isinstance(qdtype, str) or qdtype not in QUANT_DTYPES:
        raise _unsupported(name, qdtype, "known quantization dtypes are uint8, uint16 and float16")
    if qdtype in _QUANT_MAX and not (_is_number(quant.get("min")) and _is_number(quant.get("scale"))):
        raise CorruptModelError(f"weight {name!r} is quantized with {qdtype} but lacks numeric min/scale", part=name)
    if qdtype == "float16" and dtype != "float32":
        raise _unsupported(name, dtype, "float16 quantization is only for float32 weights")


def _is_number(value: Any) -> bool:
    try:
        return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _is_dim(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0


def _nbytes(w: _Spec, buf: memoryview | None, offset: int) -> int:
    if w.quant is not None:
        return w.count * QUANT_DTYPES[w.quant["dtype"]].size
    if w.dtype == "string":
        return _string_nbytes(w, buf, offset)
    return w.count * DTYPES[w.dtype].size


def _string_nbytes(w: _Spec, buf: memoryview | None, offset: int) -> int:
    if buf is None:
        raise ArtifactError(f"the size of string weight {w.name!r} depends on the data; pass data=")
    end = len(buf)
    if w.count * _LEN > end - offset:  # every element needs at least its prefix
        raise CorruptModelError(f"string weight {w.name!r} has more elements than the data holds", part=w.name)
    pos = offset
    for _ in range(w.count):
        if pos + _LEN > end:
            raise CorruptModelError(f"data ends inside a length prefix of string weight {w.name!r}", part=w.name)
        pos += _LEN + int.from_bytes(buf[pos : pos + _LEN], "little")
    return pos - offset


def _decode_one(np: Any, buf: memoryview, w: _Spec, start: int) -> Any:
    if w.quant is not None:
        return _dequantize(np, buf, w, start)
    if w.dtype == "string":
        return _decode_strings(np, buf, w.count, start)
    return np.frombuffer(buf, DTYPES[w.dtype].numpy, w.count, start)


def _decode_strings(np: Any, buf: memoryview, count: int, pos: int) -> Any:
    out = np.empty(count, dtype=object)
    for i in range(count):
        n = int.from_bytes(buf[pos : pos + _LEN], "little")
        out[i] = bytes(buf[pos + _LEN : pos + _LEN + n])
        pos += _LEN + n
    return out


def _dequantize(np: Any, buf: memoryview, w: _Spec, start: int) -> Any:
    qdtype = w.quant["dtype"]
    raw = np.frombuffer(buf, QUANT_DTYPES[qdtype].numpy, w.count, start)
    if qdtype == "float16":
        return raw.astype(np.float32)  # bit-identical to TF.js's table lookup
    # JS computes q * scale + min in float64, then stores it into a Float32Array / Int32Array.
    x = raw.astype(np.float64) * float(w.quant["scale"]) + float(w.quant["min"])
    return x.astype(np.float32) if w.dtype == "float32" else _js_round_int32(np, x)


def _js_round_int32(np: Any, x: Any) -> Any:
    """``Int32Array.from(x, Math.round)``: ties go toward +inf, then ToInt32 wraps."""
    r = np.ceil(x)
    r -= r - 0.5 > x
    r = np.where(np.isfinite(r), r, 0.0)
    return np.fmod(r, 2.0**32).astype(np.int64).astype(np.uint32).view(np.int32)


def _check_trailing(buf: memoryview, end: int, strict: bool) -> None:
    extra = len(buf) - end
    if not extra:
        return
    message = f"{extra} bytes of weight data follow the last weight; do the specs match the data?"
    if strict:
        raise CorruptModelError(message, part="weight_data")
    warnings.warn(message, TrailingBytesWarning, stacklevel=3)


def quantize_weights(data: WeightData, specs: Iterable[Mapping[str, Any]], dtype: str) -> tuple[bytes, list[dict]]:
    """Re-encode float32 weights quantized, as the TF.js converter does.

    uint8/uint16: ``scale = (max-min)/255`` (or 65535), ``min`` nudged so 0 is exact when it lies in the
    range, ``q = round((clip(x)-min)/scale)`` with ties to even, all in float64. A constant tensor
    stores zeros with ``scale=1.0``, an empty one ``min=0.0, scale=1.0``. float16 is a plain cast
    (values beyond ±65504 become ±inf).

    Parameters
    ----------
    data, specs
        Weight bytes and specs; weights not float32, or already quantized, are copied unchanged.
    dtype
        ``"uint8"``, ``"uint16"`` or ``"float16"``.

    Returns
    -------
    tuple[bytes, list[dict]]
        New bytes and specs; a quantized spec keeps ``"dtype": "float32"`` and gains
        ``"quantization": {"dtype", "min", "scale"}`` (only ``{"dtype"}`` for float16).

    Raises
    ------
    UnsupportedDTypeError
        Unknown target ``dtype``; otherwise as :func:`decode_weights`.
    ArtifactError
        NaN or infinity in a weight quantized to uint8/uint16.

    Examples
    --------
    >>> data, specs = encode_weights({"w": [0.0, 0.5, 1.0]})
    >>> qdata, qspecs = quantize_weights(data, specs, "uint8")
    >>> list(qdata), qspecs[0]["quantization"]["dtype"]
    ([0, 128, 255], 'uint8')
    """
    np = _np()
    _check_target(dtype)
    specs = list(specs)
    buf = join_weight_data(data)
    parts: list[Any] = []
    out_specs: list[dict] = []
    end = 0
    for spec, (w, start, end) in zip(specs, _walk(buf, specs)):
        spec = copy.deepcopy(dict(spec))
        if w.quant is not None or w.dtype != "float32":
            parts.append(buf[start:end])
        else:
            part, spec["quantization"] = _quantize(np, w.name, np.frombuffer(buf, "<f4", w.count, start), dtype)
            parts.append(memoryview(part.view(np.uint8)))
        out_specs.append(spec)
    _check_trailing(buf, end, strict=False)
    return b"".join(parts), out_specs


def quantize_artifacts(artifacts: ModelArtifacts, dtype: str) -> ModelArtifacts:
    """Return a copy of ``artifacts`` with its float32 weights quantized.

    Parameters
    ----------
    artifacts
        The model; left unchanged.
    dtype
        ``"uint8"``, ``"uint16"`` or ``"float16"`` (see :func:`quantize_weights`).

    Returns
    -------
    ModelArtifacts
        A copy (``dataclasses.replace``) with quantized ``weight_specs`` and ``weight_data``.

    Raises
    ------
    UnsupportedDTypeError, ArtifactError, CorruptModelError
        As :func:`quantize_weights`.

    Examples
    --------
    >>> data, specs = encode_weights({"w": [0.25, 0.5]})
    >>> art = quantize_artifacts(ModelArtifacts(weight_specs=specs, weight_data=data), "float16")
    >>> art.weight_specs[0]["quantization"], len(art.weight_data)
    ({'dtype': 'float16'}, 4)
    """
    if artifacts.weight_specs is None:
        _check_target(dtype)
        return dataclasses.replace(artifacts)
    data, specs = quantize_weights(artifacts.weight_data, artifacts.weight_specs, dtype)
    return dataclasses.replace(artifacts, weight_specs=specs, weight_data=data)


def _check_target(dtype: Any) -> None:
    if not isinstance(dtype, str) or dtype not in QUANT_DTYPES:
        raise _unsupported(None, dtype, "quantize to 'uint8', 'uint16' or 'float16'")


def _quantize(np: Any, name: str, values: Any, dtype: str) -> tuple[Any, dict]:
    if dtype == "float16":
        return values.astype("<f2"), {"dtype": "float16"}
    q, lo, scale = _affine_quantize(np, name, values.astype(np.float64), _QUANT_MAX[dtype])
    return q.astype(QUANT_DTYPES[dtype].numpy), {"dtype": dtype, "min": lo, "scale": scale}


def _affine_quantize(np: Any, name: str, x: Any, qmax: int) -> tuple[Any, float, float]:
    """The converter's quantize_weights: (q rounded but still float64, min, scale)."""
    if not x.size:
        return x, 0.0, 1.0
    lo, hi = float(x.min()), float(x.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ArtifactError(f"weight {name!r} holds NaN or infinity; quantize it to float16 or not at all")
    if lo == hi:
        return np.zeros_like(x), lo, 1.0
    scale = (hi - lo) / qmax
    if lo <= 0 <= hi:  # nudge the range so 0 is exact (TF-Lite's NudgeQuantizationRange)
        lo = -float(round(-lo / scale)) * scale + 0.0  # round() ties to even, like np.round; +0.0 drops -0
        hi = qmax * scale + lo
    return np.round((np.clip(x, lo, hi) - lo) / scale), lo, scale
