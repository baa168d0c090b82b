"""pyweb: save and load TensorFlow.js models from Python, in CPython and Pyodide.

Models are saved to and loaded from URL-like schemes (``file://``,
``http://``, ``memory://``, and in the browser ``localstorage://`` and
``indexeddb://``) in exactly the formats TensorFlow.js 4.22 reads and writes.

The weight codec needs numpy; it is imported only when first used, so pyweb
can move bytes in a Pyodide page that has not loaded numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from .api import (
    acopy_model,
    alist_models,
    aload,
    amove_model,
    aremove_model,
    asave,
    copy_model,
    list_models,
    load,
    move_model,
    remove_model,
    save,
)
from .artifacts import from_model_json, to_model_json
from .handlers.browser_files import browser_files
from .handlers.memory import from_memory, with_save_handler
from .registry import register_handler, registry, unregister_handler
from .types import Handler, ModelArtifacts, ModelArtifactsInfo, ModelStore, SaveResult

if TYPE_CHECKING:  # the lazy exports (see __getattr__), as type checkers and IDEs should see them
    from . import layers
    from .layers import aload_layers_model, load_layers_model
    from .weights import DTYPES, decode_weights, encode_weights

__version__ = "0.1.0"

__all__ = [
    "DTYPES",
    "Handler",
    "ModelArtifacts",
    "ModelArtifactsInfo",
    "ModelStore",
    "SaveResult",
    "acopy_model",
    "alist_models",
    "aload",
    "aload_layers_model",
    "amove_model",
    "aremove_model",
    "asave",
    "browser_files",
    "copy_model",
    "decode_weights",
    "encode_weights",
    "errors",
    "from_memory",
    "from_model_json",
    "layers",
    "list_models",
    "load",
    "load_layers_model",
    "move_model",
    "register_handler",
    "registry",
    "remove_model",
    "save",
    "to_model_json",
    "unregister_handler",
    "with_save_handler",
]

_NUMPY_NAMES = {"DTYPES", "decode_weights", "encode_weights"}
_LAYERS_NAMES = {"aload_layers_model", "load_layers_model"}


def __getattr__(name: str) -> Any:
    if name in _NUMPY_NAMES:
        from . import weights

        return getattr(weights, name)
    if name == "layers" or name in _LAYERS_NAMES:
        import importlib

        layers = importlib.import_module(".layers", __name__)
        return layers if name == "layers" else getattr(layers, name)
    raise AttributeError(f"module 'pyweb' has no attribute {name!r}")
