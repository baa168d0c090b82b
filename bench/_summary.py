"""The one summary table of ``make bench`` / ``make bench-browser`` (bench/run.py).

Each benchmark script, given ``--summary PATH``, writes its target rows there as
JSON: a list of ``{"row", "pyweb", "peer", "ratio", "target", "met"}``, where
``pyweb`` and ``peer`` are already formatted with their units, ``ratio`` is
pyweb ÷ peer (a float) and ``target`` is the largest ratio allowed (``None``
for a row shown for scale only). bench/run.py collects them and prints
:func:`table`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

TIMES, DASH = "\u00d7", "\u2013"  # the multiplication sign and en dash of README's tables


def row(name: str, pyweb: str, peer: str, ratio: float, target: float | None) -> dict[str, Any]:
    """One summary row; ``met`` is ``ratio <= target`` (None without a target)."""
    return {
        "row": name,
        "pyweb": pyweb,
        "peer": peer,
        "ratio": ratio,
        "target": target,
        "met": None if target is None else ratio <= target,
    }


def write(path: str | None, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` to ``path`` (the script's ``--summary``), if given."""
    if path:
        Path(path).write_text(json.dumps(rows, indent=1))


def load_average() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg()) + f" (1/5/15 min) on {os.cpu_count()} CPUs"
    except OSError:
        return "unknown"


def table(rows: list[dict[str, Any]]) -> list[str]:
    """The summary as lines of a Markdown table (README's tables are pasted from it)."""
    header = ["row", "pyweb", "peer", "ratio", "target", "verdict"]
    body = [
        [
            r["row"],
            r["pyweb"],
            r["peer"],
            f"{r['ratio']:.2f}{TIMES}",
            DASH if r["target"] is None else f"≤ {r['target']:g}{TIMES}",
            DASH if r["met"] is None else ("met" if r["met"] else "MISSED"),
        ]
        for r in rows
    ]
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(cells) + " |" for cells in body
    ]
