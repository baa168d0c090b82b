"""JS error name -> pyweb error class: the one translation table.

Pure Python (no ``js``), so CPython tests can check it is complete; the
context manager that applies it lives in :mod:`pyweb.browser.ffi`.

The names are the DOMException names IndexedDB and Web Storage can raise
(IndexedDB 3.0 and HTML "Web storage" specs), plus what ``fetch``, ``atob``
and ``Uint8Array.fromBase64`` throw. Anything not listed becomes a plain
:class:`~pyweb.errors.StorageError`.
"""

from __future__ import annotations

from ..errors import CorruptModelError, QuotaExceededError, StorageError

__all__ = ["JS_ERROR_TABLE", "error_class", "make_error"]

#: JS ``error.name`` -> the pyweb class raised for it.
JS_ERROR_TABLE: dict[str, type[StorageError | CorruptModelError]] = {
    # The store is full. localStorage throws it from setItem; IndexedDB
    # reports it on the request (Firefox) or only as the transaction's abort
    # reason with an empty message (Chromium).
    "QuotaExceededError": QuotaExceededError,
    # IndexedDB: a transaction or request was aborted (also the name fetch
    # rejects with when its AbortController fires).
    "AbortError": StorageError,
    # IndexedDB: an add() or index would break a uniqueness constraint.
    "ConstraintError": StorageError,
    # IndexedDB: the value cannot be structured-cloned.
    "DataCloneError": StorageError,
    # IndexedDB: the key is not a valid key (or not what the keyPath yields).
    "DataError": StorageError,
    "InvalidAccessError": StorageError,
    # IndexedDB: the database, store or request is closed, deleted or not done.
    "InvalidStateError": StorageError,
    # IndexedDB: an object store or index of that name does not exist. This is
    # a database of the wrong shape, not a missing model: handlers detect
    # missing models themselves and raise ModelNotFoundError.
    "NotFoundError": StorageError,
    "ReadOnlyError": StorageError,
    "TransactionInactiveError": StorageError,
    "UnknownError": StorageError,
    # IndexedDB: the database on disk is newer than the version asked for.
    "VersionError": StorageError,
    "TimeoutError": StorageError,
    # localStorage / indexedDB denied (opaque origin, storage disabled, ...).
    "SecurityError": StorageError,
    "NotAllowedError": StorageError,
    "NotSupportedError": StorageError,
    # fetch: network failure, CORS refusal, bad init.
    "TypeError": StorageError,
    "NetworkError": StorageError,
    # An ArrayBuffer too large to allocate.
    "RangeError": StorageError,
    # Stored text that should be base64 is not (atob / Uint8Array.fromBase64).
    "InvalidCharacterError": CorruptModelError,
    "SyntaxError": CorruptModelError,
    # pyweb's page helper: a stored record JSON cannot carry (a BigInt, a cycle).
    "UnreadableRecordError": CorruptModelError,
}


def error_class(name: str | None) -> type[StorageError | CorruptModelError]:
    """The pyweb class for a JS error name (StorageError when unknown)."""
    return JS_ERROR_TABLE.get(name or "", StorageError)


def make_error(
    name: str | None, message: str | None, *, url: str | None = None, action: str | None = None
) -> StorageError | CorruptModelError:
    """Build the pyweb error for a JS error ``name``/``message``."""
    cls = error_class(name)
    text = f"{name or 'Error'}: {message}" if message and message != name else (name or "unknown JavaScript error")
    if action:
        text = f"{action}{f' ({url})' if url else ''} failed: {text}"
    elif url:
        text = f"{url}: {text}"
    return cls(text, url=url)
