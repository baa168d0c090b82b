// pyweb's IndexedDB helpers (pyweb.browser.idb): IDB events turned into Promises that Python
// awaits, and each whole operation (save, load, list, remove) done in one call. One expression,
// a function of the record tags (pyweb.browser._records); Python evaluates it once per JS realm
// (the page, or the Web Worker a JupyterLite kernel runs in: both have indexedDB and setTimeout).
//
// Browser facts this file relies on (measured by pyweb's browser tests):
// - Pyodide only settles an await on an Error-like rejection (name, message and a stack, or a
//   DOMException); an Event, a string, null or Chromium's platform QuotaExceededError (no stack)
//   make the Python await hang. So every rejection is a fresh DOMException.
// - A transaction commits once control returns to the event loop with no request pending, and
//   Python resumes in a later task, so requests are issued here, synchronously.
// - Chromium reports a quota failure ONLY as the transaction's abort (empty message).
// - db.close() lets the connection's running transactions finish; deleteDatabase and upgrades
//   elsewhere wait only for connections that stay open after their versionchange event.
((TAG_BUFFER, TAG_DATE) => {
  const idb = () => globalThis.indexedDB;
  const fresh = (e, fallback) => {
    const name = (e && e.name) || fallback || 'UnknownError';
    return new DOMException((e && e.message) || name, name);
  };
  const exact = (u) => (u.byteOffset === 0 && u.byteLength === u.buffer.byteLength) ? u.buffer : u.slice().buffer;
  const tagged = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

  // gone() runs once the connection is closed for another page's upgrade or delete, or by the
  // browser (site data cleared).
  const open = (name, version, upgrade, gone = () => {}) => new Promise((resolve, reject) => {
    let settled = false, upgradeFailed = false;
    const fail = (e) => { if (!settled) { settled = true; reject(e); } };
    let req;
    try { req = idb().open(name, version); } catch (e) { fail(fresh(e)); return; }
    req.onupgradeneeded = (ev) => {
      if (settled) { req.transaction.abort(); return; }
      try { upgrade(req.result, ev.oldVersion); }
      catch (e) { upgradeFailed = true; try { req.transaction.abort(); } catch (_) {} }
    };
    req.onsuccess = () => {
      const db = req.result;
      if (settled) { db.close(); return; }  // opened after we gave up (blocked)
      db.onversionchange = () => { db.close(); gone(); };  // never block another page's upgrade or delete
      db.onclose = () => gone();
      settled = true;
      resolve(db);
    };
    req.onerror = (ev) => {
      ev.preventDefault();
      fail(upgradeFailed ? new DOMException('the upgrade callback failed', 'AbortError') : fresh(req.error));
    };
    req.onblocked = () => fail(new DOMException(
      `opening IndexedDB '${name}' v${version} is blocked by a connection open in another tab`, 'InvalidStateError'));
  });

  // [transaction, promise of its completion]; the catch() marks the promise
  // handled so an abort nobody awaits (the put itself threw) is not logged.
  const transaction = (db, stores, mode) => {
    const tx = db.transaction(stores, mode);
    const done = new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error ? fresh(tx.error)
                                         : new DOMException('the transaction was aborted', 'AbortError'));
    });
    done.catch(() => {});
    return [tx, done];
  };
  const abort = (tx) => { try { tx.abort(); } catch (e) { /* already finished */ } };

  const put = (tx, store, text, buffers) => {
    const value = JSON.parse(text, (key, v) => {
      if (tagged(v)) {
        if (Object.prototype.hasOwnProperty.call(v, TAG_BUFFER)) return exact(buffers[v[TAG_BUFFER]]);
        if (Object.prototype.hasOwnProperty.call(v, TAG_DATE)) return new Date(v[TAG_DATE]);
      }
      return v;
    });
    tx.objectStore(store).put(value);
  };

  // One JSON text for the whole value; Dates tagged (replacers see Dates
  // already turned into strings by toJSON, so look at holder[key]) and
  // buffers pulled out. undefined gives [undefined, []].
  const toPy = (value) => {
    const buffers = [];
    const text = JSON.stringify(value, function (key, v) {
      const raw = this[key];
      if (raw instanceof Date) return {[TAG_DATE]: isNaN(raw) ? null : raw.toISOString()};
      if (raw instanceof ArrayBuffer) { buffers.push(raw); return {[TAG_BUFFER]: buffers.length - 1}; }
      if (ArrayBuffer.isView(raw)) {
        buffers.push(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
        return {[TAG_BUFFER]: buffers.length - 1};
      }
      return v;
    });
    return [text, buffers];
  };
  // [text, ...buffers]: one to_py(depth=1) in Python reads it all.
  const toPyFlat = (value) => { const [text, buffers] = toPy(value); return [text, ...buffers]; };

  const createMissing = (specs) => (db) => {
    for (const [store, keyPath] of specs) {
      if (!db.objectStoreNames.contains(store)) db.createObjectStore(store, {keyPath});
    }
  };

  // -- connections kept open between operations --------------------------------------------
  // One connection per database name, shared by the operations that overlap it and closed
  // idleMs after the last of them ends (at once when idleMs is 0). It closes itself on
  // versionchange, so another page's (or TF.js's, or anyone's) upgrade or deleteDatabase is
  // never blocked; an operation that finds it closed opens a new one.
  const kept = new Map();  // name -> entry {version, connecting, users, timer, gone}
  const shut = (entry) => { entry.connecting.then((db) => db.close(), () => {}); };
  const forget = (name, entry) => {
    entry.gone = true;
    clearTimeout(entry.timer);
    if (kept.get(name) === entry) kept.delete(name);
  };
  // A hold on the connection to `where` ([name, version, specs]): {name, entry}.
  const acquire = ([name, version, specs]) => {
    let entry = kept.get(name);
    if (!entry || entry.version !== version) {
      if (entry) { forget(name, entry); if (!entry.users) shut(entry); }
      const made = {version, users: 0, timer: null, gone: false};
      made.connecting = open(name, version, createMissing(specs), () => forget(name, made));
      made.connecting.catch(() => forget(name, made));  // the failure itself goes to the operations
      kept.set(name, made);
      entry = made;
    }
    clearTimeout(entry.timer);
    entry.users += 1;
    return {name, entry};
  };
  const release = ({name, entry}, idleMs) => {
    entry.users -= 1;
    if (entry.users > 0) return;
    const close = () => { forget(name, entry); shut(entry); };
    if (entry.gone || !(idleMs > 0)) close();
    else entry.timer = setTimeout(close, idleMs);
  };
  const closeAll = () => {
    for (const [name, entry] of [...kept]) {
      forget(name, entry);
      if (!entry.users) shut(entry);  // held ones close when released
    }
  };

  // With the connection `held`: one transaction, issue(tx) synchronously (a throw aborts:
  // nothing commits), release; resolves with settle(issue's result, the commit promise).
  // Every rejection is a fresh DOMException, and closes the connection once released.
  const whole = async (where, held, idleMs, stores, mode, issue, settle = (out, done) => done) => {
    try {
      let db = await held.entry.connecting;
      if (held.entry.gone) {  // closed for an upgrade or delete elsewhere before this began
        release(held, 0);
        held = acquire(where);
        db = await held.entry.connecting;
      }
      const [tx, done] = transaction(db, [...new Set(stores)], mode);
      let out;
      try { out = issue(tx); } catch (e) { abort(tx); throw e; }
      return await settle(out, done);
    } catch (e) {
      // Firefox refuses every later readwrite transaction on a connection that hit the quota
      // (InvalidStateError): after any failure the next operation gets a new connection.
      forget(held.name, held.entry);
      throw fresh(e);
    } finally {
      release(held, idleMs);  // a pending transaction still runs to its end
    }
  };
  const operation = (name, version, specs, idleMs, stores, mode, issue, settle) => {
    const where = [name, version, specs];
    return whole(where, acquire(where), idleMs, stores, mode, issue, settle);
  };

  // A read resolves with its request's result, as TF.js's do: the readonly
  // transaction's complete event would only come later.
  // A record JSON cannot carry (a BigInt, a cycle, nesting past the stack:
  // another script's, not TF.js's) rejects instead of leaving the read pending.
  const read = (req) => new Promise((resolve, reject) => {
    req.onsuccess = () => {
      try { resolve(toPyFlat(req.result)); } catch (e) {
        reject(new DOMException(`a stored record cannot be read: ${e}`, 'UnreadableRecordError'));
      }
    };
    req.onerror = (ev) => { ev.preventDefault(); reject(fresh(req.error)); };
  });

  // A save in two steps, [done, supply]: the open starts at once (when no connection is kept),
  // and supply(puts) hands the records over once Python has encoded and copied them
  // (supply(null) gives up: nothing is written). Chromium's backend opens meanwhile (~0.3 ms
  // for an existing database, ~1-2 ms for a new one); Firefox's open seems to wait for the
  // main thread, so there it gains nothing.
  const saveLater = (name, version, specs, idleMs) => {
    const where = [name, version, specs];
    const held = acquire(where);
    let supply;
    const records = new Promise((resolve) => { supply = resolve; });
    const done = records.then((puts) => {
      if (!puts) { release(held, idleMs); return undefined; }
      return whole(where, held, idleMs, puts.map((p) => p[0]), 'readwrite',
        (tx) => { for (const [store, text, buffers] of puts) put(tx, store, text, buffers); });
    });
    done.catch(() => {});  // handled: Python awaits it unless it gave up
    return [done, supply];
  };

  return {
    available: () => { try { return !!idb(); } catch (e) { return false; } },

    open,
    deleteDatabase: (name) => new Promise((resolve, reject) => {
      const req = idb().deleteDatabase(name);
      req.onsuccess = () => resolve();
      req.onerror = (ev) => { ev.preventDefault(); reject(fresh(req.error)); };
    }),

    storeNames: (db) => Array.from(db.objectStoreNames),
    createStore: (db, name, keyPath) => { db.createObjectStore(name, {keyPath}); },

    transaction,
    abort,
    put,
    get: (tx, store, key) => tx.objectStore(store).get(key),
    getAll: (tx, store) => tx.objectStore(store).getAll(),
    delete: (tx, store, key) => { tx.objectStore(store).delete(key); },
    toPyFlat,

    // Whole operations, one call each, on the kept connection of database `name` at
    // `version` (missing stores created from specs [[store, keyPath], ...] when it opens):
    // one transaction and its requests. Saves resolve on commit, reads with toPyFlat of the
    // result. idleMs: how long the connection stays open after the last operation ends.
    saveRecords: saveLater,
    getRecord: (name, version, specs, idleMs, store, key) => operation(name, version, specs, idleMs,
      [store], 'readonly', (tx) => tx.objectStore(store).get(key), read),
    getAllRecords: (name, version, specs, idleMs, store) => operation(name, version, specs, idleMs,
      [store], 'readonly', (tx) => tx.objectStore(store).getAll(), read),
    deleteRecords: (name, version, specs, idleMs, deletes) => operation(name, version, specs, idleMs,
      deletes.map((d) => d[0]), 'readwrite',
      (tx) => { for (const [store, key] of deletes) tx.objectStore(store).delete(key); }),
    // Close the kept connections now (those in use once their operations end).
    closeConnections: closeAll,
  };
})
