"""Real TensorFlow.js 4.22 (under Node) and pyweb exchange models through `pyweb serve`.

Both directions go over real HTTP on 127.0.0.1: TF.js's multipart save lands in the server and
pyweb loads it; pyweb's save lands there and TF.js's loadLayersModel reads it, with the same
weights to the bit.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

import pyweb
from pyweb.server import ModelServer
from tests.tfjs_node import REPO_ROOT, load_check, run_node

pytestmark = pytest.mark.node

SAVE_HTTP = REPO_ROOT / "tools" / "tfjs" / "save_http.js"
TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ModelServer(tmp_path_factory.mktemp("served"), token=TOKEN) as srv:
        yield srv


def dense_model(seed: int) -> tuple[pyweb.ModelArtifacts, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    weights = {
        "dense_Dense1/kernel": rng.standard_normal((3, 5)).astype(np.float32),
        "dense_Dense1/bias": rng.standard_normal(5).astype(np.float32),
    }
    data, specs = pyweb.encode_weights(weights)
    layer = {
        "class_name": "Dense",
        "config": {
            "units": 5,
            "activation": "linear",
            "use_bias": True,
            "name": "dense_Dense1",
            "trainable": True,
            "batch_input_shape": [None, 3],
            "dtype": "float32",
            "kernel_initializer": {"class_name": "Zeros", "config": {}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None,
            "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
        },
    }
    topology = {
        "class_name": "Sequential",
        "config": {"name": "sequential_1", "layers": [layer]},
        "keras_version": "tfjs-layers 4.22.0",
        "backend": "tensor_flow.js",
    }
    return pyweb.ModelArtifacts(
        model_topology=topology,
        weight_specs=specs,
        weight_data=data,
        format="layers-model",
        generated_by="pyweb tests",
        converted_by=None,
    ), weights


def auth() -> dict[str, str]:
    return {"headers": {"Authorization": f"Bearer {TOKEN}"}}


@pytest.mark.parametrize("options", [{}, {"shard_bytes": 16, "integrity": True}], ids=["one-file", "sharded"])
def test_tfjs_loads_what_pyweb_posted(server, options):
    artifacts, weights = dense_model(1)
    pyweb.save(artifacts, f"{server.url}/upload/from-pyweb", request_init=auth(), **options)
    # TF.js's loader sends no token: serve this model from a token-less server on the same folder.
    with ModelServer(server.root) as open_server:
        seen = load_check(f"{open_server.url}/models/from-pyweb/model.json")
    assert seen["model_loaded"] is True
    assert [w["name"] for w in seen["weights"]] == list(weights)
    for entry in seen["weights"]:
        got = np.frombuffer(base64.b64decode(entry["values_b64"]), "<f4").reshape(entry["shape"])
        np.testing.assert_array_equal(got, weights[entry["name"]])
    x = np.ones((1, 3), np.float32)
    want = x @ weights["dense_Dense1/kernel"] + weights["dense_Dense1/bias"]
    np.testing.assert_allclose(np.array(seen["predict"]["output"]), want, rtol=1e-6)


def test_pyweb_loads_what_tfjs_posted(server):
    proc = run_node(SAVE_HTTP, f"{server.url}/upload/from-tfjs", TOKEN)
    assert proc.returncode == 0, proc.stderr
    posted = json.loads(proc.stdout)
    assert posted["status"] == 200
    got = pyweb.load(f"{server.url}/models/from-tfjs/model.json", request_init=auth())
    assert got.format == "layers-model" and got.converted_by is None
    decoded = pyweb.decode_weights(got.weight_data, got.weight_specs)
    assert list(decoded) == [w["name"] for w in posted["weights"]]
    for entry in posted["weights"]:
        want = np.frombuffer(base64.b64decode(entry["values_b64"]), "<f4").reshape(entry["shape"])
        np.testing.assert_array_equal(decoded[entry["name"]], want)


def test_tfjs_post_without_token_is_refused(server):
    proc = run_node(SAVE_HTTP, f"{server.url}/upload/no-token")
    assert proc.returncode != 0
    with pytest.raises(pyweb.errors.ModelNotFoundError):
        pyweb.load(f"{server.url}/models/no-token/model.json", request_init=auth())


def test_tfjs_loads_pyweb_files_through_from_memory(tmp_path):
    artifacts, weights = dense_model(2)
    pyweb.save(artifacts, f"file://{tmp_path}/m", shard_bytes=7)
    seen = load_check(tmp_path / "m")
    assert seen["model_loaded"] is True
    for entry in seen["weights"]:
        got = np.frombuffer(base64.b64decode(entry["values_b64"]), "<f4").reshape(entry["shape"])
        np.testing.assert_array_equal(got, weights[entry["name"]])
