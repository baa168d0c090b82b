// PyodidePage: boot Pyodide in the test page (harness.js's pywebHarness.boot).
(opts) => globalThis.pywebHarness.boot(opts)
