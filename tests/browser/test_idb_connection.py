"""indexeddb://'s kept connection, in real browsers: it never blocks anyone, and it goes away.

pyweb keeps one IndexedDB connection open between operations
(``BrowserIDBFactory.idle_seconds``). These tests hold it open (a long idle
time) and check that deleting the database or upgrading it, from the page's
own JS or from another tab, goes through at once (``onblocked`` never
fires); that the connection closes after the idle time; and that TF.js,
which opens its own connection per operation, works interleaved with it.
"""

from __future__ import annotations

import textwrap
import time

import pytest

from tests.test_artifacts import REFERENCE_SPECS, REFERENCE_TOPOLOGY

pytestmark = [pytest.mark.browser, pytest.mark.no_numpy]

# Page code prepended to each test: a model of n bytes, and the kept connection made to last.
PRELUDE = """
import pyweb
from pyweb import ModelArtifacts

factory = pyweb.env.indexed_db()


def make(seed=0, n=84):
    return ModelArtifacts(model_topology=topology, weight_specs=specs,
                          weight_data=bytes((seed + i) % 256 for i in range(n)))
"""

# JS: count IndexedDB connections opened and closed from now on; peek() reads the counts and
# stop() also puts the prototypes back.
COUNT = """() => {
  const counts = {opened: 0, closed: 0};
  const open = IDBFactory.prototype.open, close = IDBDatabase.prototype.close;
  IDBFactory.prototype.open = function (...args) {
    const req = open.apply(this, args);
    req.addEventListener('success', () => { counts.opened += 1; });
    return req;
  };
  IDBDatabase.prototype.close = function () { counts.closed += 1; return close.call(this); };
  globalThis.idbCounts = {
    peek: () => ({...counts}),
    stop: () => { IDBFactory.prototype.open = open; IDBDatabase.prototype.close = close; return {...counts}; },
  };
}"""

# JS: delete TF.js's database; resolves with whether onblocked fired. It fails the test
# rather than hanging when the delete never completes.
DELETE = """() => new Promise((resolve, reject) => {
  let blocked = false;
  const req = indexedDB.deleteDatabase('tensorflowjs');
  req.onblocked = () => { blocked = true; };
  req.onsuccess = () => resolve({blocked});
  req.onerror = () => reject(new Error(String(req.error)));
  setTimeout(() => reject(new Error('deleteDatabase did not complete in 10 s')), 10000);
})"""

# JS: open TF.js's database at version 2 (an upgrade, as a newer app in another tab would);
# resolves with whether onblocked fired and the old version, then closes.
UPGRADE = """() => new Promise((resolve, reject) => {
  let blocked = false, oldVersion = null;
  const req = indexedDB.open('tensorflowjs', 2);
  req.onblocked = () => { blocked = true; };
  req.onupgradeneeded = (ev) => { oldVersion = ev.oldVersion; };
  req.onsuccess = () => { req.result.close(); resolve({blocked, oldVersion}); };
  req.onerror = () => reject(new Error(String(req.error)));
  setTimeout(() => reject(new Error('the upgrade did not complete in 10 s')), 10000);
})"""


def run(pyodide, code: str):
    return pyodide.run(PRELUDE + textwrap.dedent(code), topology=REFERENCE_TOPOLOGY, specs=REFERENCE_SPECS)


@pytest.fixture
def kept(pyodide):
    """The page with pyweb's idle time at 60 s and connections counted; yields the page."""
    run(pyodide, "factory.idle_seconds = 60")
    pyodide.run_js(COUNT)
    try:
        yield pyodide
    finally:
        pyodide.run_js("() => globalThis.idbCounts.stop()")
        run(pyodide, "del factory.idle_seconds\nfactory.close_connections()")


def test_delete_database_is_not_blocked_by_the_kept_connection(kept):
    run(kept, '_ = await pyweb.asave(make(1), "indexeddb://m")\n_ = await pyweb.aload("indexeddb://m")')
    assert kept.run_js("() => idbCounts.peek()") == {"opened": 1, "closed": 0}  # kept open
    assert kept.run_js(DELETE) == {"blocked": False}
    assert kept.run_js("() => idbCounts.peek()") == {"opened": 1, "closed": 1}  # closed on versionchange
    got = run(
        kept,
        """
        try:
            await pyweb.aload("indexeddb://m")
            out = ["loaded?"]
        except pyweb.errors.ModelNotFoundError:
            out = ["gone"]
        await pyweb.asave(make(2), "indexeddb://m")  # a new connection to the new database
        out.append((await pyweb.aload("indexeddb://m")).weight_data == make(2).weight_data)
        out
    """,
    )
    assert got == ["gone", True]
    assert kept.run_js("() => idbCounts.peek()") == {"opened": 2, "closed": 1}
    assert not kept.console_errors, kept.console_errors


def test_upgrade_from_the_page_is_not_blocked_by_the_kept_connection(kept):
    run(kept, '_ = await pyweb.asave(make(1), "indexeddb://m")')
    assert kept.run_js(UPGRADE) == {"blocked": False, "oldVersion": 1}
    got = run(
        kept,
        """
        try:
            await pyweb.aload("indexeddb://m")
            out = "loaded?"
        except pyweb.errors.StorageError as exc:
            out = exc.__cause__.name
        out
    """,
    )
    assert got == "VersionError"  # pyweb asks for version 1; the database is now at 2
    assert kept.run_js("() => idbCounts.peek()") == {"opened": 2, "closed": 2}  # pyweb's, then the upgrade's


def test_delete_and_upgrade_from_another_tab_are_not_blocked(kept):
    with kept.second_tab() as tab:  # the same origin, its own connections
        run(kept, '_ = await pyweb.asave(make(1), "indexeddb://m")')
        assert tab.evaluate(DELETE) == {"blocked": False}
        run(kept, '_ = await pyweb.asave(make(2), "indexeddb://m")')  # a new connection to a new database, kept
        assert tab.evaluate(UPGRADE) == {"blocked": False, "oldVersion": 1}
    assert kept.run_js("() => idbCounts.peek()") == {"opened": 2, "closed": 2}  # this page's: pyweb's two


def test_the_kept_connection_closes_after_the_idle_time(kept):
    got = run(
        kept,
        """
        import asyncio
        factory.idle_seconds = 0.3
        await pyweb.asave(make(1), "indexeddb://m")
        listed = sorted(await pyweb.alist_models("indexeddb://"))
        same = (await pyweb.aload("indexeddb://m")).weight_data == make(1).weight_data
        await asyncio.sleep(0.1)
        [listed, same]
    """,
    )
    assert got == [["indexeddb://m"], True]
    assert kept.run_js("() => idbCounts.peek()") == {"opened": 1, "closed": 0}  # one for the three, still open
    time.sleep(0.6)  # the page's own timer closes it; nothing to pump (WebDriver pages too)
    assert kept.run_js("() => idbCounts.peek()") == {"opened": 1, "closed": 1}


def test_tfjs_saves_and_loads_interleaved_with_the_kept_connection(kept):
    if kept.run_js("() => typeof tf") == "undefined":
        kept.add_script("/tfjs/tf.min.js")
    tfjs = """async ([op, path, seed]) => {
      const url = 'indexeddb://' + path;
      if (op === 'save') {
        const data = new Uint8Array(84).map((_, i) => (seed + i) % 256);
        await tf.io.getSaveHandlers(url)[0].save({modelTopology: {}, weightSpecs: [], weightData: data.buffer});
        return null;
      }
      if (op === 'load') return Array.from(new Uint8Array((await tf.io.getLoadHandlers(url)[0].load()).weightData));
      if (op === 'list') return Object.keys(await tf.io.listModels()).sort();
      if (op === 'remove') { await tf.io.removeModel(url); return null; }
    }"""
    run(kept, '_ = await pyweb.asave(make(1), "indexeddb://py")')
    kept.run_js(tfjs, ["save", "tf", 2])
    assert run(kept, '(await pyweb.aload("indexeddb://tf")).weight_data == make(2).weight_data') is True
    assert kept.run_js(tfjs, ["load", "py", 0]) == list(make_bytes(1))
    run(kept, '_ = await pyweb.asave(make(3), "indexeddb://tf")')  # overwrites TF.js's model
    assert kept.run_js(tfjs, ["load", "tf", 0]) == list(make_bytes(3))
    assert kept.run_js(tfjs, ["list", "", 0]) == ["indexeddb://py", "indexeddb://tf"]
    kept.run_js(tfjs, ["remove", "py", 0])
    assert run(kept, 'sorted(await pyweb.alist_models("indexeddb://"))') == ["indexeddb://tf"]
    kept.run_js(tfjs, ["save", "py", 4])
    assert run(kept, '(await pyweb.aload("indexeddb://py")).weight_data == make(4).weight_data') is True
    # every pyweb operation above used the one kept connection; TF.js closed each of its own
    counts = kept.run_js("() => idbCounts.peek()")
    assert counts["opened"] - counts["closed"] == 1
    assert not kept.console_errors, kept.console_errors


def make_bytes(seed: int, n: int = 84) -> bytes:
    return bytes((seed + i) % 256 for i in range(n))
