'use strict';
(() => {
  const indexURL = new URLSearchParams(location.search).get('pyodide');
  const scriptLoaded = new Promise((resolve, reject) => {
    if (!indexURL) { reject(new Error('index.html needs ?pyodide=<indexURL>')); return; }
    const script = document.createElement('script');
    script.src = indexURL + 'pyodide.js';
    script.onload = resolve;
    script.onerror = () => reject(new Error('could not load ' + script.src));
    document.head.appendChild(script);
  });
  const seconds = (t0) => (performance.now() - t0) / 1000;
  globalThis.pywebHarness = {
    ready: false,
    async boot({bundleURL, bundleDir, pageModule, numpy}) {
      const timings = {};
      let t0 = performance.now();
      await scriptLoaded;
      const pyodide = await loadPyodide({indexURL});
      timings.loadPyodide = seconds(t0);
      globalThis.pyodide = pyodide;
      if (numpy) {
        t0 = performance.now();
        await pyodide.loadPackage('numpy', {messageCallback: () => {}});
        timings.numpy = seconds(t0);
      }
      t0 = performance.now();
      const response = await fetch(bundleURL);
      if (!response.ok) throw new Error(bundleURL + ': HTTP ' + response.status);
      pyodide.unpackArchive(await response.arrayBuffer(), 'zip', {extractDir: bundleDir});
      this.ns = pyodide.runPython(
        'import importlib, sys\n' +
        'sys.path.insert(0, ' + JSON.stringify(bundleDir) + ')\n' +
        'importlib.invalidate_caches()\n' +
        'dict(page=importlib.import_module(' + JSON.stringify(pageModule) + '))',
        {globals: pyodide.toPy({})});
      timings.bundle = seconds(t0);
      this.ready = true;
      return {timings, python: pyodide.runPython('import sys; sys.version.split()[0]'), pyodide: pyodide.version};
    },
    async run(code, globalsJson) {
      if (!this.ready) throw new Error('pyweb harness is not booted');
      this.ns.set('code', code);
      this.ns.set('globals_json', globalsJson);
      return await pyodide.runPythonAsync('await page.run(code, globals_json)', {globals: this.ns});
    },
    async wipe(ms) {
      if (!this.ready) throw new Error('pyweb harness is not booted');
      localStorage.clear();
      sessionStorage.clear();
      const names = (await indexedDB.databases()).map((db) => db.name);
      // pyweb's connections close on versionchange; a blocked delete means a
      // test left one of its own open, and the host restarts the page.
      await Promise.all(names.map((name) => new Promise((resolve, reject) => {
        const request = indexedDB.deleteDatabase(name);
        request.onsuccess = () => resolve();
        request.onerror = () => reject(new Error('deleting IndexedDB ' + name + ': ' + request.error));
        request.onblocked = () => reject(new Error('IndexedDB ' + name + ' is still open'));
      })));
      if (globalThis.caches) for (const key of await caches.keys()) await caches.delete(key);
      return names;
    },
  };
  // ?commands=<URL>: take code from a command queue (pyweb.testing.commands) instead of
  // page.evaluate, which would give it a user gesture.
  const commands = new URLSearchParams(location.search).get('commands');
  if (commands) (async () => {
    const pause = () => new Promise((resolve) => setTimeout(resolve, 200));
    for (;;) {
      let response;
      try { response = await fetch(commands + '/next', {cache: 'no-store'}); } catch (e) { await pause(); continue; }
      if (response.status !== 200) { if (response.status !== 204) await pause(); continue; }
      const {id, source, arg} = await response.json();
      let outcome;
      try {
        const f = (0, eval)('(' + source + '\n)');
        const value = await (typeof f === 'function' ? f(arg) : f);
        outcome = {id, ok: true, value: value === undefined ? null : value};
      } catch (e) {
        outcome = {id, ok: false, error: {name: (e && e.name) || 'Error', message: String((e && e.message) || e)}};
      }
      let body;
      try { body = JSON.stringify(outcome); } catch (e) {
        body = JSON.stringify({id, ok: false, error: {name: 'TypeError', message: 'the value is not JSON: ' + e}});
      }
      fetch(commands + '/result', {method: 'POST', body, headers: {'Content-Type': 'text/plain'}}).catch(() => {});
    }
  })();
})();
