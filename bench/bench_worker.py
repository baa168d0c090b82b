"""Benchmark: localStorage from pyweb in a Web Worker (through its page helper) vs pyweb on the page.

Not a test. In each browser, two pages on one static server: the harness test
page (Pyodide on the page's main thread) and demo/worker/ (Pyodide in a plain
dedicated worker whose page called ``pywebPage.attach(worker)``, the same bridge
a JupyterLite kernel uses). Both run the same Python: ``pyweb.save`` then
``pyweb.load`` of a model whose weights are ``--mib`` MiB of random bytes
(default 3.7, about what fits in localStorage), timed with ``time.perf_counter``
inside Pyodide, storage wiped before each save. The two take turns; each number
is the median of ``--runs`` runs (default 7) after one warm-up.

Target: the worker's save + load within 3x the page's.

Usage::

    .venv/bin/python bench/bench_worker.py                  # or: make bench-worker
    .venv/bin/python bench/bench_worker.py --browsers chromium --runs 15 --mib 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from urllib.parse import quote

from _pages import serving

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 3.0
TIMED = """
import os, time, json, pyweb
from pyweb import ModelArtifacts
data = os.urandom(int(mib * (1 << 20)) // 4 * 4)
art = ModelArtifacts(model_topology={"class_name": "Sequential", "config": {"layers": []}},
                     weight_specs=[{"name": "w", "shape": [len(data) // 4], "dtype": "float32"}], weight_data=data)
times = []
for run in range(runs + 1):
    pyweb.remove_model("localstorage://bench") if "localstorage://bench" in pyweb.list_models("localstorage://") else None
    t0 = time.perf_counter()
    pyweb.save(art, "localstorage://bench")
    t1 = time.perf_counter()
    back = pyweb.load("localstorage://bench")
    t2 = time.perf_counter()
    assert bytes(back.weight_data) == data
    if run:  # the first is a warm-up
        times.append([t1 - t0, t2 - t1])
pyweb.remove_model("localstorage://bench")
json.dumps(times)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--browsers", default="chromium,firefox")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--mib", type=float, default=3.7)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from pyweb.browser._sources import page_js
    from pyweb.testing import PyodidePage, StaticServer, Target, build_bundle

    code = f"mib = {args.mib}\nruns = {args.runs}\n{TIMED}"
    rows = []
    with serving() as (server, config), sync_playwright() as pw:
        build = config.builds["0.27.7"]
        bundle = build_bundle(ROOT / "pyweb", test_packages=False)
        files = {"/pyweb-page.js": page_js().encode(), "/bundle.zip": bundle}
        with StaticServer({"/app/": ROOT / "demo" / "worker", "/pyodide/": build.path}, files) as app:
            for name in args.browsers.split(","):
                spec = config.browsers[name]
                browser = getattr(pw, spec.engine).launch(**spec.launch)
                try:
                    page = PyodidePage.open(
                        browser, Target(spec, build), server.origin, {**config.timeouts, "run": 600}
                    )
                    page.timeout = 600
                    worker = browser.new_context(**spec.context).new_page()
                    query = f"pyodide={quote(app.origin + '/pyodide/', safe='')}&bundle={quote(app.origin + '/bundle.zip', safe='')}"
                    worker.goto(f"{app.origin}/app/index.html?{query}")
                    in_page = json.loads(page.run(code))
                    in_worker = json.loads(worker.evaluate("(code) => window.runInWorker(code)", code))
                    rows.append((name, _median(in_page), _median(in_worker)))
                finally:
                    browser.close()
    print(f"localStorage save + load of {args.mib} MiB of weights, median of {args.runs} runs (ms)")
    print(f"{'browser':<10}{'page save':>11}{'page load':>11}{'worker save':>13}{'worker load':>13}{'worker/page':>13}")
    worst = 0.0
    for name, (ps, pl), (ws, wl) in rows:
        ratio = (ws + wl) / (ps + pl)
        worst = max(worst, ratio)
        print(f"{name:<10}{ps * 1e3:>11.1f}{pl * 1e3:>11.1f}{ws * 1e3:>13.1f}{wl * 1e3:>13.1f}{ratio:>12.2f}x")
    print(f"target: worker <= {TARGET}x page: {'met' if worst <= TARGET else 'MISSED'}")
    return 0 if worst <= TARGET else 1


def _median(times: list[list[float]]) -> tuple[float, float]:
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


if __name__ == "__main__":
    raise SystemExit(main())
