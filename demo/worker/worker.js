// A plain dedicated worker running Pyodide with pyweb, as an app would start one.
const params = new URLSearchParams(location.search);
importScripts(params.get('pyodide') + 'pyodide.js');
const ready = (async () => {
  const pyodide = await loadPyodide({indexURL: params.get('pyodide')});
  const zip = await (await fetch(params.get('bundle'))).arrayBuffer();
  pyodide.unpackArchive(zip, 'zip', {extractDir: '/home/pyodide/app'});
  pyodide.runPython("import sys; sys.path.insert(0, '/home/pyodide/app')");
  return pyodide;
})();
onmessage = async (event) => {
  const {id, code} = event.data || {};
  if (typeof id !== 'number') return;
  try {
    const pyodide = await ready;
    const value = await pyodide.runPythonAsync(code);
    postMessage({id, ok: true, value: String(value)});
  } catch (e) {
    postMessage({id, ok: false, error: String(e)});
  }
};
