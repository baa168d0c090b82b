"""Which handler serves which scheme.

Built-ins sit in one alphabetical table of dotted paths and are imported only
when first used; users add schemes with :func:`register_handler`, and other
packages through the ``pyweb.handlers`` entry-point group (read only when a
scheme is not found otherwise, so importing pyweb never needs package
metadata). Last, with the ``fsspec`` extra installed, every fsspec protocol
that is still unclaimed (``s3``, ``gs``, ``az``, ...) is served by
:mod:`pyweb.handlers.object_store`; :func:`known_schemes` leaves those out, as
there are dozens. Nothing registers itself as an import side effect.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from .errors import HandlerUnavailableError, SchemeError
from .types import HandlerFactory

__all__ = ["ENTRY_POINT_GROUP", "get_factory", "known_schemes", "register_handler", "registry", "unregister_handler"]

ENTRY_POINT_GROUP = "pyweb.handlers"

_FSSPEC_HINT = "object stores need the fsspec extra: pip install 'pyweb[fsspec]' (and s3fs, gcsfs or adlfs)"
# Object-store schemes named in the error when fsspec is missing; with fsspec, all of its protocols work.
_FSSPEC_SCHEMES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "hf", "oci", "oss", "webdav"})

#: Built-in schemes that need an optional extra; without it they are simply not there (list_models()
#: leaves them out rather than reporting them unreachable).
EXTRA_SCHEMES = frozenset({"fsspec"})

# scheme -> (dotted path "module:attr", hint shown when it cannot be loaded)
_BUILTINS: dict[str, tuple[str, str]] = {
    "downloads": (
        "pyweb.handlers.downloads:DownloadsHandler",
        (
            "downloads:// is part of pyweb's core; reinstall pyweb "
            "(in CPython, call pyweb.emulation.install(downloads_dir=...) first)"
        ),
    ),
    "file": ("pyweb.handlers.file:FileHandler", "file:// is part of pyweb's core; reinstall pyweb"),
    "fsspec": ("pyweb.handlers.object_store:FsspecHandler", _FSSPEC_HINT),
    "http": ("pyweb.handlers.http:HTTPHandler", "http:// is part of pyweb's core; reinstall pyweb"),
    "https": ("pyweb.handlers.http:HTTPHandler", "https:// needs Python's ssl module"),
    "indexeddb": (
        "pyweb.handlers.indexed_db:IndexedDBHandler",
        "indexeddb:// is part of pyweb's core; reinstall pyweb (in CPython, call pyweb.emulation.install() first)",
    ),
    "localstorage": (
        "pyweb.handlers.local_storage:LocalStorageHandler",
        "localstorage:// is part of pyweb's core; reinstall pyweb (in CPython, call pyweb.emulation.install() first)",
    ),
    "memory": ("pyweb.handlers.memory:MemoryHandler", "memory:// is part of pyweb's core; reinstall pyweb"),
}

_registered: dict[str, HandlerFactory | str] = {}
_loaded: dict[str, HandlerFactory] = {}
_entry_points: dict[str, Any] | None = None


def register_handler(scheme: str, factory: HandlerFactory | str, *, replace: bool = False) -> None:
    """Serve ``scheme://...`` URLs with ``factory``.

    Parameters
    ----------
    scheme
        The scheme, with or without ``://`` (``"s3"`` or ``"s3://"``).
    factory
        ``factory(path, **options) -> Handler``, usually a Handler subclass,
        or a dotted path ``"package.module:Name"`` imported on first use.
        If it has ``open_store(location, **options)``, the scheme also takes
        part in ``list_models``/``remove_model``.
    replace
        Allow replacing an existing registration (built-ins included).

    Raises
    ------
    ValueError
        Empty scheme, or the scheme is taken and ``replace`` is false.

    Examples
    --------
    >>> register_handler("mine", MyHandler)  # doctest: +SKIP
    """
    name = _normalize(scheme)
    if not name:
        raise ValueError("scheme must not be empty")
    if not replace and (name in _registered or name in _BUILTINS):
        raise ValueError(f"scheme {name!r} is already registered; pass replace=True to override it")
    if not (callable(factory) or isinstance(factory, str)):
        raise TypeError("factory must be callable or a dotted path 'module:Name'")
    _registered[name] = factory
    _loaded.pop(name, None)


def unregister_handler(scheme: str) -> None:
    """Forget a scheme registered with :func:`register_handler` (built-ins come back)."""
    name = _normalize(scheme)
    _registered.pop(name, None)
    _loaded.pop(name, None)


def get_factory(scheme: str) -> HandlerFactory:
    """The factory for ``scheme``, importing it on first use.

    Raises
    ------
    SchemeError
        Nothing serves this scheme; the message lists the known ones.
    HandlerUnavailableError
        The scheme is known but its module cannot be imported here.
    """
    name = _normalize(scheme)
    if name in _loaded:
        return _loaded[name]
    target, hint = _lookup(name)
    factory = _import(name, target, hint) if isinstance(target, str) else target
    _loaded[name] = factory
    return factory


def known_schemes() -> list[str]:
    """Every scheme pyweb can route, sorted (entry points included)."""
    return sorted(set(_BUILTINS) | set(_registered) | set(_discover()))


class _RegistryView(Mapping):
    """Read-only ``scheme -> factory or dotted path`` view of the registry."""

    def __getitem__(self, scheme: str) -> HandlerFactory | str:
        return _lookup(_normalize(scheme))[0]

    def __iter__(self) -> Iterator[str]:
        return iter(known_schemes())

    def __len__(self) -> int:
        return len(known_schemes())

    def __repr__(self) -> str:
        return f"<pyweb registry: {', '.join(self)}>"


registry = _RegistryView()


def _normalize(scheme: str) -> str:
    name = scheme.strip().lower()
    return name[:-3] if name.endswith("://") else name


def _lookup(name: str) -> tuple[HandlerFactory | str, str]:
    if name in _registered:
        return _registered[name], f"registered with pyweb.register_handler({name!r}, ...)"
    if name in _BUILTINS:
        return _BUILTINS[name]
    eps = _discover()
    if name in eps:
        return eps[name].value, f"from the {ENTRY_POINT_GROUP!r} entry point {eps[name].value!r}"
    factory = _fsspec_factory(name)
    if factory is not None:
        return factory, f"{name}:// is fsspec's protocol {name!r}"
    raise SchemeError(f"no handler for scheme {name + '://'!r}; known schemes: {', '.join(known_schemes())}")


def _import(name: str, target: str, hint: str) -> HandlerFactory:
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split(".") if attr else []:
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise HandlerUnavailableError(f"cannot load the handler for {name}:// ({target}): {exc}. {hint}") from exc
    return obj


def _fsspec_factory(name: str) -> HandlerFactory | None:
    """The object-store handler for fsspec protocol ``name``, or None if fsspec does not know it."""
    try:
        from .handlers.object_store import handler_for_protocol
    except ImportError as exc:  # no fsspec
        if name in _FSSPEC_SCHEMES:
            raise HandlerUnavailableError(f"{name}:// is not available: {_FSSPEC_HINT}") from exc
        return None
    return handler_for_protocol(name)


def _discover() -> dict[str, Any]:
    global _entry_points
    if _entry_points is None:
        try:
            from importlib.metadata import entry_points

            _entry_points = {ep.name.lower(): ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
        except Exception:  # noqa: BLE001  no metadata (vendored copy): no third-party schemes
            _entry_points = {}
    return _entry_points
