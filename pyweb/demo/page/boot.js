'use strict';
// Everything the page does is in app.py; this only boots Pyodide and pyweb.
// ?pyodide=<indexURL> picks the Pyodide build (default: the test server's local 0.27.7),
// ?bundle=<url> the zip holding pyweb/ at its root (default: the test server's bundle).
(async () => {
  const params = new URLSearchParams(location.search);
  const indexURL = params.get('pyodide') || new URL('/pyodide/0.27.7/', location.href).href;
  const bundleURL = params.get('bundle') || new URL('/pyweb-bundle.zip', location.href).href;
  const bundleDir = '/home/pyodide/pyweb-demo';
  const status = document.getElementById('status');
  const showError = (message) => {
    const el = document.getElementById('error');
    el.textContent = message;
    el.hidden = false;
    status.textContent = 'Failed to start.';
    document.body.dataset.state = 'error';
  };
  try {
    await new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = (indexURL.endsWith('/') ? indexURL : indexURL + '/') + 'pyodide.js';
      script.onload = resolve;
      script.onerror = () => reject(new Error('could not load ' + script.src));
      document.head.appendChild(script);
    });
    const pyodide = await loadPyodide({indexURL: indexURL.endsWith('/') ? indexURL : indexURL + '/'});
    globalThis.pyodide = pyodide;
    status.textContent = 'Loading numpy and pyweb\u2026';
    await pyodide.loadPackage('numpy', {messageCallback: () => {}});
    const [bundle, source, toyModel] = await Promise.all([
      fetch(bundleURL).then((r) => { if (!r.ok) throw new Error(bundleURL + ': HTTP ' + r.status); return r.arrayBuffer(); }),
      fetch(new URL('app.py', location.href)).then((r) => { if (!r.ok) throw new Error('app.py: HTTP ' + r.status); return r.text(); }),
      fetch(new URL('toy_model.py', location.href)).then((r) => { if (!r.ok) throw new Error('toy_model.py: HTTP ' + r.status); return r.text(); }),
    ]);
    pyodide.unpackArchive(bundle, 'zip', {extractDir: bundleDir});
    pyodide.FS.writeFile(bundleDir + '/demo_app.py', source);
    pyodide.FS.writeFile(bundleDir + '/demo_toy_model.py', toyModel);
    await pyodide.runPythonAsync(
      'import importlib, sys\n' +
      'sys.path.insert(0, ' + JSON.stringify(bundleDir) + ')\n' +
      'importlib.invalidate_caches()\n' +
      'import demo_app\n' +
      'await demo_app.main()\n');
  } catch (e) {
    showError(String(e && e.message || e));
  }
})();
