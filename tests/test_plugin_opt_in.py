"""Installing pyweb changes nothing in another project's pytest run until it opts in."""

from __future__ import annotations

import subprocess
import sys

FOREIGN_TEST = """
def test_plain(request):
    assert "pyodide" not in request.fixturenames
"""


def _pytest(project, *args):
    # A project of its own (its own rootdir, no pyproject of ours), in this environment, where pyweb is installed.
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_foreign_suite_sees_nothing_of_pyweb_unless_it_asks(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_foreign.py").write_text(FOREIGN_TEST)
    plain = _pytest(tmp_path, "-q", "--setup-plan")
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "pyweb" not in plain.stdout and "_pyweb_fresh_page" not in plain.stdout  # no autouse fixture ran
    fixtures = _pytest(tmp_path, "--fixtures", "-q").stdout
    assert "pyodide" not in fixtures and "real_downloads" not in fixtures
    assert "--pyweb-targets" not in _pytest(tmp_path, "--help").stdout
    # Asked for, it is there: its fixtures, its options, and the foreign test still passes.
    opted = _pytest(tmp_path, "-p", "pyweb.testing.plugin", "--fixtures", "-q").stdout
    assert "pyodide" in opted and "real_downloads" in opted
    assert "--pyweb-targets" in _pytest(tmp_path, "-p", "pyweb.testing.plugin", "--help").stdout
    assert _pytest(tmp_path, "-q", "-p", "pyweb.testing.plugin").returncode == 0
