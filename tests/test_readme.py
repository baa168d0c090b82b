"""README's CPython example runs as printed."""

from __future__ import annotations

import re
from pathlib import Path

import pyweb

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example(heading: str) -> str:
    """The first ```python block after ``heading`` in README.md."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_cpython_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = readme_example("## Example (CPython)")
    assert len(code.strip().splitlines()) <= 12
    exec(compile(code, "README.md", "exec"), {})  # README is ours; running it is the test
    assert sorted(p.name for p in (tmp_path / "models" / "clf").iterdir()) == ["model.json", "weights.bin"]
    assert "file://models/clf" in capsys.readouterr().out
    assert pyweb.remove_model("memory://clf").weight_data_bytes == (4 * 8 + 8 + 8 * 3 + 3) * 4
