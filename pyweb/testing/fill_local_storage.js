// pyweb.testing.quota.fill_local_storage: sets the filler after checking that the other items fit
// in what is left, so a too-small budget is a clear error rather than a failed setItem.
([key, units, total]) => {
  let used = 0;
  for (const k of Object.keys(localStorage)) {
    if (k !== key) used += k.length + localStorage.getItem(k).length;
  }
  if (used > units) throw new Error(`localStorage already holds ${used} units, more than the ${units} asked for`);
  localStorage.setItem(key, 'f'.repeat(total - units - key.length));
}
