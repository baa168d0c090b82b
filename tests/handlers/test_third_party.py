"""A third party's scheme passes pyweb's handler contract by subclassing pyweb.testing.contract.

``shelf://`` (tests/handlers/shelf_handler.py) is written with the public API only and
registered under a scheme pyweb does not know. It is tested twice: here, and in a
project of its own (no pyweb conftest, its own rootdir) with and without pyweb's pytest
plugin, which is how another package's suite would run the contract.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import pyweb
from pyweb.errors import SchemeError
from pyweb.testing.contract import HandlerContract
from tests.handlers.shelf_handler import SHELF

_ids = itertools.count()


@pytest.fixture
def shelf_registered() -> Iterator[None]:
    pyweb.register_handler("shelf", "tests.handlers.shelf_handler:ShelfHandler")
    yield
    pyweb.unregister_handler("shelf")
    SHELF.records.clear()


class TestShelf(HandlerContract):
    @pytest.fixture
    def model_url(self, shelf_registered: None) -> Callable[[str], str]:
        folder = f"shelf://tests/t{next(_ids)}"
        return lambda name: f"{folder}/{name}"

    @pytest.fixture
    def list_url(self, shelf_registered: None) -> str:
        return "shelf://tests"

    @pytest.fixture
    def fail_next_save(self) -> Callable[[], None]:
        def arm() -> None:
            SHELF.refuse_next = True

        return arm


def test_the_scheme_is_unknown_without_its_registration() -> None:
    with pytest.raises(SchemeError):
        pyweb.load("shelf://tests/m")


# What another package's test module looks like: the contract, its fixtures, nothing else.
FOREIGN_SUITE = """
import itertools

import pytest

import pyweb
from pyweb.testing.contract import HandlerContract
from tests.handlers.shelf_handler import SHELF

_ids = itertools.count()


class TestShelfElsewhere(HandlerContract):
    @pytest.fixture(autouse=True)
    def _registered(self):
        pyweb.register_handler("shelf", "tests.handlers.shelf_handler:ShelfHandler")
        yield
        pyweb.unregister_handler("shelf")

    @pytest.fixture
    def model_url(self):
        folder = f"shelf://elsewhere/t{next(_ids)}"
        return lambda name: f"{folder}/{name}"

    @pytest.fixture
    def list_url(self):
        return "shelf://elsewhere"

    @pytest.fixture
    def fail_next_save(self):
        return lambda: setattr(SHELF, "refuse_next", True)
"""

# A suite that forgets a fixture the contract cannot guess: errors that name it, not passes.
INCOMPLETE_SUITE = """
from pyweb.testing.contract import MissingModelTests


class TestNoUrls(MissingModelTests):
    pass
"""


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The repository root on the path: this checkout's pyweb and the shelf handler's module.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("plugin", [[], ["-p", "pyweb.testing.plugin"]], ids=["without-plugin", "with-plugin"])
def test_a_foreign_suite_runs_the_contract(tmp_path: Path, plugin: list[str]) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_shelf_elsewhere.py").write_text(FOREIGN_SUITE)
    run = _pytest(tmp_path, *plugin)
    assert run.returncode == 0, run.stdout + run.stderr
    passed = [line for line in run.stdout.splitlines() if line.startswith("PASSED ")]
    assert len(passed) == 16, run.stdout  # 8 tests, each in both call styles
    assert any("test_failed_save_keeps_previous_model[async]" in line for line in passed)


def test_a_missing_fixture_is_an_error_that_names_it(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_incomplete.py").write_text(INCOMPLETE_SUITE)
    run = _pytest(tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "2 errors" in run.stdout and "needs the fixture 'model_url'" in run.stdout
