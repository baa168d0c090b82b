"""The zip a test page unpacks: pyweb under test, extra test files, pytest.

The page runs pyweb from a plain copy of its source folder (no install, no
metadata), which is what a web app that vendors pyweb does too. pytest and its
pure-Python dependencies come from the host's site-packages so page-side code
can ``import pytest`` for ``pytest.raises`` or run a whole in-page session.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import io
import sys
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import cast

__all__ = ["BUNDLE_DIR", "PAGE_MODULE", "TEST_PACKAGES", "build_bundle", "package_files"]

#: Where the page unpacks the bundle; it goes first on ``sys.path``.
BUNDLE_DIR = "/home/pyodide/pyweb-under-test"

#: The page-side half of the harness, stored at the zip root under this name.
PAGE_MODULE = "_pyweb_page"

#: Pure-Python packages shipped so page-side code can use pytest. pygments is
#: needed by ``import pytest`` but weighs 4.5 MB; only the modules pytest has
#: imported in this process are shipped (the lexers are left out).
TEST_PACKAGES = ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "py")
_PARTIAL_PACKAGES = ("pygments",)
# Their METADATA goes too: pluggy.__version__ and pytest's header ask importlib.metadata.
_DISTRIBUTIONS = ("pytest", "pluggy", "iniconfig", "packaging", "pygments")

# Fixed timestamp: the same checkout gives the same bytes.
_EPOCH = (2020, 1, 1, 0, 0, 0)


def package_files(name: str) -> dict[str, Path]:
    """Archive name -> file for an importable module or package, without bytecode."""
    spec = importlib.util.find_spec(name)
    if spec is None or (spec.origin is None and not spec.submodule_search_locations):
        raise ModuleNotFoundError(f"cannot bundle {name!r}: it is not importable here")
    if not spec.submodule_search_locations:  # a single-file module such as py.py
        origin = Path(cast(str, spec.origin))  # set: checked above
        return {origin.name: origin}
    root = Path(next(iter(spec.submodule_search_locations)))
    return {f"{name}/{p.relative_to(root).as_posix()}": p for p in _walk(root)}


def _walk(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            yield path


def _metadata_files(distribution: str) -> dict[str, Path]:
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return {}
    return {
        f.as_posix(): Path(cast(Path, dist.locate_file(f)))  # an installed (on-disk) distribution
        for f in dist.files or ()
        if f.parts[0].endswith(".dist-info") and f.name in ("METADATA", "entry_points.txt")
    }


def _loaded_modules(package: str) -> dict[str, Path]:
    """The files of ``package``'s modules that this process has imported."""
    root = Path(cast(str, importlib.import_module(package).__file__)).parent
    files = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) if name.split(".")[0] == package else None
        if path:
            files[f"{package}/{Path(path).relative_to(root).as_posix()}"] = Path(path)
    return files


def build_bundle(
    pyweb_dir: str | Path,
    extra: Mapping[str, str | Path] | None = None,
    *,
    page_module: str | Path | None = None,
    test_packages: bool = True,
) -> bytes:
    """Zip pyweb's source folder, extra files and the test packages.

    Parameters
    ----------
    pyweb_dir
        The ``pyweb/`` source folder under test (``Path(pyweb.__file__).parent``).
    extra
        Archive name (``"tests/browser/page_contract.py"``) -> host file or folder.
    page_module
        The page-side harness module; defaults to ``pyweb/testing/page_runner.py``.
    test_packages
        Also ship pytest and friends (see ``TEST_PACKAGES``).

    Returns
    -------
    bytes
        A deflated zip whose root goes first on the page's ``sys.path``.
    """
    files: dict[str, Path] = {}
    if test_packages:
        for name in TEST_PACKAGES:
            if importlib.util.find_spec(name) is not None:
                files.update(package_files(name))
        for name in _PARTIAL_PACKAGES:
            files.update(_loaded_modules(name))
        for name in _DISTRIBUTIONS:
            files.update(_metadata_files(name))
    pyweb_dir = Path(pyweb_dir)
    files.update({f"pyweb/{p.relative_to(pyweb_dir).as_posix()}": p for p in _walk(pyweb_dir)})
    for arcname, path in (extra or {}).items():
        path = Path(path)
        if path.is_dir():
            files.update({f"{arcname.rstrip('/')}/{p.relative_to(path).as_posix()}": p for p in _walk(path)})
        elif path.is_file():
            files[arcname] = path
        else:
            raise FileNotFoundError(f"bundle file {arcname!r}: {path} does not exist")
    files[f"{PAGE_MODULE}.py"] = Path(page_module or Path(__file__).with_name("page_runner.py"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for arcname in sorted(files):
            info = zipfile.ZipInfo(arcname, _EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[arcname].read_bytes())
    return buffer.getvalue()
