// PyodidePage.alive: true once harness.js has booted Pyodide (false on any other page).
() => globalThis.pywebHarness?.ready === true
