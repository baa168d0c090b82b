"""JS ``fetch`` in the shape of pyweb's HTTP client (``fetch(url, init)``).

Pyodide has no sockets, so in the browser :class:`~pyweb.handlers.http.HTTPHandler`
uses :func:`browser_fetch` instead of :func:`pyweb._http_client.fetch`. The
request body crosses as a Uint8Array (one copy, ``to_js`` of a memoryview)
and the response body comes back with ``arrayBuffer()`` and ``.to_bytes()``
(one copy). Cancelling the coroutine (``asyncio.wait_for`` timeouts do)
aborts the request through an AbortController, as Pyodide's ``pyfetch``
does (pyodide http/_pyfetch.py ``_abort_on_cancel``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from .._http_client import FetchResponse
from .ffi import to_js_object, to_uint8array, translate_js_errors  # first: raises outside Pyodide

# isort: split
import js  # after the guard

__all__ = ["browser_fetch"]


async def browser_fetch(url: str, init: dict[str, Any] | None = None) -> FetchResponse:
    """Fetch ``url`` with JS fetch; ``init`` as for JS (method, headers, body, ...).

    ``body`` may be bytes-like or str; other keys (``credentials``, ``mode``,
    ``cache``, ...) pass through to JS unchanged. Redirects are followed by
    the browser.

    Returns
    -------
    FetchResponse
        Status, lower-cased headers, the whole body as bytes, the final URL.

    Raises
    ------
    StorageError
        The request failed (network error, CORS refusal: JS ``TypeError``).

    Examples
    --------
    >>> response = await browser_fetch("/models/m/model.json", {"method": "GET"})  # doctest: +SKIP
    >>> response.ok, len(response.body)  # doctest: +SKIP
    (True, 1462)
    """
    controller = js.AbortController.new()
    options = {key: value for key, value in (init or {}).items() if key != "body" and value is not None}
    options["method"] = str(options.get("method") or "GET").upper()
    options["headers"] = dict(options.get("headers") or {})
    js_init = to_js_object(options)
    js_init.signal = controller.signal
    body = (init or {}).get("body")
    if body is not None:
        js_init.body = to_uint8array(body.encode("utf-8") if isinstance(body, str) else body)
    try:
        with translate_js_errors(url=url, action=f"{options['method']} {url}"):
            response = await js.fetch(url, js_init)
            data = await response.arrayBuffer()
    except asyncio.CancelledError:
        controller.abort()
        raise
    return FetchResponse(
        status=int(response.status),
        headers=_headers(response),
        body=data.to_bytes(),
        url=str(response.url or url),
        reason=str(response.statusText or ""),
    )


def _headers(response: Any) -> dict[str, str]:
    # Headers iterates lower-cased names, repeated ones already joined by ", ".
    return {str(k): str(v) for k, v in js.Object.fromEntries(response.headers.entries()).to_py().items()}
