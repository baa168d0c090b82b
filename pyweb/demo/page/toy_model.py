"""The demo's toy model: a 2-16-3 MLP fitted in numpy, as TF.js Layers artifacts.

Shared by the page's app.py and demo/cpython_demo.py (``make demo-cpython``).
"""

from __future__ import annotations

import numpy as np

import pyweb
from pyweb.layers import Dense, Sequential

CLASSES = ["north", "west", "east"]


def fit_classifier(seed: int = 0) -> tuple[dict[str, np.ndarray], float]:
    """A 2-16-3 MLP fitted by plain gradient descent on three Gaussian blobs."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0, 2], [-2, -1], [2, -1]], dtype=np.float32)
    x = np.concatenate([c + 0.6 * rng.standard_normal((60, 2)) for c in centers]).astype(np.float32)
    y = np.repeat(np.arange(3), 60)
    w1 = (rng.standard_normal((2, 16)) * 0.5).astype(np.float32)
    b1 = np.zeros(16, np.float32)
    w2 = (rng.standard_normal((16, 3)) * 0.5).astype(np.float32)
    b2 = np.zeros(3, np.float32)
    for _ in range(300):
        h = np.maximum(x @ w1 + b1, 0)
        logits = h @ w2 + b2
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = p.copy()
        g[np.arange(len(y)), y] -= 1
        g /= len(y)
        gh = (g @ w2.T) * (h > 0)
        w2 -= 0.5 * h.T @ g
        b2 -= 0.5 * g.sum(0)
        w1 -= 0.5 * x.T @ gh
        b1 -= 0.5 * gh.sum(0)
    weights = {"dense_Dense1/kernel": w1, "dense_Dense1/bias": b1, "dense_Dense2/kernel": w2, "dense_Dense2/bias": b2}
    accuracy = float((np.argmax(predict(weights, x), 1) == y).mean())
    return weights, accuracy


def pad_hidden(weights: dict[str, np.ndarray], units: int) -> dict[str, np.ndarray]:
    """The same classifier with ``units`` hidden units: the new ones are all zero.

    A zero unit outputs relu(0) = 0 and feeds nothing forward, so predictions
    are unchanged; only the model's size grows (24 bytes per unit). The demo
    uses this to make saves big enough to time and to hit quotas.
    """
    w1, b1, w2 = weights["dense_Dense1/kernel"], weights["dense_Dense1/bias"], weights["dense_Dense2/kernel"]
    extra = units - w1.shape[1]
    if extra < 0:
        raise ValueError(f"cannot shrink {w1.shape[1]} hidden units to {units}")
    return {
        "dense_Dense1/kernel": np.pad(w1, ((0, 0), (0, extra))),
        "dense_Dense1/bias": np.pad(b1, (0, extra)),
        "dense_Dense2/kernel": np.pad(w2, ((0, extra), (0, 0))),
        "dense_Dense2/bias": weights["dense_Dense2/bias"],
    }


def predict(w: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    h = np.maximum(x @ w["dense_Dense1/kernel"] + w["dense_Dense1/bias"], 0)
    logits = h @ w["dense_Dense2/kernel"] + w["dense_Dense2/bias"]
    p = np.exp(logits - logits.max(1, keepdims=True))
    probabilities: np.ndarray = p / p.sum(1, keepdims=True)
    return probabilities


def as_model(weights: dict[str, np.ndarray]) -> Sequential:
    """The classifier as a pyweb.layers model (TF.js's Dense defaults), holding ``weights``."""
    hidden = weights["dense_Dense1/kernel"].shape[1]
    model = Sequential(
        [Dense(hidden, "relu", input_shape=[2], name="dense_Dense1"), Dense(3, "softmax", name="dense_Dense2")],
        name="sequential_1",
    )
    model.set_weights([weights[name] for name in model.weight_names])
    model.user_defined_metadata = {"classes": CLASSES}
    return model


def as_artifacts(weights: dict[str, np.ndarray]) -> pyweb.ModelArtifacts:
    artifacts: pyweb.ModelArtifacts = as_model(weights).to_artifacts()
    artifacts.generated_by = "pyweb demo"  # pyweb.layers writes TF.js's own string; say who made this one
    return artifacts
