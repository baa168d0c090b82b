"""Property-based hostile input: every reader either loads correctly or raises a pyweb error.

"Correctly" is checked against a strict reference reader written here from
the format alone (offsets, little-endian, length-prefixed strings), so a load
that silently returns other values fails too. Examples per property:
``PYWEB_FUZZ_EXAMPLES`` (default 120); CI runs the default.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import struct
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import pyweb
from pyweb import cli, emulation, env
from pyweb.errors import PyWebError
from pyweb.handlers import indexed_db as idb
from pyweb.handlers.local_storage import model_keys
from pyweb.layers import load_layers_model, model_from_artifacts
from pyweb.weights import DTYPES, QUANT_DTYPES, TrailingBytesWarning
from tests.hostile.strategies import JSON, SPECS, model_files, mutated, valid_model

EXAMPLES = int(os.environ.get("PYWEB_FUZZ_EXAMPLES", "120"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@contextlib.contextmanager
def typed_or_ok():
    """The block may succeed or raise a PyWebError; anything else fails the property."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrailingBytesWarning)
        try:
            yield
        except PyWebError:
            pass


# -- a strict reference reader -------------------------------------------------------


def reference_decode(data: bytes, specs: list[dict]) -> dict[str, np.ndarray]:
    """Decode plain and quantized weights from the format's definition; raise ValueError on anything odd."""
    out, pos = {}, 0
    for spec in specs:
        shape = spec["shape"]
        count = int(np.prod(shape)) if shape else 1
        quant = spec.get("quantization")
        if quant is not None:
            width = QUANT_DTYPES[quant["dtype"]].size
            raw = np.frombuffer(data[pos : pos + count * width], QUANT_DTYPES[quant["dtype"]].numpy)
            if quant["dtype"] == "float16":
                value = raw.astype(np.float32)
            else:
                value = raw.astype(np.float64) * quant["scale"] + quant["min"]
                value = value.astype(np.float32) if spec["dtype"] == "float32" else None
            pos += count * width
        elif spec["dtype"] == "string":
            items = []
            for _ in range(count):
                (n,) = struct.unpack_from("<I", data, pos)
                items.append(data[pos + 4 : pos + 4 + n])
                pos += 4 + n
            value = np.array(items, dtype=object)
        else:
            width = DTYPES[spec["dtype"]].size
            chunk = data[pos : pos + count * width]
            if len(chunk) != count * width:
                raise ValueError("short")
            value = np.frombuffer(chunk, DTYPES[spec["dtype"]].numpy)
            if spec["dtype"] == "bool" and set(chunk) - {0, 1}:
                raise ValueError("bool")
            pos += count * width
        if spec["name"] in out:
            raise ValueError("duplicate")
        out[spec["name"]] = None if value is None else value.reshape(shape)
    return out


def assert_matches_reference(decoded: dict, data: bytes, specs: list[dict]) -> None:
    want = reference_decode(bytes(data), specs)
    assert list(decoded) == list(want)
    for name, value in want.items():
        if value is None:  # int32 dequantization: JS rounding, checked in test_weights
            continue
        got = decoded[name]
        assert got.shape == value.shape
        if value.dtype == object:
            assert list(got.ravel()) == list(value.ravel())
        else:
            assert got.dtype == value.dtype
            assert np.array_equal(got, value, equal_nan=True) or got.tobytes() == value.tobytes()


# -- the weight codec ----------------------------------------------------------------


@FUZZ
@given(specs=SPECS, data=st.binary(max_size=96))
def test_decode_weights_is_strict_or_typed(specs, data):
    with typed_or_ok():
        decoded = pyweb.decode_weights(data, specs)
        assert_matches_reference(decoded, data, specs)


@FUZZ
@given(specs=SPECS, data=st.one_of(st.binary(max_size=64), JSON), exact=st.booleans())
def test_check_weights_agrees_with_decode(specs, data, exact):
    from pyweb.weights import check_weights

    try:
        check_weights(specs, data, exact=exact)
    except PyWebError:
        with typed_or_ok():  # what the check refuses, decoding refuses too (or the check was stricter)
            pyweb.decode_weights(data, specs, strict=exact)
        return
    if data is None:  # the specs alone were checked
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrailingBytesWarning)
        decoded = pyweb.decode_weights(data, specs, strict=exact)  # what the check passes decodes
    assert_matches_reference(decoded, bytes(data), specs)


# -- file:// and the command line ------------------------------------------------------


@FUZZ
@given(files=model_files())
def test_file_load_and_inspect_are_strict_or_typed(files):
    text, weights = files
    with tempfile.TemporaryDirectory() as root:
        with open(os.path.join(root, "model.json"), "wb") as f:
            f.write(text)
        for name, data in weights.items():
            with open(os.path.join(root, name), "wb") as f:
                f.write(data)
        with typed_or_ok():
            art = pyweb.load(f"file://{root}")
            if art.weight_specs is not None:
                decoded = pyweb.decode_weights(art.weight_data, art.weight_specs)
                assert_matches_reference(decoded, bytes(art.weight_bytes()), art.weight_specs)
        with typed_or_ok():
            model_from_artifacts(pyweb.load(f"file://{root}"))
        with typed_or_ok():
            pyweb.list_models(f"file://{root}")
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(_Lines()) as err,
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore", TrailingBytesWarning)
            status = cli.main(["inspect", root])
        assert status in (0, 1)
        # An exception outside pyweb's tree would be named first ("TypeError: ...").
        assert all(line.startswith("pyweb: error: ") and not _FOREIGN.match(line[14:]) for line in err.lines), err.lines


_FOREIGN = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Warning|Interrupt|Exit): ")


class _Lines(io.StringIO):
    @property
    def lines(self):
        return [line for line in self.getvalue().splitlines() if line]


# -- Layers topologies -----------------------------------------------------------------


def _layers_artifacts():
    from pyweb import layers

    inp = layers.Input(shape=[4, 4, 2])
    x = layers.Conv2D(3, 2, activation="relu", seed=1)(inp)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    a = layers.Dense(5, seed=2)(x)
    b = layers.Dense(5, activation="tanh", seed=3)(x)
    out = layers.Dense(2, activation="softmax", seed=4)(layers.Concatenate()([layers.Add()([a, b]), a]))
    return layers.Model(inputs=inp, outputs=out).to_artifacts()


def _image_layers_artifacts():
    from pyweb import layers

    inp = layers.Input(shape=[6, 5, 2])
    x = layers.Cropping2D([[1, 0], [0, 1]])(layers.ZeroPadding2D(1)(inp))
    x = layers.PReLU(shared_axes=[1, 2])(layers.UpSampling2D(2, interpolation="bilinear")(x))
    v = layers.GlobalMaxPooling2D()(layers.ReLU(max_value=6)(x))
    seq = layers.Permute([2, 1])(layers.RepeatVector(3)(v))
    merged = layers.Average()([layers.LeakyReLU()(seq), layers.Multiply()([seq, seq])])
    out = layers.Softmax()(layers.GlobalAveragePooling1D()(merged))
    return layers.Model(inputs=inp, outputs=out).to_artifacts()


_LAYERS = [_layers_artifacts(), _image_layers_artifacts()]


@FUZZ
@given(data=st.data())
def test_layers_topologies_load_or_raise_typed(data):
    base = data.draw(st.sampled_from(_LAYERS))
    art = pyweb.ModelArtifacts(**vars(base))
    where = data.draw(st.sampled_from(["topology", "specs", "both"]))
    if where in ("topology", "both"):
        art.model_topology = data.draw(mutated(base.model_topology, max_mutations=2))
    if where in ("specs", "both"):
        art.weight_specs = data.draw(mutated(base.weight_specs, max_mutations=2))
    with typed_or_ok():
        model = model_from_artifacts(art)
        assert model.count_params() == sum(int(np.prod(s["shape"])) for s in art.weight_specs)


# -- browser stores (the CPython emulations, the same handlers as in the page) -----------------


@pytest.fixture
def stores():
    with emulation.install() as em:
        yield em


_PARTS = ("info", "model_topology", "weight_specs", "weight_data", "model_metadata")
_TEXT = st.one_of(
    st.none(),
    st.text(max_size=40),
    JSON.map(json.dumps),
    st.sampled_from(["undefined", "null", "AAAA", "[[[[", '{"a":'] + ["[" * 3000]),
)


@FUZZ
@given(values=st.fixed_dictionaries(dict.fromkeys(_PARTS, _TEXT)), keep=st.sets(st.sampled_from(_PARTS)))
def test_localstorage_values_load_or_raise_typed(values, keep):
    with emulation.install() as em:
        pyweb.save(pyweb.ModelArtifacts(**_model_artifacts()), "localstorage://m")
        storage = em.local_storage
        for part, key in model_keys("m").items():
            if part in keep:
                continue
            if values[part] is None:
                storage.removeItem(key)
            else:
                storage.setItem(key, values[part])
        with typed_or_ok():
            art = pyweb.load("localstorage://m")
            if art.weight_specs is not None:
                assert_matches_reference(
                    pyweb.decode_weights(art.weight_data, art.weight_specs), bytes(art.weight_bytes()), art.weight_specs
                )
        with typed_or_ok():
            pyweb.list_models()
        with typed_or_ok():
            pyweb.remove_model("localstorage://m")


def _model_artifacts() -> dict:
    doc, data = valid_model(0)
    return {
        "model_topology": doc["modelTopology"],
        "weight_specs": doc["weightsManifest"][0]["weights"],
        "weight_data": data,
        "format": "layers-model",
    }


RECORD_VALUES = st.recursive(
    st.one_of(JSON, st.binary(max_size=24)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)


@FUZZ
@given(data=st.data())
def test_indexeddb_records_load_or_raise_typed(data):
    with emulation.install() as em:
        asyncio.run(pyweb.asave(pyweb.ModelArtifacts(**_model_artifacts()), "indexeddb://m"))
        record = {
            "modelPath": "m",
            "modelArtifacts": {
                "modelTopology": {"class_name": "Sequential"},
                "weightSpecs": _model_artifacts()["weight_specs"],
                "weightData": _model_artifacts()["weight_data"],
            },
            "modelArtifactsInfo": {"dateSaved": "2024-01-01"},
        }
        record = (
            data.draw(mutated(record, max_mutations=3))
            if data.draw(st.booleans())
            else {
                "modelPath": "m",
                **data.draw(
                    st.dictionaries(
                        st.sampled_from(["modelArtifacts", "modelArtifactsInfo"]), RECORD_VALUES, max_size=2
                    )
                ),
            }
        )
        record["modelPath"] = "m"
        try:
            for store in (idb.MODELS_STORE, idb.INFO_STORE):
                asyncio.run(_put(em.indexed_db, store, record))
        except PyWebError:  # not storable in a browser either (a number JS cannot hold)
            assume(False)
        with typed_or_ok():
            art = asyncio.run(pyweb.aload("indexeddb://m"))
            if art.weight_specs is not None:
                assert_matches_reference(
                    pyweb.decode_weights(art.weight_data, art.weight_specs), bytes(art.weight_bytes()), art.weight_specs
                )
        with typed_or_ok():
            asyncio.run(pyweb.alist_models())


async def _put(factory, store, record):
    db = await factory.open(idb.DATABASE_NAME, idb.DATABASE_VERSION, idb.upgrade_database)
    try:
        tx = db.transaction([store], "readwrite")
        tx.put(store, record)
        await tx.complete()
    finally:
        db.close()


# -- the regressions the issue listed, one by one -------------------------------------------


def test_listed_regressions(tmp_path):
    from pyweb.errors import CorruptModelError
    from pyweb.layers.base import WeightMismatchError

    with pytest.raises(CorruptModelError):  # duplicate names used to collapse, the later one winning
        pyweb.decode_weights(b"\1\0\0\0\2\0\0\0", [{"name": "b", "shape": [1], "dtype": "int32"}] * 2)
    with pytest.raises(CorruptModelError):  # bool bytes other than 0/1
        pyweb.decode_weights(b"\2", [{"name": "b", "shape": [1], "dtype": "bool"}])
    for shape in ([2**63, 0], [0] * 65, [2**62, 4]):  # numpy ValueErrors before
        with pytest.raises(CorruptModelError):
            pyweb.decode_weights(b"", [{"name": "b", "shape": shape, "dtype": "float32"}])
    m = tmp_path / "m"
    m.mkdir()
    (m / "model.json").write_text('{"modelTopology":' + "[" * 50_000 + "]" * 50_000 + "}")
    with pytest.raises(CorruptModelError):  # RecursionError before
        pyweb.load(f"file://{m}")
    # A Dense kernel stored as int32 loaded as 1e9-sized floats; TF.js refuses the dtype.
    from pyweb import layers

    model = layers.Sequential([layers.Dense(2, input_shape=[2], seed=0)])
    art = model.to_artifacts()
    art.weight_specs[0]["dtype"] = "int32"
    with pytest.raises(WeightMismatchError) as info:
        model_from_artifacts(art)
    assert info.value.reason == "dtype"
    with emulation.install():  # weightData: 5 / weightSpecs: true in a stored record
        for bad in ({"weightData": 5}, {"weightSpecs": True}):
            record = {
                "modelPath": "r",
                "modelArtifacts": {"modelTopology": {}, "weightSpecs": [], **bad},
                "modelArtifactsInfo": {"dateSaved": "2024-01-01T00:00:00.000Z"},
            }
            asyncio.run(_put(env.indexed_db(), idb.MODELS_STORE, record))
            with pytest.raises(CorruptModelError):
                asyncio.run(pyweb.aload("indexeddb://r"))


def test_layers_load_does_not_touch_memory_for_declared_shapes(tmp_path):
    # A topology declaring a 10^9-unit Dense with no weights behind it: refused, nothing allocated for real.
    import resource

    from pyweb import layers

    art = layers.Sequential([layers.Dense(2, input_shape=[3], seed=0)]).to_artifacts()
    art.model_topology["config"]["layers"][0]["config"]["units"] = 10**9
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(PyWebError):
        model_from_artifacts(art)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB


def test_load_layers_model_url_errors_are_typed(tmp_path):
    with pytest.raises(PyWebError):
        load_layers_model(f"file://{tmp_path}/nothing")
