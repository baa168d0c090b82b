"""The browser side of pyweb: the only package that imports ``js``/``pyodide``.

- :mod:`pyweb.browser.ffi`: bytes <-> typed arrays with one copy, JS nulls,
  plain objects, and the JS error -> pyweb error translation;
- :mod:`pyweb.browser.storage`: ``window.localStorage`` as a StorageLike,
  with base64 fast paths that keep big strings out of the FFI;
- :mod:`pyweb.browser.idb`: ``window.indexedDB`` as an IDBFactoryLike;
- :mod:`pyweb.browser.fetch`: JS ``fetch`` in the shape of pyweb's HTTP client.

Those modules raise RuntimeUnavailableError when imported outside Pyodide.
This package itself, and its pure helpers ``_errors`` and ``_records``,
import anywhere (tests check the error table in CPython).
"""
