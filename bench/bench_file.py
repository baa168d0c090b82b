"""Benchmark: pyweb ``file://`` against numpy ``.npy`` files and safetensors.

Not a test. Saves and loads N bytes of random float32 weights (default 1 GiB,
as 8 tensors) with each method and prints a table. Every save and every load
runs in a fresh subprocess, so the peak RSS (``ru_maxrss``) is that method's
alone; it includes the interpreter and numpy (the "baseline" column).

What is measured:

- pyweb: save = ``encode_weights(join=False)`` (views onto the arrays, no copy) +
  ``pyweb.save(..., "file://DIR")``; load =
  ``pyweb.load`` + ``decode_weights`` (zero-copy views onto the loaded buffer).
- numpy: one ``.npy`` per tensor, ``np.save`` / ``np.load`` (no mmap).
- safetensors: ``safetensors.numpy.save_file`` / ``load_file``.
- Every save includes an fsync of the files written and of their folder and its
  parent (pyweb always fsyncs all three), so save times compare durable writes.
- Every load reads warm files: the parent reads each method's files once
  before timing, so all loads are served from the page cache alike. Each load
  then touches every array (a strided sum), so lazy views count.
- Each save and each load is repeated (``--repeat``, fresh process each time,
  methods taken in turn so a slow spell of a shared machine hits all alike);
  the table shows median times, and the highest peak RSS: for a save, what it
  added over the process holding its arrays; for a load, the whole process.
- pyweb's save time includes ``encode_weights`` (shown apart as "encode").
- Targets: save <= 1.1x numpy (np.save + fsync) with <= 0.1x the
  weights added; load <= 1.0x np.load with peak RSS <= 1.1x the weights.

Usage::

    .venv/bin/python bench/bench_file.py            # 1 GiB
    .venv/bin/python bench/bench_file.py --mib 256 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import _summary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = ("pyweb", "numpy", "safetensors")
MiB = 1 << 20
_ENCODE: list[float] = []  # encode_weights time inside pyweb's save


# -- workers (run in a fresh process each) -------------------------------------------


def _arrays(mib: int, tensors: int) -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    per = mib * MiB // 4 // tensors
    return {f"layer{i}/kernel": rng.standard_normal(per, dtype=np.float32).reshape(-1, 256) for i in range(tensors)}


def _fsync_tree(path: str) -> None:
    # The files, then the folder and its parent, so the new entries are durable too
    # (pyweb's save fsyncs its folder and the parent after its rename: same durability).
    for dirpath, _, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    for folder in (path, os.path.dirname(path)):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _save(method: str, path: str, arrays: dict) -> None:
    import numpy as np

    if method == "pyweb":
        import pyweb

        start = time.perf_counter()
        data, specs = pyweb.encode_weights(arrays, join=False)
        _ENCODE.append(time.perf_counter() - start)
        pyweb.save(pyweb.ModelArtifacts(model_topology={}, weight_specs=specs, weight_data=data), f"file://{path}")
    elif method == "numpy":
        os.makedirs(path)
        for i, arr in enumerate(arrays.values()):
            np.save(os.path.join(path, f"{i}.npy"), arr)
        _fsync_tree(path)
    else:
        from safetensors.numpy import save_file

        os.makedirs(path)
        save_file(arrays, os.path.join(path, "model.safetensors"))
        _fsync_tree(path)


def _load(method: str, path: str) -> list:
    import numpy as np

    if method == "pyweb":
        import pyweb

        art = pyweb.load(f"file://{path}")
        arrays = list(pyweb.decode_weights(art.weight_data, art.weight_specs).values())
    elif method == "numpy":
        arrays = [np.load(os.path.join(path, f"{i}.npy")) for i in range(len(os.listdir(path)))]
    else:
        from safetensors.numpy import load_file

        arrays = list(load_file(os.path.join(path, "model.safetensors")).values())
    return arrays


def _touch(arrays: list) -> float:
    # One element per 4 KiB page, so every page of every array is really there.
    return float(sum(a.reshape(-1)[::1024].astype("float64").sum() for a in arrays))


def _rss_now_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker(args: argparse.Namespace) -> None:
    import numpy  # noqa: F401  (imported before the baseline, as every method needs it)

    if args.worker == "save":
        arrays = _arrays(args.mib, args.tensors)
        holding = _rss_now_mib()
        start = time.perf_counter()
        _save(args.method, args.path, arrays)
        seconds = time.perf_counter() - start
        added = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - holding
        result = {"seconds": seconds, "encode_seconds": _ENCODE[0] if _ENCODE else None, "added_mib": added}
    else:
        if args.method == "pyweb":
            import pyweb  # noqa: F401
        elif args.method == "safetensors":
            import safetensors.numpy  # noqa: F401
        baseline = _rss_now_mib()
        start = time.perf_counter()
        arrays = _load(args.method, args.path)
        checksum = _touch(arrays)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        result = {"seconds": seconds, "peak_mib": peak, "baseline_mib": baseline, "checksum": checksum}
    print(json.dumps(result))


# -- the driver ------------------------------------------------------------------


def _run_worker(kind: str, method: str, path: str, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        kind,
        "--method",
        method,
        "--path",
        path,
        "--mib",
        str(args.mib),
        "--tensors",
        str(args.tensors),
    ]
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} {method} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _warm(path: str) -> None:
    for dirpath, _, files in os.walk(path):
        for name in files:
            with open(os.path.join(dirpath, name), "rb", buffering=0) as f:
                while f.read(64 * MiB):
                    pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=1024, help="weight bytes in MiB (default: 1024)")
    parser.add_argument("--tensors", type=int, default=8, help="number of tensors (default: 8)")
    parser.add_argument("--repeat", type=int, default=5, help="loads per method (default: 5)")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset of " + ",".join(METHODS))
    parser.add_argument("--dir", default=None, help="scratch directory (default: a new temp dir, removed after)")
    parser.add_argument("--summary", metavar="PATH", help="also write the target rows as JSON (bench/run.py)")
    parser.add_argument("--worker", choices=["save", "load"], help=argparse.SUPPRESS)
    parser.add_argument("--method", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    methods = [m for m in args.methods.split(",") if m]
    scratch = tempfile.mkdtemp(prefix="pyweb-bench-", dir=args.dir)
    weights_mib = args.mib * MiB // 4 // args.tensors * 4 * args.tensors / MiB
    paths = {m: os.path.join(scratch, m) for m in methods}
    try:
        saves: dict[str, list[dict]] = {m: [] for m in methods}
        for _ in range(args.repeat):
            for m in methods:
                shutil.rmtree(paths[m], ignore_errors=True)
                saves[m].append(_run_worker("save", m, paths[m], args))
        for path in paths.values():
            _warm(path)
        # Round-robin, so a slow spell of the machine hits every method alike.
        loads: dict[str, list[dict]] = {m: [] for m in methods}
        for _ in range(args.repeat):
            for m in methods:
                loads[m].append(_run_worker("load", m, paths[m], args))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows = {
        m: {
            "save": _median([r["seconds"] for r in saves[m]]),
            "encode": None
            if saves[m][0]["encode_seconds"] is None
            else _median([r["encode_seconds"] for r in saves[m]]),
            "added": max(r["added_mib"] for r in saves[m]),
            "load": min(r["seconds"] for r in loads[m]),
            "median": _median([r["seconds"] for r in loads[m]]),
            "peak": max(r["peak_mib"] for r in loads[m]),
            "baseline": max(r["baseline_mib"] for r in loads[m]),
            "checksum": loads[m][0]["checksum"],
        }
        for m in methods
    }
    _report(rows, weights_mib, args)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _report(rows: dict, weights_mib: float, args: argparse.Namespace) -> None:
    import numpy

    checksums = {round(r["checksum"], 3) for r in rows.values()}
    print(
        f"weights: {weights_mib:.0f} MiB float32 in {args.tensors} tensors; {args.repeat} saves and loads each, "
        f"round-robin, fresh process each (median times, highest peak RSS); warm page cache; saves include fsync"
    )
    print(
        f"python {sys.version.split()[0]}, numpy {numpy.__version__}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.2f}; checksums {'agree' if len(checksums) == 1 else 'DIFFER: ' + str(checksums)}"
    )
    header = [
        "method",
        "save s",
        "(encode s)",
        "save vs numpy",
        "save added MiB",
        "load s",
        "(fastest)",
        "load vs numpy",
        "load vs safetensors",
        "peak RSS MiB",
        "(baseline)",
        "added/weights",
    ]
    table = [header]

    def vs(r: dict, other: str, key: str) -> str:
        return f"{r[key] / rows[other][key]:.2f}x" if other in rows else "-"

    for method, r in rows.items():
        table.append(
            [
                method,
                f"{r['save']:.2f}",
                "-" if r["encode"] is None else f"{r['encode']:.3f}",
                vs(r, "numpy", "save"),
                f"{r['added']:.0f}",
                f"{r['median']:.3f}",
                f"{r['load']:.3f}",
                vs(r, "numpy", "median"),
                vs(r, "safetensors", "median"),
                f"{r['peak']:.0f}",
                f"{r['baseline']:.0f}",
                f"{(r['peak'] - r['baseline']) / weights_mib:.3f}",
            ]
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    if "pyweb" in rows and "numpy" in rows:
        r, n = rows["pyweb"], rows["numpy"]
        checks = [
            ("save <= 1.1x numpy", r["save"] <= 1.1 * n["save"]),
            ("save adds <= 0.1x the weights", r["added"] <= 0.1 * weights_mib),
            ("load <= 1.0x numpy", r["median"] <= n["median"]),
            ("load adds <= 1.1x the weights", r["peak"] - r["baseline"] <= 1.1 * weights_mib),
        ]
        print("targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks))
        size = f"{weights_mib / 1024:g} GiB" if weights_mib >= 1024 else f"{weights_mib:.0f} MiB"
        _summary.write(
            args.summary,
            [
                _summary.row(
                    f"file:// save {size}, time vs np.save + fsync",
                    f"{r['save']:.2f} s",
                    f"{n['save']:.2f} s",
                    r["save"] / n["save"],
                    1.1,
                ),
                _summary.row(
                    f"file:// save {size}, peak RSS added vs the weights",
                    f"{r['added']:.0f} MiB",
                    f"{weights_mib:.0f} MiB",
                    r["added"] / weights_mib,
                    0.1,
                ),
                _summary.row(
                    f"file:// load {size} + touch, time vs np.load",
                    f"{r['median']:.3f} s",
                    f"{n['median']:.3f} s",
                    r["median"] / n["median"],
                    1.0,
                ),
                _summary.row(
                    f"file:// load {size}, peak RSS added vs the weights",
                    f"{r['peak'] - r['baseline']:.0f} MiB",
                    f"{weights_mib:.0f} MiB",
                    (r["peak"] - r["baseline"]) / weights_mib,
                    1.1,
                ),
            ],
        )


if __name__ == "__main__":
    main()
