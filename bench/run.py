"""Run every benchmark of one side in one command and end with one summary table.

Not a test. ``cpython`` (``make bench``) runs, one after the other:

- bench_file.py: ``file://`` save/load of 1 GiB against ``np.save`` + fsync / ``np.load``
- bench_http.py: ``http://`` 64 MiB in 16 shards, sync and async, against urllib on 16
  threads and httpx async
- bench_published.py: ``load_layers_model`` of InceptionV3 (318 layers) from ``file://``
  against ``tf.loadLayersModel`` under Node
- bench_object_store.py: ``s3://`` (moto's server) save/load against s3fs

``browser`` (``make bench-browser``) runs bench_browser.py (localStorage and IndexedDB
1/16/64 MiB against TF.js and the raw API, Chromium and Firefox, with pyweb's IndexedDB 1 MiB
profiled: where each millisecond goes) and bench_layers.py's load (the MLP from IndexedDB
against ``tf.loadLayersModel``, both browsers; predict stays in ``make bench-layers``).

Each script prints its own tables as it goes (and can be run alone with its own flags);
this runner then prints every target row in one table (row, pyweb, peer, ratio, target,
met/MISSED), with the load average at the start and at the end. README's benchmark tables are
that table. With the repeat counts below, ``cpython`` took 12 minutes and ``browser`` 11 on
a 2-core machine at load average 8-16; a quiet machine takes less.

Usage::

    .venv/bin/python bench/run.py cpython        # or: make bench
    .venv/bin/python bench/run.py browser        # or: make bench-browser
    .venv/bin/python bench/run.py cpython --only bench_http.py,bench_file.py
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _summary

HERE = Path(__file__).resolve().parent

STEPS = {
    "cpython": [
        ["bench_file.py", "--repeat", "5"],
        ["bench_http.py", "--repeat", "7"],
        ["bench_published.py", "--runs", "7", "nsfwjs-inception-v3"],
        ["bench_object_store.py", "--repeat", "3"],
    ],
    "browser": [
        ["bench_browser.py", "--runs", "15", "--profile", "--profile-mib", "1"],
        ["bench_layers.py", "--parts", "load", "--runs", "9"],
    ],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("side", choices=sorted(STEPS))
    parser.add_argument("--only", help="comma list of script names to run (default: all of the side's)")
    args = parser.parse_args(argv)
    only = None if args.only is None else {s.strip() for s in args.only.split(",") if s.strip()}
    steps = [step for step in STEPS[args.side] if only is None or step[0] in only]

    started = datetime.datetime.now(datetime.UTC)
    load_start = _summary.load_average()
    print(f"{started:%Y-%m-%d %H:%M} UTC, load average at start {load_start}", flush=True)
    rows: list[dict] = []
    failed = []
    spent = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (script, *flags) in enumerate(steps):
            out = Path(tmp) / f"{i}.json"
            cmd = [sys.executable, str(HERE / script), *flags, "--summary", str(out)]
            print(f"\n== {' '.join([Path(cmd[1]).relative_to(HERE.parent).as_posix(), *cmd[2:-2]])}", flush=True)
            t0 = time.perf_counter()
            code = subprocess.run(cmd, check=False, cwd=HERE.parent).returncode
            spent.append(f"{script} {time.perf_counter() - t0:.0f} s")
            if code != 0 or not out.exists():
                failed.append(f"{script} (exit {code})")
                continue
            rows.extend(json.loads(out.read_text()))

    load_end = _summary.load_average()
    print(f"\n== summary: {'make bench' if args.side == 'cpython' else 'make bench-browser'}, {started:%Y-%m-%d}")
    print(f"load average at start {load_start}; at end {load_end}")
    print(f"python {sys.version.split()[0]}; time: {', '.join(spent)}\n")
    for line in _summary.table(rows):
        print(line)
    missed = [r["row"] for r in rows if r["met"] is False]
    print(f"\n{sum(r['met'] is True for r in rows)} targets met, {len(missed)} MISSED" + (":" if missed else ""))
    for name in missed:
        print(f"  {name}")
    if failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
