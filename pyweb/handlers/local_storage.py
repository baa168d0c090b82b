"""``localstorage://path``: a model as five localStorage items, as TF.js stores it.

Keys and values are byte-identical to TF.js 4.22's (tfjs-core/src/io/local_storage.ts),
so either side loads what the other saved:

==============================================  ==========================================
key                                             value
==============================================  ==========================================
``tensorflowjs_models/<path>/info``             JSON of the ModelArtifactsInfo (ISO date)
``tensorflowjs_models/<path>/model_topology``   JSON of the topology
``tensorflowjs_models/<path>/weight_specs``     JSON of the flat weight specs
``tensorflowjs_models/<path>/weight_data``      base64 of all weight bytes (``""`` if none)
``tensorflowjs_models/<path>/model_metadata``   JSON of format, generatedBy, convertedBy, ...
==============================================  ==========================================

The store is any :class:`~pyweb.types.StorageLike`: the page's localStorage
in Pyodide, :class:`pyweb.emulation.FakeLocalStorage` in CPython, or your own.
It is synchronous underneath, so ``save``/``load`` never need an event loop.

Differences from TF.js:

- A failed save (quota or anything else) leaves the previous model at that
  path exactly as it was; TF.js deletes it. The old values are read first;
  on failure the keys touched so far are removed, then the old values are
  put back (removing first, the rollback never needs more room than the
  store had). The error is :class:`~pyweb.errors.QuotaExceededError` with
  ``requested_bytes`` when the store was full (in the store's engine's own bytes: WebKit
  counts 1 a Latin-1 character, Chromium and Firefox 2 a UTF-16 unit).
- A topology or weight specs saved as ``None`` are written as TF.js writes
  ``undefined`` (the text ``undefined``), which TF.js cannot load; pyweb
  loads that text back as ``None``.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any, cast

from ..artifacts import (
    artifacts_info,
    artifacts_to_json_dict,
    info_from_json,
    info_to_json,
    js_dumps,
    load_json,
    now_ms,
    require_json_topology,
)
from ..errors import ArtifactError, CorruptModelError, InvalidURLError, ModelNotFoundError, QuotaExceededError
from ..types import (
    Base64Storage,
    EngineStorage,
    Handler,
    ModelArtifacts,
    ModelArtifactsInfo,
    ModelStore,
    SaveResult,
    StorageLike,
)

__all__ = ["LocalStorageHandler", "LocalStorageStore", "model_keys", "requested_bytes"]

# TF.js compatibility: the exact key layout TF.js uses (local_storage.ts), so
# models saved by either library are found by the other. Not pyweb-namespaced
# on purpose: a different prefix would hide every model from TF.js.
KEY_PREFIX = "tensorflowjs_models"
SEPARATOR = "/"
INFO = "info"
MODEL_TOPOLOGY = "model_topology"
WEIGHT_SPECS = "weight_specs"
WEIGHT_DATA = "weight_data"
MODEL_METADATA = "model_metadata"
#: Suffixes in the order TF.js writes them.
SUFFIXES = (INFO, MODEL_TOPOLOGY, WEIGHT_SPECS, WEIGHT_DATA, MODEL_METADATA)
SCHEME = "localstorage://"

# model_metadata keys, in TF.js's order; only convertedBy may be null.
_METADATA_KEYS = (
    "format",
    "generatedBy",
    "convertedBy",
    "signature",
    "userDefinedMetadata",
    "modelInitializer",
    "initializerSignature",
    "trainingConfig",
)
# JSON.stringify(undefined) is undefined, which setItem stores as this text.
_UNDEFINED = "undefined"


def model_keys(path: str) -> dict[str, str]:
    """The five localStorage keys of the model at ``path``, by suffix."""
    return {suffix: SEPARATOR.join((KEY_PREFIX, path, suffix)) for suffix in SUFFIXES}


class LocalStorageHandler(Handler):
    """Save to and load from ``localstorage://path``.

    Parameters
    ----------
    path
        The model's name; may contain ``/``.
    storage
        The StorageLike to use; by default :func:`pyweb.env.local_storage`,
        looked up at each call (the page's localStorage in Pyodide).

    Examples
    --------
    >>> pyweb.save(artifacts, "localstorage://my-model")  # doctest: +SKIP
    """

    save_options = load_options = store_options = frozenset({"storage"})
    global_store = True

    def __init__(self, path: str, *, storage: StorageLike | None = None) -> None:
        if not isinstance(path, str) or not path:
            raise InvalidURLError("localstorage:// needs a model path, e.g. 'localstorage://my-model'")
        self.path = path
        self.url = SCHEME + path
        self.keys = model_keys(path)
        self._storage = storage

    @property
    def storage(self) -> StorageLike:
        return self._storage if self._storage is not None else _default_storage()

    # -- save ----------------------------------------------------------------

    def save(self, artifacts: ModelArtifacts) -> SaveResult:
        require_json_topology(artifacts, "localstorage://")
        info = artifacts_info(artifacts, date=now_ms())
        texts, weights = self._values(artifacts, info)
        storage = self.storage
        old = _snapshot(storage, self.keys)
        touched: list[str] = []
        try:
            for suffix in SUFFIXES:
                key = self.keys[suffix]
                touched.append(key)
                _write(storage, key, texts.get(suffix), weights if suffix == WEIGHT_DATA else None)
        except BaseException as exc:
            _rollback(storage, touched, old, exc)
            if isinstance(exc, QuotaExceededError):
                raise self._quota_error(texts, weights, exc) from exc
            raise
        return SaveResult(info)

    def _values(self, artifacts: ModelArtifacts, info: ModelArtifactsInfo) -> tuple[dict[str, str], memoryview]:
        doc = artifacts_to_json_dict(dataclasses.replace(artifacts, weight_data=None))  # no join: metadata only
        texts = {
            INFO: js_dumps(info_to_json(info)),
            MODEL_TOPOLOGY: _json_or_undefined(artifacts.model_topology),
            WEIGHT_SPECS: _json_or_undefined(artifacts.weight_specs),
            MODEL_METADATA: js_dumps({key: doc[key] for key in _METADATA_KEYS if key in doc}),
        }
        return texts, artifacts.weight_bytes()

    def _quota_error(self, texts: dict[str, str], weights: memoryview, exc: QuotaExceededError) -> QuotaExceededError:
        # A store may say whose accounting it has (FakeLocalStorage, the page's localStorage); WebKit counts bytes.
        engine = self.storage.engine if isinstance(self.storage, EngineStorage) else "chromium"
        needed = requested_bytes(self.keys, texts, weights.nbytes, engine=engine)
        if engine == "webkit":
            counted = (
                "keys and values as WebKit counts them: 1 byte a character of an all-Latin-1 string, else 2 a "
                "UTF-16 unit; WebKit allows 5,242,880 bytes per origin, about 3.75 MiB of weights as base64"
            )
        else:
            counted = (
                "keys and values as UTF-16; Chromium and Firefox allow 5,242,880 characters per origin, about "
                "3.75 MiB of weights as base64"
            )
        return QuotaExceededError(
            f"localStorage is full: saving {self.url} needs {needed} bytes ({counted}). The "
            "previous model there, if any, was kept. Free space with pyweb.remove_model(...) or save to "
            "indexeddb:// instead.",
            url=self.url,
            requested_bytes=needed,
            available_bytes=exc.available_bytes,
        )

    # -- load ----------------------------------------------------------------

    def load(self) -> ModelArtifacts:
        storage = self.storage
        info = self._parse(storage.getItem(self.keys[INFO]), INFO)
        if info is None:
            raise ModelNotFoundError(f"no model at {self.url}", url=self.url)
        if not isinstance(info, dict):
            raise CorruptModelError(f"{self.url}: its info is not a JSON object", part=INFO, url=self.url)
        if info.get("modelTopologyType") != "JSON":
            raise ArtifactError(f"{self.url} holds a binary (non-JSON) topology; localstorage:// cannot load it")
        artifacts = ModelArtifacts(
            model_topology=self._required(storage, MODEL_TOPOLOGY),
            weight_specs=self._required(storage, WEIGHT_SPECS),
        )
        self._apply_metadata(artifacts, storage.getItem(self.keys[MODEL_METADATA]))
        artifacts.weight_data = self._weights(storage)
        return artifacts

    def _required(self, storage: StorageLike, suffix: str) -> Any:
        text = storage.getItem(self.keys[suffix])
        if text == _UNDEFINED:  # saved without this part (see the module docstring)
            return None
        value = self._parse(text, suffix)
        if value is None:  # TF.js: absent or null means missing
            raise CorruptModelError(f"{self.url} is incomplete: its {suffix} is missing", part=suffix, url=self.url)
        return value

    def _apply_metadata(self, artifacts: ModelArtifacts, text: str | None) -> None:
        # Optional: models saved before TF.js 1.0 have none.
        if text is None:
            return
        meta = self._parse(text, MODEL_METADATA)
        if not isinstance(meta, dict):
            message = f"{self.url}: model_metadata is not a JSON object"
            raise CorruptModelError(message, part=MODEL_METADATA, url=self.url)
        artifacts.format = meta.get("format")
        artifacts.generated_by = meta.get("generatedBy")
        artifacts.converted_by = meta.get("convertedBy")
        artifacts.signature = meta.get("signature")
        artifacts.user_defined_metadata = meta.get("userDefinedMetadata")
        artifacts.model_initializer = meta.get("modelInitializer")
        artifacts.initializer_signature = meta.get("initializerSignature")
        artifacts.training_config = meta.get("trainingConfig")
        head = ("format", "generatedBy", "convertedBy")
        artifacts.absent_keys = frozenset(k for k in head if k not in meta)
        artifacts.null_keys = frozenset(k for k in head if k in meta and meta[k] is None)

    def _weights(self, storage: StorageLike) -> bytes:
        key = self.keys[WEIGHT_DATA]
        try:
            data = _read_base64(storage, key)
        except ValueError as exc:  # CorruptModelError from the browser's decoder is one too
            raise CorruptModelError(f"{self.url}: weight_data is not base64", part=WEIGHT_DATA, url=self.url) from exc
        if data is None:
            message = f"{self.url} is incomplete: its weight_data is missing"
            raise CorruptModelError(message, part=WEIGHT_DATA, url=self.url)
        return data

    def _parse(self, text: str | None, part: str) -> Any:
        if text is None:
            return None
        return load_json(text, part=part, url=self.url)

    # -- listing ---------------------------------------------------------------

    @classmethod
    def open_store(cls, location: str = "", *, storage: StorageLike | None = None) -> LocalStorageStore:
        """The scheme-wide store (``location`` is ignored: one localStorage per origin).

        Raises RuntimeUnavailableError where there is no localStorage, so
        ``pyweb.list_models()`` skips the scheme there.
        """
        return LocalStorageStore(storage if storage is not None else _default_storage())


class LocalStorageStore(ModelStore):
    """Lists and removes ``localstorage://`` models (TF.js's BrowserLocalStorageManager)."""

    def __init__(self, storage: StorageLike) -> None:
        self.storage = storage

    def list_models(self) -> dict[str, ModelArtifactsInfo]:
        prefix, suffix = KEY_PREFIX + SEPARATOR, SEPARATOR + INFO
        found: dict[str, ModelArtifactsInfo] = {}
        for index in range(self.storage.length):
            key = self.storage.key(index)
            if key is None or not (key.startswith(prefix) and key.endswith(suffix)):
                continue
            parts = key.split(SEPARATOR)
            if len(parts) < 3:
                continue
            path = SEPARATOR.join(parts[1:-1])
            found[path] = _parse_info(self.storage.getItem(key), path)
        return found

    def remove_model(self, path: str) -> ModelArtifactsInfo:
        path = path.removeprefix(SCHEME)
        keys = model_keys(path)
        text = self.storage.getItem(keys[INFO])
        if text is None:
            raise ModelNotFoundError(f"no model at {SCHEME}{path}", url=SCHEME + path)
        info = _parse_info(text, path)
        for key in keys.values():
            self.storage.removeItem(key)
        return info


# -- helpers -----------------------------------------------------------------------


def requested_bytes(keys: dict[str, str], texts: dict[str, str], weight_nbytes: int, engine: str = "chromium") -> int:
    """Bytes a save needs: 2 per UTF-16 unit of every key and value (Chromium and Firefox count so).

    With ``engine="webkit"``, WebKit's own bytes: 1 a character of an all-Latin-1 key or
    value, else 2 a UTF-16 unit. The weights' base64 takes ``4 * ceil(n / 3)`` characters.
    """
    from ..emulation.local_storage import bytes_per_unit, storage_units

    units = sum(storage_units(key, engine) for key in keys.values())
    units += sum(storage_units(text, engine) for text in texts.values())
    units += 4 * -(-weight_nbytes // 3)  # base64 is ASCII: one unit a character in every engine
    return bytes_per_unit(engine) * units


def _default_storage() -> StorageLike:
    from .. import env

    return env.local_storage()


def _json_or_undefined(value: Any) -> str:
    return _UNDEFINED if value is None else js_dumps(value)


def _write(storage: StorageLike, key: str, text: str | None, weights: memoryview | None) -> None:
    if weights is None:
        storage.setItem(key, cast(str, text))  # every text part is set; only weight_data may be None
    elif isinstance(storage, Base64Storage):
        storage.set_base64(key, weights)  # bytes cross once; the base64 text stays in the store
    else:
        storage.setItem(key, base64.b64encode(weights).decode("ascii"))


def _read_base64(storage: StorageLike, key: str) -> bytes | None:
    if isinstance(storage, Base64Storage):
        return storage.get_base64(key)
    text = storage.getItem(key)
    return None if text is None else base64.b64decode(text, validate=True)


# An old value: ("text", str) or ("base64", bytes) for weight_data read through
# the fast path (so a large old model never crosses as a string).
_Old = tuple[str, Any]


def _snapshot(storage: StorageLike, keys: dict[str, str]) -> dict[str, _Old]:
    old: dict[str, _Old] = {}
    for suffix, key in keys.items():
        value = _snapshot_one(storage, key, fast=suffix == WEIGHT_DATA and isinstance(storage, Base64Storage))
        if value is not None:
            old[key] = value
    return old


def _snapshot_one(storage: StorageLike, key: str, *, fast: bool) -> _Old | None:
    if fast and isinstance(storage, Base64Storage):
        try:
            data = storage.get_base64(key)
            return None if data is None else ("base64", data)
        except ValueError:
            pass  # not base64: keep the text as it is
    text = storage.getItem(key)
    return None if text is None else ("text", text)


def _rollback(storage: StorageLike, touched: list[str], old: dict[str, _Old], error: BaseException) -> None:
    """Remove what this save touched, then put the old values back."""
    failures = []
    for key in reversed(touched):
        try:
            storage.removeItem(key)
        except Exception as exc:  # noqa: BLE001 - keep going: restore as much as possible
            failures.append(exc)
    for key in touched:
        if key in old:
            kind, value = old[key]
            try:
                if kind == "base64":  # set_base64 if the store has it: it may offer only get_base64
                    _write(storage, key, None, memoryview(value))
                else:
                    storage.setItem(key, value)
            except Exception as exc:  # noqa: BLE001
                failures.append(exc)
    if failures:
        error.add_note(f"pyweb could not fully restore the previous model: {failures!r}")


def _parse_info(text: str | None, path: str) -> ModelArtifactsInfo:
    url = SCHEME + path
    return info_from_json(load_json(text or "", part=INFO, url=url), part=INFO, url=url)
