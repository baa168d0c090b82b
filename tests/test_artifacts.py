"""model.json mapping and the JSON.stringify-compatible writer.

Byte equality with TF.js's own output is pinned in test_tfjs_goldens.py
(goldens written by real TF.js under Node); these tests cover the rules.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

import pyweb
from pyweb.artifacts import artifacts_info, js_dumps, js_iso, shard_paths, split_shards, to_model_json
from pyweb.errors import ArtifactError, CorruptModelError

# The reference example: what TF.js's downloads saver
# writes for a fresh Sequential of two Dense layers, 1462 bytes.
REFERENCE_TOPOLOGY = json.loads(
    '{"class_name":"Sequential","config":{"name":"sequential_1","layers":[{"class_name":"Dense","config":{"units":4,'
    '"activation":"relu","use_bias":true,"kernel_initializer":{"class_name":"VarianceScaling","config":{"scale":1,'
    '"mode":"fan_avg","distribution":"normal","seed":null}},"bias_initializer":{"class_name":"Zeros","config":{}},'
    '"kernel_regularizer":null,"bias_regularizer":null,"activity_regularizer":null,"kernel_constraint":null,'
    '"bias_constraint":null,"name":"dense_Dense1","trainable":true,"batch_input_shape":[null,3],"dtype":"float32"}},'
    '{"class_name":"Dense","config":{"units":1,"activation":"linear","use_bias":true,"kernel_initializer":'
    '{"class_name":"VarianceScaling","config":{"scale":1,"mode":"fan_avg","distribution":"normal","seed":null}},'
    '"bias_initializer":{"class_name":"Zeros","config":{}},"kernel_regularizer":null,"bias_regularizer":null,'
    '"activity_regularizer":null,"kernel_constraint":null,"bias_constraint":null,"name":"dense_Dense2",'
    '"trainable":true}}]},"keras_version":"tfjs-layers 4.22.0","backend":"tensor_flow.js"}'
)
REFERENCE_SPECS = [
    {"name": "dense_Dense1/kernel", "shape": [3, 4], "dtype": "float32"},
    {"name": "dense_Dense1/bias", "shape": [4], "dtype": "float32"},
    {"name": "dense_Dense2/kernel", "shape": [4, 1], "dtype": "float32"},
    {"name": "dense_Dense2/bias", "shape": [1], "dtype": "float32"},
]


def reference_artifacts():
    return pyweb.ModelArtifacts(
        model_topology=REFERENCE_TOPOLOGY,
        weight_specs=REFERENCE_SPECS,
        weight_data=bytes(84),
        format="layers-model",
        generated_by="TensorFlow.js tfjs-layers v4.22.0",
        converted_by=None,
    )


def test_reference_example_bytes_and_info():
    text = to_model_json(reference_artifacts(), ["./my-model.weights.bin"])
    assert len(text.encode()) == 1462
    assert text.startswith('{"modelTopology":{"class_name":"Sequential"')
    assert '"format":"layers-model","generatedBy":"TensorFlow.js tfjs-layers v4.22.0","convertedBy":null,' in text
    info = artifacts_info(reference_artifacts())
    assert (info.model_topology_bytes, info.weight_specs_bytes, info.weight_data_bytes) == (1038, 245, 84)
    assert info.model_topology_type == "JSON"


def test_node_layout_puts_manifest_second_and_drops_nothing():
    art = reference_artifacts()
    art.training_config = {"loss": "mse"}
    art.user_defined_metadata = {"k": 1}
    art.model_initializer = {"i": 1}
    keys = list(json.loads(to_model_json(art, ["weights.bin"], layout="node")))
    assert keys == [
        "modelTopology",
        "weightsManifest",
        "format",
        "generatedBy",
        "convertedBy",
        "trainingConfig",
        "userDefinedMetadata",
        "modelInitializer",
    ]
    browser = list(json.loads(to_model_json(art, ["./model.weights.bin"])))
    assert browser == [
        "modelTopology",
        "format",
        "generatedBy",
        "convertedBy",
        "weightsManifest",
        "userDefinedMetadata",
        "modelInitializer",
        "trainingConfig",
    ]


def test_round_trip_is_byte_identical_including_absent_converted_by():
    with_null = to_model_json(reference_artifacts(), ["./model.weights.bin"])
    assert to_model_json(pyweb.from_model_json(with_null), ["./model.weights.bin"]) == with_null
    without = with_null.replace('"convertedBy":null,', "")
    parsed = pyweb.from_model_json(without)
    assert parsed.converted_by is None
    assert to_model_json(parsed, ["./model.weights.bin"]) == without


def test_manifest_groups_are_kept_and_flattened():
    manifest = [
        {"paths": ["a.bin"], "weights": REFERENCE_SPECS[:2]},
        {"paths": ["b.bin", "c.bin"], "weights": REFERENCE_SPECS[2:]},
    ]
    text = to_model_json(reference_artifacts(), manifest)
    art = pyweb.from_model_json(text)
    assert art.weight_specs == REFERENCE_SPECS
    assert json.loads(text)["weightsManifest"] == manifest


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1,2]",
        "{}",
        '{"modelTopology":{},"weightsManifest":{"paths":1}}',
        '{"weightsManifest":[{"paths":["a"],"weights":[{"name":"x"}]}]}',
        b"\xff\xfe",
    ],
)
def test_malformed_model_json(text):
    with pytest.raises(CorruptModelError) as exc:
        pyweb.from_model_json(text)
    assert exc.value.part == "model.json"


def test_binary_topology_cannot_be_written():
    with pytest.raises(ArtifactError):
        to_model_json(pyweb.ModelArtifacts(model_topology=b"\x08\x01"), ["x"])
    with pytest.raises(ArtifactError):
        artifacts_info(pyweb.ModelArtifacts(model_topology=b"\x08\x01"))


@pytest.mark.parametrize(
    "value, text",
    [
        (1.0, "1"),
        (-0.0, "0"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (0.00001, "0.00001"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (0.1, "0.1"),
        (123.456e5, "12345600"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (float("nan"), "null"),
        (float("-inf"), "null"),
        (2**53 + 1, "9007199254740992"),
        (True, "true"),
        (None, "null"),
        (-12, "-12"),
    ],
)
def test_js_numbers(value, text):
    assert js_dumps(value) == text


def test_js_object_key_order_and_strings():
    assert js_dumps({"b": 1, "2": 2, "a": 3, "1": 4, "01": 5, "4294967295": 6}) == (
        '{"1":4,"2":2,"b":1,"a":3,"01":5,"4294967295":6}'
    )
    assert js_dumps('q"b\\n\n\t\x01\x1f\x7f\u2028/é😀') == '"q\\"b\\\\n\\n\\t\\u0001\\u001f\x7f\u2028/é😀"'
    assert js_dumps("\ud800x") == '"\\ud800x"'
    assert js_dumps("\ud83d\ude00") == '"😀"'  # a surrogate pair held as two code points


def test_js_iso_dates():
    when = dt.datetime(2024, 1, 2, 3, 4, 5, 67890, tzinfo=dt.UTC)
    assert js_iso(when) == "2024-01-02T03:04:05.067Z"
    assert js_dumps({"d": when}) == '{"d":"2024-01-02T03:04:05.067Z"}'


def test_unicode_byte_counts():
    art = pyweb.ModelArtifacts(model_topology={"n": "aЖ文1"}, weight_specs=[], weight_data=[])
    info = artifacts_info(art)
    assert info.model_topology_bytes == len('{"n":"aЖ文1"}'.encode())
    assert info.weight_specs_bytes == 2
    assert info.weight_data_bytes is None  # TF.js quirk: [] gives undefined


def test_shards():
    assert shard_paths(3) == ["group1-shard1of3.bin", "group1-shard2of3.bin", "group1-shard3of3.bin"]

    def joined(pieces):
        return [b"".join(bytes(v) for v in piece) for piece in pieces]

    assert joined(split_shards(bytes(range(10)), 4)) == [bytes([0, 1, 2, 3]), bytes([4, 5, 6, 7]), bytes([8, 9])]
    assert split_shards(b"", 4) == []
    assert joined(split_shards([b"ab", b"c"], None)) == [b"abc"]
    # pieces spanning input buffers are views onto them, not copies
    buffers = [bytearray(b"abc"), bytearray(b"defgh")]
    pieces = split_shards(buffers, 4)
    assert joined(pieces) == [b"abcd", b"efgh"]
    buffers[1][0] = ord("X")
    assert joined(pieces) == [b"abcX", b"efgh"]
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError):
            split_shards(b"x", bad)


def test_null_and_absent_head_keys_round_trip():
    text = '{"modelTopology":{},"format":"graph-model","generatedBy":null,"convertedBy":"TensorFlow.js Converter v4","weightsManifest":[{"paths":["a.bin"],"weights":[]}]}'
    art = pyweb.from_model_json(text)
    assert art.generated_by is None and "generatedBy" in art.null_keys
    assert to_model_json(art, ["a.bin"]) == text
    absent = '{"modelTopology":{},"weightsManifest":[{"paths":["a.bin"],"weights":[]}]}'
    assert to_model_json(pyweb.from_model_json(absent), ["a.bin"]) == absent
    assert pyweb.from_model_json(text).weights_manifest == [{"paths": ["a.bin"], "weights": []}]
