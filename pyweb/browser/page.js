// pyweb's page-side helpers: localStorage with base64 done in JS, downloads delivered one per
// user gesture, and a bridge that serves both to pyweb running in a Web Worker (a JupyterLite
// kernel, or a worker an app started). One object per page, `globalThis.pywebPage`; evaluating
// this file again returns the same object.
//
// pyweb in Pyodide on the page's main thread evaluates it (pyweb.browser.page) and calls it
// directly. pyweb in a worker reaches it through a BroadcastChannel named "pyweb:<token>",
// where the token is a random string only that worker knows: the page learns it either from
// the kernel's own cell output (Jupyter: serve(token)) or from the worker itself (attach(worker)).
//
// Browser facts this file relies on (measured by pyweb's browser tests):
// - Chromium allows a page one download per user gesture unless the site may download
//   "automatically"; a download it blocks gives the page no signal, and a tab that had one
//   blocked then refuses the next downloads too. Firefox with download spam protection
//   (browser.download.enable_spam_prevention) lets one download without a gesture through and
//   then blocks every later one from the site. So a file is clicked only while the page has
//   transient user activation, one per activation, and any other file waits for its own click
//   on a button pyweb shows.
// - Firefox keeps only the last of several downloads started in one task, and WebKit (GTK
//   2.50) only the last of several clicked a setTimeout(0) apart (6 clicks: 1 or 5 arrived;
//   20 ms apart: all 6): each click from script waits CLICK_GAP_MS after the one before,
//   across deliveries too.
// - Revoking an object URL right after dispatching the click still delivers the file.
(() => {
  if (globalThis.pywebPage) return globalThis.pywebPage;

  const CLICK_GAP_MS = 100;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const bytesOf = (data) => (data instanceof Uint8Array ? data : new Uint8Array(data));

  // -- localStorage ------------------------------------------------------------------------
  // Uint8Array.prototype.toBase64 / fromBase64 are native where present; the fallbacks run
  // btoa/atob over 24 KiB pieces (a multiple of 3, so the pieces' base64 concatenates).
  const CHUNK = 3 * 8192;
  const encode = (typeof Uint8Array.prototype.toBase64 === 'function')
    ? (u) => u.toBase64()
    : (u) => {
        const parts = [];
        for (let i = 0; i < u.length; i += CHUNK) {
          parts.push(btoa(String.fromCharCode.apply(null, u.subarray(i, i + CHUNK))));
        }
        return parts.join('');
      };
  const decode = (typeof Uint8Array.fromBase64 === 'function')
    ? (s) => Uint8Array.fromBase64(s)
    : (s) => {
        const bin = atob(s);
        const out = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
        return out;
      };
  const ls = () => globalThis.localStorage;
  const storage = {
    available: () => { try { return !!ls(); } catch (e) { return false; } },
    length: () => ls().length,
    key: (i) => ls().key(i),
    getItem: (key) => ls().getItem(key),
    setItem: (key, value) => ls().setItem(key, value),
    removeItem: (key) => ls().removeItem(key),
    setBase64: (key, bytes) => ls().setItem(key, encode(bytesOf(bytes))),
    getBase64: (key) => { const s = ls().getItem(key); return s === null ? null : decode(s); },
    // UTF-16 units of every key and value: what Chromium and Firefox count against the quota.
    usedUnits: () => {
      let used = 0;
      for (let i = 0; i < ls().length; i++) { const k = ls().key(i); used += k.length + ls().getItem(k).length; }
      return used;
    },
  };

  // -- downloads -----------------------------------------------------------------------------
  let lastClickAt = -Infinity, queued = 0, queue = Promise.resolve();
  const click = (name, bytes, type) => {
    lastClickAt = performance.now();
    const url = URL.createObjectURL(new Blob([bytes], {type}));
    try {
      const a = document.createElement('a');
      a.download = name;
      a.href = url;
      a.dispatchEvent(new MouseEvent('click'));
    } finally {
      URL.revokeObjectURL(url);
    }
  };
  // Clicks now when the last click is CLICK_GAP_MS old and none waits, else after those.
  const pacedClick = (name, bytes, type) => {
    if (!queued && performance.now() - lastClickAt >= CLICK_GAP_MS) {
      click(name, bytes, type);
      return Promise.resolve();
    }
    queued++;
    const clicked = queue.then(async () => {
      try {
        const wait = lastClickAt + CLICK_GAP_MS - performance.now();
        if (wait > 0) await sleep(wait);
        click(name, bytes, type);
      } finally {
        queued--;
      }
    });
    queue = clicked.catch(() => undefined);  // one failed click does not stop the later ones
    return clicked;
  };
  const activated = () => !!(globalThis.navigator && navigator.userActivation && navigator.userActivation.isActive);

  let panel = null;
  const offers = new Map();  // name -> [bytes, type], files waiting for their click
  const PANEL_STYLE = 'position:fixed;right:12px;bottom:12px;z-index:2147483647;max-width:min(420px,90vw);'
    + 'background:#fff;color:#111;border:1px solid #888;border-radius:8px;padding:10px 12px;'
    + 'font:14px/1.4 system-ui,sans-serif;box-shadow:0 2px 12px rgba(0,0,0,.25)';
  const BUTTON_STYLE = 'display:block;margin:6px 0 0;padding:4px 10px;font:inherit;cursor:pointer;'
    + 'max-width:100%;overflow-wrap:anywhere;text-align:left';
  const renderPanel = () => {
    if (!offers.size) { if (panel) panel.remove(); panel = null; return; }
    if (!panel) {
      panel = document.createElement('div');
      panel.setAttribute('role', 'region');
      panel.setAttribute('aria-label', 'pyweb downloads');
      panel.setAttribute('aria-live', 'polite');
      panel.dataset.pywebDownloads = '';
      panel.style.cssText = PANEL_STYLE;
      document.body.appendChild(panel);
    }
    panel.replaceChildren();
    const text = document.createElement('div');
    text.textContent = offers.size === 1
      ? 'Your browser lets a page download one file per click. One more file of the model:'
      : `Your browser lets a page download one file per click. ${offers.size} more files of the model:`;
    panel.appendChild(text);
    for (const name of offers.keys()) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = `Download ${name}`;
      b.dataset.pywebDownload = name;
      b.style.cssText = BUTTON_STYLE;
      b.addEventListener('click', () => {
        const offer = offers.get(name);
        if (!offer) return;
        offers.delete(name);
        click(name, offer[0], offer[1]);
        renderPanel();
      });
      panel.appendChild(b);
    }
    const close = document.createElement('button');
    close.type = 'button';
    close.textContent = 'Dismiss';
    close.dataset.pywebDismiss = '';
    close.style.cssText = BUTTON_STYLE;
    close.addEventListener('click', () => { offers.clear(); renderPanel(); });
    panel.appendChild(close);
  };

  const downloads = {
    // files: [[name, bytes, type], ...] in TF.js's order. mode "gesture": while the page has
    // user activation the first file is clicked now, and every other file waits for its own
    // button; "script": every file is clicked, as TF.js does. The first click and the panel
    // happen before this returns; `done` settles once later clicks are dispatched. The names
    // say what was clicked and offered; what the browser then did with a click it does not say.
    deliver(files, mode) {
      if (typeof document === 'undefined' || !document.body) {
        throw new DOMException('downloads need a page with a document (this is a worker)', 'NotSupportedError');
      }
      if (mode !== 'gesture' && mode !== 'script') throw new TypeError(`deliver must be gesture or script: ${mode}`);
      const now = mode === 'script' ? files : (activated() ? files.slice(0, 1) : []);
      const later = files.slice(now.length);
      const clicks = now.map(([name, bytes, type]) => pacedClick(name, bytes, type));  // the first now if it may
      for (const [name, bytes, type] of later) offers.set(name, [bytesOf(bytes), type]);
      if (later.length) renderPanel();
      const done = Promise.all(clicks).then(() => undefined);
      done.catch((e) => console.error('pyweb downloads://', e));
      return {clicked: now.map((f) => f[0]), offered: later.map((f) => f[0]), done};
    },
    pending: () => Array.from(offers.keys()),
    dismiss: () => { offers.clear(); renderPanel(); },
  };

  // navigator.storage.estimate()'s {usage, quota}, or null where the engine has no
  // navigator.storage (WebKitGTK on an http origin): a caller tells "unknown" from "empty".
  const estimate = async () => {
    if (!globalThis.navigator || !navigator.storage || !navigator.storage.estimate) return null;
    const {usage, quota} = await navigator.storage.estimate();
    return {usage, quota};
  };

  // -- the bridge for workers -------------------------------------------------------------
  const OPS = {
    'storage.available': storage.available,
    'storage.length': storage.length,
    'storage.key': storage.key,
    'storage.getItem': storage.getItem,
    'storage.setItem': storage.setItem,
    'storage.removeItem': storage.removeItem,
    'storage.setBase64': storage.setBase64,
    'storage.getBase64': storage.getBase64,
    'downloads.deliver': async (files, mode) => {
      const r = downloads.deliver(files, mode);
      await r.done;
      return {clicked: r.clicked, offered: r.offered};
    },
    'downloads.pending': downloads.pending,
    'estimate': estimate,
  };
  const pageId = (globalThis.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Math.random()).slice(2);
  const served = new Map();  // token -> BroadcastChannel

  // Answer requests of the worker that knows `token`. Each answer names this page, and a
  // kernel acts only on the first page that greeted it, so a second page running the same
  // install (a saved notebook opened in another tab) is ignored by it.
  const serve = (token) => {
    if (typeof token !== 'string' || token.length < 16) throw new TypeError('pywebPage.serve needs the token');
    if (served.has(token)) return served.get(token);
    const channel = new BroadcastChannel(`pyweb:${token}`);
    served.set(token, channel);
    channel.onmessage = async (event) => {
      const msg = event.data || {};
      if (msg.ping) { channel.postMessage({hello: pageId}); return; }
      if (msg.to !== pageId || typeof msg.id !== 'number') return;
      const op = OPS[msg.op];
      try {
        if (!op) throw new DOMException(`unknown pyweb page operation ${msg.op}`, 'NotSupportedError');
        const value = await op(...(msg.args || []));
        channel.postMessage({from: pageId, id: msg.id, ok: true, value: value === undefined ? null : value});
      } catch (e) {
        channel.postMessage({from: pageId, id: msg.id, ok: false,
                             error: {name: (e && e.name) || 'Error', message: String((e && e.message) || e)}});
      }
    };
    channel.postMessage({hello: pageId});
    return channel;
  };
  // For a worker the app started itself: the worker (pyweb) posts {pyweb: "connect", token}
  // when it first needs the page, and this serves that token.
  const attach = (worker) => {
    worker.addEventListener('message', (event) => {
      const msg = event.data;
      if (msg && typeof msg === 'object' && msg.pyweb === 'connect' && typeof msg.token === 'string') serve(msg.token);
    });
    return worker;
  };

  // -- the worker's side -------------------------------------------------------------------
  // connect(token): a client of whichever page serves `token`. It binds to the first page that
  // greets it and ignores every other; calls reject with fresh DOMExceptions (what Pyodide can
  // await), TimeoutError when no page answers in time.
  const connect = (token) => {
    const channel = new BroadcastChannel(`pyweb:${token}`);
    const waiting = new Map();
    let page = null;
    let next = 1;
    let greeted;
    const hello = new Promise((resolve) => { greeted = resolve; });
    channel.onmessage = (event) => {
      const msg = event.data || {};
      if (msg.hello) { if (!page) { page = msg.hello; greeted(page); } return; }
      if (!page || msg.from !== page) return;
      const w = waiting.get(msg.id);
      if (!w) return;
      waiting.delete(msg.id);
      clearTimeout(w.timer);
      if (msg.ok) w.resolve(msg.value);
      else w.reject(new DOMException(msg.error.message, msg.error.name));
    };
    const timeout = (ms, what) => new Promise((_, reject) => setTimeout(
      () => reject(new DOMException(what, 'TimeoutError')), ms));
    return {
      token,
      page: () => page,
      // Resolves with the page's id once one greets (asking again every 200 ms).
      ready: (ms) => {
        if (page) return Promise.resolve(page);
        const asking = setInterval(() => channel.postMessage({ping: true}), 200);
        channel.postMessage({ping: true});
        return Promise.race([hello, timeout(ms, `no page answered within ${ms} ms`)])
          .finally(() => clearInterval(asking));
      },
      call: (op, args, ms) => new Promise((resolve, reject) => {
        if (!page) { reject(new DOMException('not connected to a page', 'InvalidStateError')); return; }
        const id = next++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new DOMException(`the page did not answer ${op} within ${ms} ms`, 'TimeoutError'));
        }, ms);
        waiting.set(id, {resolve, reject, timer});
        channel.postMessage({to: page, id, op, args});
      }),
      close: () => channel.close(),
    };
  };

  const api = {version: 1, storage, downloads, estimate, serve, attach, connect, pageId};
  globalThis.pywebPage = api;
  return api;
})()
