// WebDriverPyodidePage._call (run as `return (this)(...arguments)` by execute_script): calls one
// snippet (a function source, as the other .js files here) with one argument and settles to
// {ok, value} or {ok: false, name, message}: JavaScript errors come back as data, so they are
// told apart from the driver's own failures.
(source, arg) => (async () => {
  try {
    const value = await (0, eval)('(' + source + '\n)')(arg);
    return {ok: true, value: value === undefined ? null : value};
  } catch (e) {
    return {ok: false, name: (e && e.name) || 'Error', message: String((e && e.message) || e)};
  }
})()
