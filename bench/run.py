"""Run every benchmark of one side in one command and end with one summary table.

Not a test. ``cpython`` (``make bench``) runs, one after the other:

- bench_file.py: ``file://`` save/load of 1 GiB against ``np.save`` + fsync / ``np.load``
- bench_http.py: ``http://`` 64 MiB in 16 shards, sync and async, against urllib on 16
  threads and httpx async; again on python3.12 and python3.13 when they are on PATH or in pyenv (their
  workers run in venvs this makes under .assets/bench-venvs, with numpy and httpx)
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
import shutil
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


# The http:// rows are also measured on these CPythons when they are on PATH or in pyenv (the targets
# name 3.11, 3.12 and 3.13); their workers run in venvs made here with numpy and httpx.
OTHER_PYTHONS = ("python3.12", "python3.13")
BENCH_VENVS = HERE.parent / ".assets" / "bench-venvs"


def other_python(name: str) -> str | None:
    """A venv python of ``name`` with numpy and httpx (made on first use), or None if ``name`` is missing."""
    # On PATH, else in pyenv's versions (whose shim fails for a version that is not selected).
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(name), *sorted(map(str, pyenv.glob(f"versions/{name[6:]}.*/bin/{name}")))]
    for found in filter(None, candidates):
        version = subprocess.run(
            [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if version:
            break
    else:
        return None
    if not version or version == f"{sys.version_info[0]}.{sys.version_info[1]}":
        return None
    venv = BENCH_VENVS / version
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        print(f"making {venv} (numpy, httpx) for the http rows on CPython {version}", flush=True)
        subprocess.run([found, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "numpy", "httpx"], check=True)
        (venv / ".installed").touch()
    return str(python)


def with_other_pythons(steps: list[list[str]]) -> tuple[list[list[str]], list[str]]:
    """``steps`` with the http step repeated for each other CPython found; and the ones not found."""
    out, missing = [], []
    for step in steps:
        out.append(step)
        if step[0] == "bench_http.py":
            for name in OTHER_PYTHONS:
                python = other_python(name)
                if python is None:
                    missing.append(name)
                else:
                    out.append([*step, "--python", python])
    return out, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("side", choices=sorted(STEPS))
    parser.add_argument("--only", help="comma list of script names to run (default: all of the side's)")
    args = parser.parse_args(argv)
    only = None if args.only is None else {s.strip() for s in args.only.split(",") if s.strip()}
    steps, missing = with_other_pythons([step for step in STEPS[args.side] if only is None or step[0] in only])

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
    if missing:
        print("not found (PATH, pyenv), so not measured: " + ", ".join(missing))
    if failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
