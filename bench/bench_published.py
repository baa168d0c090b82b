"""Benchmark: loading Layers models other people published, pyweb against TF.js 4.22.

Not a test. The models are those of tools/published/models.json (npm packages: ESRGAN
upscalers exported by Keras 2.3-2.10 and TF.js, nsfwjs's MobileNetV2 and InceptionV3 from
Keras 2.2.4; float32 and uint8-quantized; 1 to 6 shards; up to 477 layers). For each, in
one run on the same files:

- TF.js: wall time of reading the files and ``tf.loadLayersModel`` (Node 20, cpu backend), in
  one Node process (bench/_tfjs_load.js) kept running after a warm-up load;
- pyweb: wall time of ``pyweb.layers.load_layers_model("file://...")`` in this process, after a
  warm-up load;

the two taking turns (``--runs`` loads each, each side going first in every other run, each
dropping its previous model before its clock starts), and prints the median of each and the
ratio pyweb / TF.js, plus the largest float32 ulp distance between the two libraries'
``predict`` on the same input (TF.js's from tools/published/goldens.js, which also writes the
model's files). Target: InceptionV3 (the 300-layer branchy model) <= 2x TF.js. Models fetched
into .assets/published (make setup).

Usage::

    .venv/bin/python bench/bench_published.py          # or: make bench-published
    .venv/bin/python bench/bench_published.py --runs 9 esrgan-legacy-gans
    .venv/bin/python bench/bench_published.py nsfwjs-inception-v3     # the one with a target (make bench)
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _summary
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyweb.layers import LAYER_CLASSES, load_layers_model  # noqa: E402
from tests.layers.helpers import ulps  # noqa: E402
from tests.layers.test_published import MultiplyBeta, PixelShuffle4x  # noqa: E402

PACKAGES = ROOT / ".assets" / "published"


def _array(entry: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(entry["values_b64"]), "<f4").reshape(entry["shape"])


def _tfjs_loader(folder: Path, custom: str | None) -> subprocess.Popen:
    """bench/_tfjs_load.js on ``folder``, warmed up: one load per line written to its stdin."""
    cmd = ["node", str(ROOT / "bench" / "_tfjs_load.js"), str(folder)] + ([custom] if custom else [])
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdin and proc.stdout
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit(f"{cmd}: no warm-up load (see its stderr above)")
    return proc


def _tfjs_load_ms(proc: subprocess.Popen) -> float:
    assert proc.stdin and proc.stdout
    proc.stdin.write("load\n")
    proc.stdin.flush()
    return float(proc.stdout.readline())


def _pyweb_load_ms(url: str) -> tuple[float, object]:
    start = time.perf_counter()
    model = load_layers_model(url)
    return (time.perf_counter() - start) * 1000, model


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="loads per library and model (median; default 7)")
    parser.add_argument("--summary", metavar="PATH", help="also write the target rows as JSON (bench/run.py)")
    parser.add_argument("ids", nargs="*", help="model ids (default: all)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    subprocess.run([sys.executable, str(ROOT / "tools" / "published" / "fetch.py"), str(PACKAGES)], check=True)
    for cls in (MultiplyBeta, PixelShuffle4x):
        LAYER_CLASSES.setdefault(cls.class_name, cls)
    catalogue = {m["id"]: m for m in json.loads((ROOT / "tools" / "published" / "models.json").read_text())["models"]}
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        # The files of each model (as pyweb loads them) and TF.js's predict output on them.
        subprocess.run(
            ["node", str(ROOT / "tools" / "published" / "goldens.js"), str(out), str(PACKAGES), *args.ids],
            check=True,
            cwd=ROOT,
        )
        ids = json.loads((out / "index.json").read_text())["models"]
        print(
            f"load from file://, median of {args.runs} loads each, pyweb and TF.js taking turns "
            f"(TF.js in one warmed-up Node process, pyweb in this one); load average {_summary.load_average()}"
        )
        print(f"{'model':28s} {'layers':>6s} {'TF.js ms':>9s} {'pyweb ms':>9s} {'ratio':>6s} {'max ulp':>7s}")
        for model_id in ids:
            folder = out / model_id
            url = f"file://{folder / 'model'}"
            entry = catalogue[model_id]
            custom = None
            if entry.get("custom_layers"):
                custom = str(PACKAGES / entry["package"].replace("/", "+") / "package" / entry["custom_layers"])
            tfjs_proc = _tfjs_loader(folder / "model", custom)
            try:
                model = load_layers_model(url)  # warm-up, as TF.js's
                tfjs_ms, pyweb_ms = [], []
                for run in range(args.runs):
                    # Take turns going first; each side drops its previous model before its clock starts.
                    del model
                    for side in ("tfjs", "pyweb") if run % 2 == 0 else ("pyweb", "tfjs"):
                        if side == "tfjs":
                            tfjs_ms.append(_tfjs_load_ms(tfjs_proc))
                        else:
                            ms, model = _pyweb_load_ms(url)
                            pyweb_ms.append(ms)
            finally:
                assert tfjs_proc.stdin
                tfjs_proc.stdin.close()
                tfjs_proc.wait()
            timing = json.loads((folder / "timing.json").read_text())
            io = json.loads((folder / "io.json").read_text())
            worst = int(ulps(model.predict(_array(io["input"])), _array(io["output"])).max())
            tfjs, ours = statistics.median(tfjs_ms), statistics.median(pyweb_ms)
            print(
                f"{model_id:28s} {timing['layers']:6d} {tfjs:9.1f} {ours:9.1f} {ours / tfjs:6.2f} {worst:7d}",
                flush=True,
            )
            # The target is for the 300-layer branchy model (InceptionV3); the rest are shown for scale.
            summary.append(
                _summary.row(
                    f"load_layers_model file:// {model_id} ({timing['layers']} layers) vs TF.js under Node",
                    f"{ours:.0f} ms",
                    f"{tfjs:.0f} ms",
                    ours / tfjs,
                    2.0 if model_id == "nsfwjs-inception-v3" else None,
                )
            )
    _summary.write(args.summary, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
