"""Errors the browser harness raises on the host."""

from __future__ import annotations

from typing import Any

from ..errors import PicklesAttributes

__all__ = ["PyodideError", "PyodideTimeoutError"]


class PyodideError(PicklesAttributes):
    """A Python exception raised by code that :meth:`PyodidePage.run` ran in the page.

    Attributes
    ----------
    type_name : str
        The exception class name in the page, e.g. ``"ModelNotFoundError"``.
    qualname : str
        Module and qualified name, e.g. ``"pyweb.errors.ModelNotFoundError"``.
    mro : list of str
        Class names of the exception's MRO, so ``"FileNotFoundError" in e.mro`` works.
    message : str
        ``str(exc)`` in the page.
    traceback : str
        The page's formatted traceback, starting at the test's code.
    attrs : dict
        The exception's JSON-serialisable instance attributes (``url``, ``status`` ...).
    console_errors : list of str
        Console errors the page logged during the test so far.
    target : str
        Where it ran, e.g. ``"chromium-0.27.7"``.
    """

    def __init__(
        self,
        type_name: str,
        message: str,
        traceback: str = "",
        *,
        qualname: str = "",
        mro: list[str] | None = None,
        attrs: dict[str, Any] | None = None,
        console_errors: list[str] | None = None,
        target: str = "",
    ) -> None:
        super().__init__(type_name, message)
        self.type_name = type_name
        self.message = message
        self.traceback = traceback
        self.qualname = qualname or type_name
        self.mro = list(mro or [type_name])
        self.attrs = dict(attrs or {})
        self.console_errors = list(console_errors or [])
        self.target = target

    def __str__(self) -> str:
        lines = [f"{self.type_name}: {self.message}  [in the page, {self.target}]"]
        if self.traceback:
            lines += ["", self.traceback.rstrip()]
        if self.console_errors:
            lines += ["", "Console errors:", *self.console_errors]
        return "\n".join(lines)


class PyodideTimeoutError(TimeoutError):
    """Code in the page did not finish in time (the page is restarted when it may be stuck)."""
