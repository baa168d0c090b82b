"""Layers models other people published (npm packages), against TF.js 4.22 on the same files.

tools/published/fetch.py downloads the pinned tarballs (fixture ``published_packages``),
tools/published/goldens.js runs each model in TF.js (fixture ``published_goldens``). Here
pyweb loads the same folder and must hold the same weights bit for bit, predict within the
ulps stated per model, and save back the model.json TF.js writes. Load times against TF.js
are printed by bench/bench_published.py.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from pyweb.artifacts import HTTP_WEIGHTS_PATH, to_model_json
from pyweb.layers import LAYER_CLASSES, Layer, load_layers_model

from .conftest import PUBLISHED_MODELS
from .helpers import ulps

pytestmark = pytest.mark.node


class MultiplyBeta(Layer):
    """esrgan-legacy's residual scaling: ``x * beta`` (its JS class: ``tf.mul(x, 0.2)``)."""

    class_name = "MultiplyBeta"
    config_keys = ("beta",)

    def __init__(self, beta: float = 0.2, **kwargs):
        super().__init__(**kwargs)
        self.beta = beta

    def call(self, inputs):
        return inputs * np.float32(self.beta)

    def layer_config(self):
        return {"beta": self.beta}


class PixelShuffle4x(Layer):
    """esrgan-legacy's upscaler head: ``tf.depthToSpace(x, 4)`` (channels-last)."""

    class_name = "PixelShuffle4x"
    config_keys = ("scale",)

    def __init__(self, scale: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        r = self.scale
        return b, None if h is None else h * r, None if w is None else w * r, c // (r * r)

    def call(self, inputs):
        b, h, w, c = inputs.shape
        r = self.scale
        return inputs.reshape(b, h, w, r, r, c // (r * r)).transpose(0, 1, 3, 2, 4, 5).reshape(b, h * r, w * r, -1)

    def layer_config(self):
        return {"scale": self.scale}


@pytest.fixture
def custom_layers():
    """Register the classes esrgan-legacy registers in TF.js, as its users would in pyweb."""
    added = [cls for cls in (MultiplyBeta, PixelShuffle4x) if cls.class_name not in LAYER_CLASSES]
    for cls in added:
        LAYER_CLASSES[cls.class_name] = cls
    yield
    for cls in added:
        del LAYER_CLASSES[cls.class_name]


def _array(entry: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(entry["values_b64"]), "<f4").reshape(entry["shape"])


def _load(published_goldens, model_id):
    return load_layers_model(f"file://{published_goldens / model_id / 'model'}")


IDS = [m["id"] for m in PUBLISHED_MODELS]
#: Largest float32 ulp distance from TF.js's predict allowed per model (measured; see README).
MAX_ULPS = dict.fromkeys(IDS, 0)


@pytest.mark.usefixtures("custom_layers")
@pytest.mark.parametrize("model_id", IDS)
def test_weights_bit_identical_to_tfjs(published_goldens, model_id):
    model = _load(published_goldens, model_id)
    doc = json.loads((published_goldens / model_id / "weights.json").read_text())["weights"]
    raw = np.fromfile(published_goldens / model_id / "weights.f32", "<f4")
    ours = dict(
        zip(
            (n for layer in model.layers for n in layer.weight_names),
            (w for layer in model.layers for w in layer.get_weights()),
        )
    )
    assert len(ours) == len(doc)
    offset = 0
    for spec in doc:
        size = int(np.prod(spec["shape"], dtype=np.int64))
        want = raw[offset : offset + size].reshape(spec["shape"])
        offset += size
        got = ours[spec["name"]]
        assert got.shape == want.shape and got.tobytes() == want.tobytes(), spec["name"]
    assert offset == raw.size


@pytest.mark.usefixtures("custom_layers")
@pytest.mark.parametrize("model_id", IDS)
def test_predict_matches_tfjs(published_goldens, model_id):
    model = _load(published_goldens, model_id)
    io = json.loads((published_goldens / model_id / "io.json").read_text())
    got = model.predict(_array(io["input"]))
    want = _array(io["output"])
    assert got.dtype == np.float32 and got.shape == want.shape
    assert int(ulps(got, want).max()) <= MAX_ULPS[model_id]


@pytest.mark.parametrize("model_id", [i for i in IDS if "gans" not in i])
def test_resave_writes_what_tfjs_writes(published_goldens, model_id):
    model = _load(published_goldens, model_id)
    want = (published_goldens / model_id / "resaved.json").read_text(encoding="utf-8")
    assert to_model_json(model.to_artifacts(), [HTTP_WEIGHTS_PATH]) == want
