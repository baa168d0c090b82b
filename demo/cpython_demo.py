"""End-to-end demo of pyweb in CPython (what `make demo-cpython` runs).

Fits a tiny classifier in numpy, wraps it as a TF.js Layers model, then saves
and loads it through every CPython scheme: memory://, file:// (plain and
sharded, plus quantized), and http:// against a real `pyweb serve` process.
Each step checks the weights came back identical and prints one report line.
When Node and the npm test assets are installed, TF.js itself loads the model
from the server as a final check. Exit status is non-zero if any step failed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import pyweb
from pyweb.demo import PAGE_DIR

sys.path.insert(0, str(PAGE_DIR))  # the demo page's toy model, shared with its app.py
from toy_model import as_artifacts, fit_classifier, predict

ROOT = Path(__file__).resolve().parent.parent
results: list[tuple[str, str, int, str]] = []


def report(scheme: str, action: str, nbytes: int, outcome: str) -> None:
    results.append((scheme, action, nbytes, outcome))
    print(f"{scheme:<10} {action:<52} {nbytes:>9,} B  {outcome}", flush=True)


def same_weights(got: pyweb.ModelArtifacts, want: dict[str, np.ndarray], atol: float = 0.0) -> bool:
    decoded = pyweb.decode_weights(got.weight_data, got.weight_specs)
    return list(decoded) == list(want) and all(
        np.allclose(decoded[k], want[k], rtol=0, atol=atol) if atol else np.array_equal(decoded[k], want[k])
        for k in want
    )


def step(scheme: str, action: str, fn: Callable[[], tuple[Any, int, bool]]) -> Any:
    try:
        value, nbytes, ok = fn()
    except Exception as exc:  # noqa: BLE001 - the report names every failure, then the demo exits 1
        report(scheme, action, 0, f"FAILED: {type(exc).__name__}: {exc}")
        return None
    report(scheme, action, nbytes, "ok" if ok else "FAILED: weights differ")
    return value


def round_trip(
    url: str,
    artifacts: pyweb.ModelArtifacts,
    weights: dict[str, np.ndarray],
    load_url: str | None = None,
    atol: float = 0.0,
    **options: Any,
) -> tuple[pyweb.ModelArtifacts, int, bool]:
    info = pyweb.save(artifacts, url, **options).model_artifacts_info
    got = pyweb.load(load_url or url)
    return got, info.weight_data_bytes or 0, same_weights(got, weights, atol)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(root: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyweb", "serve", str(root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"pyweb serve did not start: {line!r}")
    return proc, match.group()


def tfjs_check(model_url: str, weights: dict[str, np.ndarray]) -> None:
    script = ROOT / "tools" / "tfjs" / "load_check.js"
    if not (shutil.which("node") and (ROOT / "node_modules" / "@tensorflow" / "tfjs").is_dir()):
        print("(TF.js check skipped: run `make setup` to install Node assets)")
        return

    def run() -> tuple[Any, int, bool]:
        out = subprocess.run(["node", str(script), model_url], capture_output=True, text=True, timeout=120, check=True)
        seen = json.loads(out.stdout)
        import base64

        ok = all(
            np.array_equal(np.frombuffer(base64.b64decode(w["values_b64"]), "<f4"), weights[w["name"]].ravel())
            for w in seen["weights"]
        ) and len(seen["weights"]) == len(weights)
        return seen, sum(v.nbytes for v in weights.values()), ok and seen.get("model_loaded", False)

    seen = step("tfjs", "TF.js 4.22 (Node) loads it over http, same weights", run)
    if seen and seen.get("predict"):
        tfjs_out = np.array(seen["predict"]["output"], np.float32)
        step(
            "tfjs",
            "TF.js predict(ones) == numpy forward pass",
            lambda: (
                None,
                0,
                np.allclose(tfjs_out, predict(weights, np.ones((1, 2), np.float32)), rtol=1e-5, atol=1e-6),
            ),
        )
        print(f"           TF.js predict on ones: {[round(float(v), 4) for v in tfjs_out[0]]}")


def main() -> int:
    weights, accuracy = fit_classifier()
    print(f"fitted a 2-16-3 classifier on 180 points: training accuracy {accuracy:.1%}")
    artifacts = as_artifacts(weights)
    work = Path(tempfile.mkdtemp(prefix="pyweb-demo-"))
    try:
        step("memory", "save + load memory://demo", lambda: round_trip("memory://demo", artifacts, weights))
        step("file", f"save + load file://{work}/plain", lambda: round_trip(f"file://{work}/plain", artifacts, weights))
        step(
            "file",
            "sharded save (shard_bytes=128) + load",
            lambda: round_trip(f"file://{work}/sharded", artifacts, weights, shard_bytes=128),
        )
        files = sorted(p.name for p in (work / "sharded").iterdir())
        print(f"           files: {', '.join(files)}")
        step(
            "file",
            "uint8-quantized save + load (error <= scale/2)",
            lambda: round_trip(f"file://{work}/q8", artifacts, weights, atol=0.02, quantize="uint8"),
        )
        step(
            "file",
            "integrity (sha256) save + load",
            lambda: round_trip(f"file://{work}/sha", artifacts, weights, integrity=True),
        )
        (work / "served").mkdir()
        proc, base = start_server(work / "served")
        try:
            print(f"           pyweb serve {work / 'served'} -> {base}")
            step(
                "http",
                "multipart POST /upload/demo, GET model.json",
                lambda: round_trip(
                    f"{base}/upload/demo", artifacts, weights, load_url=f"{base}/models/demo/model.json"
                ),
            )
            tfjs_check(f"{base}/models/demo/model.json", weights)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        step(
            "memory",
            "copy memory://demo -> file, move file -> memory://moved",
            lambda: (
                pyweb.copy_model("memory://demo", f"file://{work}/copied"),
                pyweb.move_model(f"file://{work}/copied", "memory://moved").weight_data_bytes or 0,
                same_weights(pyweb.load("memory://moved"), weights) and not (work / "copied").exists(),
            ),
        )
        listing = pyweb.list_models()
        print(
            "           list_models(): "
            + ", ".join(f"{url} ({info.weight_data_bytes} B)" for url, info in listing.items())
        )
        step(
            "memory",
            "remove memory://moved",
            lambda: (pyweb.remove_model("memory://moved"), 0, "memory://moved" not in pyweb.list_models()),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    failed = [r for r in results if r[3] != "ok"]
    print(f"\n{len(results) - len(failed)} of {len(results)} steps ok" + (f"; {len(failed)} FAILED" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
