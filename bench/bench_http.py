"""Benchmark: ``http://`` loads in CPython against urllib with threads and httpx async.

Not a test. A loopback server (a thread of this process, ``ThreadingHTTPServer``
serving a temporary folder) holds one model: model.json and N MiB of float32
weights in S shards (default 64 MiB in 16). Each method fetches model.json and
every shard, in a fresh process each time (so peak RSS is that method's alone),
methods taken in turn, ``--repeat`` times:

- ``pyweb sync``: ``pyweb.load(url)``
- ``pyweb async``: ``asyncio.run(pyweb.aload(url))``
- ``urllib x16``: ``urllib.request.urlopen`` of each shard on 16 threads
- ``httpx async``: one ``httpx.AsyncClient``, every shard at once (needs httpx, a dev extra)

Every method ends with the weights in memory (a list of buffers); RSS is what the
load added over the process before it. Each worker imports numpy (which decodes the
weights, whatever fetched them) and its client before the clock starts. Targets: pyweb <= 1.5x urllib x16
and <= 1.0x httpx async, sync and async; memory added <= 1.3x the weights.

Usage::

    .venv/bin/python bench/bench_http.py                 # 64 MiB in 16 shards, 7 rounds
    .venv/bin/python bench/bench_http.py --mib 256 --shards 64 --repeat 5
    .venv/bin/python bench/bench_http.py --python /path/to/python3.13   # workers on another CPython
                                                                      # (with numpy and httpx installed)
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import _summary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = ("pyweb sync", "pyweb async", "urllib x16", "httpx async")
MiB = 1 << 20


# -- workers (run in a fresh process each) -------------------------------------------


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _shard_urls(base: str) -> list[str]:
    import urllib.request

    with urllib.request.urlopen(f"{base}/model.json") as r:
        doc = json.loads(r.read())
    return [f"{base}/{p}" for group in doc["weightsManifest"] for p in group["paths"]]


def _fetch(method: str, base: str) -> int:
    if method.startswith("pyweb"):
        import asyncio

        import pyweb

        url = f"{base}/model.json"
        art = pyweb.load(url) if method == "pyweb sync" else asyncio.run(pyweb.aload(url))
        return (
            memoryview(art.weight_data).nbytes
            if not isinstance(art.weight_data, list)
            else sum(memoryview(b).nbytes for b in art.weight_data)
        )
    if method == "urllib x16":
        import urllib.request
        from concurrent.futures import ThreadPoolExecutor

        def get(url: str) -> bytes:
            with urllib.request.urlopen(url) as r:
                return r.read()

        urls = _shard_urls(base)
        with ThreadPoolExecutor(16) as pool:
            return sum(len(b) for b in pool.map(get, urls))
    import asyncio

    import httpx

    async def run() -> int:
        async with httpx.AsyncClient() as client:
            doc = (await client.get(f"{base}/model.json")).json()
            urls = [f"{base}/{p}" for group in doc["weightsManifest"] for p in group["paths"]]
            bodies = await asyncio.gather(*(client.get(u) for u in urls))
            return sum(len(r.content) for r in bodies)

    return asyncio.run(run())


def worker(method: str, base: str) -> None:
    import numpy  # noqa: F401  (every method's weights end up decoded by numpy: imported before the clock)

    if method.startswith("pyweb"):
        import pyweb  # noqa: F401  (imports before the baseline, for every method)
    elif method == "httpx async":
        import httpx  # noqa: F401
    import urllib.request  # noqa: F401

    before = _rss_mib()
    start = time.perf_counter()
    nbytes = _fetch(method, base)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "added_mib": peak - before, "bytes": nbytes}))


# -- the driver ------------------------------------------------------------------


def _make_model(folder: str, mib: int, shards: int) -> int:
    import numpy as np

    import pyweb

    per = mib * MiB // 4 // shards
    arrays = {f"w{i}": np.random.default_rng(i).standard_normal(per, dtype=np.float32) for i in range(shards)}
    data, specs = pyweb.encode_weights(arrays, join=False)
    art = pyweb.ModelArtifacts(model_topology={}, weight_specs=specs, weight_data=data)
    pyweb.save(art, f"file://{folder}", shard_bytes=per * 4)
    return per * 4 * shards


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    request_queue_size = 64  # 16 connections at once must not meet a full listen backlog (SYN retry: 1 s)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--python", default=sys.executable, help="the interpreter the workers run on")
    parser.add_argument("--summary", metavar="PATH", help="also write the target rows as JSON (bench/run.py)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.base)

    methods = [m for m in args.methods.split(",") if m]
    scratch = tempfile.mkdtemp(prefix="pyweb-bench-http-")
    total = _make_model(os.path.join(scratch, "m"), args.mib, args.shards)
    server = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=scratch))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/m"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for key in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(key, None)
    runs: dict[str, list[dict]] = {m: [] for m in methods}
    try:
        for _ in range(args.repeat):
            for m in methods:
                cmd = [args.python, os.path.abspath(__file__), "--worker", m, "--base", base]
                done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
                if done.returncode != 0:
                    raise SystemExit(f"{m} failed:\n{done.stderr}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                if result["bytes"] != total:
                    raise SystemExit(f"{m} fetched {result['bytes']} bytes, not {total}")
                runs[m].append(result)
    finally:
        server.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
    _report(runs, total / MiB, args)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _report(runs: dict[str, list[dict]], weights_mib: float, args: argparse.Namespace) -> None:
    print(
        f"weights: {weights_mib:.0f} MiB in {args.shards} shards from a loopback ThreadingHTTPServer; "
        f"{args.repeat} rounds, methods in turn, fresh process each (median time, highest memory added)"
    )
    version = subprocess.run(
        [args.python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"python {version}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    rows = {m: (_median([r["seconds"] for r in rs]), max(r["added_mib"] for r in rs)) for m, rs in runs.items()}
    header = ["method", "ms", "vs urllib x16", "vs httpx async", "added MiB", "added/weights"]
    table = [header]
    for m, (sec, added) in rows.items():
        table.append(
            [
                m,
                f"{sec * 1000:.0f}",
                f"{sec / rows['urllib x16'][0]:.2f}x" if "urllib x16" in rows else "-",
                f"{sec / rows['httpx async'][0]:.2f}x" if "httpx async" in rows else "-",
                f"{added:.0f}",
                f"{added / weights_mib:.2f}",
            ]
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    checks = []
    summary = []
    what = f"http:// {weights_mib:.0f} MiB in {args.shards} shards, CPython {version}"
    for m in ("pyweb sync", "pyweb async"):
        if m not in rows:
            continue
        sec, added = rows[m]
        for peer, limit in (("urllib x16", 1.5), ("httpx async", 1.0)):
            if peer in rows:
                checks.append((f"{m} <= {limit}x {peer}", sec <= limit * rows[peer][0]))
                summary.append(
                    _summary.row(
                        f"{what}: {m[6:]} vs {peer}",
                        f"{sec * 1000:.0f} ms",
                        f"{rows[peer][0] * 1000:.0f} ms",
                        sec / rows[peer][0],
                        limit,
                    )
                )
        checks.append((f"{m} adds <= 1.3x the weights", added <= 1.3 * weights_mib))
        summary.append(
            _summary.row(
                f"{what}: {m[6:]}, memory added vs the weights",
                f"{added:.0f} MiB",
                f"{weights_mib:.0f} MiB",
                added / weights_mib,
                1.3,
            )
        )
    print("targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks))
    _summary.write(args.summary, summary)


if __name__ == "__main__":
    main()
