"""``pyweb lite``: build a JupyterLite site with pyweb preinstalled, offline.

The site has the Pyodide kernel (``jupyterlite-pyodide-kernel``) on a local
Pyodide (the site's ``static/pyodide/``, nothing from a CDN), pyweb's wheel
in its piplite index (``%pip install pyweb`` installs it, no PyPI needed), the
notebooks given (by default pyweb's example, which saves and loads through
every scheme and has TF.js load the result in the page) and any extra files
(TF.js's ``tf.min.js`` for the example). Needs the ``lite`` extra
(``pip install 'pyweb[lite]'``: jupyterlite-core, the Pyodide kernel,
jupyter-server).

To add pyweb to your own JupyterLite site instead, give its wheel to your
build: ``jupyter lite build --piplite-wheels pyweb-*.whl`` (README,
"pyweb in JupyterLite").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["EXAMPLE_NOTEBOOK", "build_site", "build_wheel"]

#: pyweb's example notebook, shipped with the package.
EXAMPLE_NOTEBOOK = Path(__file__).parent / "demo" / "notebooks" / "pyweb-in-jupyterlite.ipynb"

# Kernel settings: the site's own Pyodide, and no PyPI (the site must work offline).
_SETTINGS = {
    "jupyter-lite-schema-version": 0,
    "jupyter-config-data": {
        "litePluginSettings": {
            "@jupyterlite/pyodide-kernel-extension:kernel": {
                "disablePyPIFallback": True,
                "pyodideUrl": "./static/pyodide/pyodide.js",
            }
        }
    },
}


# JupyterLab settings: render every cell (the default renders only those in view), so a
# page-level test can read each cell's output.
_OVERRIDES = {"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}}


def build_wheel(source: Path, dest: Path) -> Path:
    """pyweb's wheel from a source checkout (``pip wheel --no-deps``); its path."""
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dest), str(source)],
        check=True,
    )
    wheels = sorted(dest.glob("pyweb-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise FileNotFoundError(f"pip wheel made no pyweb wheel in {dest}")
    return wheels[-1]


def build_site(
    output: Path,
    *,
    pyodide_dir: Path,
    wheels: Sequence[Path],
    notebooks: Sequence[Path] = (EXAMPLE_NOTEBOOK,),
    files: Sequence[Path] = (),
) -> Path:
    """Build the site into ``output`` (replaced); returns ``output``.

    Parameters
    ----------
    output
        Where the site goes; serve it over http(s) (``pyweb lite --serve``).
    pyodide_dir
        A full Pyodide 0.27 distribution (``pyodide.js``, ``pyodide-lock.json``, numpy).
    wheels
        Wheels for the site's piplite index: pyweb's, and what the kernel
        needs beyond that Pyodide (``comm``).
    notebooks, files
        Copied into the site's contents: the file browser shows them at its root.

    Raises
    ------
    FileNotFoundError
        A missing Pyodide, wheel, notebook or file.
    subprocess.CalledProcessError
        ``jupyter lite build`` failed (its output says why).
    """
    if not (pyodide_dir / "pyodide.js").is_file():
        raise FileNotFoundError(f"no Pyodide at {pyodide_dir} (pyodide.js missing)")
    for path in [*wheels, *notebooks, *files]:
        if not path.exists():
            raise FileNotFoundError(path)
    output = output.resolve()
    with tempfile.TemporaryDirectory(prefix="pyweb-lite-") as work:
        lite = Path(work)
        (lite / "static").mkdir()
        shutil.copytree(pyodide_dir, lite / "static" / "pyodide")
        contents = lite / "contents"
        contents.mkdir()
        for path in [*notebooks, *files]:
            if path.is_dir():
                shutil.copytree(path, contents / path.name)
            else:
                shutil.copy2(path, contents / path.name)
        (lite / "jupyter-lite.json").write_text(json.dumps(_SETTINGS, indent=2))
        (lite / "overrides.json").write_text(json.dumps(_OVERRIDES, indent=2))
        if output.exists():
            shutil.rmtree(output)
        command = [
            sys.executable,
            "-m",
            "jupyterlite_core",
            "build",
            "--contents",
            str(contents),
            "--output-dir",
            str(output),
        ]
        for wheel in wheels:
            command += ["--piplite-wheels", str(Path(wheel).resolve())]
        done = subprocess.run(
            command, cwd=lite, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"}
        )
        if done.returncode:
            raise subprocess.CalledProcessError(done.returncode, command, done.stdout, done.stderr)
    return output
