"""The examples in pyweb's docstrings run, and say what they print."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import pyweb

#: Modules that only import in a browser (Pyodide's ``js``), and the CLI's entry module.
BROWSER_ONLY = ("pyweb.browser.", "pyweb.__main__")
MODULES = sorted(m.name for m in pkgutil.walk_packages(pyweb.__path__, "pyweb.") if not m.name.startswith(BROWSER_ONLY))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module,
        extraglobs={"pyweb": pyweb, "np": np},
        report=True,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (printed above)"


def test_the_examples_are_many():
    # A guard against collecting nothing: most public functions carry an example.
    attempted = sum(
        doctest.testmod(
            importlib.import_module(n),
            extraglobs={"pyweb": pyweb, "np": np},
            report=False,
            optionflags=doctest.ELLIPSIS,
        ).attempted
        for n in MODULES
    )
    assert attempted >= 60
