"""Benchmark: pyweb against TF.js 4.22 and the raw browser API, on localStorage and IndexedDB.

Not a test. One page per browser (Chromium, Firefox), each running Pyodide
0.27.7 with pyweb from this checkout and TF.js's ``tf.min.js`` in the same
page. For each size, the same random bytes (random, because Chromium
compresses IndexedDB values) are saved and loaded back three ways:

- pyweb: ``pyweb.save``/``pyweb.load`` (localStorage, sync) or ``await
  pyweb.asave``/``aload`` (IndexedDB), timed in Python inside the page. The
  bytes start and end as Python ``bytes``; an IndexedDB save returns only
  after its transaction has committed.
- TF.js: the handlers its router hands out, ``tf.io.getSaveHandlers(url)[0]
  .save(artifacts)`` and ``tf.io.getLoadHandlers(url)[0].load()``, given the
  same artifacts (topology, specs, the bytes as one ArrayBuffer); timed in JS.
  (TF.js's IndexedDB save resolves when its put succeeds, before the commit;
  the load's transaction then waits for that commit, so save+load compares.)
- raw: JS only. localStorage: ``setItem(key, bytes.toBase64())`` and
  ``Uint8Array.fromBase64(getItem(key))``. IndexedDB: open, one ``put`` of
  ``{modelPath, weightData}`` awaiting ``oncomplete``, close; open, one
  ``get`` awaiting ``oncomplete``, close.

Each number is the median of ``--runs`` runs (default 7) after one warm-up;
the three contenders take turns within a run, and storage is wiped before
every save (so every IndexedDB save creates the database, and pyweb's kept
connection, closed by the wipe, serves only the load). With ``--keep-db`` the
database stays between saves: each save overwrites the model, TF.js and raw
open the existing database per operation, and pyweb's connection stays open
from one run to the next, as in a page that saves again and again. Loaded
bytes are checked against the saved ones outside the timings. Targets:
localStorage save+load <= 0.5x TF.js;
IndexedDB <= 1.1x TF.js and <= 1.3x raw, and from 16 MiB up <= 1.05x TF.js.

Usage::

    .venv/bin/python bench/bench_browser.py                 # or: make bench-browser
    .venv/bin/python bench/bench_browser.py --browsers chromium --runs 7 --idb-mib 1,16
    .venv/bin/python bench/bench_browser.py --profile       # where pyweb's time goes
    .venv/bin/python bench/bench_browser.py --profile --profile-mib 1   # ... at 1 MiB only
    .venv/bin/python bench/bench_browser.py --keep-db       # also IndexedDB without a wipe between saves
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _summary
from _pages import serving, tfjs_page

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MiB = 1 << 20
BUILD = "0.27.7"  # the default Pyodide build (--build picks another from playwright.config.py)
TARGETS = {"localstorage": {"tfjs": 0.5}, "indexeddb": {"tfjs": 1.1, "raw": 1.3}}
LARGE_MIB, LARGE_TARGETS = 16, {"indexeddb": {"tfjs": 1.05, "raw": 1.3}}  # big models stay close


def targets(store: str, mib: float) -> dict[str, float]:
    """The ratios pyweb must stay within for ``store`` at ``mib``: {"tfjs"|"raw": limit}."""
    return LARGE_TARGETS.get(store, TARGETS[store]) if mib >= LARGE_MIB else TARGETS[store]


PROFILE_RUNS = 7  # --profile: medians of this many save+load runs per size

# A one-tensor model: the topology is small, the weights are the payload.
TOPOLOGY = {
    "class_name": "Sequential",
    "config": {"name": "bench", "layers": []},
    "keras_version": "tfjs-layers 4.22.0",
    "backend": "tensor_flow.js",
}
GENERATED_BY = "TensorFlow.js tfjs-layers v4.22.0"

# JS installed once per page: random bytes, the TF.js and raw contenders.
BENCH_JS = """([topology, generatedBy]) => {
  const same = (a, b) => {
    if (a.byteLength !== b.byteLength) return false;
    const n = a.byteLength >> 2;
    const x = new Uint32Array(a.buffer, a.byteOffset, n), y = new Uint32Array(b.buffer, b.byteOffset, n);
    for (let i = 0; i < n; i++) if (x[i] !== y[i]) return false;
    for (let i = n << 2; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
    return true;
  };
  const check = (buffer) => {
    if (!same(new Uint8Array(buffer), globalThis.benchBytes)) throw new Error('loaded bytes differ from saved');
  };
  const settle = (req) => new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(String(req.error)));
  });
  const committed = (tx) => new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(new Error('aborted: ' + tx.error));
  });
  const openRaw = () => {
    const req = indexedDB.open('raw-bench', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('models', {keyPath: 'modelPath'});
    return settle(req);
  };
  globalThis.bench = {
    fill(n) {
      const u = new Uint8Array(n);
      for (let i = 0; i < n; i += 65536) crypto.getRandomValues(u.subarray(i, Math.min(n, i + 65536)));
      globalThis.benchBytes = u;
      return n;
    },
    specs: (n) => [{name: 'bench/kernel', shape: [n / 4], dtype: 'float32'}],
    async tfjs(url) {
      const u = globalThis.benchBytes;
      const artifacts = {modelTopology: topology, format: 'layers-model', generatedBy, convertedBy: null,
                         weightSpecs: this.specs(u.byteLength), weightData: u.buffer};
      const t0 = performance.now();
      await tf.io.getSaveHandlers(url)[0].save(artifacts);
      const t1 = performance.now();
      const got = await tf.io.getLoadHandlers(url)[0].load();
      const t2 = performance.now();
      check(got.weightData);
      return [t1 - t0, t2 - t1];
    },
    rawLocalStorage() {
      const u = globalThis.benchBytes, key = 'raw/weight_data';
      const t0 = performance.now();
      localStorage.setItem(key, u.toBase64());
      const t1 = performance.now();
      const back = Uint8Array.fromBase64(localStorage.getItem(key));
      const t2 = performance.now();
      check(back.buffer);
      return [t1 - t0, t2 - t1];
    },
    async rawIndexedDB() {
      const u = globalThis.benchBytes;
      const t0 = performance.now();
      let db = await openRaw();
      let tx = db.transaction('models', 'readwrite');
      tx.objectStore('models').put({modelPath: 'raw', weightData: u.buffer});
      await committed(tx);
      db.close();
      const t1 = performance.now();
      db = await openRaw();
      tx = db.transaction('models');
      const req = tx.objectStore('models').get('raw');
      await committed(tx);
      const back = req.result.weightData;
      db.close();
      const t2 = performance.now();
      check(back);
      return [t1 - t0, t2 - t1];
    },
  };
  return [typeof Uint8Array.prototype.toBase64, typeof Uint8Array.fromBase64];
}"""

# Python run in the page for pyweb's turn; returns [save ms, load ms].
PYWEB_LOCALSTORAGE = """
import js, time, pyweb
data = js.benchBytes.to_bytes()
art = pyweb.ModelArtifacts(model_topology=topology, weight_specs=js.bench.specs(len(data)).to_py(),
                           weight_data=data, format="layers-model", generated_by=generated_by, converted_by=None)
t0 = time.perf_counter()
pyweb.save(art, url)
t1 = time.perf_counter()
got = pyweb.load(url)
t2 = time.perf_counter()
assert got.weight_data == data, "loaded bytes differ from the saved ones"
[(t1 - t0) * 1000, (t2 - t1) * 1000]
"""

PYWEB_INDEXEDDB = PYWEB_LOCALSTORAGE.replace("pyweb.save(art, url)", "await pyweb.asave(art, url)").replace(
    "got = pyweb.load(url)", "got = await pyweb.aload(url)"
)

# --profile: wraps pyweb's internals (without changing them) and sums the time
# spent in each while one save+load runs. Keys are "module.function". For the
# whole IndexedDB operations it also times, in JS, each helper's Promise from
# the call until it settles, and then how long Python took to resume after it.
PROFILE = """
import functools, inspect, js, time, pyweb
from pyodide.code import run_js
from pyweb.browser import idb, storage, ffi, _records
from pyweb.handlers import local_storage as ls, indexed_db as ib
from pyweb import artifacts as arts

spent = {}

def timed(owner, name, label=None):
    real = getattr(owner, name)
    label = label or f"{getattr(owner, '__name__', owner)}.{name}"
    if inspect.iscoroutinefunction(real):
        @functools.wraps(real)
        async def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return await real(*a, **k)
            finally:
                spent[label] = spent.get(label, 0) + (time.perf_counter() - t0) * 1000
    else:
        @functools.wraps(real)
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return real(*a, **k)
            finally:
                spent[label] = spent.get(label, 0) + (time.perf_counter() - t0) * 1000
    setattr(owner, name, wrapper)
    return real

# The JS helpers of the whole operations, timed in JS: [{helper: [called, settled]}, undo].
js_timed = run_js(\"\"\"(h) => {
  const t = {}, real = {};
  for (const name of ['saveRecords', 'getRecord']) {
    real[name] = h[name];
    h[name] = (...args) => {
      const t0 = performance.now(), out = real[name](...args);
      (name === 'saveRecords' ? out[0] : out).then(() => { t[name] = [t0, performance.now()]; }, () => {});
      return out;
    };
  }
  return [t, () => Object.assign(h, real)];
}\"\"\")(idb._js())
js_times, js_undo = js_timed[0], js_timed[1]

def resumed(owner, name, helper, label):
    real = getattr(owner, name)
    @functools.wraps(real)
    async def wrapper(*a, **k):
        out = await real(*a, **k)
        now = js.performance.now()
        called, settled = js_times.to_py()[helper]
        spent[f"  of which JS: {helper}, from the call until its Promise settled"] = settled - called
        spent[label] = now - settled
        return out
    setattr(owner, name, wrapper)
    return real

undo = []
for owner, name, label in [
    (storage.BrowserLocalStorage, "set_base64", "storage.set_base64 (to_js copy + toBase64 + setItem)"),
    (storage.BrowserLocalStorage, "get_base64", "storage.get_base64 (getItem + fromBase64 + to_bytes)"),
    (storage.BrowserLocalStorage, "getItem", "storage.getItem (small values)"),
    (storage.BrowserLocalStorage, "setItem", "storage.setItem (small values)"),
    (storage, "to_uint8array", "  of which ffi.to_uint8array (Python -> JS copy)"),
    (ls, "_snapshot", "local_storage._snapshot (old values, for rollback)"),
    (ls, "artifacts_info", "local_storage.artifacts_info (byte counts)"),
    (ls.LocalStorageHandler, "_values", "local_storage._values (JSON texts)"),
    (idb.BrowserIDBFactory, "put_records", "idb.put_records (a whole save, from the call until it returns)"),
    (idb.BrowserIDBFactory, "get_record", "idb.get_record (a whole load, from the call until it returns)"),
    (idb, "encode_record", "  of which idb.encode_record (record -> JSON text)"),
    (idb, "to_uint8array", "  of which idb.to_uint8array (Python -> JS copy)"),
    (idb, "_from_flat", "  of which idb._from_flat (to_bytes + json.loads)"),
    (idb.BrowserIDBTransaction, "put", "idb.put (encode + copy + JS parse + put; request by request)"),
    (idb.BrowserIDBTransaction, "complete", "idb.complete (await commit; request by request)"),
    (idb.BrowserIDBFactory, "open", "idb.open (request by request)"),
    (idb, "_to_py", "idb._to_py (JSON.stringify + to_bytes + json.loads; request by request)"),
    (idb, "decode_record", "  of which idb.decode_record (json.loads)"),
    (ib, "artifacts_info", "indexed_db.artifacts_info (byte counts)"),
    (ib, "artifacts_to_json_dict", "indexed_db.artifacts_to_json_dict"),
    (ib, "artifacts_from_json_dict", "indexed_db.artifacts_from_json_dict"),
]:
    undo.append((owner, name, timed(owner, name, label)))
# Outermost, around the timers above: from the JS Promise settling until the await returned.
for owner, name, helper, label in [
    (idb.BrowserIDBFactory, "put_records", "saveRecords", "  of which Python resuming after saveRecords settled"),
    (idb.BrowserIDBFactory, "get_record", "getRecord",
     "  of which Python resuming after getRecord settled (+ _from_flat)"),
]:
    undo.append((owner, name, resumed(owner, name, helper, label)))

try:
    data = js.benchBytes.to_bytes()
    art = pyweb.ModelArtifacts(model_topology=topology, weight_specs=js.bench.specs(len(data)).to_py(),
                               weight_data=data, format="layers-model", generated_by=generated_by, converted_by=None)
    t0 = time.perf_counter()
    if url.startswith("indexeddb://"):
        await pyweb.asave(art, url)
        t1 = time.perf_counter()
        got = await pyweb.aload(url)
    else:
        pyweb.save(art, url)
        t1 = time.perf_counter()
        got = pyweb.load(url)
    t2 = time.perf_counter()
    assert got.weight_data == data
finally:
    for owner, name, real in reversed(undo):
        setattr(owner, name, real)
    js_undo()
{"save": (t1 - t0) * 1000, "load": (t2 - t1) * 1000, "parts": spent}
"""


# -- page machinery (pyweb.testing, used outside pytest) -------------------------------


@contextlib.contextmanager
def bench_page(playwright: Any, server: Any, config: Any, browser_name: str, build: str = BUILD) -> Iterator[Any]:
    """One PyodidePage (Pyodide ``build``) with TF.js and the JS contenders installed."""
    with tfjs_page(playwright, server, config, browser_name, build) as (page, _browser):
        native = page.run_js(BENCH_JS, [TOPOLOGY, GENERATED_BY])
        if native != ["function", "function"]:
            raise SystemExit(f"{browser_name}: no Uint8Array toBase64/fromBase64 ({native}); raw needs them")
        yield page


# -- measuring -------------------------------------------------------------------------


def contenders(store: str) -> dict[str, Any]:
    """name -> function(page) returning [save ms, load ms] for one run."""
    url = f"{store}://bench"
    globals_ = {"topology": TOPOLOGY, "generated_by": GENERATED_BY, "url": url}
    code = PYWEB_LOCALSTORAGE if store == "localstorage" else PYWEB_INDEXEDDB
    raw = "() => bench.rawLocalStorage()" if store == "localstorage" else "() => bench.rawIndexedDB()"
    return {
        "pyweb": lambda page: page.run(code, **globals_),
        "tfjs": lambda page: page.run_js("(url) => bench.tfjs(url)", url),
        "raw": lambda page: page.run_js(raw),
    }


def measure(page: Any, store: str, mib: float, runs: int, wipe: bool = True) -> dict[str, dict[str, float]]:
    """Medians of save, load and save+load (ms) per contender for one size (``wipe``: before each save)."""
    nbytes = int(mib * MiB) // 4 * 4
    page.run_js("(n) => bench.fill(n)", nbytes)
    funcs = contenders(store)
    names = list(funcs)
    samples: dict[str, list[list[float]]] = {name: [] for name in names}
    for run in range(runs + 1):  # run 0 warms up
        order = names[run % len(names) :] + names[: run % len(names)]  # take turns going first
        for name in order:
            if wipe or not run:
                page.wipe_storage()
            save_ms, load_ms = funcs[name](page)
            if run:
                samples[name].append([save_ms, load_ms])
    return {
        name: {
            "save": statistics.median(s for s, _ in got),
            "load": statistics.median(ld for _, ld in got),
            "total": statistics.median(s + ld for s, ld in got),
        }
        for name, got in samples.items()
    }


def profile(page: Any, store: str, mib: float, runs: int = PROFILE_RUNS) -> dict[str, Any]:
    """pyweb's save+load with its internals timed: medians of ``runs`` runs, after a warm-up."""
    nbytes = int(mib * MiB) // 4 * 4
    page.run_js("(n) => bench.fill(n)", nbytes)
    url = f"{store}://bench"
    outs = []
    for run in range(runs + 1):
        page.wipe_storage()
        out = page.run(PROFILE, topology=TOPOLOGY, generated_by=GENERATED_BY, url=url)
        if run:
            outs.append(out)
    labels = {label for out in outs for label in out["parts"]}
    return {
        "save": statistics.median(o["save"] for o in outs),
        "load": statistics.median(o["load"] for o in outs),
        "parts": {label: statistics.median(o["parts"].get(label, 0) for o in outs) for label in labels},
        "runs": runs,
    }


# -- reporting -------------------------------------------------------------------------


def _load() -> str:
    # The machine may be shared: a busy one makes every contender slower and noisier.
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"
    except OSError:
        return "unknown"


def _size(mib: float) -> str:
    return f"{mib:g} MiB"


def print_table(
    browser: str, runtime: dict[str, str], store: str, rows: list[tuple[float, dict]], runs: int, note: str = ""
) -> None:
    print(
        f"\n{browser} {runtime.get('browser', '')} + Pyodide {runtime.get('pyodide', BUILD)}: {store}{note}, "
        f"save+load, median of {runs} runs (ms); load average {_load()}"
    )
    header = f"{'size':>9} {'pyweb':>9} {'TF.js':>9} {'raw':>9} {'pyweb/TF.js':>12} {'pyweb/raw':>10}  target"
    print(header)
    print("-" * len(header))
    for mib, got in rows:
        p, t, r = got["pyweb"]["total"], got["tfjs"]["total"], got["raw"]["total"]
        limits = targets(store, mib)
        ok = all({"tfjs": p / t, "raw": p / r}[k] <= limit for k, limit in limits.items())
        goal = ", ".join(f"<= {limit}x {'TF.js' if k == 'tfjs' else 'raw'}" for k, limit in limits.items())
        verdict = "met" if ok else "MISSED"
        print(f"{_size(mib):>9} {p:9.1f} {t:9.1f} {r:9.1f} {p / t:11.2f}x {p / r:9.2f}x  {verdict} ({goal})")
    print(
        "  save / load split (ms):  "
        + "   ".join(
            f"{_size(mib)}: pyweb {g['pyweb']['save']:.1f}/{g['pyweb']['load']:.1f}, "
            f"TF.js {g['tfjs']['save']:.1f}/{g['tfjs']['load']:.1f}, raw {g['raw']['save']:.1f}/{g['raw']['load']:.1f}"
            for mib, g in rows
        )
    )


def print_profile(browser: str, store: str, mib: float, prof: dict[str, Any]) -> None:
    print(
        f"\n{browser}: pyweb {store} {_size(mib)}, save+load, medians of {prof['runs']} runs: "
        f"save {prof['save']:.1f} ms, load {prof['load']:.1f} ms"
    )
    for label, ms in sorted(prof["parts"].items(), key=lambda kv: -kv[1]):
        print(f"  {ms:8.1f} ms  {label}")


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--browsers", default="chromium,firefox", help="comma list of playwright.config.py browsers")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per contender and size (median; default 7)")
    parser.add_argument("--ls-mib", default="1,2,3,3.7", help="localStorage sizes in MiB (quota: ~3.75 MiB of base64)")
    parser.add_argument("--idb-mib", default="1,16,64", help="IndexedDB sizes in MiB")
    parser.add_argument("--profile", action="store_true", help="also time pyweb's internals at each size")
    parser.add_argument(
        "--profile-mib",
        metavar="SIZES",
        help="with --profile: profile only these sizes in MiB (comma list; default every size)",
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="IndexedDB: also measure with the database kept between saves (no wipe)"
    )
    parser.add_argument(
        "--build",
        default=BUILD,
        help=f"Pyodide build from playwright.config.py (default {BUILD}; "
        "the storage benchmarks need no numpy, so 314 works too)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write all medians as JSON")
    parser.add_argument("--summary", metavar="PATH", help="also write the target rows as JSON (bench/run.py)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    from playwright.sync_api import sync_playwright

    results: dict[str, Any] = {}
    missed = []
    summary: list[dict[str, Any]] = []
    only = None if args.profile_mib is None else set(_floats(args.profile_mib))
    with serving() as (server, config), sync_playwright() as playwright:
        for browser_name in [b.strip() for b in args.browsers.split(",") if b.strip()]:
            t0 = time.perf_counter()
            with bench_page(playwright, server, config, browser_name, args.build) as page:
                runtime = {
                    "pyodide": page.runtime.get("pyodide", args.build),
                    "browser": page.page.context.browser.version if page.page.context.browser else "",
                }
                results[browser_name] = {"runtime": runtime}
                for store, sizes in (("localstorage", _floats(args.ls_mib)), ("indexeddb", _floats(args.idb_mib))):
                    rows = [(mib, measure(page, store, mib, args.runs)) for mib in sizes]
                    results[browser_name][store] = {str(mib): got for mib, got in rows}
                    print_table(browser_name, runtime, store, rows, args.runs)
                    for mib, got in rows:
                        p = got["pyweb"]["total"]
                        for key, peer in (("tfjs", "TF.js"), ("raw", "raw API")):
                            summary.append(
                                _summary.row(
                                    f"{browser_name} {store} {_size(mib)} save+load vs {peer}",
                                    f"{p:.1f} ms",
                                    f"{got[key]['total']:.1f} ms",
                                    p / got[key]["total"],
                                    targets(store, mib).get(key),  # None: shown for scale
                                )
                            )
                        for key, limit in targets(store, mib).items():
                            if p / got[key]["total"] > limit:
                                missed.append(
                                    f"{browser_name} {store} {_size(mib)}: pyweb/{key} "
                                    f"{p / got[key]['total']:.2f}x > {limit}x"
                                )
                    if args.keep_db and store == "indexeddb" and sizes:
                        kept = [(mib, measure(page, store, mib, args.runs, wipe=False)) for mib in sizes]
                        results[browser_name]["indexeddb kept"] = {str(mib): got for mib, got in kept}
                        print_table(browser_name, runtime, "indexeddb", kept, args.runs, note=" (database kept)")
                    if args.profile:
                        for mib in [m for m in sizes if only is None or m in only]:
                            print_profile(browser_name, store, mib, profile(page, store, mib))
                    sys.stdout.flush()
            print(f"({browser_name}: {time.perf_counter() - t0:.0f} s in all)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    _summary.write(args.summary, summary)
    print("\nTargets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
