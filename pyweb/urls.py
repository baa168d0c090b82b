"""Split ``scheme://path`` URLs; the only place in pyweb that does.

TF.js splits on the first ``://`` and keeps the rest as the path; pyweb does
the same, lower-cases the scheme (``HTTP://`` works here, unlike in TF.js) and
rejects an empty path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidURLError

__all__ = ["ModelURL", "parse_url"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


@dataclass(frozen=True)
class ModelURL:
    """A parsed model URL: ``scheme`` (lower case) and ``path`` (never empty).

    For ``http``/``https`` the ``path`` is the whole URL, because that is what
    the HTTP handler fetches.
    """

    scheme: str
    path: str

    def __str__(self) -> str:
        if self.scheme in ("http", "https"):
            return self.path
        return f"{self.scheme}://{self.path}"


def parse_url(url: str | ModelURL, *, default_scheme: str | None = None, allow_empty_path: bool = False) -> ModelURL:
    """Parse ``url`` into a :class:`ModelURL`.

    Parameters
    ----------
    url
        ``"scheme://path"``. Without a scheme, ``default_scheme`` is used if
        given (the CLI passes ``"file"`` so plain paths work).

    Raises
    ------
    InvalidURLError
        Not a string, no scheme (and no default), or an empty path.

    Examples
    --------
    >>> parse_url("localstorage://my/model")
    ModelURL(scheme='localstorage', path='my/model')
    """
    if isinstance(url, ModelURL):
        return url
    if not isinstance(url, str):
        raise InvalidURLError(f"a model URL must be a string like 'file://dir', not {type(url).__name__}")
    match = _SCHEME.match(url)
    if match is None:
        if default_scheme is None:
            raise InvalidURLError(
                f"{url!r} has no scheme; write it as 'scheme://path', e.g. 'file://{url or 'model-dir'}'"
            )
        if not url.strip():
            raise InvalidURLError("the model URL is empty")
        return ModelURL(default_scheme, url)
    scheme = match.group(1).lower()
    path = url[match.end() :]
    if not path.strip() and not allow_empty_path:
        raise InvalidURLError(f"{url!r} has an empty path after '{scheme}://'")
    if scheme in ("http", "https"):
        path = scheme + url[len(scheme) :]
    return ModelURL(scheme, path)
