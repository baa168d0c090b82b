"""Benchmark: loading Layers models other people published, pyweb against TF.js 4.22.

Not a test. The models are those of tools/published/models.json (npm packages: ESRGAN
upscalers exported by Keras 2.3-2.10 and TF.js, nsfwjs's MobileNetV2 and InceptionV3 from
Keras 2.2.4; float32 and uint8-quantized; 1 to 6 shards; up to 477 layers). For each, in
one run on the same files:

- TF.js: wall time of reading the files and ``tf.loadLayersModel`` (Node 20, cpu backend),
  by tools/published/goldens.js, best of 5 after a warm-up load;
- pyweb: wall time of ``pyweb.layers.load_layers_model("file://...")``, best of ``--runs``
  after a warm-up load;

and prints the ratio pyweb / TF.js, plus the largest float32 ulp distance between the two
libraries' ``predict`` on the same input. Models fetched into .assets/published (make setup).

Usage::

    .venv/bin/python bench/bench_published.py          # or: make bench-published
    .venv/bin/python bench/bench_published.py --runs 9 esrgan-legacy-gans
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyweb.layers import LAYER_CLASSES, load_layers_model  # noqa: E402
from tests.layers.helpers import ulps  # noqa: E402
from tests.layers.test_published import MultiplyBeta, PixelShuffle4x  # noqa: E402

PACKAGES = ROOT / ".assets" / "published"


def _array(entry: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(entry["values_b64"]), "<f4").reshape(entry["shape"])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("ids", nargs="*", help="model ids (default: all)")
    args = parser.parse_args(argv)
    subprocess.run([sys.executable, str(ROOT / "tools" / "published" / "fetch.py"), str(PACKAGES)], check=True)
    for cls in (MultiplyBeta, PixelShuffle4x):
        LAYER_CLASSES.setdefault(cls.class_name, cls)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        subprocess.run(
            ["node", str(ROOT / "tools" / "published" / "goldens.js"), str(out), str(PACKAGES), *args.ids],
            check=True,
            cwd=ROOT,
        )
        ids = json.loads((out / "index.json").read_text())["models"]
        print(f"{'model':28s} {'layers':>6s} {'TF.js ms':>9s} {'pyweb ms':>9s} {'ratio':>6s} {'max ulp':>7s}")
        for model_id in ids:
            folder = out / model_id
            url = f"file://{folder / 'model'}"
            load_layers_model(url)
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                model = load_layers_model(url)
                times.append((time.perf_counter() - start) * 1000)
            timing = json.loads((folder / "timing.json").read_text())
            io = json.loads((folder / "io.json").read_text())
            worst = int(ulps(model.predict(_array(io["input"])), _array(io["output"])).max())
            tfjs, ours = min(timing["load_ms"]), min(times)
            print(
                f"{model_id:28s} {timing['layers']:6d} {tfjs:9.1f} {ours:9.1f} {ours / tfjs:6.2f} {worst:7d}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
