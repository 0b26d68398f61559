"""How the command line talks: tables people can read and copy, JSON for machines, one line per stage.

On a terminal, tables are drawn by rich at the terminal's width and long work shows a spinner with
counts. Anywhere else (a pipe, a log, cron) every table is printed as tab-separated lines, so ids and file
names are never cut or wrapped, and each stage of long work ends with exactly one line. `COLUMNS` sets
the width rich draws at, as everywhere else.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

#: Exit codes, for cron and CI (README, "Exit codes").
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SOURCE_FAILED = 3
EXIT_QUARANTINED = 4
EXIT_CHECK_FAILED = 5
EXIT_INTERRUPTED = 130


class Output(Console):
    """A rich console that prints tables as tab-separated lines when its output is not a terminal."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """Tables become plain lines off a terminal; everything else is printed as rich would."""
        if self.is_terminal or not any(isinstance(item, Table) for item in objects):
            super().print(*objects, **kwargs)
            return
        for item in objects:
            if isinstance(item, Table):
                self._plain_table(item)
            else:
                super().print(item, **kwargs)

    def _plain_table(self, table: Table) -> None:
        """Title, header and rows, tab-separated, with newlines inside a cell joined by '; '."""
        lines = [f"# {table.title}"] if table.title else []
        lines.append("\t".join(_plain(column.header) for column in table.columns))
        for row in zip(*(list(column.cells) for column in table.columns), strict=True):
            lines.append("\t".join(_plain(cell) for cell in row))
        self.file.write("".join(f"{line}\n" for line in lines))  # not `out`: it expands tabs


def _plain(cell: Any) -> str:
    """A cell's text without styles or line breaks (the console reads no markup: see `console`)."""
    text = cell.plain if isinstance(cell, Text) else str(cell)
    return "; ".join(line for line in text.splitlines() if line)


def styled(label: str, style: str, rest: str = "") -> Text:
    """A styled label followed by plain text: messages, paths and reasons are never read as markup."""
    return Text.assemble((label, style), rest)


#: No markup: file names, reasons and errors print exactly as they are (`[error]`, `[tmsd, chain]` too);
#: styles come from `styled` and `Text`.
console = Output(soft_wrap=not sys.stdout.isatty(), markup=False)


def table(title: str, columns: tuple[str, ...], right: tuple[str, ...] = ()) -> Table:
    """A table whose cells fold instead of being cut off, so every id stays whole on a terminal too."""
    drawn = Table(title=title)
    for column in columns:
        drawn.add_column(column, justify="right" if column in right else "left", overflow="fold")
    return drawn


def print_json(data: object) -> None:
    """Plain JSON on stdout for machines: no colours, no wrapping, nothing cut."""
    print(json.dumps(data, default=str, ensure_ascii=False, indent=2))


class Stage:
    """One stage of long work: what it is doing now (`update`) and what it did (`done`)."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.result = "done"
        self._status: Any = None

    def update(self, text: str) -> None:
        """Progress within the stage, shown live on a terminal (off one, only the final line is printed)."""
        if self._status is not None:
            self._status.update(f"{self.title}: {text}")

    def note(self, text: str) -> None:
        """A step of a long stage: live on a terminal, one line each elsewhere (each service `up` starts)."""
        if self._status is not None:
            self.update(text)
        else:
            console.print(f"{self.title}: {text} …", highlight=False)

    def done(self, result: str) -> None:
        """What the stage's one line says when it ends."""
        self.result = result


@contextmanager
def stage(title: str) -> Iterator[Stage]:
    """Run a stage: a spinner with its progress on a terminal, then one line with its result and time."""
    current = Stage(title)
    started = time.monotonic()
    failed = False
    try:
        if console.is_terminal:
            with console.status(title) as status:
                current._status = status
                yield current
        else:
            yield current
    except BaseException:
        failed = True
        raise
    finally:
        seconds = time.monotonic() - started
        outcome = ("failed", "red") if failed else current.result
        console.print(Text.assemble(f"{title}: ", outcome, f" ({seconds:.1f} s)"), highlight=False)
