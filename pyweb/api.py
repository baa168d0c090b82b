"""The public verbs: save, load, list, copy, move, remove (and async twins).

Each sync name has an ``a``-prefixed async twin that does the same work; a
name never returns a coroutine on one runtime and a value on another. Routing
goes through :mod:`pyweb.urls` and :mod:`pyweb.registry` only.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, Protocol, runtime_checkable

from ._checks import check_artifacts
from ._run import run_sync
from .artifacts import split_shards
from .errors import (
    CorruptModelError,
    HandlerUnavailableError,
    InvalidURLError,
    OperationNotSupportedError,
    RuntimeUnavailableError,
    SchemeError,
    StorageError,
    StoreUnavailableWarning,
)
from .registry import EXTRA_SCHEMES, get_factory, known_schemes
from .types import (
    Handler,
    ModelArtifacts,
    ModelArtifactsInfo,
    ModelStore,
    SaveResult,
    StoreFactory,
    WeightData,
    weight_data_nbytes,
)
from .urls import ModelURL, parse_url

__all__ = [
    "ModelListing",
    "acopy_model",
    "alist_models",
    "aload",
    "amove_model",
    "aremove_model",
    "asave",
    "copy_model",
    "handler_options",
    "list_models",
    "load",
    "move_model",
    "remove_model",
    "save",
]


def save(obj: Any, url: str | Handler, *, quantize: str | None = None, **options: Any) -> SaveResult:
    """Save a model to ``url``.

    Parameters
    ----------
    obj
        A :class:`~pyweb.ModelArtifacts`, or anything with a ``to_artifacts()``
        method returning one (pyweb's Layers models have it).
    url
        ``"scheme://path"`` (``file://dir``, ``memory://name``,
        ``http://host/upload``, ...) or a handler object.
    quantize
        ``"uint8"``, ``"uint16"`` or ``"float16"`` to store float32 weights
        quantized, as the TF.js converter does; ``None`` stores them as they are.
    **options
        Passed to the scheme's handler (e.g. ``shard_bytes=``, ``headers=``).

    Returns
    -------
    SaveResult
        With ``model_artifacts_info`` (date and byte counts).

    Raises
    ------
    InvalidURLError, SchemeError, OperationNotSupportedError, StorageError, ArtifactError

    Examples
    --------
    >>> pyweb.save(artifacts, "file:///tmp/my-model")  # doctest: +SKIP
    """
    handler, artifacts = _prepare_save(obj, url, quantize, options)
    return handler.save(artifacts)


async def asave(obj: Any, url: str | Handler, *, quantize: str | None = None, **options: Any) -> SaveResult:
    """Async twin of :func:`save`."""
    handler, artifacts = _prepare_save(obj, url, quantize, options)
    return await handler.asave(artifacts)


def load(url: str | Handler, **options: Any) -> ModelArtifacts:
    """Load the model at ``url``.

    Parameters
    ----------
    url
        ``"scheme://path"`` or a handler object.
    **options
        Passed to the scheme's handler (e.g. ``headers=``, ``on_progress=``).

    Returns
    -------
    ModelArtifacts
        Topology, metadata, weight specs and weight bytes; decode the bytes
        with :func:`pyweb.decode_weights`.

    Raises
    ------
    InvalidURLError, SchemeError, OperationNotSupportedError, ModelNotFoundError, CorruptModelError

    Examples
    --------
    >>> art = pyweb.load("file:///tmp/my-model")  # doctest: +SKIP
    >>> weights = pyweb.decode_weights(art.weight_data, art.weight_specs)  # doctest: +SKIP
    """
    handler = _handler(url, "load", options)
    return _checked(handler.load(), handler)


async def aload(url: str | Handler, **options: Any) -> ModelArtifacts:
    """Async twin of :func:`load`."""
    handler = _handler(url, "load", options)
    return _checked(await handler.aload(), handler)


def list_models(url: str | None = None, **options: Any) -> dict[str, ModelArtifactsInfo]:
    """List stored models as ``{url: ModelArtifactsInfo}``, URLs with scheme.

    With no argument, every scheme-wide store available here is listed
    (``memory://`` in CPython; ``localstorage://`` and ``indexeddb://`` in a
    browser or under :mod:`pyweb.emulation`), like TF.js's ``listModels``.
    The result is a :class:`ModelListing`: a dict whose ``unreachable``
    names each store left out and why; a store that exists here but failed
    (a page helper that did not answer, storage refused) also gives a
    :class:`~pyweb.errors.StoreUnavailableWarning`. With a URL, only that store
    (e.g. ``"file:///srv/models"``), and a failure raises; ``options`` go to
    that store (e.g. ``headers=`` for a pyweb server).
    """
    stores, unreachable = _stores(url, options)
    if any(not store.lists_synchronously for _, store in stores):
        return run_sync(_alist(stores, unreachable, url is None), twin="alist_models")
    listing = ModelListing(unreachable=unreachable)
    for scheme, store in stores:
        try:
            found = store.list_models()
        except (StorageError, RuntimeUnavailableError) as exc:
            if url is not None:
                raise
            _left_out(listing, scheme, exc)
            continue
        listing.update({str(ModelURL(scheme, path)): info for path, info in found.items()})
    return listing


async def alist_models(url: str | None = None, **options: Any) -> dict[str, ModelArtifactsInfo]:
    """Async twin of :func:`list_models`."""
    stores, unreachable = _stores(url, options)
    return await _alist(stores, unreachable, url is None)


class ModelListing(dict):  # type: ignore[type-arg]
    """``{url: ModelArtifactsInfo}`` from :func:`list_models`, and ``unreachable``: ``{scheme: reason}``."""

    def __init__(self, *args: Any, unreachable: dict[str, str] | None = None) -> None:
        super().__init__(*args)
        self.unreachable: dict[str, str] = dict(unreachable or {})


def _left_out(listing: ModelListing, scheme: str, exc: BaseException) -> None:
    listing.unreachable[scheme] = f"{type(exc).__name__}: {exc}"
    warnings.warn(f"{scheme}:// was not listed: {type(exc).__name__}: {exc}", StoreUnavailableWarning, stacklevel=3)


async def _alist(stores: list[tuple[str, ModelStore]], unreachable: dict[str, str], tolerant: bool) -> ModelListing:
    result = ModelListing(unreachable=unreachable)
    for scheme, store in stores:
        try:
            found = await store.alist_models()
        except (StorageError, RuntimeUnavailableError) as exc:
            if not tolerant:
                raise
            _left_out(result, scheme, exc)
            continue
        for path, info in found.items():
            result[str(ModelURL(scheme, path))] = info
    return result


def remove_model(url: str, **options: Any) -> ModelArtifactsInfo:
    """Delete the model at ``url`` and return what it was.

    ``options`` go to the scheme's store (e.g. ``headers=`` for a server).

    Raises
    ------
    ModelNotFoundError
        Nothing is stored there.
    OperationNotSupportedError
        The scheme cannot delete (e.g. ``downloads://``).
    """
    parsed = parse_url(url)
    return _store_for(parsed, options).remove_model(parsed.path)


async def aremove_model(url: str, **options: Any) -> ModelArtifactsInfo:
    """Async twin of :func:`remove_model`."""
    parsed = parse_url(url)
    return await _store_for(parsed, options).aremove_model(parsed.path)


def copy_model(
    src: str, dst: str, *, src_options: dict[str, Any] | None = None, dst_options: dict[str, Any] | None = None
) -> ModelArtifactsInfo:
    """Copy the model at ``src`` to ``dst`` (any two schemes); returns the new info.

    ``src_options``/``dst_options`` go to the two handlers (e.g. headers).

    Raises
    ------
    InvalidURLError
        ``src`` and ``dst`` name the same model (however spelled).
    """
    source, target = _pair(src, dst, src_options, dst_options)
    return target.save(_checked(source.load(), source)).model_artifacts_info


async def acopy_model(
    src: str, dst: str, *, src_options: dict[str, Any] | None = None, dst_options: dict[str, Any] | None = None
) -> ModelArtifactsInfo:
    """Async twin of :func:`copy_model`."""
    source, target = _pair(src, dst, src_options, dst_options)
    return (await target.asave(_checked(await source.aload(), source))).model_artifacts_info


def move_model(
    src: str, dst: str, *, src_options: dict[str, Any] | None = None, dst_options: dict[str, Any] | None = None
) -> ModelArtifactsInfo:
    """Move a model: copy, verify the copy loads identically, then delete ``src``.

    Unlike TF.js, the source is never deleted before the copy is safe, so a
    failed move leaves the model where it was. The destination must be
    loadable at ``dst`` (for a pyweb server, its ``/models/NAME/model.json``
    URL, which also accepts uploads).
    """
    source, target = _pair(src, dst, src_options, dst_options)
    store = _store_for(parse_url(src), _store_options(src, src_options))
    artifacts = _checked(source.load(), source)
    info = target.save(artifacts).model_artifacts_info
    _verify_copy(artifacts, _handler(dst, "load", dict(dst_options or {})).load(), dst)
    store.remove_model(parse_url(src).path)
    return info


async def amove_model(
    src: str, dst: str, *, src_options: dict[str, Any] | None = None, dst_options: dict[str, Any] | None = None
) -> ModelArtifactsInfo:
    """Async twin of :func:`move_model`."""
    source, target = _pair(src, dst, src_options, dst_options)
    store = _store_for(parse_url(src), _store_options(src, src_options))
    artifacts = _checked(await source.aload(), source)
    info = (await target.asave(artifacts)).model_artifacts_info
    _verify_copy(artifacts, await _handler(dst, "load", dict(dst_options or {})).aload(), dst)
    await store.aremove_model(parse_url(src).path)
    return info


# -- helpers ---------------------------------------------------------------


def _handler(url: str | Handler, mode: str, options: dict[str, Any]) -> Handler:
    if isinstance(url, Handler):
        if options:
            raise TypeError(f"options {sorted(options)} cannot be given with a handler object")
        handler = url
    else:
        parsed = parse_url(url)
        handler = get_factory(parsed.scheme)(parsed.path, **options)
    able = handler.can_save if mode == "save" else handler.can_load
    if not able:
        raise OperationNotSupportedError(f"{handler.url or type(handler).__name__} cannot {mode} models")
    return handler


def _checked(artifacts: ModelArtifacts, handler: Handler) -> ModelArtifacts:
    return check_artifacts(artifacts, url=handler.url or None)


def _prepare_save(
    obj: Any, url: str | Handler, quantize: str | None, options: dict[str, Any]
) -> tuple[Handler, ModelArtifacts]:
    artifacts = _as_artifacts(obj)
    if quantize is not None:
        from .weights import quantize_artifacts

        artifacts = quantize_artifacts(artifacts, quantize)
    return _handler(url, "save", options), artifacts


@runtime_checkable
class _Savable(Protocol):
    """What save() takes besides ModelArtifacts: a model that makes its artifacts (pyweb's Layers models)."""

    def to_artifacts(self) -> ModelArtifacts: ...


def _as_artifacts(obj: Any) -> ModelArtifacts:
    if isinstance(obj, ModelArtifacts):
        return obj
    if not isinstance(obj, _Savable):
        raise TypeError(f"cannot save a {type(obj).__name__}: pass ModelArtifacts or an object with to_artifacts()")
    artifacts = obj.to_artifacts()
    if inspect.isawaitable(artifacts) or not isinstance(artifacts, ModelArtifacts):
        raise TypeError(f"{type(obj).__name__}.to_artifacts() must return ModelArtifacts")
    return artifacts


def _pair(
    src: str, dst: str, src_options: dict[str, Any] | None, dst_options: dict[str, Any] | None
) -> tuple[Handler, Handler]:
    if src == dst:
        raise InvalidURLError(f"source and destination are the same: {src!r}")
    source = _handler(src, "load", dict(src_options or {}))
    target = _handler(dst, "save", dict(dst_options or {}))
    here, there = source.location, target.location
    if here is not None and type(source) is type(target) and here == there:
        raise InvalidURLError(f"{src!r} and {dst!r} are the same model ({here})")
    return source, target


def _verify_copy(original: ModelArtifacts, copy: ModelArtifacts, dst: str) -> None:
    same = (
        _same_bytes(original.weight_data, copy.weight_data)
        and (original.weight_specs or []) == (copy.weight_specs or [])
        and original.model_topology == copy.model_topology
    )
    if not same:
        raise CorruptModelError(
            f"the copy at {dst} does not match the source; the source was kept", part="model", url=dst
        )


def _same_bytes(a: WeightData | None, b: WeightData | None) -> bool:
    """Whether two weight buffers hold the same bytes, however each is cut into shards.

    Compares view by view: joining shards (``weight_bytes()``) would copy the whole model.
    """
    if weight_data_nbytes(a) != weight_data_nbytes(b):
        return False
    left, right = iter(split_shards(a, None)[0]), iter(split_shards(b, None)[0])
    x: memoryview | None = memoryview(b"")
    y: memoryview | None = memoryview(b"")
    while True:
        x = x if x is not None and x.nbytes else next(left, None)
        y = y if y is not None and y.nbytes else next(right, None)
        if x is None or y is None:  # one side is used up; the sizes are equal, so both are
            return True
        n = min(x.nbytes, y.nbytes)
        if x[:n] != y[:n]:
            return False
        x, y = x[n:], y[n:]


def _store_for(parsed: ModelURL, options: dict[str, Any]) -> ModelStore:
    factory = get_factory(parsed.scheme)
    if not isinstance(factory, StoreFactory):
        raise OperationNotSupportedError(f"{parsed.scheme}:// cannot list or remove models")
    return factory.open_store("", **options)


def _store_options(src: str, options: dict[str, Any] | None) -> dict[str, Any]:
    # A move's source options are handler options; pass on those its store takes too.
    factory = get_factory(parse_url(src).scheme)
    if not options or not isinstance(factory, StoreFactory):
        return {}
    return {k: v for k, v in options.items() if k in factory.store_options}


def handler_options(url: str, mode: str) -> frozenset[str]:
    """The keyword options the handler of ``url`` declares for ``mode`` (``"save"`` or ``"load"``).

    What ``pyweb convert`` asks before it offers ``--shard-bytes`` or a progress
    bar. A factory that is not a :class:`~pyweb.Handler` subclass declares none.

    Raises
    ------
    ValueError
        ``mode`` is neither ``"save"`` nor ``"load"``.
    InvalidURLError, SchemeError
        As :func:`load`.

    Examples
    --------
    >>> sorted(handler_options("file:///tmp/m", "load"))
    ['on_progress']
    """
    if mode not in ("save", "load"):
        raise ValueError(f"mode must be 'save' or 'load', not {mode!r}")
    factory = get_factory(parse_url(url).scheme)
    if not (isinstance(factory, type) and issubclass(factory, Handler)):
        return frozenset()
    return factory.save_options if mode == "save" else factory.load_options


def _stores(url: str | None, options: dict[str, Any]) -> tuple[list[tuple[str, ModelStore]], dict[str, str]]:
    """The stores to list, and the scheme-wide ones that do not exist here (scheme -> why)."""
    if url is not None:
        parsed = parse_url(url, allow_empty_path=True)
        factory = get_factory(parsed.scheme)
        if not isinstance(factory, StoreFactory):
            raise OperationNotSupportedError(f"{parsed.scheme}:// cannot list models")
        return [(parsed.scheme, factory.open_store(parsed.path, **options))], {}
    if options:
        raise TypeError("options need a URL: list_models(url, **options)")
    stores, absent = [], {}
    for scheme in known_schemes():
        try:
            factory = get_factory(scheme)
            if isinstance(factory, StoreFactory) and factory.global_store:
                stores.append((scheme, factory.open_store("")))
        except (RuntimeUnavailableError, SchemeError) as exc:  # not in this runtime (CPython without emulation)
            if isinstance(exc, HandlerUnavailableError) and scheme in EXTRA_SCHEMES:
                continue  # an extra that is not installed: no store to report
            absent[scheme] = f"{type(exc).__name__}: {exc}"
    return stores, absent
