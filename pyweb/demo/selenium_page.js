// pyweb.demo.webdriver_page (the demo walk-through over WebDriver): the page-side half of the
// part of Playwright's page API it uses. Python runs one of these by name with execute_script
// (`return (this)[name](...args)`), so each takes plain arguments and elements.
({
  // Playwright's evaluate: a function source called with one argument (a Promise awaited), or an expression.
  evaluate: (source, arg) => (async () => {
    const value = (0, eval)('(' + source + '\n)');
    return typeof value === 'function' ? await value(arg) : value;
  })(),

  // A function source called with an element (eval_on_selector) or a list of them (eval_on_selector_all).
  evalOn: (source, target) => (0, eval)('(' + source + '\n)')(target),
  evalOnAll: (source, selector) => (0, eval)('(' + source + '\n)')(Array.from(document.querySelectorAll(selector))),

  // The elements a chain of CSS selectors finds (each within the previous one's matches).
  resolve: (parts, first) => {
    let found = [document];
    for (const part of parts) found = found.flatMap((el) => Array.from(el.querySelectorAll(part)));
    return first ? found.slice(0, 1) : found;
  },

  // Visible as Playwright means it: rendered with a non-empty box and not visibility:hidden.
  visible: (el) => {
    if (!el.getClientRects().length) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  },

  textContent: (el) => el.textContent,
  getAttribute: (el, name) => el.getAttribute(name),

  // WebDriver cannot listen to the page from its first script, so uncaught errors are collected
  // from the moment the page is open (a boot that fails says so on the page, and the open fails).
  collectErrors: () => {
    if (!globalThis.__pywebDemoErrors) {
      const errors = globalThis.__pywebDemoErrors = [];
      addEventListener('error', (e) => errors.push(String(e.message)));
      addEventListener('unhandledrejection', (e) => errors.push('unhandled rejection: ' + e.reason));
    }
  },
  errors: () => globalThis.__pywebDemoErrors || [],
})
