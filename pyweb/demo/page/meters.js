'use strict';
// The storage meter's count for app.py (refresh_storage): what this engine's localStorage quota
// (5,242,880 per origin) counts of every key and value. Chromium and Firefox count UTF-16 code
// units; WebKit (Safari, and every browser on iOS) counts bytes: 1 a character when the whole
// string is Latin-1, else 2 a UTF-16 unit (pyweb.emulation's engine="webkit"). Counted here, so
// the (megabytes of) stored text is not copied into Python after every action.

// WebKit's user agents say AppleWebKit and not Chrome/ (Chromium's say both, Firefox's neither).
globalThis.localStorageEngine = () => {
  const ua = navigator.userAgent;
  return /AppleWebKit\//.test(ua) && !/(Chrome|Chromium)\//.test(ua) ? 'webkit' : 'utf16';
};

globalThis.localStorageUnits = () => {
  const webkit = globalThis.localStorageEngine() === 'webkit';
  // eslint-disable-next-line no-control-regex
  const size = webkit ? (s) => (/^[\x00-\xff]*$/.test(s) ? s.length : 2 * s.length) : (s) => s.length;
  let n = 0;
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    n += size(k) + size(localStorage.getItem(k));
  }
  return n;
};
