// WebDriverPyodidePage: the console records webdriver_console.js kept since the last drain.
() => {
  const r = globalThis.__pywebConsole || [];
  return r.splice(0, r.length);
}
