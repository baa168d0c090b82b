"""What runtime pyweb is in. Checked once, at import, without importing ``js``."""

from __future__ import annotations

import sys

__all__ = ["IN_PYODIDE"]

#: True inside Pyodide (browser or Node). The ``js`` module exists only there.
IN_PYODIDE = "_pyodide_core" in sys.modules or sys.platform == "emscripten"
