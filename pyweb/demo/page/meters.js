'use strict';
// The storage meter's count for app.py (refresh_storage): the UTF-16 code units of every
// localStorage key and value, which is what the 5,242,880 quota counts. Counted here, so the
// (megabytes of) stored text is not copied into Python after every action.
globalThis.localStorageUnits = () => {
  let n = 0;
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    n += k.length + localStorage.getItem(k).length;
  }
  return n;
};
