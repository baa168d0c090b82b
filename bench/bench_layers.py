"""Benchmark: Layers-model predict throughput, pyweb against TF.js 4.22 and against numpy by hand.

Not a test. Two models: an MLP (784-256-128-10, relu/relu/softmax, batch 64)
and, when ``pyweb.layers`` has Conv2D, MaxPooling2D and GlobalAveragePooling2D,
a small CNN (28x28x1 -> conv 8 3x3 relu -> maxpool 2 -> conv 16 3x3 relu ->
global average -> dense 10 softmax, batch 32).

- Browser (Chromium and Firefox, Pyodide 0.27.7, one page each): TF.js builds
  the model with fixed weights and saves it to IndexedDB; pyweb loads it with
  ``await pyweb.aload_layers_model``, so both run the same weights on the same
  input bytes. Contenders: pyweb ``model.predict(x)`` (timed in Python in the
  page), TF.js cpu backend ``model.predict(x).dataSync()`` (timed in JS), and
  the same forward pass written by hand in numpy (plain float32, timed in the
  page too; not TF.js-exact, shown for scale).
- CPython: pyweb ``model.predict(x)`` against the hand-written numpy forward
  pass of the same model (same weights, same input).

Each number is the median of ``--runs`` timed runs (default 7) after a
warm-up; a run repeats predict until it has taken ``--min-run-ms`` (default
200 ms), so coarse browser timers (Firefox: 1 ms) do not matter. Contenders
take turns going first. Outputs are compared outside the timings.

Load (browser only): the same MLP, saved once to IndexedDB by TF.js, loaded
by ``await pyweb.aload_layers_model(url)`` (timed in Python in the page) and
by ``await tf.loadLayersModel(url)`` (timed in JS; the models are disposed
after the timed loop), in the same runs and turns as predict. pyweb keeps its
IndexedDB connection between back-to-back loads, as it does for any caller;
TF.js opens one per load. Target: pyweb <= 1.5x TF.js.

Usage::

    .venv/bin/python bench/bench_layers.py                  # or: make bench-layers
    .venv/bin/python bench/bench_layers.py --browsers chromium --runs 9
    .venv/bin/python bench/bench_layers.py --browsers ''    # CPython only
    .venv/bin/python bench/bench_layers.py --parts load     # only the IndexedDB load, in the browsers
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import _summary
from _pages import serving, tfjs_page

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUILD = "0.27.7"
LOAD_TARGET = 1.5  # aload_layers_model <= 1.5x tf.loadLayersModel
BATCH = {"mlp": 64, "cnn": 32}
INPUT_SHAPE = {"mlp": (784,), "cnn": (28, 28, 1)}
CNN_CLASSES = ("Conv2D", "MaxPooling2D", "GlobalAveragePooling2D")
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

# numpy and pyweb.layers, imported by main() once the BLAS thread count is set
# (it must be in the environment before numpy loads OpenBLAS).
np: Any = None
L: Any = None
MODELS: list[str] = []


def _import(blas_threads: int) -> None:
    global np, L, MODELS
    if blas_threads:
        for var in BLAS_THREAD_VARS:
            os.environ[var] = str(blas_threads)
    import numpy

    import pyweb.layers

    np, L = numpy, pyweb.layers
    MODELS = ["mlp"] + (["cnn"] if all(hasattr(L, name) for name in CNN_CLASSES) else [])


# The same forward passes written by hand in float32 numpy; run in CPython and
# in the page. ``w`` is the model's get_weights() list.
HAND_NUMPY = """
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def mlp_forward(w, x):
    h = np.maximum(x @ w[0] + w[1], 0)
    h = np.maximum(h @ w[2] + w[3], 0)
    return _softmax(h @ w[4] + w[5])


def _conv_valid(x, kernel, bias):
    kh, kw = kernel.shape[:2]
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))       # N, H', W', C, kh, kw
    return np.tensordot(windows, kernel, axes=([3, 4, 5], [2, 0, 1])) + bias


def cnn_forward(w, x):
    h = np.maximum(_conv_valid(x, w[0], w[1]), 0)
    n, hh, ww, c = h.shape
    h = h[:, :hh // 2 * 2, :ww // 2 * 2].reshape(n, hh // 2, 2, ww // 2, 2, c).max(axis=(2, 4))
    h = np.maximum(_conv_valid(h, w[2], w[3]), 0)
    return _softmax(h.mean(axis=(1, 2)) @ w[4] + w[5])


FORWARD = {"mlp": mlp_forward, "cnn": cnn_forward}
"""

# JS installed once per page: the TF.js models with fixed weights, their
# inputs, and a timed predict loop.
BENCH_JS = """() => {
  const L = tf.layers;
  const sine = (n, seed, scale, offset = 0) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = offset + scale * Math.sin((i + 1) * 12.9898 + seed * 78.233);
    return out;
  };
  const size = (shape) => shape.reduce((a, b) => a * b, 1);
  const BUILDERS = {
    mlp() {
      const m = tf.sequential({name: 'bench_mlp'});
      m.add(L.dense({inputShape: [784], units: 256, activation: 'relu', name: 'fc1'}));
      m.add(L.dense({units: 128, activation: 'relu', name: 'fc2'}));
      m.add(L.dense({units: 10, activation: 'softmax', name: 'out'}));
      return m;
    },
    cnn() {
      const m = tf.sequential({name: 'bench_cnn'});
      m.add(L.conv2d({inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu', name: 'conv1'}));
      m.add(L.maxPooling2d({poolSize: 2, name: 'pool'}));
      m.add(L.conv2d({filters: 16, kernelSize: 3, activation: 'relu', name: 'conv2'}));
      m.add(L.globalAveragePooling2d({name: 'gap'}));
      m.add(L.dense({units: 10, activation: 'softmax', name: 'out'}));
      return m;
    },
  };
  const bytes = (t) => { const d = t.dataSync(); return new Uint8Array(d.buffer, d.byteOffset, d.byteLength); };
  globalThis.benchLayers = {
    models: {}, inputs: {},
    // Build with fixed weights (kernels scaled by 1/sqrt(fan-in)), save to url, make the input.
    async setup(name, url, inputShape) {
      const m = BUILDERS[name]();
      const values = m.weights.map((v, i) => {
        const fanIn = v.shape.length > 1 ? size(v.shape.slice(0, -1)) : 100;
        return tf.tensor(sine(size(v.shape), i + 1, 1 / Math.sqrt(fanIn)), v.shape);
      });
      m.setWeights(values);
      tf.dispose(values);
      await m.save(url);
      this.models[name] = m;
      this.inputs[name] = tf.tensor(sine(size(inputShape), 99, 0.5, 0.5), inputShape);
      return m.countParams();
    },
    inputBytes(name) { return bytes(this.inputs[name]); },
    outputBytes(name) {
      const y = this.models[name].predict(this.inputs[name]);
      try { return bytes(y).slice(); } finally { y.dispose(); }
    },
    // ms per tf.loadLayersModel(url), over reps loads; the models are disposed after the clock stops.
    async loadTime(url, reps) {
      const models = [];
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) models.push(await tf.loadLayersModel(url));
      const ms = (performance.now() - t0) / reps;
      for (const m of models) m.dispose();
      return ms;
    },
    // ms per predict (predict + dataSync), over reps predicts.
    time(name, reps) {
      const m = this.models[name], x = this.inputs[name];
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) {
        const y = m.predict(x);
        y.dataSync();
        y.dispose();
      }
      return (performance.now() - t0) / reps;
    },
  };
  return tf.version.tfjs;
}"""

# Python run in the page once per model: load what TF.js saved, keep it for
# the timed runs, and compare outputs (pyweb and the hand-written pass vs TF.js).
PAGE_SETUP = """
import sys, types, js
import numpy as np
import pyweb

state = sys.modules.setdefault("_bench_layers", types.ModuleType("_bench_layers"))
if not hasattr(state, "models"):
    state.models, state.hand = {}, {}
    exec(hand_numpy, state.hand)
model = await pyweb.aload_layers_model(url)
x = np.frombuffer(js.benchLayers.inputBytes(name).to_bytes(), "<f4").reshape(shape)
weights = model.get_weights()
state.models[name] = (model, weights, x)
ours = model.predict(x)
hand = state.hand["FORWARD"][name](weights, x).astype(np.float32)
theirs = np.frombuffer(js.benchLayers.outputBytes(name).to_bytes(), "<f4").reshape(ours.shape)
ordered = lambda a: np.where(a.view(np.int32) < 0, -(a.view(np.int32) & 0x7FFFFFFF), a.view(np.int32)).astype(np.int64)
{"ulp": int(np.abs(ordered(ours) - ordered(theirs)).max()),
 "pyweb_abs": float(np.abs(ours - theirs).max()), "numpy_abs": float(np.abs(hand - theirs).max())}
"""

# Python run in the page for one timed run: ms per predict over reps predicts.
PAGE_TIME = """
import sys, time
state = sys.modules["_bench_layers"]
model, weights, x = state.models[name]
forward = state.hand["FORWARD"][name]
f = model.predict if who == "pyweb" else (lambda x: forward(weights, x))
t0 = time.perf_counter()
for _ in range(reps):
    f(x)
(time.perf_counter() - t0) * 1000 / reps
"""

# Python run in the page for one timed run: ms per aload_layers_model over reps loads.
PAGE_LOAD = """
import time, pyweb
models = []
t0 = time.perf_counter()
for _ in range(reps):
    models.append(await pyweb.aload_layers_model(url))
ms = (time.perf_counter() - t0) * 1000 / reps
assert all(m.count_params() == params for m in models)
del models
ms
"""


# -- measuring ----------------------------------------------------------------------------


def medians(contenders: dict[str, Callable[[int], float]], runs: int, min_run_ms: float) -> dict[str, dict]:
    """Median ms per predict for each contender: ``f(reps) -> ms per predict``.

    Two warm-up calls, then reps chosen so one run takes about ``min_run_ms``;
    contenders take turns going first.
    """
    reps = {}
    for name, f in contenders.items():
        f(1)
        reps[name] = max(1, math.ceil(min_run_ms / max(f(1), 1e-3)))
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for run in range(runs):
        for name in names[run % len(names) :] + names[: run % len(names)]:
            samples[name].append(contenders[name](reps[name]))
    return {name: {"ms": statistics.median(s), "reps": reps[name], "runs": s} for name, s in samples.items()}


def _sine(n: int, seed: int, scale: float, offset: float = 0.0) -> np.ndarray:
    return (offset + scale * np.sin((np.arange(n) + 1) * 12.9898 + seed * 78.233)).astype(np.float32)


def cpython_model(name: str) -> Any:
    """The benchmark model built with pyweb.layers, weights as the page's TF.js model gets them."""
    if name == "mlp":
        model = L.Sequential(
            [
                L.Dense(256, activation="relu", input_shape=[784], name="fc1"),
                L.Dense(128, activation="relu", name="fc2"),
                L.Dense(10, activation="softmax", name="out"),
            ],
            name="bench_mlp",
        )
    else:
        model = L.Sequential(
            [
                L.Conv2D(8, 3, activation="relu", input_shape=[28, 28, 1], name="conv1"),
                L.MaxPooling2D(pool_size=2, name="pool"),
                L.Conv2D(16, 3, activation="relu", name="conv2"),
                L.GlobalAveragePooling2D(name="gap"),
                L.Dense(10, activation="softmax", name="out"),
            ],
            name="bench_cnn",
        )
    model.set_weights(
        [
            _sine(w.size, i + 1, 1 / math.sqrt(math.prod(w.shape[:-1]) if w.ndim > 1 else 100)).reshape(w.shape)
            for i, w in enumerate(model.get_weights())
        ]
    )
    return model


def _timed(f: Callable[[], Any]) -> Callable[[int], float]:
    """``reps -> ms per call`` of ``f``, timed with perf_counter."""

    def run(reps: int) -> float:
        t0 = time.perf_counter()
        for _ in range(reps):
            f()
        return (time.perf_counter() - t0) * 1000 / reps

    return run


def bench_cpython(runs: int, min_run_ms: float) -> list[dict]:
    hand: dict[str, Any] = {}
    exec(HAND_NUMPY, hand)  # our own source, the same text the page runs
    rows = []
    for name in MODELS:
        model = cpython_model(name)
        weights = model.get_weights()
        x = _sine(BATCH[name] * math.prod(INPUT_SHAPE[name]), 99, 0.5, 0.5).reshape(BATCH[name], *INPUT_SHAPE[name])
        forward = hand["FORWARD"][name]
        got = medians(
            {
                "pyweb": _timed(functools.partial(model.predict, x)),
                "numpy": _timed(functools.partial(forward, weights, x)),
            },
            runs,
            min_run_ms,
        )
        diff = float(np.abs(model.predict(x) - forward(weights, x)).max())
        rows.append({"model": name, "batch": BATCH[name], "params": model.count_params(), **got, "numpy_abs": diff})
    return rows


# -- the browser side (pyweb.testing used outside pytest) ------------------------------------


@contextlib.contextmanager
def bench_page(playwright: Any, server: Any, config: Any, browser_name: str) -> Iterator[Any]:
    """A PyodidePage (Pyodide 0.27.7, numpy) with TF.js on its cpu backend and BENCH_JS."""
    with tfjs_page(playwright, server, config, browser_name, BUILD) as (page, browser):
        version = page.run_js(BENCH_JS)
        backend = page.run_js("async () => { await tf.setBackend('cpu'); return tf.getBackend(); }")
        if (version, backend) != ("4.22.0", "cpu"):
            raise SystemExit(f"{browser_name}: TF.js {version} on {backend}; the benchmark wants 4.22.0 on cpu")
        page.runtime["browser"] = browser.version
        yield page


def _page_time(page: Any, name: str, who: str, reps: int) -> float:
    return page.run(PAGE_TIME, name=name, who=who, reps=reps)


def _tfjs_time(page: Any, name: str, reps: int) -> float:
    return page.run_js("([n, reps]) => benchLayers.time(n, reps)", [name, reps])


def bench_load(page: Any, runs: int, min_run_ms: float) -> dict:
    """The MLP from IndexedDB: pyweb's aload_layers_model against tf.loadLayersModel, ms per load."""
    url = "indexeddb://bench-layers-load"
    params = page.run_js("([n, url, shape]) => benchLayers.setup(n, url, shape)", ["mlp", url, [1, 784]])
    contenders = {
        "pyweb": lambda reps: page.run(PAGE_LOAD, url=url, reps=reps, params=params),
        "tfjs": lambda reps: page.run_js("([url, reps]) => benchLayers.loadTime(url, reps)", [url, reps]),
    }
    return {"model": "mlp", "params": params, **medians(contenders, runs, min_run_ms)}


def bench_browser(page: Any, runs: int, min_run_ms: float) -> list[dict]:
    rows = []
    for name in MODELS:
        shape = [BATCH[name], *INPUT_SHAPE[name]]
        url = f"indexeddb://bench-layers-{name}"
        params = page.run_js("([n, url, shape]) => benchLayers.setup(n, url, shape)", [name, url, shape])
        check = page.run(PAGE_SETUP, name=name, url=url, shape=shape, hand_numpy=HAND_NUMPY)
        contenders = {
            "pyweb": functools.partial(_page_time, page, name, "pyweb"),
            "tfjs": functools.partial(_tfjs_time, page, name),
            "numpy": functools.partial(_page_time, page, name, "numpy"),
        }
        rows.append(
            {"model": name, "batch": BATCH[name], "params": params, **check, **medians(contenders, runs, min_run_ms)}
        )
    return rows


# -- reporting ----------------------------------------------------------------------------


def _load() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"
    except OSError:
        return "unknown"


def _rate(row: dict, who: str) -> float:
    return row["batch"] / (row[who]["ms"] / 1000)


def print_browser(browser: str, runtime: dict, rows: list[dict], runs: int) -> None:
    print(
        f"\n{browser} {runtime.get('browser', '')} + Pyodide {runtime.get('pyodide', BUILD)}, TF.js 4.22 cpu: "
        f"predict, median of {runs} runs; load average {_load()}"
    )
    header = (
        f"{'model':<5} {'batch':>5} {'pyweb ms':>9} {'TF.js ms':>9} {'numpy ms':>9} "
        f"{'pyweb/s':>9} {'TF.js/s':>9} {'numpy/s':>9} {'pyweb÷TF.js':>12} {'pyweb÷numpy':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['model']:<5} {r['batch']:>5} {r['pyweb']['ms']:9.2f} {r['tfjs']['ms']:9.2f} {r['numpy']['ms']:9.2f} "
            f"{_rate(r, 'pyweb'):9.0f} {_rate(r, 'tfjs'):9.0f} {_rate(r, 'numpy'):9.0f} "
            f"{_rate(r, 'pyweb') / _rate(r, 'tfjs'):11.2f}x {_rate(r, 'pyweb') / _rate(r, 'numpy'):11.2f}x"
        )
    print("  (samples/s; ratios are throughput: above 1x pyweb is faster)")
    for r in rows:
        print(
            f"  {r['model']}: pyweb vs TF.js max {r['ulp']} ulp ({r['pyweb_abs']:.3g} abs); "
            f"numpy by hand vs TF.js max {r['numpy_abs']:.3g} abs; {r['params']} params"
        )


def print_load(browser: str, runtime: dict, row: dict, runs: int) -> bool:
    """Print the load comparison; True when the target is met."""
    ratio = row["pyweb"]["ms"] / row["tfjs"]["ms"]
    met = ratio <= LOAD_TARGET
    print(
        f"\n{browser} {runtime.get('browser', '')} + Pyodide {runtime.get('pyodide', BUILD)}: load the MLP "
        f"784-256-128-10 ({row['params']} params) from IndexedDB, median of {runs} runs; load average {_load()}"
    )
    print(
        f"  pyweb aload_layers_model {row['pyweb']['ms']:.2f} ms ({row['pyweb']['reps']} loads a run), "
        f"tf.loadLayersModel {row['tfjs']['ms']:.2f} ms ({row['tfjs']['reps']} a run): "
        f"pyweb/TF.js {ratio:.2f}x  {'met' if met else 'MISSED'} (<= {LOAD_TARGET}x TF.js)"
    )
    return met


def print_cpython(rows: list[dict], runs: int) -> None:
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "numpy's default")
    print(
        f"\nCPython {sys.version.split()[0]}, numpy {np.__version__} (BLAS threads: {threads}): predict, "
        f"median of {runs} runs; load average {_load()}"
    )
    header = (
        f"{'model':<5} {'batch':>5} {'pyweb ms':>9} {'numpy ms':>9} {'pyweb/s':>9} {'numpy/s':>9} {'pyweb÷numpy':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['model']:<5} {r['batch']:>5} {r['pyweb']['ms']:9.2f} {r['numpy']['ms']:9.2f} "
            f"{_rate(r, 'pyweb'):9.0f} {_rate(r, 'numpy'):9.0f} {_rate(r, 'pyweb') / _rate(r, 'numpy'):11.2f}x"
        )
    print("  (samples/s; ratio is throughput: above 1x pyweb is faster)")
    for r in rows:
        print(f"  {r['model']}: pyweb vs numpy by hand max {r['numpy_abs']:.3g} abs; {r['params']} params")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--browsers",
        default="chromium,firefox",
        help="comma list of playwright.config.py browsers ('' for CPython only)",
    )
    parser.add_argument("--runs", type=int, default=7, help="timed runs per contender (median; default 7)")
    parser.add_argument("--min-run-ms", type=float, default=200, help="length of one timed run (default 200 ms)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads in CPython (default 1, like Pyodide; 0 keeps numpy's default)",
    )
    parser.add_argument(
        "--parts",
        default="predict,load",
        help="comma list: predict (browsers and CPython), load (browsers); default both",
    )
    parser.add_argument("--json", metavar="PATH", help="also write every run as JSON")
    parser.add_argument("--summary", metavar="PATH", help="also write the load's target rows as JSON (bench/run.py)")
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs must be at least 5")
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not parts or parts - {"predict", "load"}:
        parser.error("--parts takes predict and/or load")
    _import(args.blas_threads)
    missing = [name for name in CNN_CLASSES if not hasattr(L, name)]
    print(f"models: {', '.join(MODELS)}" + (f" (no CNN: pyweb.layers lacks {', '.join(missing)})" if missing else ""))

    results: dict[str, Any] = {}
    missed: list[str] = []
    summary: list[dict[str, Any]] = []
    browsers = [b.strip() for b in args.browsers.split(",") if b.strip()]
    if browsers:
        from playwright.sync_api import sync_playwright

        with serving() as (server, config), sync_playwright() as playwright:
            for browser_name in browsers:
                t0 = time.perf_counter()
                with bench_page(playwright, server, config, browser_name) as page:
                    results[browser_name] = {"runtime": page.runtime}
                    if "predict" in parts:
                        rows = bench_browser(page, args.runs, args.min_run_ms)
                        results[browser_name]["rows"] = rows
                        print_browser(browser_name, page.runtime, rows, args.runs)
                    if "load" in parts:
                        load = bench_load(page, args.runs, args.min_run_ms)
                        results[browser_name]["load"] = load
                        summary.append(
                            _summary.row(
                                f"{browser_name} aload_layers_model MLP from IndexedDB vs tf.loadLayersModel",
                                f"{load['pyweb']['ms']:.2f} ms",
                                f"{load['tfjs']['ms']:.2f} ms",
                                load["pyweb"]["ms"] / load["tfjs"]["ms"],
                                LOAD_TARGET,
                            )
                        )
                        if not print_load(browser_name, page.runtime, load, args.runs):
                            missed.append(
                                f"{browser_name}: aload_layers_model "
                                f"{load['pyweb']['ms'] / load['tfjs']['ms']:.2f}x > {LOAD_TARGET}x TF.js"
                            )
                print(f"({browser_name}: {time.perf_counter() - t0:.0f} s in all)")
                sys.stdout.flush()
    if "predict" in parts:
        rows = bench_cpython(args.runs, args.min_run_ms)
        results["cpython"] = {"rows": rows}
        print_cpython(rows, args.runs)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    _summary.write(args.summary, summary)
    if browsers:
        print("\nTargets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
