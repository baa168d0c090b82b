"""Browser storage for CPython: stand-ins for localStorage and IndexedDB.

Nothing here happens on import. :func:`install` puts a
:class:`FakeLocalStorage` and a :class:`FakeIndexedDB` where
``localstorage://`` and ``indexeddb://`` look for the browser's stores
(:mod:`pyweb.env`), so notebook code runs and is tested off the browser::

    import pyweb, pyweb.emulation

    with pyweb.emulation.install():
        pyweb.save(model, "localstorage://my-model")

**Origins.** A browser keeps storage, and quotas, per origin (scheme, host,
port: two ports on 127.0.0.1 are two origins, each with its own 5 Mi-unit
localStorage). An :class:`Origin` is that: one origin's two stores. Each
``install(origin="http://...")`` starts a fresh, empty origin; to come back to
one, pass the :class:`Origin` (``em.origin``) again, or give ``persist_dir``:
every origin then lives in its own sub-directory (``http_127.0.0.1_8000/``,
Chromium's naming) as ``localStorage.json`` and ``indexedDB.json``, loaded on
install and rewritten atomically after every change.

**Downloads.** ``install(downloads_dir=...)`` also serves ``downloads://``: the
files land in that folder as Firefox names them (:class:`FolderDownloads`).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from .. import env
from .downloads import FolderDownloads
from .indexed_db import FakeIndexedDB
from .local_storage import DEFAULT_QUOTA_UNITS, ENGINES, FakeLocalStorage

__all__ = [
    "DEFAULT_ORIGIN",
    "ENGINES",
    "Emulation",
    "FakeIndexedDB",
    "FakeLocalStorage",
    "FolderDownloads",
    "Origin",
    "install",
    "uninstall",
]

#: What ``pyweb serve`` and the demo use.
DEFAULT_ORIGIN = "http://127.0.0.1:8000"

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SLOTS = ("local_storage", "indexed_db", "downloads")  # pyweb.env platform names

# Emulations in effect, oldest first; uninstall() unwinds them newest first.
_stack: list[Emulation] = []


def normalize_origin(url: str) -> str:
    """``scheme://host[:port]``, lower-cased, default port dropped, path ignored.

    Raises
    ------
    ValueError
        ``url`` has no scheme or host.
    """
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        raise ValueError(f"an origin looks like 'http://127.0.0.1:8000', not {url!r}")
    scheme, host, port = parts.scheme.lower(), parts.hostname.lower(), parts.port
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{scheme}://{host}:{port}"


class Origin:
    """One origin's browser storage: a localStorage and an IndexedDB, each with its own quota.

    Parameters
    ----------
    url
        The origin, e.g. ``"http://127.0.0.1:8000"`` (normalized).
    local_storage, indexed_db
        Stores to use; fresh ones (persisted if ``persist_dir``) when ``None``.
    persist_dir
        Keep this origin's stores in ``persist_dir/<scheme>_<host>_<port>/``.
    engine
        Whose localStorage accounting a fresh store reproduces: ``"chromium"``,
        ``"firefox"`` or ``"webkit"`` (:class:`FakeLocalStorage`).

    Examples
    --------
    >>> a, b = Origin("http://127.0.0.1:8000"), Origin("http://127.0.0.1:8001")
    >>> a.local_storage is b.local_storage
    False
    """

    def __init__(
        self,
        url: str = DEFAULT_ORIGIN,
        *,
        local_storage: Any | None = None,
        indexed_db: Any | None = None,
        persist_dir: str | os.PathLike[str] | None = None,
        engine: str = "chromium",
    ) -> None:
        self.url = normalize_origin(url)
        self.directory = Path(persist_dir) / self.slug if persist_dir is not None else None
        if local_storage is None:
            path = self.directory / "localStorage.json" if self.directory else None
            local_storage = FakeLocalStorage(quota_units=DEFAULT_QUOTA_UNITS, persist_path=path, engine=engine)
        if indexed_db is None:
            path = self.directory / "indexedDB.json" if self.directory else None
            indexed_db = FakeIndexedDB(persist_path=path)
        self.local_storage = local_storage
        self.indexed_db = indexed_db

    @property
    def slug(self) -> str:
        """A directory name for the origin: ``http_127.0.0.1_8000``."""
        parts = urlsplit(self.url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
        host = (parts.hostname or "").replace(":", "_")
        return f"{parts.scheme}_{host}_{port}"

    def __repr__(self) -> str:
        return f"<Origin {self.url}>"


class Emulation:
    """The handle :func:`install` returns; a context manager that uninstalls on exit."""

    def __init__(self, origin: Origin, downloads: FolderDownloads | None = None) -> None:
        self.origin = origin
        #: The ``downloads://`` target, when installed with ``downloads_dir``.
        self.downloads = downloads
        self._previous: dict[str, Any] | None = None

    @property
    def local_storage(self) -> Any:
        """The StorageLike behind ``localstorage://`` (a :class:`FakeLocalStorage` unless given)."""
        return self.origin.local_storage

    @property
    def indexed_db(self) -> Any:
        """The IDBFactoryLike behind ``indexeddb://`` (a :class:`FakeIndexedDB` unless given)."""
        return self.origin.indexed_db

    @property
    def installed(self) -> bool:
        return self._previous is not None

    def _install(self) -> None:
        # pyweb.env keeps what was installed before in its private table; remember it to restore it.
        self._previous = {name: env._installed.get(name) for name in _SLOTS}
        env.set_platform("local_storage", self.local_storage)
        env.set_platform("indexed_db", self.indexed_db)
        if self.downloads is not None:
            env.set_platform("downloads", self.downloads)
        _stack.append(self)

    def uninstall(self) -> None:
        """Put back what :mod:`pyweb.env` had before this install (idempotent)."""
        if self._previous is None:
            return
        for name, obj in self._previous.items():
            env.set_platform(name, obj)
        self._previous = None
        if self in _stack:
            _stack.remove(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.uninstall()

    def __repr__(self) -> str:
        return f"<Emulation {self.origin.url} {'installed' if self.installed else 'uninstalled'}>"


def install(
    *,
    local_storage: Any | None = None,
    indexed_db: Any | None = None,
    origin: str | Origin = DEFAULT_ORIGIN,
    persist_dir: str | os.PathLike[str] | None = None,
    downloads_dir: str | os.PathLike[str] | None = None,
    engine: str | None = None,
) -> Emulation:
    """Serve ``localstorage://`` and ``indexeddb://`` from stand-ins in this process.

    Parameters
    ----------
    local_storage
        A StorageLike to use; a fresh :class:`FakeLocalStorage` if ``None``.
    indexed_db
        An IDBFactoryLike to use; a fresh :class:`FakeIndexedDB` if ``None``.
    origin
        The origin whose storage this is: a URL (a new :class:`Origin`) or an
        :class:`Origin` to reuse its stores.
    persist_dir
        Keep the origin's stores on disk under this directory (see the module
        docstring); ignored for stores passed in.
    downloads_dir
        Also serve ``downloads://``, writing the files into this folder
        (:class:`FolderDownloads`); without it ``downloads://`` stays unavailable.
    engine
        Whose localStorage accounting and errors the fresh store reproduces:
        ``"chromium"`` (the default) or ``"firefox"`` (5,242,880 UTF-16 units),
        or ``"webkit"`` (5,242,880 bytes: 1 a Latin-1 character, else 2 a unit).

    Returns
    -------
    Emulation
        With ``.local_storage``, ``.indexed_db``, ``.downloads``, ``.origin`` and
        ``uninstall()``; as a context manager it uninstalls on exit, putting
        back whatever was installed before.

    Raises
    ------
    TypeError
        An :class:`Origin` was given together with stores, ``persist_dir`` or ``engine``.
    ValueError
        ``engine`` is not one of :data:`ENGINES`.

    Examples
    --------
    >>> with install() as em:  # doctest: +SKIP
    ...     pyweb.save(artifacts, "localstorage://m")
    ...     em.local_storage.remaining_units
    """
    if isinstance(origin, Origin):
        if local_storage is not None or indexed_db is not None or persist_dir is not None or engine is not None:
            raise TypeError("pass an Origin, or stores/persist_dir/engine for a new one, not both")
    else:
        if engine is not None and local_storage is not None:
            raise TypeError("engine sets up a fresh localStorage; pass local_storage or engine, not both")
        origin = Origin(
            origin,
            local_storage=local_storage,
            indexed_db=indexed_db,
            persist_dir=persist_dir,
            engine=engine or "chromium",
        )
    emulation = Emulation(origin, FolderDownloads(downloads_dir) if downloads_dir is not None else None)
    emulation._install()
    return emulation


def uninstall() -> None:
    """Undo every :func:`install` still in effect, newest first."""
    while _stack:
        _stack[-1].uninstall()
