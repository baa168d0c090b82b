"""The public verbs: save, load, list, copy, move, remove (and async twins).

Each sync name has an ``a``-prefixed async twin that does the same work; a
name never returns a coroutine on one runtime and a value on another. Routing
goes through :mod:`pyweb.urls` and :mod:`pyweb.registry` only.
"""

from __future__ import annotations

import inspect
from typing import Any

from ._run import run_sync
from .errors import CorruptModelError, InvalidURLError, OperationNotSupportedError, RuntimeUnavailableError, SchemeError
from .registry import get_factory, known_schemes
from .types import Handler, ModelArtifacts, ModelArtifactsInfo, ModelStore, SaveResult, _overrides
from .urls import ModelURL, parse_url

__all__ = [
    "acopy_model",
    "alist_models",
    "aload",
    "amove_model",
    "aremove_model",
    "asave",
    "copy_model",
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
    return _handler(url, "load", options).load()


async def aload(url: str | Handler, **options: Any) -> ModelArtifacts:
    """Async twin of :func:`load`."""
    return await _handler(url, "load", options).aload()


def list_models(url: str | None = None) -> dict[str, ModelArtifactsInfo]:
    """List stored models as ``{url: ModelArtifactsInfo}``, URLs with scheme.

    With no argument, every scheme-wide store available here is listed
    (``memory://`` in CPython; ``localstorage://`` and ``indexeddb://`` in a
    browser or under :mod:`pyweb.emulation`), like TF.js's ``listModels``.
    With a URL, only that store (e.g. ``"file:///srv/models"``).
    """
    return run_sync(alist_models(url), twin="alist_models") if _needs_async(url) else _list_sync(url)


async def alist_models(url: str | None = None) -> dict[str, ModelArtifactsInfo]:
    """Async twin of :func:`list_models`."""
    result: dict[str, ModelArtifactsInfo] = {}
    for scheme, store in _stores(url):
        for path, info in (await store.alist_models()).items():
            result[str(ModelURL(scheme, path))] = info
    return result


def remove_model(url: str) -> ModelArtifactsInfo:
    """Delete the model at ``url`` and return what it was.

    Raises
    ------
    ModelNotFoundError
        Nothing is stored there.
    OperationNotSupportedError
        The scheme cannot delete (e.g. ``downloads://``).
    """
    parsed = parse_url(url)
    return _store_for(parsed).remove_model(parsed.path)


async def aremove_model(url: str) -> ModelArtifactsInfo:
    """Async twin of :func:`remove_model`."""
    parsed = parse_url(url)
    return await _store_for(parsed).aremove_model(parsed.path)


def copy_model(src: str, dst: str) -> ModelArtifactsInfo:
    """Copy the model at ``src`` to ``dst`` (any two schemes); returns the new info."""
    _check_pair(src, dst)
    artifacts = load(src)
    return save(artifacts, dst).model_artifacts_info


async def acopy_model(src: str, dst: str) -> ModelArtifactsInfo:
    """Async twin of :func:`copy_model`."""
    _check_pair(src, dst)
    artifacts = await aload(src)
    return (await asave(artifacts, dst)).model_artifacts_info


def move_model(src: str, dst: str) -> ModelArtifactsInfo:
    """Move a model: copy, verify the copy loads identically, then delete ``src``.

    Unlike TF.js, the source is never deleted before the copy is safe, so a
    failed move leaves the model where it was.
    """
    _check_pair(src, dst)
    store = _store_for(parse_url(src))
    artifacts = load(src)
    info = save(artifacts, dst).model_artifacts_info
    _verify_copy(artifacts, load(dst), dst)
    store.remove_model(parse_url(src).path)
    return info


async def amove_model(src: str, dst: str) -> ModelArtifactsInfo:
    """Async twin of :func:`move_model`."""
    _check_pair(src, dst)
    store = _store_for(parse_url(src))
    artifacts = await aload(src)
    info = (await asave(artifacts, dst)).model_artifacts_info
    _verify_copy(artifacts, await aload(dst), dst)
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
        raise OperationNotSupportedError(f"{getattr(handler, 'url', '') or type(handler).__name__} cannot {mode} models")
    return handler


def _prepare_save(obj: Any, url: str | Handler, quantize: str | None, options: dict[str, Any]) -> tuple[Handler, ModelArtifacts]:
    artifacts = _as_artifacts(obj)
    if quantize is not None:
        from .weights import quantize_artifacts

        artifacts = quantize_artifacts(artifacts, quantize)
    return _handler(url, "save", options), artifacts


def _as_artifacts(obj: Any) -> ModelArtifacts:
    if isinstance(obj, ModelArtifacts):
        return obj
    to_artifacts = getattr(obj, "to_artifacts", None)
    if to_artifacts is None:
        raise TypeError(f"cannot save a {type(obj).__name__}: pass ModelArtifacts or an object with to_artifacts()")
    artifacts = to_artifacts()
    if inspect.isawaitable(artifacts) or not isinstance(artifacts, ModelArtifacts):
        raise TypeError(f"{type(obj).__name__}.to_artifacts() must return ModelArtifacts")
    return artifacts


def _check_pair(src: str, dst: str) -> None:
    if src == dst:
        raise InvalidURLError(f"source and destination are the same: {src!r}")
    parse_url(src), parse_url(dst)


def _verify_copy(original: ModelArtifacts, copy: ModelArtifacts, dst: str) -> None:
    same = (
        bytes(original.weight_bytes()) == bytes(copy.weight_bytes())
        and (original.weight_specs or []) == (copy.weight_specs or [])
        and original.model_topology == copy.model_topology
    )
    if not same:
        raise CorruptModelError(f"the copy at {dst} does not match the source; the source was kept", part="model", url=dst)


def _store_for(parsed: ModelURL) -> ModelStore:
    factory = get_factory(parsed.scheme)
    open_store = getattr(factory, "open_store", None)
    if open_store is None:
        raise OperationNotSupportedError(f"{parsed.scheme}:// cannot list or remove models")
    return open_store("")


def _stores(url: str | None) -> list[tuple[str, ModelStore]]:
    if url is not None:
        parsed = parse_url(url, allow_empty_path=True)
        factory = get_factory(parsed.scheme)
        if not hasattr(factory, "open_store"):
            raise OperationNotSupportedError(f"{parsed.scheme}:// cannot list models")
        return [(parsed.scheme, factory.open_store(parsed.path))]
    stores = []
    for scheme in known_schemes():
        try:
            factory = get_factory(scheme)
            if getattr(factory, "global_store", False):
                stores.append((scheme, factory.open_store("")))
        except (RuntimeUnavailableError, SchemeError):
            continue
    return stores


def _needs_async(url: str | None) -> bool:
    return any(not _overrides(store, "list_models", ModelStore) for _, store in _stores(url))


def _list_sync(url: str | None) -> dict[str, ModelArtifactsInfo]:
    result: dict[str, ModelArtifactsInfo] = {}
    for scheme, store in _stores(url):
        for path, info in store.list_models().items():
            result[str(ModelURL(scheme, path))] = info
    return result

