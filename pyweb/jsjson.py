"""JavaScript's JSON, exactly: ``JSON.stringify``, ``JSON.parse``'s refusals, JS numbers and dates.

What TF.js writes is what ``JSON.stringify`` writes: compact separators, JS
number formatting, integer-like keys first, minimal string escaping. The
functions here reproduce it, and read stored JSON with the limits a browser
has. Pure functions, no I/O.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from typing import Any

from .errors import ArtifactError, CorruptModelError

__all__ = [
    "MAX_JSON_DEPTH",
    "js_dumps",
    "js_iso",
    "js_number",
    "json_depth",
    "json_text_depth",
    "load_json",
    "now_ms",
    "parse_js_iso",
    "utf16_units",
]

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\ud800-\udfff]')
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def js_dumps(value: Any) -> str:
    """Serialise ``value`` exactly as JavaScript's ``JSON.stringify(value)``.

    ``None``, NaN and infinities become ``null``; floats use JS's shortest
    round-trip form (``1`` not ``1.0``, ``1e-7`` not ``1e-07``); object keys
    that are array indices come first in ascending order; only ``"``, ``\\``,
    control characters and lone surrogates are escaped.

    Examples
    --------
    >>> js_dumps({"b": 1.0, "2": 1e-7, "a": [None, float("nan")]})
    '{"2":1e-7,"b":1,"a":[null,null]}'
    """
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if value is None or value is True or value is False:
        out.append("null" if value is None else ("true" if value else "false"))
    elif isinstance(value, str):
        out.append(_js_string(value))
    elif isinstance(value, (int, float)):
        out.append(js_number(value))
    elif isinstance(value, dict):
        _write_object(value, out)
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, _dt.datetime):
        out.append(_js_string(js_iso(value)))
    elif hasattr(value, "tolist"):  # numpy scalars and arrays
        _write(value.tolist(), out)
    else:
        raise ArtifactError(f"cannot write a {type(value).__name__} into model JSON: {value!r}")


def _write_object(value: dict[str, Any], out: list[str]) -> None:
    for key in value:
        if not isinstance(key, str):
            raise ArtifactError(f"JSON object keys must be strings, not {type(key).__name__}: {key!r}")
    index_keys = sorted((k for k in value if _is_array_index(k)), key=int)
    other_keys = [k for k in value if not _is_array_index(k)]
    out.append("{")
    first = True
    for key in index_keys + other_keys:
        if not first:
            out.append(",")
        first = False
        out.append(_js_string(key))
        out.append(":")
        _write(value[key], out)
    out.append("}")


def _is_array_index(key: str) -> bool:
    # JS orders "array index" keys (canonical integers below 2**32 - 1) first.
    return bool(_ARRAY_INDEX.fullmatch(key)) and int(key) < 2**32 - 1


def _js_string(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, _pair_surrogates(text)) + '"'


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _pair_surrogates(text: str) -> str:
    # A high+low surrogate pair held as two code points is one valid UTF-16
    # character in JS and is written raw; join such pairs first.
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def js_number(value: float) -> str:
    """Format a number as JS's ``Number.prototype.toString`` (JSON rules)."""
    if isinstance(value, int) and abs(value) <= 2**53:
        return str(value)  # beyond 2**53 JS holds a double, formatted below
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return "null"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits, exp = _shortest_digits(abs(value))
    return sign + _js_layout(digits, exp)


def _shortest_digits(value: float) -> tuple[str, int]:
    # repr() gives the shortest round-trip digits, as JS does; only the layout
    # differs. Returns digits d1..dk and n with value = 0.d1..dk * 10**n.
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    n = len(whole) + int(exponent or 0) - (len(whole + frac) - len((whole + frac).lstrip("0")))
    digits = digits.rstrip("0") or "0"
    return digits, n


def _js_layout(digits: str, n: int) -> str:
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    exp = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp)}"


def now_ms() -> _dt.datetime:
    """Now in UTC, cut to milliseconds: what a JS Date (and so a stored info) keeps."""
    now = _dt.datetime.now(_dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def utf16_units(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, JavaScript's ``.length`` (what localStorage quotas count)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def js_iso(when: _dt.datetime) -> str:
    """A datetime as JS ``Date.toISOString()``: UTC, milliseconds, ``Z``."""
    if when.tzinfo is not None:
        when = when.astimezone(_dt.UTC).replace(tzinfo=None)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_js_iso(text: str) -> _dt.datetime:
    """Parse ``Date.toISOString()`` output into an aware UTC datetime."""
    when = _dt.datetime.fromisoformat(text)  # Python 3.11+ reads the trailing "Z"
    return when if when.tzinfo is not None else when.replace(tzinfo=_dt.UTC)


#: Deepest nesting of objects and arrays pyweb reads from a stored model (Keras and
#: TF.js topologies nest about 10 deep). Deeper text would exhaust Python's stack.
MAX_JSON_DEPTH = 100


def load_json(text: str | bytes | bytearray | memoryview, *, part: str, url: str | None = None) -> Any:
    """Parse JSON from a stored model as ``JSON.parse`` would, or raise CorruptModelError (``.part``).

    Bytes are UTF-8 (a leading BOM is dropped, as ``TextDecoder`` does); ``NaN``
    and ``Infinity``, which Python's parser takes and JavaScript's refuses, are
    refused; nesting deeper than :data:`MAX_JSON_DEPTH` is refused before parsing.

    Examples
    --------
    >>> load_json("[[1]]", part="model.json")
    [[1]]
    """
    try:
        if isinstance(text, (bytes, bytearray, memoryview)):
            text = bytes(text).decode("utf-8-sig")
        if json_text_depth(text) > MAX_JSON_DEPTH:
            raise CorruptModelError(f"{part}{_at(url)} nests deeper than {MAX_JSON_DEPTH}", part=part, url=url)
        return json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        if isinstance(exc, CorruptModelError):
            raise
        why = "nests too deeply" if isinstance(exc, RecursionError) else f"is not valid JSON: {exc}"
        raise CorruptModelError(f"{part}{_at(url)} {why}", part=part, url=url) from None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_text_depth(text: str) -> int:
    """How deep ``[``/``{`` nest in JSON text, strings skipped, without parsing it (linear time).

    Checked before ``json.loads``: its C parser recurses once per level, and
    in a browser a few thousand levels overflow the JavaScript stack under
    Pyodide (a fatal error, not a RecursionError).
    """
    if "[" not in text and "{" not in text:
        return 0
    # Drop escaped backslashes, then escaped quotes (str.replace is linear), so every
    # string is a plain "...": then drop those, and whatever is not a bracket.
    if "\\" in text:
        text = text.replace("\\\\", "").replace('\\"', "")
    brackets = _BRACKET_RUNS.sub("", _JSON_STRING.sub("", text))
    depth = deepest = 0
    for opening in brackets.replace("{", "[").replace("}", "]").split("]"):
        depth += len(opening)
        deepest = max(deepest, depth)
        depth -= 1
    return deepest


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep dicts and lists nest in ``value`` (0 for a scalar); stops counting past ``limit``."""
    depth, level = 0, [value]
    while depth <= limit:
        level = [i for i in level if isinstance(i, (dict, list, tuple))]
        if not level:
            break
        depth += 1
        level = [v for i in level for v in (i.values() if isinstance(i, dict) else i)]
    return depth


_JSON_STRING = re.compile(r'"[^"]*"?')  # no alternation, no backtracking: one pass
_BRACKET_RUNS = re.compile(r"[^\[\]{}]+")


def _at(url: str | None) -> str:
    return f" at {url}" if url else ""
