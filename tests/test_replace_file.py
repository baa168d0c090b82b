"""pyweb._atomic.replace_file: the one way a single file is replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyweb._atomic import replace_file


def test_replaces_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")
    replace_file(target, b"new", prefix=".state.", suffix=".tmp")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")

    class Broken:  # not a buffer: the write fails after the temporary file exists
        pass

    with pytest.raises(TypeError):
        replace_file(target, Broken(), prefix=".state.", suffix=".tmp", sync=False)  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
