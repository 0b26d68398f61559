"""Print the fault suite's figures as one table and, with `--write`, put it into docs/reliability.md.

`make faults` runs the suite at its full budget and then this. The table is what the suite recorded
(`tests/faults/figures.py`), with the machine and date it ran on; every failure column must read 0.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

from tests.faults.figures import FAILURES, Figures, read

COLUMNS = ("check", "subject", "tried", "landed", "quarantined", "rejected", *FAILURES)
START, END = "<!-- fault-figures:start -->", "<!-- fault-figures:end -->"


def table(rows: list[Figures]) -> str:
    """The figures as a Markdown table, one line per check and subject."""
    header = "| " + " | ".join(name.replace("_", " ") for name in COLUMNS) + " |"
    lines = [header, "|" + "|".join("---" if i < 2 else "--:" for i in range(len(COLUMNS))) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(getattr(row, name)) for name in COLUMNS) + " |")
    return "\n".join(lines)


def machine() -> str:
    """Where and when the figures were measured."""
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores, "
        f"{memory_gb:.0f} GB memory, Python {platform.python_version()}."
    )


def failures(rows: list[Figures]) -> list[str]:
    """One line per row with a failure column above 0."""
    return [f"{row.check} / {row.subject}: {row.failures()} {row.examples}" for row in rows if row.failures()]


def write(document: Path, text: str) -> None:
    """Replace what stands between the markers in `document` with `text`."""
    content = document.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    document.write_text(pattern.sub(f"{START}\n{text}\n{END}", content), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, help="the document to put the table into (between its markers)")
    args = parser.parse_args()
    rows = read()
    if not rows:
        print("no figures recorded yet: run `make faults`")
        return 1
    text = f"{machine()}\n\n{table(rows)}"
    print(text)
    problems = failures(rows)
    for line in problems:
        print(f"FAILED {line}")
    if args.write:
        write(args.write, text)
        print(f"written to {args.write}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
