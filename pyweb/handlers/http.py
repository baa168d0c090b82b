"""``http://`` and ``https://``: load with GET, save with a multipart POST.

The same requests TF.js's ``tf.io.http`` makes (tfjs-core/src/io/http.ts):
load fetches ``model.json`` and then every weight file, resolving their URLs
exactly as TF.js does (:func:`weight_urls`); save POSTs ``multipart/form-data``
with a ``model.json`` part and a ``model.weights.bin`` part, so a server
written for TF.js accepts pyweb's uploads and the other way round.

Differences from TF.js, all on the side of failing loudly:

- weight responses are status-checked (``strict_status=True``): a 404/410
  raises :class:`~pyweb.errors.CorruptModelError` naming the weight path (the
  model.json exists, so the model is incomplete), any other non-2xx
  :class:`~pyweb.errors.HTTPStatusError`; TF.js would use an error page's
  body as weights. ``strict_status=False`` restores TF.js's behaviour;
- a 404 or 410 on ``model.json`` raises ModelNotFoundError (a StorageError,
  like HTTPStatusError, and a FileNotFoundError);
- loads always use GET, whatever ``request_init["method"]`` says (TF.js
  reuses the whole requestInit, so a ``PUT`` meant for saving would load
  with PUT too); ``method=`` and ``request_init["method"]`` apply to saves;
- ``sha256`` digests in the manifest (written with ``integrity=True``,
  ignored by TF.js) are checked;
- ``on_progress`` is called once per weight file as it completes (TF.js calls
  it twice, for the response and for the body) and once with 1.0 when there
  are no weight files (TF.js fails an assertion then).

Handlers are async only; ``pyweb.load("http://...")`` runs them through
:func:`pyweb._run.run_sync`. The transport is ``fetch_func(url, init)``
(JS fetch's shape); it defaults to :func:`pyweb._http_client.fetch` in CPython
and to :func:`pyweb.browser.fetch.browser_fetch` (JS fetch) in Pyodide.
``list_models``/``remove_model`` work against a ``pyweb serve`` server
(:class:`HTTPModelStore`): ``GET <root>/models`` and ``DELETE <model url>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urljoin

from .. import _http_client
from .._http_client import FetchResponse
from .._multipart import encode_multipart, multipart_parts
from ..artifacts import (
    HTTP_WEIGHTS_PATH,
    MODEL_JSON,
    WEIGHTS_FILE,
    add_integrity,
    artifacts_info,
    check_integrity,
    check_shard_bytes,
    info_from_json,
    load_json,
    manifest_paths,
    parse_model_json,
    require_json_topology,
    shard_paths,
    split_shards,
    to_model_json,
)
from ..env import IN_PYODIDE
from ..errors import (
    ArtifactError,
    CorruptModelError,
    HTTPStatusError,
    InvalidURLError,
    ModelNotFoundError,
    RequestTimeoutError,
)
from ..types import BytesLike, Handler, ModelArtifacts, ModelArtifactsInfo, ModelStore, SaveResult

__all__ = ["FetchFunc", "FetchResponse", "HTTPHandler", "HTTPModelStore", "split_weight_prefix", "weight_urls"]

FetchFunc = Callable[[str, dict[str, Any]], Awaitable[FetchResponse]]
#: The connections of the handler operation running in this task and the tasks it started.
#: pyweb's own client (compared by identity: a fetch_func in its place is used as given).
_OWN_FETCH = _http_client.fetch
_SESSION: contextvars.ContextVar[_http_client.Session | None] = contextvars.ContextVar("pyweb_http", default=None)

_GONE = (404, 410)
#: Largest model.json pyweb's own client reads (TF.js's largest graph models have a few MB).
MAX_MODEL_JSON_BYTES = 256 << 20


def _weights_bound(manifest: list[dict[str, Any]], url: str) -> int | None:
    """The bytes the specs need (no weight file can usefully hold more), or None with string weights."""
    from ..weights import weights_nbytes

    specs = [spec for group in manifest for spec in group["weights"]]
    try:
        return weights_nbytes(specs)
    except ArtifactError:
        return None  # string weights (size in the data) or specs the load check will refuse


def split_weight_prefix(url: str) -> tuple[str, str]:
    """TF.js's ``parseUrl``: (prefix up to and including the last ``/``, query suffix).

    The suffix is the text from the last ``?`` only if that ``?`` follows the
    last ``/``; a URL without ``/`` gets the prefix ``"/"`` (the site root).

    Examples
    --------
    >>> split_weight_prefix("http://g.com/a?x=1/file?param=1")
    ('http://g.com/a?x=1/', '?param=1')
    """
    slash = url.rfind("/")
    query = url.rfind("?")
    return url[: max(slash, 0)] + "/", url[query:] if query > slash else ""


async def weight_urls(
    model_url: str,
    paths: list[str],
    *,
    weight_path_prefix: str | None = None,
    weight_url_converter: Callable[[str], str | Awaitable[str]] | None = None,
) -> list[str]:
    """The URL of each manifest path, as TF.js's ``getWeightUrls`` builds it.

    ``(weight_path_prefix or prefix) + path + query`` by plain concatenation
    (no ``/`` added, ``./`` kept); a ``weight_url_converter`` (sync or async)
    replaces all of that.

    Examples
    --------
    >>> asyncio.run(weight_urls("http://h/m/model.json?v=2", ["w.bin"]))
    ['http://h/m/w.bin?v=2']
    """
    if weight_url_converter is not None:
        urls = [weight_url_converter(path) for path in paths]
        return [await u if inspect.isawaitable(u) else u for u in urls]
    prefix, suffix = split_weight_prefix(model_url)
    return [(weight_path_prefix or prefix) + path + suffix for path in paths]


class HTTPHandler(Handler):
    """Load a model from, or upload one to, an HTTP(S) URL.

    Parameters
    ----------
    url
        For loads, the URL of ``model.json``; for saves, the upload URL.
    request_init
        JS-fetch-style options for every request (``headers``, ``method``,
        ``credentials``, ...); must not have a ``body``.
    headers
        Extra headers, merged over ``request_init["headers"]``.
    method
        The save method (default ``request_init["method"]`` or ``"POST"``).
    weight_path_prefix, weight_url_converter
        Where weight files are fetched from (see :func:`weight_urls`).
    on_progress
        Called with a fraction in (0, 1] after each weight file; ends at 1.0.
    fetch_func
        ``async fetch_func(url, init) -> FetchResponse``, ``init`` holding
        ``method``, ``headers`` and ``body`` as JS fetch's does. The default
        is pyweb's asyncio client, and JS fetch in Pyodide (no sockets there).
    max_parallel
        At most this many weight files are fetched at once.
    shard_bytes
        Save the weights as ``group1-shardIofK.bin`` parts of this size
        instead of one ``model.weights.bin`` part.
    integrity
        Save a ``sha256`` per weight file in the manifest.
    timeout
        Seconds per request; ``None`` waits forever.
    strict_status
        Check weight responses' status (TF.js does not).

    Examples
    --------
    >>> pyweb.load("https://example.com/m/model.json", headers={"Authorization": "Bearer x"})  # doctest: +SKIP
    """

    save_options = frozenset({"request_init", "headers", "fetch_func", "timeout", "method", "shard_bytes", "integrity"})
    load_options = frozenset(
        {
            "request_init",
            "headers",
            "fetch_func",
            "timeout",
            "weight_path_prefix",
            "weight_url_converter",
            "on_progress",
            "max_parallel",
            "strict_status",
        }
    )
    store_options = frozenset({"headers", "request_init", "fetch_func", "timeout"})

    def __init__(
        self,
        url: str,
        *,
        request_init: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        method: str | None = None,
        weight_path_prefix: str | None = None,
        weight_url_converter: Callable[[str], str | Awaitable[str]] | None = None,
        on_progress: Callable[[float], Any] | None = None,
        fetch_func: FetchFunc | None = None,
        max_parallel: int = 4,
        shard_bytes: int | None = None,
        integrity: bool = False,
        timeout: float | None = 60.0,
        strict_status: bool = True,
    ) -> None:
        if not isinstance(url, str) or not url.strip():
            raise InvalidURLError("URL path for http must not be empty")
        request_init = dict(request_init or {})
        if request_init.get("body") is not None:
            raise ValueError("request_init must not have a body; pyweb builds the body itself")
        if fetch_func is not None and not callable(fetch_func):
            raise TypeError("fetch_func must be an async function (url, init) -> FetchResponse")
        if not isinstance(max_parallel, int) or max_parallel < 1:
            raise ValueError(f"max_parallel must be a positive integer, not {max_parallel!r}")
        check_shard_bytes(shard_bytes)
        self.url = url
        self.headers = _merge_headers(request_init.pop("headers", None), headers)
        self.method = (method or request_init.pop("method", None) or "POST").upper()
        request_init.pop("method", None)
        self.request_init = request_init
        self.weight_path_prefix = weight_path_prefix
        self.weight_url_converter = weight_url_converter
        self.on_progress = on_progress
        self.fetch_func = fetch_func or _default_fetch()
        self.max_parallel = max_parallel
        self.shard_bytes = shard_bytes
        self.integrity = integrity
        self.timeout = timeout
        self.strict_status = strict_status

    # -- load ----------------------------------------------------------------

    async def aload(self) -> ModelArtifacts:
        async with self._session():
            return await self._aload()

    async def _aload(self) -> ModelArtifacts:
        response = await self._fetch(self.url, "GET", max_bytes=MAX_MODEL_JSON_BYTES)
        if response.status in _GONE:
            raise ModelNotFoundError(f"no model at {self.url} (HTTP {response.status})", url=self.url)
        if not response.ok:
            raise HTTPStatusError(
                f"request to {self.url} failed with HTTP {response.status}; check that this URL serves the model's "
                "model.json",
                url=self.url,
                status=response.status,
            )
        artifacts, manifest = self._parse(response.body)
        if manifest is not None:
            artifacts.weight_data = await self._load_weights(manifest)
        return artifacts

    @property
    def location(self) -> str:
        """The model's URL: two URLs naming one model agree here."""
        return self.url

    def _parse(self, body: BytesLike) -> tuple[ModelArtifacts, list[dict[str, Any]] | None]:
        try:
            return parse_model_json(body, url=self.url)
        except CorruptModelError as exc:
            if not self.url.split("?")[0].endswith(".pb"):
                raise
            raise CorruptModelError(
                f"{exc}. .pb models are not supported since TensorFlow.js 1.0; convert the model to model.json",
                part=exc.part,
                url=exc.url,
            ) from exc

    async def _load_weights(self, manifest: list[dict[str, Any]]) -> list[BytesLike]:
        paths = manifest_paths(manifest)
        urls = await weight_urls(
            self.url, paths, weight_path_prefix=self.weight_path_prefix, weight_url_converter=self.weight_url_converter
        )
        where = [(group, i) for group in manifest for i in range(len(group["paths"]))]
        limit = asyncio.Semaphore(self.max_parallel)
        most = _weights_bound(manifest, self.url)  # no one file can hold more than all the weights
        done = 0

        async def one(url: str, group: dict[str, Any], index: int) -> BytesLike:
            nonlocal done
            async with limit:
                data = await self._fetch_weight(url, group["paths"][index], most)
            check_integrity(group, index, data, url=url)
            done += 1
            self._progress(done / len(urls))
            return data

        if not urls:
            self._progress(1.0)
            return []
        return await _gather_all([one(url, g, i) for url, (g, i) in zip(urls, where)])

    async def _fetch_weight(self, url: str, path: str, max_bytes: int | None) -> BytesLike:
        response = await self._fetch(url, "GET", max_bytes=max_bytes)
        if self.strict_status and response.status in _GONE:
            raise CorruptModelError(
                f"weight file {path!r} of {self.url} is missing (HTTP {response.status} from {url})", part=path, url=url
            )
        if self.strict_status and not response.ok:
            message = f"weight file {path!r} of {self.url}: HTTP {response.status} from {url}"
            raise HTTPStatusError(message, url=url, status=response.status)
        return response.body

    def _progress(self, fraction: float) -> None:
        if self.on_progress is not None:
            self.on_progress(fraction)

    # -- save ----------------------------------------------------------------

    async def asave(self, artifacts: ModelArtifacts) -> SaveResult:
        require_json_topology(artifacts, self.url)
        info = artifacts_info(artifacts)
        parts = self._weight_parts(artifacts)
        group: dict[str, Any] = {"paths": [name for name, _ in parts] if parts is not None else [HTTP_WEIGHTS_PATH]}
        if artifacts.weight_specs is not None:
            group["weights"] = artifacts.weight_specs
        if self.integrity and parts is not None:
            add_integrity(group, [views for _, views in parts])
        model_json = to_model_json(artifacts, [group]).encode("utf-8", "surrogatepass")
        fields = [(MODEL_JSON, "application/json", [memoryview(model_json)])]
        fields += [(_field_name(name), "application/octet-stream", views) for name, views in parts or []]
        body: list[memoryview] | bytearray
        if self.fetch_func is _OWN_FETCH:  # pyweb's client sends the pieces one after another
            body, content_type = multipart_parts(fields)
        else:
            body, content_type = encode_multipart(fields)
        async with self._session():
            response = await self._fetch(self.url, self.method, body=body, content_type=content_type)
        if not response.ok:
            raise HTTPStatusError(
                f"saving to {self.url} failed with HTTP {response.status}", url=self.url, status=response.status
            )
        return SaveResult(info, responses=[response])

    def _weight_parts(self, artifacts: ModelArtifacts) -> list[tuple[str, list[memoryview]]] | None:
        # None: no weight data, so (as TF.js) no weights part, but the path
        # stays in the manifest. Otherwise (path, buffers) per weight file.
        if artifacts.weight_data is None:
            return None
        pieces = split_shards(artifacts.weight_data, self.shard_bytes)
        if self.shard_bytes is None:
            return [(HTTP_WEIGHTS_PATH, pieces[0])]
        return list(zip(shard_paths(len(pieces)), pieces))

    # -- transport -------------------------------------------------------------

    async def _fetch(
        self, url: str, method: str, *, body: Any = None, content_type: str | None = None, max_bytes: int | None = None
    ) -> FetchResponse:
        headers = dict(self.headers)
        if content_type is not None:
            headers = _merge_headers(headers, {"Content-Type": content_type})
        init = {**self.request_init, "method": method, "headers": headers, "body": body}
        fetch_func = self.fetch_func
        if fetch_func is _OWN_FETCH:
            if max_bytes is not None:
                init["max_bytes"] = max_bytes
            session = _SESSION.get()
            fetch_func = fetch_func if session is None else session.fetch
        return await _with_timeout(fetch_func(url, init), self.timeout, url)

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[None]:
        """Within it, pyweb's own client keeps connections open between requests (closed at the end)."""
        if self.fetch_func is not _OWN_FETCH or _SESSION.get() is not None:
            yield
            return
        async with _http_client.Session() as session:
            token = _SESSION.set(session)
            try:
                yield
            finally:
                _SESSION.reset(token)

    # -- listing (a pyweb server) ----------------------------------------------

    @classmethod
    def open_store(
        cls,
        location: str = "",
        *,
        headers: dict[str, str] | None = None,
        request_init: dict[str, Any] | None = None,
        fetch_func: FetchFunc | None = None,
        timeout: float | None = 60.0,
    ) -> HTTPModelStore:
        """A store for a ``pyweb serve`` server at ``location`` (its root URL)."""
        return HTTPModelStore(
            location, headers=headers, request_init=request_init, fetch_func=fetch_func, timeout=timeout
        )


class HTTPModelStore(ModelStore):
    """List and delete models on a ``pyweb serve`` server.

    ``list_models`` GETs ``<location>/models``; ``remove_model(url)`` sends
    DELETE to the model's URL, which any server that supports DELETE accepts.

    Parameters
    ----------
    location
        The server's root URL, e.g. ``"http://127.0.0.1:8000/"``.
    headers, request_init, fetch_func, timeout
        As for :class:`HTTPHandler` (e.g. ``{"Authorization": "Bearer ..."}``);
        only ``request_init["headers"]`` is used.
    """

    def __init__(
        self,
        location: str = "",
        *,
        headers: dict[str, str] | None = None,
        request_init: dict[str, Any] | None = None,
        fetch_func: FetchFunc | None = None,
        timeout: float | None = 60.0,
    ) -> None:
        # request_init is accepted so a move can pass its source options here.
        self.location = location
        self.headers = _merge_headers((request_init or {}).get("headers"), headers)
        self.fetch_func = fetch_func or _default_fetch()
        self.timeout = timeout

    async def alist_models(self) -> dict[str, ModelArtifactsInfo]:
        url = self.location.rstrip("/") + "/models"
        doc = await self._json(url, "GET")
        models = doc.get("models") if isinstance(doc, dict) else None
        if not isinstance(models, list) or not all(
            isinstance(m, dict) and isinstance(m.get("url"), str) for m in models
        ):
            raise CorruptModelError(f"{url} did not answer with a model listing", part="models", url=url)
        return {urljoin(url, m["url"]): info_from_json(m.get("modelArtifactsInfo"), url=url) for m in models}

    async def aremove_model(self, path: str) -> ModelArtifactsInfo:
        doc = await self._json(path, "DELETE")
        return info_from_json(doc.get("modelArtifactsInfo") if isinstance(doc, dict) else doc, url=path)

    async def _json(self, url: str, method: str) -> dict[str, Any]:
        init = {"method": method, "headers": dict(self.headers), "body": None}
        response = await _with_timeout(self.fetch_func(url, init), self.timeout, url)
        if response.status in _GONE:
            raise ModelNotFoundError(f"nothing at {url} (HTTP {response.status})", url=url)
        if not response.ok:
            raise HTTPStatusError(f"{method} {url} failed with HTTP {response.status}", url=url, status=response.status)
        try:
            doc: dict[str, Any] = load_json(response.body, part="response", url=url)
            return doc
        except CorruptModelError as exc:
            raise HTTPStatusError(f"{url} did not answer with JSON", url=url, status=response.status) from exc


# -- helpers ---------------------------------------------------------------------


def _default_fetch() -> FetchFunc:
    """JS fetch in Pyodide (it has no sockets), pyweb's asyncio client elsewhere."""
    if IN_PYODIDE:
        from ..browser.fetch import browser_fetch

        return browser_fetch
    return _http_client.fetch


def _field_name(path: str) -> str:
    # TF.js names the part "model.weights.bin" for the path "./model.weights.bin".
    return WEIGHTS_FILE if path == HTTP_WEIGHTS_PATH else path


def _merge_headers(*dicts: dict[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in dicts:
        for key, value in (d or {}).items():
            for old in [k for k in out if k.lower() == key.lower()]:
                del out[old]
            out[key] = value
    return out


async def _with_timeout(awaitable: Awaitable[FetchResponse], timeout: float | None, url: str) -> FetchResponse:
    if timeout is None:
        return await awaitable
    try:
        return await asyncio.wait_for(awaitable, timeout)  # cancels the fetch, which closes its connection
    except TimeoutError as exc:
        raise RequestTimeoutError(f"no answer from {url} within {timeout} s", url=url, timeout=timeout) from exc


async def _gather_all(coros: list[Awaitable[BytesLike]]) -> list[BytesLike]:
    """Run all; on the first failure cancel the rest (closing their connections) and raise it."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
