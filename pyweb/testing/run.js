// PyodidePage.run: run Python in the page (harness.js's pywebHarness.run); settles to JSON text.
([code, globalsJson]) => globalThis.pywebHarness.run(code, globalsJson)
