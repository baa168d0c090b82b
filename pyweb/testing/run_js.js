// PyodidePage.run_js: evaluates the source as an expression or statements, calls it with arg if it
// is a function, and races a timer of ms milliseconds (its error names pyweb-run-js-timeout).
// Self-contained: works on any page.
async ([source, arg, ms]) => {
  let value;
  try { value = (0, eval)('(' + source + '\n)'); }
  catch (e) { if (!(e instanceof SyntaxError)) throw e; value = (0, eval)(source); }
  if (typeof value === 'function') value = value(arg);
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('pyweb-run-js-timeout after ' + ms + ' ms')), ms);
  });
  try { return await Promise.race([Promise.resolve(value), limit]); }
  finally { clearTimeout(timer); }
}
