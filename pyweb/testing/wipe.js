// PyodidePage.wipe_storage: clear the origin's storage (harness.js's pywebHarness.wipe).
() => globalThis.pywebHarness.wipe()
