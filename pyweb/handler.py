"""The two extension points, :class:`Handler` and :class:`ModelStore`, and what they declare.

A scheme is a :class:`Handler` subclass (see CONTRIBUTING.md, "Adding a
scheme"). What a handler can do is declared, not probed: the options its
constructor takes for a save or a load (:attr:`Handler.save_options`,
:attr:`Handler.load_options`), the :attr:`Handler.location` that tells two URLs
for one model apart, and, for schemes that list and remove models, the
:class:`StoreFactory` Protocol (``open_store``, ``global_store``,
``store_options``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

from ._twins import overrides, run_twin
from .data import ModelArtifacts, ModelArtifactsInfo, SaveResult
from .errors import OperationNotSupportedError

__all__ = ["Handler", "HandlerFactory", "ModelStore", "StoreFactory"]


class Handler:
    """Saves and/or loads one model location.

    Subclasses implement what they support: the sync pair ``save``/``load``
    (for stores that are synchronous underneath; the async twins then call
    them directly) or the async pair ``asave``/``aload`` (sync calls then go
    through :func:`pyweb._run.run_sync`). A method left out raises
    :class:`~pyweb.errors.OperationNotSupportedError`.
    """

    #: The URL this handler was made for, used in error messages.
    url: str = ""
    #: Keyword options of the constructor that act on a save, and on a load
    #: (``pyweb convert`` offers ``--shard-bytes`` or a progress bar only where declared).
    save_options: ClassVar[frozenset[str]] = frozenset()
    load_options: ClassVar[frozenset[str]] = frozenset()
    #: With an ``open_store`` classmethod (:class:`StoreFactory`): whether
    #: ``pyweb.list_models()`` with no URL lists this scheme, and which options
    #: ``open_store`` takes (a move passes those of its source's options on to it).
    global_store: ClassVar[bool] = False
    store_options: ClassVar[frozenset[str]] = frozenset()

    @property
    def location(self) -> str | None:
        """What names the stored model, so two URLs for one model agree here; None when unknown."""
        return None

    def save(self, artifacts: ModelArtifacts) -> SaveResult:
        if overrides(self, "asave", Handler):
            return run_twin(self.asave(artifacts), twin="asave")
        raise OperationNotSupportedError(
            f"{type(self).__name__} cannot save ({self.url or 'this scheme'} is load-only)"
        )

    def load(self) -> ModelArtifacts:
        if overrides(self, "aload", Handler):
            return run_twin(self.aload(), twin="aload")
        raise OperationNotSupportedError(
            f"{type(self).__name__} cannot load ({self.url or 'this scheme'} is save-only)"
        )

    async def asave(self, artifacts: ModelArtifacts) -> SaveResult:
        if overrides(self, "save", Handler):
            return self.save(artifacts)
        raise OperationNotSupportedError(
            f"{type(self).__name__} cannot save ({self.url or 'this scheme'} is load-only)"
        )

    async def aload(self) -> ModelArtifacts:
        if overrides(self, "load", Handler):
            return self.load()
        raise OperationNotSupportedError(
            f"{type(self).__name__} cannot load ({self.url or 'this scheme'} is save-only)"
        )

    @property
    def can_save(self) -> bool:
        return overrides(self, "save", Handler) or overrides(self, "asave", Handler)

    @property
    def can_load(self) -> bool:
        return overrides(self, "load", Handler) or overrides(self, "aload", Handler)


class ModelStore:
    """A place that can enumerate and delete its models (TF.js's manager).

    Paths are returned without the scheme; :mod:`pyweb.api` adds it. As with
    :class:`Handler`, implement the sync or the async pair.
    """

    @property
    def lists_synchronously(self) -> bool:
        """Whether ``list_models`` runs without an event loop (the store implements it, not only its twin)."""
        return overrides(self, "list_models", ModelStore)

    def list_models(self) -> dict[str, ModelArtifactsInfo]:
        if overrides(self, "alist_models", ModelStore):
            return run_twin(self.alist_models(), twin="alist_models")
        raise OperationNotSupportedError(f"{type(self).__name__} cannot list models")

    def remove_model(self, path: str) -> ModelArtifactsInfo:
        if overrides(self, "aremove_model", ModelStore):
            return run_twin(self.aremove_model(path), twin="aremove_model")
        raise OperationNotSupportedError(f"{type(self).__name__} cannot remove models")

    async def alist_models(self) -> dict[str, ModelArtifactsInfo]:
        if overrides(self, "list_models", ModelStore):
            return self.list_models()
        raise OperationNotSupportedError(f"{type(self).__name__} cannot list models")

    async def aremove_model(self, path: str) -> ModelArtifactsInfo:
        if overrides(self, "remove_model", ModelStore):
            return self.remove_model(path)
        raise OperationNotSupportedError(f"{type(self).__name__} cannot remove models")


@runtime_checkable
class HandlerFactory(Protocol):
    """Makes a handler for the path of a URL (the part after ``scheme://``).

    A factory that can also open its scheme's :class:`ModelStore` is a
    :class:`StoreFactory` too.
    """

    def __call__(self, path: str, /, *args: Any, **options: Any) -> Handler: ...


@runtime_checkable
class StoreFactory(Protocol):
    """A handler factory that takes part in list/remove/move: it opens its scheme's store.

    ``open_store(location, **options)``: ``location`` is ``""`` for a
    scheme-wide store (memory, localstorage) or a path for a located one
    (file); ``options`` are among ``store_options``. ``global_store`` says
    whether ``pyweb.list_models()`` with no URL includes it. A
    :class:`Handler` subclass is one as soon as it defines the
    ``open_store`` classmethod (it inherits the two attributes).
    """

    global_store: bool
    store_options: frozenset[str]

    def open_store(self, location: str = "", /, *args: Any, **options: Any) -> ModelStore: ...
