"""Download the npm packages listed in tools/published/models.json and unpack them.

    python tools/published/fetch.py DEST

Each ``name@version`` is fetched with ``npm pack`` (so npm's own registry settings
apply), its SHA-512 is checked against the integrity pinned in models.json, and the
tarball is unpacked to ``DEST/<name@version>/`` through a temporary folder, so an
interrupted run leaves nothing half-unpacked. Packages already unpacked are skipped.
Nothing fetched here is committed: these are other people's models, used as test input.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

CATALOGUE = Path(__file__).with_name("models.json")


def package_dir(dest: Path, spec: str) -> Path:
    """Where ``name@version`` is unpacked (its tarball's ``package/`` folder)."""
    return dest / spec.replace("/", "+") / "package"


def _integrity(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def fetch(dest: Path, spec: str, integrity: str) -> Path:
    target = package_dir(dest, spec)
    if (target / "package.json").is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to fetch published models (apt-get install npm)")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        out = subprocess.run(
            [npm, "pack", "--silent", "--pack-destination", tmp, spec], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise SystemExit(f"npm pack {spec} failed:\n{out.stderr}")
        tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
        got = _integrity(tarball)
        if got != integrity:
            raise SystemExit(f"{spec}: tarball integrity {got} does not match the pinned {integrity}")
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as tar:
            tar.extractall(unpacked, filter="data")
        final = target.parent
        shutil.rmtree(final, ignore_errors=True)
        unpacked.rename(final)
    print(f"fetched {spec}")
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    dest = Path(argv[0])
    catalogue = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    for spec, integrity in catalogue["packages"].items():
        fetch(dest, spec, integrity)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
