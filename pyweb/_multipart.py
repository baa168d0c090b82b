"""``multipart/form-data`` as browsers write FormData and servers read it.

The HTTP handler encodes its uploads with :func:`encode_multipart`; the
server decodes them (and TF.js's) with :func:`parse_multipart`. Pure, and
views all the way: parts are never copied on the way in.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

__all__ = ["MultipartError", "boundary_of", "encode_multipart", "parse_multipart"]

#: Most bytes of headers one part may have (browsers write about 150).
MAX_PART_HEAD = 16 << 10
_PARAM = re.compile(r';\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("[^"]*"|[^;]*)')


class MultipartError(ValueError):
    """A body or Content-Type that is not well-formed multipart/form-data."""


def encode_multipart(fields: list[tuple[str, str, list[Any]]]) -> tuple[bytearray, str]:
    """A ``multipart/form-data`` body and its Content-Type header value.

    Each field is ``(name, content type, buffers)``; the name is also the
    filename, as for TF.js's Blob parts. The buffers are copied once, into the
    body (:func:`multipart_parts` gives the pieces, to send without a copy).

    Examples
    --------
    >>> body, content_type = encode_multipart([("model.json", "application/json", [b"{}"])])
    >>> content_type.startswith("multipart/form-data; boundary=")
    True
    """
    views, content_type = multipart_parts(fields)
    body = bytearray(sum(v.nbytes for v in views))
    pos = 0
    for view in views:
        body[pos : pos + view.nbytes] = view
        pos += view.nbytes
    return body, content_type


def multipart_parts(fields: list[tuple[str, str, list[Any]]]) -> tuple[list[memoryview], str]:
    """The body of :func:`encode_multipart` as the list of pieces it joins (the field buffers uncopied)."""
    boundary = "----pywebFormBoundary" + secrets.token_hex(12)
    chunks: list[Any] = []
    for name, content_type, buffers in fields:
        quoted = _quote(name)
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{quoted}"; filename="{quoted}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        chunks += [head.encode("utf-8"), *buffers, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode("ascii"))
    return [memoryview(c).cast("B") for c in chunks], f"multipart/form-data; boundary={boundary}"


def _quote(name: str) -> str:
    # What browsers do to FormData names and filenames (HTML spec).
    return name.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def boundary_of(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type value.

    Raises
    ------
    MultipartError
        Another media type, or no usable boundary.
    """
    kind, _, rest = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        raise MultipartError(f"expected multipart/form-data, got {kind.strip() or 'no Content-Type'!r}")
    boundary = _params(";" + rest).get("boundary", "")
    if not 0 < len(boundary) <= 200:
        raise MultipartError("multipart/form-data without a valid boundary")
    return boundary.encode("latin-1")


def _params(text: str) -> dict[str, str]:
    return {k.lower(): v.strip().strip('"') for k, v in _PARAM.findall(text)}


def parse_multipart(body: Any, boundary: bytes) -> dict[str, memoryview]:
    """The parts of ``body`` by field name, and by filename where no field has that name.

    ``body`` is any buffer with ``find`` (bytes, bytearray, mmap); the values
    are views into it.

    Raises
    ------
    MultipartError
        The body is not terminated or not delimited by ``boundary``.

    Examples
    --------
    >>> body, ct = encode_multipart([("a", "text/plain", [b"hi"])])
    >>> bytes(parse_multipart(body, boundary_of(ct))["a"])
    b'hi'
    """
    view = memoryview(body)
    delimiter = b"--" + boundary
    pos = body.find(delimiter)
    if pos < 0:
        raise MultipartError("no boundary in the body")
    by_name: dict[str, memoryview] = {}
    by_filename: dict[str, memoryview] = {}
    pos += len(delimiter)
    while bytes(body[pos : pos + 2]) != b"--":
        if bytes(body[pos : pos + 2]) != b"\r\n":
            raise MultipartError("a delimiter line does not end in CRLF")
        head_end = body.find(b"\r\n\r\n", pos, pos + MAX_PART_HEAD)
        if head_end < 0:
            raise MultipartError(f"a part's headers do not end within {MAX_PART_HEAD} bytes")
        end = body.find(b"\r\n" + delimiter, head_end + 4)
        if end < 0:
            raise MultipartError("a part is not terminated (truncated body?)")
        name, filename = _disposition(bytes(body[pos + 2 : head_end]))
        if name is not None:
            by_name.setdefault(name, view[head_end + 4 : end])
        if filename:
            by_filename.setdefault(filename, view[head_end + 4 : end])
        pos = end + 2 + len(delimiter)
    return {**by_filename, **by_name}


def _disposition(head: bytes) -> tuple[str | None, str | None]:
    for line in head.decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() == "content-disposition":
            params = _params(value[value.find(";") :] if ";" in value else "")
            return params.get("name"), params.get("filename")
    return None, None
