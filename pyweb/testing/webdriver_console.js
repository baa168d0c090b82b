// WebDriverPyodidePage, after every navigation: keeps console calls and uncaught errors for the
// host (the driver does not expose them); webdriver_drain.js reads them back.
() => {
  if (!globalThis.__pywebConsole) {
    const records = globalThis.__pywebConsole = [];
    const text = (args) => args.map((a) => {
      if (typeof a === 'string') return a;
      try { return a instanceof Error ? String(a) : JSON.stringify(a); } catch (e) { return String(a); }
    }).join(' ');
    for (const type of ['log', 'info', 'warn', 'error', 'debug']) {
      const original = console[type].bind(console);
      console[type] = (...args) => { records.push([type === 'warn' ? 'warning' : type, text(args)]); original(...args); };
    }
    addEventListener('error', (e) => records.push(['pageerror', 'uncaught Error: ' + e.message]));
    addEventListener('unhandledrejection', (e) => records.push(['pageerror', 'unhandled rejection: ' + e.reason]));
  }
  return true;
}
