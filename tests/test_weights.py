"""The weight codec: TF.js byte layout, dequantization, errors, quantization."""

from __future__ import annotations

import dataclasses
import itertools
import pickle
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import pyweb
from pyweb.errors import ArtifactError, CorruptModelError, UnsupportedDTypeError
from pyweb.types import ModelArtifacts
from pyweb.weights import (
    DTYPES,
    QUANT_DTYPES,
    TrailingBytesWarning,
    check_weights,
    decode_weights,
    encode_weights,
    quantize_artifacts,
    quantize_weights,
    weights_nbytes,
)

REPO = Path(__file__).resolve().parents[1]


def spec(name="w", shape=(3,), dtype="float32", **extra):
    return {"name": name, "shape": list(shape), "dtype": dtype, **extra}


def quant(qdtype, **meta):
    return {"dtype": qdtype, **meta}


def u16(*values):
    return np.array(values, "<u2").tobytes()


# ------------------------------------------------------------------ round trips

ROUND_TRIP_CASES = [
    ("float32", np.array([[1.5, -2.0, 3.25], [0.0, -0.0, 1e-30]], np.float32)),
    ("float32", np.float32(42.0)),
    ("float32", np.zeros((0, 3), np.float32)),
    ("int32", np.array([[-(2**31), 2**31 - 1], [0, -1]], np.int32)),
    ("int32", np.int32(-7)),
    ("int32", np.zeros((2, 0), np.int32)),
    ("bool", np.array([[True, False], [False, True]])),
    ("bool", np.bool_(True)),
    ("bool", np.zeros(0, bool)),
    ("complex64", np.array([[1 + 1j, 2 - 2j], [0j, -3.5 + 0.25j]], np.complex64)),
    ("complex64", np.complex64(1 - 1j)),
    ("complex64", np.zeros((0,), np.complex64)),
]


@pytest.mark.parametrize(("dtype", "value"), ROUND_TRIP_CASES)
def test_round_trip_numeric(dtype, value):
    data, specs = encode_weights({"w": value})
    assert specs == [{"name": "w", "shape": list(np.shape(value)), "dtype": dtype}]
    assert len(data) == np.size(value) * DTYPES[dtype].size == weights_nbytes(specs)
    out = decode_weights(data, specs)["w"]
    assert out.dtype == np.dtype(DTYPES[dtype].numpy) and out.shape == np.shape(value)
    np.testing.assert_array_equal(out, value)


@pytest.mark.parametrize(
    "value",
    [
        [["a", "bc", ""], ["здраво", "正常", "hello"]],
        "scalar",
        b"\x00raw\xff\x00",
        np.array([], dtype=object).reshape(0, 2),
        np.array([b"x", "y"], dtype=object),
    ],
)
def test_round_trip_string(value):
    data, specs = encode_weights([("s", value)])
    assert specs[0]["dtype"] == "string" and specs[0]["shape"] == list(np.shape(value))
    out = decode_weights(data, specs)["s"]
    assert out.dtype == object and out.shape == np.shape(value)
    expected = [v.encode() if isinstance(v, str) else v for v in np.array(value, dtype=object).ravel()]
    assert out.ravel().tolist() == expected
    assert weights_nbytes(specs, data) == len(data)


def test_round_trip_mixed_in_one_buffer():
    arrays = {
        "i": np.array([1, 2, 3], np.int32),
        "f": np.array([[0.5, 1.5]], np.float32),
        "b": np.array([True, False, True]),
        "s": np.array(["", "x"], dtype=object),
        "scalar_s": "only",
        "c": np.array([1 + 2j], np.complex64),
    }
    data, specs = encode_weights(arrays)
    assert [s["name"] for s in specs] == list(arrays)
    out = decode_weights(data, specs)
    assert list(out) == list(arrays)
    for name in ["i", "f", "b", "c"]:
        np.testing.assert_array_equal(out[name], arrays[name])
    assert out["s"].tolist() == [b"", b"x"] and out["scalar_s"][()] == b"only"


@pytest.mark.parametrize(
    ("value", "dtype", "stored"),
    [
        (np.array([1.0, 2.5]), "float32", np.float32),
        (np.array([1.0, 2.5], np.float16), "float32", np.float32),
        (np.array([1, -2], np.int64), "int32", np.int32),
        (np.array([1, 255], np.uint8), "int32", np.int32),
        (np.array([-3, 7], np.int16), "int32", np.int32),
        (np.array([2**31 - 1], np.uint64), "int32", np.int32),
        (np.array([1 + 2j]), "complex64", np.complex64),
        ([1.0, 2.0], "float32", np.float32),
        ([1, 2], "int32", np.int32),
        ([True, False], "bool", np.bool_),
        (7, "int32", np.int32),
    ],
)
def test_auto_conversion(value, dtype, stored):
    data, specs = encode_weights({"w": value})
    assert specs[0]["dtype"] == dtype
    out = decode_weights(data, specs)["w"]
    assert out.dtype == stored
    np.testing.assert_array_equal(out, np.asarray(value).astype(stored))


def test_group_is_added_after_dtype():
    _, specs = encode_weights({"w": np.zeros(1, np.float32)}, group="optimizer")
    assert list(specs[0].items()) == [("name", "w"), ("shape", [1]), ("dtype", "float32"), ("group", "optimizer")]


# ---------------------------------------------------------------- golden bytes


def test_golden_float32_map():
    data, specs = encode_weights(
        {
            "x1": np.array([[10, 20], [30, 40]], np.float32),
            "x2": np.float32(42),
            "x3": np.array([-1.3, -3.7, 1.3, 3.7], np.float32),
        }
    )
    assert len(data) == 4 * (4 + 1 + 4)
    assert data == np.array([10, 20, 30, 40, 42, -1.3, -3.7, 1.3, 3.7], "<f4").tobytes()
    assert specs == [
        {"name": "x1", "shape": [2, 2], "dtype": "float32"},
        {"name": "x2", "shape": [], "dtype": "float32"},
        {"name": "x3", "shape": [4], "dtype": "float32"},
    ]


def test_golden_int32_bool_complex64_unpadded():
    data, specs = encode_weights(
        [
            ("b", np.array([1, 0, 0, 1], bool)),
            ("i", np.array([1, -1], np.int32)),
            ("c", np.array([1 + 1j, 2 + 2j], np.complex64)),
        ]
    )
    assert data[:4] == b"\x01\x00\x00\x01"
    assert data[4:12] == b"\x01\x00\x00\x00\xff\xff\xff\xff"  # int32 starts at byte 4, no alignment
    assert data[12:] == np.array([1, 1, 2, 2], "<f4").tobytes()
    assert [s["dtype"] for s in specs] == ["bool", "int32", "complex64"]


def test_golden_string_offsets():
    data, specs = encode_weights({"s": ["a", "bc", "def", "g", ""]})
    assert specs == [{"name": "s", "shape": [5], "dtype": "string"}]
    assert len(data) == 27
    for offset, length in [(0, 1), (5, 2), (11, 3), (18, 1), (23, 0)]:
        assert int.from_bytes(data[offset : offset + 4], "little") == length


@pytest.mark.parametrize(("text", "nbytes"), [("здраво", 12), ("поздрав", 14), ("正常", 6), ("hello", 5)])
def test_golden_string_utf8_lengths(text, nbytes):
    data, _ = encode_weights({"s": [text]})
    assert data == nbytes.to_bytes(4, "little") + text.encode("utf-8")


def test_golden_two_strings():
    data, _ = encode_weights({"s": ["a", "bc"]})
    assert data == bytes.fromhex("01000000 61 02000000 6263")


def test_lone_surrogate_is_written_as_replacement_char_like_text_encoder():
    data, _ = encode_weights({"s": ["a\ud800", "\ud83d\ude00"]})
    assert data == b"\x04\x00\x00\x00a\xef\xbf\xbd" + b"\x04\x00\x00\x00" + "😀".encode()


def test_bytes_keep_trailing_nuls():
    data, specs = encode_weights({"s": [b"a\x00\x00", b"\x00"]})
    assert decode_weights(data, specs)["s"].tolist() == [b"a\x00\x00", b"\x00"]


def test_empty_input():
    assert encode_weights({}) == (b"", [])
    assert encode_weights([]) == (b"", [])
    assert decode_weights(b"", []) == {}


# ------------------------------------------------------------------------ order


def test_list_of_pairs_keeps_list_order():
    pairs = [("z", np.float32(1)), ("a", np.float32(2)), ("m", np.float32(3))]
    data, specs = encode_weights(pairs)
    assert [s["name"] for s in specs] == ["z", "a", "m"]
    assert data == np.array([1, 2, 3], "<f4").tobytes()


def test_mapping_keeps_insertion_order():
    data, specs = encode_weights({"z": np.float32(1), "a": np.float32(2)})
    assert [s["name"] for s in specs] == ["z", "a"]
    assert list(decode_weights(data, specs)) == ["z", "a"]


def test_big_endian_input_is_written_little_endian():
    for be, le in [(">f4", "<f4"), (">i4", "<i4"), (">c8", "<c8"), (">f8", "<f4"), (">i8", "<i4")]:
        value = np.array([[1, -2], [3, 4]], dtype=be)
        data, _ = encode_weights({"w": value})
        assert data == value.astype(le).tobytes()


def test_fortran_order_input_is_written_row_major():
    value = np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    data, _ = encode_weights({"w": value})
    assert data == np.arange(6, dtype="<f4").tobytes()


# ------------------------------------------------------------------------ views


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool", "complex64"])
def test_decode_returns_views_onto_the_buffer(dtype):
    data, specs = encode_weights({"pad": np.array([True]), "w": np.ones((2, 2), DTYPES[dtype].numpy)})
    buf = bytearray(data)
    out = decode_weights(buf, specs)["w"]
    assert out.dtype == np.dtype(DTYPES[dtype].numpy) and out.shape == (2, 2)
    assert np.shares_memory(out, np.frombuffer(buf, np.uint8))
    buf[1:] = bytes(len(buf) - 1)  # a write through the buffer shows in the array
    assert not out.any()


def test_decode_views_bytes_input_without_copy():
    data, specs = encode_weights({"w": np.arange(4, dtype=np.float32)})
    out = decode_weights(data, specs)["w"]
    base = out
    while isinstance(base, np.ndarray):
        base = base.base
    assert isinstance(base, memoryview) and base.obj is data
    assert not out.flags.owndata and not out.flags.writeable
    assert np.shares_memory(out, np.frombuffer(data, np.uint8))


def test_single_shard_list_is_not_copied():
    data, specs = encode_weights({"w": np.arange(4, dtype=np.float32)})
    buf = bytearray(data)
    assert np.shares_memory(decode_weights([buf], specs)["w"], np.frombuffer(buf, np.uint8))


@pytest.mark.parametrize("cuts", [[1], [3, 10], [1, 2, 3, 5, 8, 13, 21], list(range(1, 45, 2))])
def test_shards_split_at_odd_boundaries(cuts):
    arrays = {"b": np.array([True, False, True]), "f": np.linspace(-1, 1, 5, dtype=np.float32), "s": ["ab", "", "c"]}
    data, specs = encode_weights(arrays)
    bounds = [0, *[c for c in cuts if c < len(data)], len(data)]
    shards = [data[a:b] for a, b in itertools.pairwise(bounds)]
    whole, split = decode_weights(data, specs), decode_weights(shards, specs)
    for name in arrays:
        np.testing.assert_array_equal(split[name], whole[name])
    assert weights_nbytes(specs, shards) == len(data)


# -------------------------------------------------------------- dequantization


def test_uint8_to_int32_and_float32():
    raw = bytes([0, 48, 255])
    q = quant("uint8", min=-1, scale=0.1)
    as_int = decode_weights(raw, [spec(dtype="int32", quantization=q)])["w"]
    as_float = decode_weights(raw, [spec(dtype="float32", quantization=q)])["w"]
    assert as_int.dtype == np.int32 and as_int.tolist() == [-1, 4, 25]
    assert as_float.dtype == np.float32
    np.testing.assert_allclose(as_float, [-1, 3.8, 24.5], rtol=1e-6)


def test_uint16_dequantization():
    q = quant("uint16", min=-1.0, scale=0.5)
    out = decode_weights(u16(0, 1, 65535), [spec(quantization=q)])["w"]
    assert out.tolist() == [-1.0, -0.5, 32766.5]
    out = decode_weights(u16(0, 1, 65535), [spec(dtype="int32", quantization=q)])["w"]
    assert out.tolist() == [-1, 0, 32767]  # -0.5 rounds to -0, 32766.5 up


def test_dequantized_float32_rounds_once_from_float64():
    q = quant("uint8", min=0.1, scale=1 / 3)
    out = decode_weights(bytes([7, 200]), [spec(shape=[2], quantization=q)])["w"]
    expected = (np.array([7, 200], np.float64) * (1 / 3) + 0.1).astype(np.float32)
    assert out.tobytes() == expected.tobytes()


def test_math_round_ties_go_toward_positive_infinity():
    # q*0.5 - 3 lands exactly on -3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5
    raw = bytes(range(10))
    out = decode_weights(raw, [spec(shape=[10], dtype="int32", quantization=quant("uint8", min=-3, scale=0.5))])["w"]
    assert out.tolist() == [-3, -2, -2, -1, -1, 0, 0, 1, 1, 2]


def test_math_round_just_below_half_rounds_down():
    q = quant("uint8", min=0.49999999999999994, scale=1.0)
    assert decode_weights(bytes([0]), [spec(shape=[], dtype="int32", quantization=q)])["w"] == 0


def test_int32_dequantization_wraps_like_int32array():
    q = quant("uint16", min=0, scale=1e6)
    out = decode_weights(u16(65535), [spec(shape=[1], dtype="int32", quantization=q)])["w"]
    expected = 65535 * 10**6 % 2**32
    assert out.tolist() == [expected - 2**32 if expected >= 2**31 else expected]


def test_float16_dequantization():
    out = decode_weights(u16(13312, 14336, 14848), [spec(quantization=quant("float16"))])["w"]
    assert out.dtype == np.float32 and out.tolist() == [0.25, 0.5, 0.75]


def test_float16_special_values():
    raw = u16(0x7E00, 0x7C00, 0xFC00, 0x0000, 0x8000, 0x3555, 0x0001, 0x7BFF)
    out = decode_weights(raw, [spec(shape=[8], quantization=quant("float16"))])["w"]
    assert np.isnan(out[0])
    assert out[1] == np.inf and out[2] == -np.inf
    assert out[3] == 0 and not np.signbit(out[3]) and out[4] == 0 and np.signbit(out[4])
    assert out[5] == pytest.approx(1 / 3, abs=1e-3)
    assert out[6] == np.float32(2.0**-24) and out[7] == 65504.0


def test_float16_is_bit_identical_to_numpy_for_every_pattern():
    raw = np.arange(65536, dtype="<u2").tobytes()
    out = decode_weights(raw, [spec(shape=[65536], quantization=quant("float16"))])["w"]
    assert out.tobytes() == np.frombuffer(raw, "<f2").astype(np.float32).tobytes()


def test_quantization_none_means_not_quantized():
    out = decode_weights(np.float32(1.5).tobytes(), [spec(shape=[], quantization=None)])["w"]
    assert out == 1.5 and out.dtype == np.float32


def test_quantized_and_plain_weights_share_one_stream():
    raw = bytes([0, 255]) + np.array([7], "<i4").tobytes()
    specs = [spec("q", [2], quantization=quant("uint8", min=0, scale=1)), spec("p", [1], "int32")]
    out = decode_weights(raw, specs)
    assert out["q"].tolist() == [0.0, 255.0] and out["p"].tolist() == [7]
    assert weights_nbytes(specs) == 6


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize("dtype", ["int16", "float64", "uint8", "", None, 3, ["float32"]])
def test_decode_unknown_dtype(dtype):
    with pytest.raises(UnsupportedDTypeError) as exc:
        decode_weights(b"\x00" * 8, [spec("x", [1], dtype)])
    assert exc.value.dtype == str(dtype) and exc.value.name == "x"


@pytest.mark.parametrize("qdtype", ["int4", "float32", None, ["uint8"]])
def test_decode_unknown_quantization_dtype(qdtype):
    with pytest.raises(UnsupportedDTypeError) as exc:
        decode_weights(b"\x00" * 8, [spec(quantization=quant(qdtype, min=0, scale=1))])
    assert exc.value.dtype == str(qdtype) and exc.value.name == "w"


@pytest.mark.parametrize("meta", [{}, {"min": 0}, {"scale": 1}, {"min": "0", "scale": 1}, {"min": 0, "scale": None}])
@pytest.mark.parametrize("qdtype", ["uint8", "uint16"])
def test_decode_quantization_without_min_or_scale(qdtype, meta):
    with pytest.raises(CorruptModelError) as exc:
        decode_weights(b"\x00" * 8, [spec(quantization=quant(qdtype, **meta))])
    assert exc.value.part == "w"


@pytest.mark.parametrize("dtype", ["int32", "bool", "string"])
def test_decode_float16_on_non_float32(dtype):
    with pytest.raises(UnsupportedDTypeError) as exc:
        decode_weights(b"\x00" * 8, [spec(dtype=dtype, quantization=quant("float16"))])
    assert exc.value.dtype == dtype and exc.value.name == "w"


@pytest.mark.parametrize("dtype", ["bool", "complex64", "string"])
def test_decode_integer_quantization_on_unsupported_dtype(dtype):
    with pytest.raises(UnsupportedDTypeError) as exc:
        decode_weights(b"\x00" * 8, [spec(dtype=dtype, quantization=quant("uint8", min=0, scale=1))])
    assert exc.value.dtype == dtype and exc.value.name == "w"


def test_decode_quantization_that_is_not_an_object():
    with pytest.raises(CorruptModelError) as exc:
        decode_weights(b"\x00" * 8, [spec(quantization="uint8")])
    assert exc.value.part == "w"


@pytest.mark.parametrize("shape", [[-1], [2, -3], [1.0], ["2"], [True], None, "3", [[2]]])
def test_decode_bad_shape(shape):
    with pytest.raises(CorruptModelError) as exc:
        decode_weights(b"\x00" * 64, [{"name": "w", "shape": shape, "dtype": "float32"}])
    assert exc.value.part == "w"


@pytest.mark.parametrize(
    "bad", [None, "w", {"shape": [1], "dtype": "float32"}, {"name": 3, "shape": [], "dtype": "bool"}]
)
def test_decode_spec_without_name(bad):
    with pytest.raises(CorruptModelError) as exc:
        decode_weights(b"\x00" * 8, [bad])
    assert exc.value.part == "weight_specs"


@pytest.mark.parametrize(
    "entry",
    [
        spec(shape=[2**40, 2**40]),
        spec(shape=[2**62, 2**62, 2**62]),
        spec(shape=[2**40, 2**40], dtype="string"),
        spec(shape=[2**40, 2**40], quantization=quant("uint8", min=0, scale=1)),
    ],
)
def test_decode_huge_shape_fails_fast_before_allocating(entry):
    start = time.perf_counter()
    with pytest.raises(CorruptModelError) as exc:
        decode_weights(b"\x00" * 16, [entry])
    assert exc.value.part == "w"
    assert time.perf_counter() - start < 1.0


def test_zero_dimension_makes_any_shape_empty():
    out = decode_weights(b"", [spec(shape=[0, 2**40])])["w"]
    assert out.shape == (0, 2**40) and out.size == 0


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool", "complex64"])
def test_decode_truncated_data_names_the_weight(dtype):
    data, specs = encode_weights([("a", np.zeros(2, DTYPES[dtype].numpy)), ("b", np.zeros(3, DTYPES[dtype].numpy))])
    with pytest.raises(CorruptModelError) as exc:
        decode_weights(data[:-1], specs)
    assert exc.value.part == "b"


def test_decode_truncated_quantized_data():
    with pytest.raises(CorruptModelError) as exc:
        decode_weights(b"\x00" * 5, [spec(quantization=quant("uint16", min=0, scale=1))])
    assert exc.value.part == "w"


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_decode_truncated_inside_string_length_prefix(cut):
    data, specs = encode_weights({"s": ["ab", "c"]})
    prefix_of_second = 6
    with pytest.raises(CorruptModelError) as exc:
        decode_weights(data[: prefix_of_second + cut], specs)
    assert exc.value.part == "s"
    with pytest.raises(CorruptModelError):
        weights_nbytes(specs, data[: prefix_of_second + cut])


def test_decode_truncated_inside_string_bytes():
    data, specs = encode_weights({"s": ["hello"]})
    with pytest.raises(CorruptModelError) as exc:
        decode_weights(data[:-1], specs)
    assert exc.value.part == "s"


def test_decode_string_length_prefix_pointing_past_the_end():
    raw = (2**32 - 1).to_bytes(4, "little") + b"abc"
    with pytest.raises(CorruptModelError) as exc:
        decode_weights(raw, [spec("s", [1], "string")])
    assert exc.value.part == "s"


def test_trailing_bytes_warn_and_still_decode():
    data, specs = encode_weights({"w": np.float32(1)})
    with pytest.warns(TrailingBytesWarning):
        out = decode_weights(data + b"\x00\x01", specs)
    assert out["w"] == 1
    assert issubclass(TrailingBytesWarning, UserWarning)


def test_trailing_bytes_strict_raise():
    data, specs = encode_weights({"w": np.float32(1)})
    with pytest.raises(CorruptModelError) as exc:
        decode_weights(data + b"\x00", specs, strict=True)
    assert exc.value.part == "weight_data"


def test_exact_length_gives_no_warning():
    data, specs = encode_weights({"w": np.float32(1), "s": ["x"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decode_weights(data, specs, strict=True)


def test_errors_pickle_with_their_data():
    with pytest.raises(UnsupportedDTypeError) as exc:
        decode_weights(b"", [spec("x", [1], "int16")])
    clone = pickle.loads(pickle.dumps(exc.value))
    assert (clone.dtype, clone.name) == ("int16", "x")


# -------------------------------------------------------------- encode errors


def test_encode_duplicate_names():
    with pytest.raises(ArtifactError):
        encode_weights([("w", np.float32(1)), ("w", np.float32(2))])


@pytest.mark.parametrize("bad", [[(1, np.float32(1))], [("a", 1, 2)], [np.float32(1)]])
def test_encode_malformed_pairs(bad):
    with pytest.raises(ArtifactError):
        encode_weights(bad)


@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        (np.array(["2020-01-01"], "datetime64[D]"), "datetime64[D]"),
        (np.zeros(2, np.longdouble), np.dtype(np.longdouble).name),
        (np.zeros(2, np.clongdouble), np.dtype(np.clongdouble).name),
        (np.array([2**31], np.int64), "int64"),
        (np.array([-(2**31) - 1], np.int64), "int64"),
        (np.array([2**32], np.uint64), "uint64"),
        (np.array(["a", 1], dtype=object), "object"),
        (np.zeros(1, [("a", "<f4")]), np.zeros(1, [("a", "<f4")]).dtype.name),
    ],
)
def test_encode_unsupported_dtype(value, dtype):
    if np.dtype(np.longdouble).name == "float64" and "long" in str(value.dtype):
        pytest.skip("longdouble is float64 on this platform")
    with pytest.raises(UnsupportedDTypeError) as exc:
        encode_weights({"bad": value})
    assert exc.value.dtype == dtype and exc.value.name == "bad"


# ------------------------------------------------------------------ nbytes


def test_weights_nbytes_counts_each_dtype():
    specs = [
        spec("f", [2, 3]),
        spec("i", [], "int32"),
        spec("b", [5], "bool"),
        spec("c", [2], "complex64"),
        spec("u8", [3], quantization=quant("uint8", min=0, scale=1)),
        spec("u16", [3], "int32", quantization=quant("uint16", min=0, scale=1)),
        spec("f16", [3], quantization=quant("float16")),
        spec("z", [0, 4]),
    ]
    assert weights_nbytes(specs) == 24 + 4 + 5 + 16 + 3 + 6 + 6 + 0


def test_weights_nbytes_strings_need_data():
    data, specs = encode_weights({"s": ["a", "bc", "def", "g", ""]})
    assert weights_nbytes(specs, data) == 27
    with pytest.raises(ArtifactError):
        weights_nbytes(specs)


def test_weights_nbytes_does_not_need_numpy():
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "import pyweb.weights as w\n"
        "assert sys.modules['numpy'] is None\n"
        "print(w.weights_nbytes([{'name': 'a', 'shape': [2, 3], 'dtype': 'float32'}], b''))\n"
        "print(w.weights_nbytes([{'name': 's', 'shape': [1], 'dtype': 'string'}], b'\\x01\\x00\\x00\\x00x'))\n"
        "try:\n    w.encode_weights({'a': [1.0]})\nexcept ModuleNotFoundError:\n    print('needs numpy')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["24", "5", "needs", "numpy"]


# -------------------------------------------------------------- quantization


@pytest.mark.parametrize("qdtype", ["uint8", "uint16"])
@pytest.mark.parametrize("values", [np.linspace(-3, 5, 1001), np.linspace(0.5, 2, 77), np.linspace(-9, -1, 50)])
def test_quantize_round_trip_error_within_half_a_step(qdtype, values):
    values = values.astype(np.float32)
    data, specs = encode_weights({"w": values})
    qdata, qspecs = quantize_weights(data, specs, qdtype)
    meta = qspecs[0]["quantization"]
    assert list(meta) == ["dtype", "min", "scale"] and meta["dtype"] == qdtype
    assert qspecs[0]["dtype"] == "float32"
    assert len(qdata) == values.size * QUANT_DTYPES[qdtype].size
    out = decode_weights(qdata, qspecs)["w"]
    bound = meta["scale"] / 2 + np.abs(values).max() * 2**-23
    assert np.abs(out.astype(np.float64) - values).max() <= bound


@pytest.mark.parametrize("qdtype", ["uint8", "uint16"])
def test_quantize_nudges_zero_to_an_exact_step(qdtype):
    values = np.array([-0.3, 0.0, 0.2, 1.0], np.float32)
    data, specs = encode_weights({"w": values})
    qdata, qspecs = quantize_weights(data, specs, qdtype)
    meta = qspecs[0]["quantization"]
    zero_point = -meta["min"] / meta["scale"]
    assert zero_point == pytest.approx(round(zero_point), abs=1e-9)
    assert decode_weights(qdata, qspecs)["w"][1] == 0.0


def test_quantize_matches_the_converter_by_hand():
    # min=-1, max=2: scale=3/255, zero point round(85.0)=85, min=-85*scale; 0.5 -> round(127.5)=128 (even)
    values = np.array([-1.0, 0.0, 0.5, 2.0], np.float32)
    data, specs = encode_weights({"w": values})
    qdata, qspecs = quantize_weights(data, specs, "uint8")
    scale = 3.0 / 255
    assert qspecs[0]["quantization"] == {"dtype": "uint8", "min": -85 * scale, "scale": scale}
    assert list(qdata) == [0, 85, round((0.5 + 85 * scale) / scale), 255]


def test_quantize_range_without_zero_is_not_nudged():
    values = np.array([1.0, 2.0, 3.0], np.float32)
    qdata, qspecs = quantize_weights(*encode_weights({"w": values}), "uint8")
    assert qspecs[0]["quantization"] == {"dtype": "uint8", "min": 1.0, "scale": 2.0 / 255}
    assert list(qdata) == [0, 128, 255]


def test_quantize_constant_and_empty_tensors():
    data, specs = encode_weights([("c", np.full(3, 2.5, np.float32)), ("e", np.zeros(0, np.float32))])
    qdata, qspecs = quantize_weights(data, specs, "uint16")
    assert qdata == b"\x00" * 6
    assert qspecs[0]["quantization"] == {"dtype": "uint16", "min": 2.5, "scale": 1.0}
    assert qspecs[1]["quantization"] == {"dtype": "uint16", "min": 0.0, "scale": 1.0}
    assert decode_weights(qdata, qspecs)["c"].tolist() == [2.5, 2.5, 2.5]


def test_quantize_float16_is_a_plain_cast():
    values = np.array([0.1, -2.5, 70000.0, 1e-8], np.float32)
    data, specs = encode_weights({"w": values})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = values.astype("<f2")
        qdata, qspecs = quantize_weights(data, specs, "float16")
    assert qdata == expected.tobytes()
    assert qspecs == [{"name": "w", "shape": [4], "dtype": "float32", "quantization": {"dtype": "float16"}}]


def test_quantize_keeps_non_float32_and_already_quantized_weights():
    data, specs = encode_weights(
        [
            ("i", np.array([1, 2], np.int32)),
            ("b", np.array([True])),
            ("s", ["text"]),
            ("c", np.array([1j], np.complex64)),
            ("f", np.array([0.0, 1.0], np.float32)),
        ]
    )
    pre = bytes([9, 9])
    specs.insert(0, spec("q", [2], quantization=quant("uint8", min=0, scale=2)))
    qdata, qspecs = quantize_weights(pre + data, specs, "uint8")
    assert qspecs[:5] == specs[:5]
    assert qspecs[5]["quantization"]["dtype"] == "uint8"
    out = decode_weights(qdata, qspecs)
    assert out["q"].tolist() == [18.0, 18.0]
    assert out["i"].tolist() == [1, 2] and out["b"].tolist() == [True] and out["s"].tolist() == [b"text"]
    assert out["c"].tolist() == [1j] and out["f"].tolist() == [0.0, 1.0]


def test_quantize_does_not_touch_input_specs():
    data, specs = encode_weights({"w": np.array([0.0, 1.0], np.float32)})
    before = [dict(s) for s in specs]
    quantize_weights(data, specs, "uint8")
    assert specs == before


def test_quantize_spec_with_null_quantization_is_quantized():
    data = np.array([0.0, 1.0], "<f4").tobytes()
    _, qspecs = quantize_weights(data, [spec(shape=[2], quantization=None)], "uint8")
    assert qspecs[0]["quantization"]["dtype"] == "uint8"


@pytest.mark.parametrize("target", ["int8", "float32", "", None])
def test_quantize_unknown_target(target):
    data, specs = encode_weights({"w": np.float32(1)})
    with pytest.raises(UnsupportedDTypeError) as exc:
        quantize_weights(data, specs, target)
    assert exc.value.dtype == str(target)
    assert isinstance(exc.value, ValueError)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_quantize_non_finite_to_integers(bad):
    data, specs = encode_weights({"w": np.array([0.0, bad], np.float32)})
    with pytest.raises(ArtifactError):
        quantize_weights(data, specs, "uint8")
    qdata, qspecs = quantize_weights(data, specs, "float16")
    assert np.array_equal(decode_weights(qdata, qspecs)["w"], [0.0, bad], equal_nan=True)


def test_quantize_artifacts_returns_a_changed_copy():
    data, specs = encode_weights({"w": np.linspace(-1, 1, 9, dtype=np.float32), "i": np.int32(3)})
    art = ModelArtifacts(model_topology={"k": 1}, weight_specs=specs, weight_data=data, format="layers-model")
    out = quantize_artifacts(art, "uint8")
    assert out is not art and art.weight_specs == specs and art.weight_data == data
    assert out.model_topology == art.model_topology and out.format == "layers-model"
    assert len(out.weight_data) == 9 + 4
    assert out.weight_specs[0]["quantization"]["dtype"] == "uint8" and "quantization" not in out.weight_specs[1]
    assert dataclasses.replace(out, weight_specs=specs, weight_data=data) == art


def test_quantize_artifacts_without_weights():
    art = ModelArtifacts(model_topology={"k": 1})
    out = quantize_artifacts(art, "float16")
    assert out == art and out is not art
    with pytest.raises(UnsupportedDTypeError):
        quantize_artifacts(art, "int4")


def test_encode_unjoined_is_views_onto_the_arrays(tmp_path):
    big = np.arange(12, dtype=np.float32).reshape(3, 4)
    other = np.arange(3, dtype=np.int64)  # converted: a copy
    named = {"big": big, "ints": other, "s": np.array(["ab", "c"], dtype=object)}
    parts, specs = encode_weights(named, join=False)
    joined, same_specs = encode_weights(named)
    assert specs == same_specs and b"".join(bytes(p) for p in parts) == joined
    assert np.shares_memory(np.frombuffer(parts[0], np.uint8), big)  # no copy of a float32 array
    # Every handler takes the list form: saved and loaded, the bytes are those of the joined form.
    pyweb.save(pyweb.ModelArtifacts(model_topology={}, weight_specs=specs, weight_data=parts), f"file://{tmp_path}/m")
    assert bytes(pyweb.load(f"file://{tmp_path}/m").weight_data) == joined


def test_shards_are_read_in_place_not_joined():
    named = {"a": np.arange(6, dtype=np.float32), "b": np.arange(5, dtype=np.int32), "c": np.array([True, False])}
    data, specs = encode_weights(named)
    # Cut at 24 (a ends: b lies whole in the second shard) and at 30 (inside b: that weight alone is copied).
    shards = [bytearray(data[:24]), bytearray(data[24:30]), bytearray(data[30:])]
    out = decode_weights(shards, specs)
    for name, arr in named.items():
        np.testing.assert_array_equal(out[name], arr)
    assert np.shares_memory(out["a"], np.frombuffer(shards[0], np.uint8))
    assert not any(np.shares_memory(out["b"], np.frombuffer(s, np.uint8)) for s in shards)
    whole = [bytearray(data[:24]), bytearray(data[24:])]
    assert np.shares_memory(decode_weights(whole, specs)["b"], np.frombuffer(whole[1], np.uint8))
    assert check_weights(specs, shards) == len(data)
    shards[2][-1] = 2  # a bool byte other than 0/1 is still found, across shards
    with pytest.raises(CorruptModelError):
        check_weights(specs, shards)
