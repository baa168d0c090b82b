"""IndexedDB records <-> (JSON text, buffers): the pure half of the IDB edge.

A record crosses the FFI as one JSON text plus a list of byte buffers, so a
nested dict costs one string crossing instead of one per value, and weights
cross as buffers (one copy each). Values JSON cannot hold are replaced by
one-key tag objects: ``{TAG_BUFFER: i}`` for the i-th buffer (an
ArrayBuffer in JS) and ``{TAG_DATE: iso}`` for a Date. The JS helpers in
:mod:`pyweb.browser.idb` apply the same tags in the other direction.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from ..artifacts import MAX_JSON_DEPTH, js_dumps, js_iso, json_text_depth, parse_js_iso
from ..errors import CorruptModelError

__all__ = ["TAG_BUFFER", "TAG_DATE", "decode_record", "encode_record"]

# A NUL first character: no JSON key TF.js or a user writes looks like this.
TAG_BUFFER = "\u0000pyweb:buffer"
TAG_DATE = "\u0000pyweb:date"

_BYTES = (bytes, bytearray, memoryview)


def encode_record(value: Any) -> tuple[str, list[memoryview]]:
    """JSON text of ``value`` with buffers and datetimes tagged, and the buffers.

    ``None`` is written as ``null``; NaN and infinities too (as JSON.stringify).
    ``{"w": b"xy"}`` gives ``'{"w":{"\\u0000pyweb:buffer":0}}'`` and ``[memoryview(b"xy")]``.
    """
    buffers: list[memoryview] = []
    return js_dumps(_tag(value, buffers)), buffers


def _tag(value: Any, buffers: list[memoryview]) -> Any:
    if isinstance(value, dict):
        return {key: _tag(item, buffers) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_tag(item, buffers) for item in value]
    if isinstance(value, _BYTES):
        view = memoryview(value)
        buffers.append(view if view.format == "B" and view.ndim == 1 else view.cast("B"))
        return {TAG_BUFFER: len(buffers) - 1}
    if isinstance(value, _dt.datetime):
        return {TAG_DATE: js_iso(value)}
    return value


def decode_record(text: str | None, buffers: list[bytes]) -> Any:
    """The inverse of :func:`encode_record`: tags become bytes and aware datetimes.

    ``text`` is ``None`` for a JS ``undefined`` (e.g. a get() that found nothing).
    """
    if text is None:
        return None

    def untag(obj: dict[str, Any]) -> Any:
        if len(obj) == 1:
            if TAG_BUFFER in obj:
                return buffers[obj[TAG_BUFFER]]
            if TAG_DATE in obj:
                return None if obj[TAG_DATE] is None else parse_js_iso(obj[TAG_DATE])
        return obj

    # A record is a few levels around a model's JSON fields (each at most MAX_JSON_DEPTH deep).
    if json_text_depth(text) > MAX_JSON_DEPTH + 8:
        raise CorruptModelError(f"a stored record nests deeper than {MAX_JSON_DEPTH}", part="record")
    return json.loads(text, object_hook=untag)
