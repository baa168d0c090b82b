"""Weight codec: numpy arrays ↔ TF.js weight bytes + specs (pure, no I/O).

TF.js's layout (``tfjs-core/src/io/io_utils.ts``): tensors in spec order, row-major, little-endian, unpadded;
a string element is a uint32 LE byte count then its UTF-8 bytes. Quantized specs decode exactly as TF.js 4.22
does and are encoded as its converter does. numpy is imported only inside the functions that need it, so this
module (and :func:`weights_nbytes`) works in a Pyodide page that has not loaded numpy.
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import math
import numbers
import struct
import warnings
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, cast

from .data import ModelArtifacts, WeightData, _byte_view, join_weight_data
from .errors import ArtifactError, CorruptModelError, UnsupportedDTypeError

__all__ = [
    "DTYPES",
    "MAX_DIMS",
    "MAX_ELEMENTS",
    "QUANT_DTYPES",
    "DTypeInfo",
    "TrailingBytesWarning",
    "check_weights",
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
    "bool": "bool",
    "complex64": "complex64",
    "complex128": "complex64",
}
_QUANT_MAX = {"uint8": 255, "uint16": 65535}
_LEN = 4  # bytes in a string element's length prefix
_U32 = struct.Struct("<I")

#: Most dimensions a weight may have (numpy 1.x's limit; TF.js tensors have far fewer).
MAX_DIMS = 32
#: Largest dimension, and largest product of the non-zero dimensions: JavaScript's
#: ``Number.MAX_SAFE_INTEGER``, beyond which TF.js cannot count elements exactly.
MAX_ELEMENTS = 2**53 - 1


class TrailingBytesWarning(UserWarning):
    """Weight data holds bytes after the last weight (TF.js ignores them)."""


class _Spec(NamedTuple):
    name: str
    shape: tuple[int, ...]
    elements: int
    dtype: str
    quant: Mapping[str, Any] | None


def _np() -> Any:
    try:
        import numpy
    except ImportError as exc:  # Pyodide: numpy is a separate package
        raise ModuleNotFoundError("pyweb's weight codec needs numpy (Pyodide: pyodide.loadPackage('numpy'))") from exc
    return numpy


def encode_weights(
    named_arrays: Mapping[str, Any] | Iterable[tuple[str, Any]], *, group: str | None = None, join: bool = True
) -> tuple[Any, list[dict[str, Any]]]:
    """Encode arrays into one TF.js weight buffer and its specs.

    Parameters
    ----------
    named_arrays
        ``{name: array}`` or ``[(name, array), ...]``, order kept. float64/float16 become float32,
        complex128 complex64, integers int32 (values outside int32 are refused, not wrapped);
        str/bytes arrays become ``"string"`` (str as UTF-8).
    group
        Added to every spec as ``"group"`` (TF.js writes ``"optimizer"``).
    join
        ``False`` returns the weight data as a list of buffers, one per weight, instead of one
        ``bytes``: TF.js's other ``WeightData`` form, which every handler accepts. A C-contiguous
        little-endian array of the stored dtype is then not copied at all (the buffer is a view
        onto it, so leave the array unchanged until the model is saved): saving 1 GiB to
        ``file://`` this way costs no second GiB of memory.

    Returns
    -------
    tuple[bytes | list, list[dict]]
        Little-endian bytes (a list of buffers with ``join=False``) and specs
        ``{"name", "shape", "dtype"[, "group"]}``.

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
    specs: list[dict[str, Any]] = []
    for name, value in _named_items(named_arrays):
        dtype, arr = _normalize(np, name, value)
        parts.append(_encode_one(np, name, dtype, arr))
        specs.append({"name": name, "shape": [int(d) for d in arr.shape], "dtype": dtype})
        if group is not None:
            specs[-1]["group"] = group
    return (b"".join(parts) if join else parts), specs


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
    if (
        dtype == "int32"
        and arr.dtype.itemsize >= 4
        and arr.size
        and (int(arr.min()) < -(2**31) or int(arr.max()) >= 2**31)
    ):
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
        In spec order. Plain numeric weights are zero-copy views onto ``data`` (with several shards,
        onto the shard that holds the weight; a weight split across two shards is copied, alone);
        strings are object arrays of ``bytes`` (a model with string weights has its shards joined
        first); quantized weights are dequantized exactly as TF.js does.

    Raises
    ------
    UnsupportedDTypeError
        Unknown dtype or quantization dtype, or float16 on a non-float32 weight.
    CorruptModelError
        Bad shape (negative, over :data:`MAX_DIMS` dimensions or :data:`MAX_ELEMENTS` elements), min or
        scale, two specs with one name, a bool byte other than 0 or 1, or too few bytes (``.part`` is the
        weight's name); with ``strict``, trailing bytes (``.part == "weight_data"``).

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
    specs = specs if isinstance(specs, (list, tuple)) else list(_spec_list(specs))
    buf = _readable(data, specs)
    out: dict[str, Any] = {}
    end = 0
    for w, start, end in _walk(buf, specs):
        out[w.name] = _decode_one(np, buf, w, start, end).reshape(w.shape)
    _check_trailing(buf, end, strict)
    return out


def check_weights(specs: Any, data: Any = None, *, exact: bool = False) -> int:
    """Check weight specs (and, given ``data``, that it holds them) without decoding; needs no numpy.

    What :func:`decode_weights` would refuse is refused here, before anything is allocated: malformed
    or duplicate specs, unknown dtypes, too few bytes, bool bytes other than 0 and 1, and with
    ``exact`` bytes after the last weight.

    Parameters
    ----------
    specs
        The weight specs: a list of mappings.
    data
        The weight bytes (one buffer or a list of buffers), or ``None`` to check the specs alone.
    exact
        Refuse trailing bytes too (an upload whose specs and bytes must agree).

    Returns
    -------
    int
        The bytes the weights occupy (for ``data=None`` without string weights).

    Raises
    ------
    CorruptModelError, UnsupportedDTypeError
        As :func:`decode_weights`; ``.part`` is ``"weight_specs"`` or ``"weight_data"`` for the
        containers, else the weight's name.

    Examples
    --------
    >>> check_weights([{"name": "w", "shape": [2], "dtype": "float32"}], b"\\0" * 8)
    8
    """
    if not isinstance(specs, (list, tuple)):
        raise CorruptModelError(f"weight specs must be a list, not {type(specs).__name__}", part="weight_specs")
    if data is None:
        return weights_nbytes(specs) if not any(_is_string(s) for s in specs) else _check_specs(specs)
    buf = _readable(data, specs)
    end = 0
    for w, start, end in _walk(buf, specs):
        if w.dtype == "bool" and w.quant is None:
            _check_bools(buf[start:end], w.name)
    if exact and len(buf) != end:
        raise CorruptModelError(f"{len(buf) - end} bytes of weight data follow the last weight", part="weight_data")
    return end


def _is_string(spec: Any) -> bool:
    return isinstance(spec, Mapping) and spec.get("dtype") == "string" and spec.get("quantization") is None


def _spec_list(specs: Any) -> Iterable[Any]:
    if isinstance(specs, (str, bytes, Mapping)) or not isinstance(specs, Iterable):
        raise CorruptModelError(f"weight specs must be a list, not {type(specs).__name__}", part="weight_specs")
    return specs


def _check_specs(specs: Iterable[Any]) -> int:
    seen: set[str] = set()
    for spec in specs:
        _unique(_parse_spec(spec).name, seen)
    return 0


def _unique(name: str, seen: set[str]) -> None:
    if name in seen:
        raise CorruptModelError(f"two weight specs are named {name!r}; names must be unique", part=name)
    seen.add(name)


def _check_bools(view: memoryview, name: str) -> None:
    if bytes(view).translate(None, b"\x00\x01"):
        raise CorruptModelError(f"bool weight {name!r} holds bytes other than 0 and 1", part=name)


def _joined(data: Any) -> memoryview:
    """``data`` as one byte buffer, refusing what is not bytes-like (a corrupt record's weightData)."""
    if isinstance(data, (list, tuple)):
        bad = [type(p).__name__ for p in data if not _is_buffer(p)]
    else:
        bad = [] if _is_buffer(data) else [type(data).__name__]
    if bad:
        raise CorruptModelError(f"weight data must be bytes-like, not {bad[0]}", part="weight_data")
    return join_weight_data(list(data) if isinstance(data, tuple) else data)


def _readable(data: Any, specs: Any) -> Any:
    """``data`` to walk ``specs`` over: several shards stay apart unless a string weight needs them joined."""
    if (
        isinstance(data, (list, tuple))
        and len(data) > 1
        and isinstance(specs, (list, tuple))
        and not any(_is_string(s) for s in specs)
        and all(_is_buffer(p) for p in data)
    ):
        return _Pieces(data)
    return _joined(data)


class _Pieces:
    """Shards read as one buffer without joining them: a slice is a view when one shard holds it,
    else a copy of just that range (a weight that straddles two shards)."""

    def __init__(self, parts: Any) -> None:
        self.views = [_byte_view(p) for p in parts]
        self.starts = [0]
        for view in self.views:
            self.starts.append(self.starts[-1] + view.nbytes)

    def __len__(self) -> int:
        return self.starts[-1]

    def __getitem__(self, key: slice) -> Any:
        start, stop, _ = key.indices(len(self))
        stop = max(start, stop)
        i = bisect.bisect_right(self.starts, start) - 1
        i = min(i, len(self.views) - 1)
        if stop <= self.starts[i + 1]:
            return self.views[i][start - self.starts[i] : stop - self.starts[i]]
        out = bytearray()
        while start < stop:
            i = bisect.bisect_right(self.starts, start) - 1
            take = min(stop, self.starts[i + 1]) - start
            out += self.views[i][start - self.starts[i] : start - self.starts[i] + take]
            start += take
        return memoryview(out)


def _is_buffer(value: Any) -> bool:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return True
    if isinstance(value, (str, int, float, list, tuple, dict)) or value is None:
        return False
    try:
        memoryview(value)
    except TypeError:
        return False
    return True


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
    buf = None if data is None else _joined(data)
    total = 0
    seen: set[str] = set()
    for spec in _spec_list(specs):
        w = _parse_spec(spec)
        _unique(w.name, seen)
        total += _nbytes(w, buf, total)
    return total


def _walk(buf: memoryview, specs: Iterable[Mapping[str, Any]]) -> Iterator[tuple[_Spec, int, int]]:
    """Validate each spec and yield it with its byte range, before anything is allocated."""
    offset = 0
    seen: set[str] = set()
    for spec in _spec_list(specs):
        w = _parse_spec(spec)
        _unique(w.name, seen)
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
    dims = tuple(int(d) for d in shape)
    if len(dims) > MAX_DIMS or math.prod(d for d in dims if d) > MAX_ELEMENTS:
        raise CorruptModelError(f"weight {name!r} has shape {shape!r:.80}, too large to hold", part=name)
    return _Spec(name, dims, math.prod(dims), dtype, quant)


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
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and 0 <= cast(int, value) <= MAX_ELEMENTS


def _nbytes(w: _Spec, buf: memoryview | None, offset: int) -> int:
    if w.quant is not None:
        return w.elements * cast(int, QUANT_DTYPES[w.quant["dtype"]].size)
    if w.dtype == "string":
        return _string_nbytes(w, buf, offset)
    return w.elements * cast(int, DTYPES[w.dtype].size)  # fixed-size: strings are handled above


def _string_nbytes(w: _Spec, buf: memoryview | None, offset: int) -> int:
    if buf is None:
        raise ArtifactError(f"the size of string weight {w.name!r} depends on the data; pass data=")
    end = len(buf)
    if w.elements * _LEN > end - offset:  # every element needs at least its prefix
        raise CorruptModelError(f"string weight {w.name!r} has more elements than the data holds", part=w.name)
    pos, unpack = offset, _U32.unpack_from
    for _ in range(w.elements):
        if pos + _LEN > end:
            raise CorruptModelError(f"data ends inside a length prefix of string weight {w.name!r}", part=w.name)
        pos += _LEN + unpack(buf, pos)[0]
    return pos - offset


def _decode_one(np: Any, buf: Any, w: _Spec, start: int, end: int) -> Any:
    if w.quant is not None:
        return _dequantize(np, buf[start:end], w)
    if w.dtype == "string":
        return _decode_strings(np, buf[start:end], w.elements)
    if w.dtype == "bool":
        _check_bools(buf[start : start + w.elements], w.name)
    return np.frombuffer(buf[start:end], DTYPES[w.dtype].numpy, w.elements)


def _decode_strings(np: Any, view: memoryview, count: int) -> Any:
    # _walk has checked every prefix; slicing one bytes copy is much faster than views.
    raw = bytes(view)
    unpack = _U32.unpack_from
    items = []
    at = 0
    for _ in range(count):
        n = unpack(raw, at)[0]
        items.append(raw[at + _LEN : at + _LEN + n])
        at += _LEN + n
    out = np.empty(count, dtype=object)
    out[:] = items
    return out


def _dequantize(np: Any, buf: Any, w: _Spec) -> Any:
    quant = cast(Mapping[str, Any], w.quant)  # only quantized weights come here
    qdtype = quant["dtype"]
    raw = np.frombuffer(buf, QUANT_DTYPES[qdtype].numpy, w.elements)
    if qdtype == "float16":
        return raw.astype(np.float32)  # bit-identical to TF.js's table lookup
    # JS computes q * scale + min in float64, then stores it into a Float32Array / Int32Array.
    x = raw.astype(np.float64) * float(quant["scale"]) + float(quant["min"])
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


def quantize_weights(
    data: WeightData | None, specs: Iterable[Mapping[str, Any]], dtype: str
) -> tuple[bytes, list[dict[str, Any]]]:
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
    buf = _joined(data)
    parts: list[Any] = []
    out_specs: list[dict[str, Any]] = []
    end = 0
    for spec, (w, start, end) in zip(specs, _walk(buf, specs)):
        out_spec = copy.deepcopy(dict(spec))
        if w.quant is not None or w.dtype != "float32":
            parts.append(buf[start:end])
        else:
            part, out_spec["quantization"] = _quantize(np, w.name, np.frombuffer(buf, "<f4", w.elements, start), dtype)
            parts.append(memoryview(part.view(np.uint8)))
        out_specs.append(out_spec)
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


def _quantize(np: Any, name: str, values: Any, dtype: str) -> tuple[Any, dict[str, Any]]:
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
