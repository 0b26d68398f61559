"""The fault suite's figures: every check records one row per subject, `report.py` prints them as a table.

A row says how much was tried and what happened to it. The outcome columns (landed, quarantined,
rejected) describe the expected ends of an input; the failure columns (unhandled, lost, duplicated,
failed reads, BSNs found) must all be 0, and the tests assert that after recording, so a failing run
still leaves its figures behind for the report.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from monitorlink.core.config import PROJECT_ROOT

#: Where a run of the suite leaves its rows (one JSON object per line); `make faults` starts it empty.
FIGURES_FILE = PROJECT_ROOT / "var" / "faults" / "figures.jsonl"

#: The columns that must be 0, in the order the table shows them.
FAILURES = ("unhandled", "lost", "duplicated", "failed_reads", "bsns_found")


@dataclass
class Figures:
    """One check on one subject (a feed, a process, the published file)."""

    check: str
    subject: str
    tried: int = 0
    landed: int = 0
    quarantined: int = 0
    rejected: int = 0
    unhandled: int = 0
    lost: int = 0
    duplicated: int = 0
    failed_reads: int = 0
    bsns_found: int = 0
    examples: list[str] = dataclasses.field(default_factory=list)

    def failures(self) -> dict[str, int]:
        """The failure columns that are not 0 (what a test asserts is empty)."""
        return {name: getattr(self, name) for name in FAILURES if getattr(self, name)}


def record(figures: Figures, path: Path = FIGURES_FILE) -> None:
    """Append one row; a later row for the same check and subject replaces it in the report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(dataclasses.asdict(figures)) + "\n")


def read(path: Path = FIGURES_FILE) -> list[Figures]:
    """The newest row per (check, subject), in the order they were first recorded."""
    rows: dict[tuple[str, str], Figures] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            figures = Figures(**json.loads(line))
            rows[(figures.check, figures.subject)] = figures
    return list(rows.values())
