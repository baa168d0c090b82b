"""Benchmark: pyweb ``s3://`` against s3fs's own ``pipe``/``cat`` of the same files.

Not a test. Starts moto's S3 server (``moto[server]``) on 127.0.0.1 in this
process, then saves and loads N bytes of random float32 weights (default
1 GiB) in shards of 64 MiB, each save and load in a fresh subprocess so its
peak RSS (``ru_maxrss``) is its own:

- pyweb: save = ``pyweb.save(artifacts, "s3://...", shard_bytes=64 MiB)`` of
  weights that are views onto the tensors' bytes (no copy); load =
  ``pyweb.load`` (shards streamed into one buffer) + ``decode_weights``.
- s3fs: save = ``fs.pipe({key: bytes})`` of the same shard bytes; load =
  ``fs.cat([keys])``. Both through s3fs's async core, s3fs batching as it
  does by default.

Every row shows the median time over ``--repeat`` runs (methods in turn, each
going first in every other run) and
the highest peak RSS, as a multiple of the weights and as what the process
held before the operation (interpreter, libraries, and for saves the weights).
Targets: time <= 1.1x s3fs; peak RSS <= 1.2x the weights.

Usage::

    .venv/bin/python bench/bench_object_store.py              # 1 GiB
    .venv/bin/python bench/bench_object_store.py --mib 256 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import _summary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MiB = 1 << 20
BUCKET = "pyweb-bench"
SHARD = 64 * MiB


# -- workers (each in a fresh process) ----------------------------------------------------


def _tensors(mib: int) -> list[bytes]:
    """Random float32 data, one ``bytes`` per 64 MiB shard (the last one shorter)."""
    import numpy as np

    rng = np.random.default_rng(0)
    total = mib * MiB
    return [
        rng.standard_normal(min(SHARD, total - off) // 4, dtype=np.float32).tobytes() for off in range(0, total, SHARD)
    ]


def _rss_mib() -> float:
    """This process's peak RSS since the last :func:`_reset_peak` (VmHWM; ru_maxrss survives exec)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:  # "5": reset the peak RSS to the current RSS
        f.write("5")


def _worker(method: str, op: str, mib: int, prefix: str) -> dict[str, float]:
    import fsspec
    import numpy as np

    import pyweb

    url = f"s3://{BUCKET}/{prefix}/{method}"
    if op == "save":
        tensors = _tensors(mib)
        arrays = {f"w{i}": np.frombuffer(t, np.float32) for i, t in enumerate(tensors)}
        _reset_peak()
        before = _rss_mib()
        start = time.perf_counter()
        if method == "pyweb":
            data, specs = pyweb.encode_weights(arrays, join=False)
            pyweb.save(
                pyweb.ModelArtifacts(model_topology={}, weight_specs=specs, weight_data=data), url, shard_bytes=SHARD
            )
        else:
            fs = fsspec.filesystem("s3", skip_instance_cache=True)
            fs.pipe({f"{url[5:]}/group1-shard{i + 1}of{len(tensors)}.bin": t for i, t in enumerate(tensors)})
    else:
        _reset_peak()
        before = _rss_mib()
        start = time.perf_counter()
        if method == "pyweb":
            got = pyweb.load(url)
            arrays = pyweb.decode_weights(got.weight_data, got.weight_specs)
            assert sum(a.nbytes for a in arrays.values()) == mib * MiB
        else:
            fs = fsspec.filesystem("s3", skip_instance_cache=True)
            blobs = fs.cat(sorted(fs.find(url[5:])))
            assert sum(len(b) for b in blobs.values()) == mib * MiB
    return {"seconds": time.perf_counter() - start, "before_mib": before, "peak_mib": _rss_mib()}


# -- the parent: server, runs, table -------------------------------------------------------


def _run(env: dict[str, str], method: str, op: str, mib: int, prefix: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", method, op, str(mib), prefix],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    row: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=1024, help="weight bytes, in MiB (default: 1024)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method and operation (default: 3)")
    parser.add_argument("--summary", metavar="PATH", help="also write the target rows as JSON (bench/run.py)")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        method, op, mib, prefix = args.worker
        print(json.dumps(_worker(method, op, int(mib), prefix)))
        return

    import logging

    import fsspec
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    aws = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    os.environ.update(aws)
    env = {**os.environ, "PYTHONPATH": ROOT}
    fsspec.filesystem("s3", skip_instance_cache=True).mkdir(BUCKET)
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    try:
        for run in range(args.repeat):
            for op in ("save", "load"):
                # Take turns going first, so neither always meets a fresh (or a busy) server.
                for method in ("pyweb", "s3fs") if run % 2 == 0 else ("s3fs", "pyweb"):
                    results.setdefault((method, op), []).append(_run(env, method, op, args.mib, f"r{run}"))
    finally:
        server.stop()
    _summary.write(args.summary, _table(results, args.mib))


def _table(results: dict[tuple[str, str], list[dict[str, float]]], mib: int) -> list[dict]:
    print(f"{mib} MiB of weights in {SHARD // MiB} MiB shards, moto S3 server on 127.0.0.1")
    summary: list[dict] = []
    print(f"{'':12}{'median s':>10}{'MiB/s':>8}{'vs s3fs':>9}{'peak RSS':>10}{'x weights':>10}{'before':>8}")
    for op in ("save", "load"):
        base = statistics.median(r["seconds"] for r in results[("s3fs", op)])
        for method in ("pyweb", "s3fs"):
            rows = results[(method, op)]
            secs = statistics.median(r["seconds"] for r in rows)
            peak = max(r["peak_mib"] for r in rows)
            before = max(r["before_mib"] for r in rows)
            print(
                f"{method + ' ' + op:12}{secs:10.2f}{mib / secs:8.0f}{secs / base:8.2f}x"
                f"{peak:9.0f}M{peak / mib:9.2f}x{before:7.0f}M"
            )
        ours = results[("pyweb", op)]
        secs = statistics.median(r["seconds"] for r in ours)
        peak = max(r["peak_mib"] for r in ours)
        what = f"s3:// (moto) {op} " + (f"{mib / 1024:g} GiB" if mib >= 1024 else f"{mib} MiB")
        summary.append(_summary.row(f"{what}, time vs s3fs", f"{secs:.2f} s", f"{base:.2f} s", secs / base, 1.1))
        summary.append(
            _summary.row(f"{what}, peak RSS vs the weights", f"{peak:.0f} MiB", f"{mib} MiB", peak / mib, 1.2)
        )
    return summary


if __name__ == "__main__":
    main()
