"""`monitorlink publications`: the DuckLake backend's history of each warehouse tier, read and restored.

With `MONITORLINK_WAREHOUSE_BACKEND=ducklake` every build is a snapshot of each tier's DuckLake, so an
operator can answer "what did the dashboard show on 1 March?" with a query against the tier as it was
then, and undo a bad build without rebuilding. The file backend keeps only the current files, so there
these commands say so and stop with the usage exit code. DuckDB and the DuckLake module load only when a
command runs (the command line must start at once).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitorlink.cli.output import EXIT_ERROR, EXIT_OK, EXIT_USAGE, console, print_json, styled, table
from monitorlink.cli.reports import Json
from monitorlink.core.config import DUCKLAKE_DSN_VARIABLES, TIERS, Settings, load_settings

if TYPE_CHECKING:  # the DuckLake module imports duckdb: loaded only when a command runs
    import duckdb

    from monitorlink.warehouse.ducklake import Publication


class Tier(StrEnum):
    """The warehouse tiers (`monitorlink.core.config.TIERS`), as a choice the parser checks."""

    published = "published"
    analysts = "analysts"
    restricted = "restricted"


@dataclass(frozen=True)
class Moment:
    """What `--at` names: a snapshot id of the tier's catalog, or a moment in UTC."""

    value: datetime | int

    def __str__(self) -> str:
        if isinstance(self.value, int):
            return f"snapshot {self.value}"
        return self.value.isoformat()


AT_HELP = (
    "a snapshot id (from `publications list`) or an ISO time: a time without zone is UTC, and a bare date "
    "(2026-03-01) means the end of that day (23:59:59.999999 UTC), i.e. what readers saw that evening"
)
TierOption = Annotated[Tier, typer.Option("--tier", help="the warehouse tier")]

publications = typer.Typer(
    help="The warehouse's publication history (DuckLake backend only): list the publications, query a "
    "tier as it was at a moment, restore a past publication."
)


def parse_moment(text: str) -> Moment:
    """`--at`: digits are a snapshot id; a date is the end of that day (the state readers saw on it);
    anything else an ISO datetime, UTC unless it names its zone. A wrong value is a usage error (exit 2)."""
    text = text.strip()
    if text.isdigit():
        return Moment(int(text))
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return Moment(datetime.combine(day, time.max, tzinfo=UTC))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither a snapshot id nor an ISO date or time (e.g. 2026-03-01T09:30)"
        ) from None
    return Moment(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


AtOption = Annotated[Moment, typer.Option("--at", parser=parse_moment, metavar="ID|TIME", help=AT_HELP)]


def ducklake_settings() -> Settings:
    """The settings, when the warehouse is a DuckLake; otherwise one line and the usage exit code,
    because the file backend keeps no history to list, read or restore."""
    settings = load_settings()
    if settings.warehouse_backend != "ducklake":
        console.print(
            styled(
                "error:",
                "bold red",
                " publication history needs MONITORLINK_WAREHOUSE_BACKEND=ducklake"
                f" (the {settings.warehouse_backend} backend keeps only the current warehouse)",
            ),
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_USAGE)
    return settings


_LIST_COLUMNS = ("snapshot", "time (UTC)", "message")


@publications.command("list")
def list_publications(tier: TierOption = Tier.published, as_json: Json = False) -> int:
    """The tier's publications and restores, newest first, with the ids and times `--at` takes.

    The first is what readers see now; times are UTC to the microsecond, so one pasted into `--at` names
    that very publication.
    """
    settings = ducklake_settings()  # first: on the file backend nothing heavy is loaded
    from monitorlink.warehouse import ducklake

    with _one_line(tier.value):
        history = ducklake.publications(settings, tier.value)
    if as_json:
        print_json([_publication_json(publication) for publication in history])
        return EXIT_OK
    listing = table(
        f"Publications of {tier.value} ({len(history)}, newest first)", _LIST_COLUMNS, ("snapshot",)
    )
    for publication in history:
        listing.add_row(str(publication.snapshot_id), _utc_text(publication.time), publication.message or "")
    console.print(listing)
    return EXIT_OK


def _utc_text(moment: datetime) -> str:
    """A snapshot time in UTC to the microsecond, without zone: `--at` reads it back as the same moment
    (cut to the second it could name the publication before it)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def _publication_json(publication: Publication) -> dict[str, Any]:
    return {
        "snapshot_id": publication.snapshot_id,
        "time": publication.time.astimezone(UTC).isoformat(),
        "message": publication.message,
    }


@publications.command("show")
def show(
    sql: Annotated[
        str,
        typer.Option(
            "--sql",
            help="the query; `monitorlink.published.pub_…` and unqualified names work as on the file backend"
            " (`SHOW TABLES` lists the published schema's tables)",
        ),
    ],
    at: Annotated[
        Moment | None,
        typer.Option(
            "--at", parser=parse_moment, metavar="ID|TIME", help=f"{AT_HELP}; without it: the current state"
        ),
    ] = None,
    tier: TierOption = Tier.published,
    as_json: Json = False,
) -> int:
    """Query a tier as it was at a moment: what the dashboards read on 1 March, say.

    Read-only: the lake is attached read-only, and a past snapshot cannot be written anyway.
    """
    settings = ducklake_settings()  # first: on the file backend nothing heavy is loaded
    from monitorlink.warehouse import ducklake

    moment = None if at is None else at.value
    with _one_line(tier.value), ducklake.reader(settings, tier.value, at=moment) as connection:
        columns, rows = _query(connection, sql)
    if as_json:
        print_json([dict(zip(columns, row, strict=True)) for row in rows])
        return EXIT_OK
    when = "now" if at is None else f"at {at}"
    counted = f"{len(rows)} row" + ("" if len(rows) == 1 else "s")
    result = table(f"{tier.value} {when} ({counted})", tuple(columns))
    for row in rows:
        result.add_row(*("NULL" if value is None else str(value) for value in row))
    console.print(result)
    return EXIT_OK


def _query(connection: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The query's column names and rows (none for a statement without a result: SET, PRAGMA …)."""
    cursor = connection.execute(sql)
    if cursor.description is None:
        return [], []
    return [column[0] for column in cursor.description], cursor.fetchall()


@contextmanager
def _one_line(tier: str) -> Iterator[None]:
    """DuckDB's messages span lines (a hint, the query with a caret) and the command line prints one: the
    first paragraph is kept, joined. A query's own error is reported as the DuckLake module reports its
    errors, naming the tier with any password masked."""
    import duckdb

    from monitorlink.warehouse import ducklake

    try:
        yield
    except ducklake.DuckLakeError as error:
        raise ducklake.DuckLakeError(_explained(tier, str(error))) from None
    except duckdb.Error as error:
        raise ducklake.DuckLakeError(_explained(tier, f"{tier}: {ducklake.redact(str(error))}")) from None


def _explained(tier: str, message: str) -> str:
    """The message's first paragraph on one line, with what to do for the two errors operators meet:
    a tier never published to, and a moment or id with no snapshot."""
    from monitorlink.warehouse.ducklake import NO_CATALOG

    paragraph = message.strip().split("\n\n", 1)[0]
    line = " ".join(part.strip() for part in paragraph.splitlines() if part.strip())
    if NO_CATALOG in line:
        return (
            f"{tier}: nothing has been published to this tier's catalog yet (a build with the DuckLake"
            f" backend creates it), or {DUCKLAKE_DSN_VARIABLES[tier]} names the wrong database"
        )
    if "No snapshot found" in line:
        return f"{line} (`monitorlink publications list --tier {tier}` shows the publications)"
    return line


@publications.command("restore")
def restore(
    at: AtOption,
    tier: Annotated[
        Tier | None, typer.Option("--tier", help="the warehouse tier (default: published)")
    ] = None,
    all_tiers: Annotated[
        bool,
        typer.Option(
            "--all-tiers",
            help="restore every tier to its state at --at, one by one, most restricted first (--at must be"
            " a time: snapshot ids are per tier)",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="do not ask (needed when not run at a terminal)")
    ] = False,
) -> int:
    """Make a past publication current again, as a new snapshot; the next build publishes over it.

    History is kept: the undone publication stays listed and readable with `show --at`. Pause the builds
    first if the restored state must stay. Asks first at a terminal; elsewhere it needs --yes.
    """
    tiers = _restore_tiers(tier, all_tiers, at)
    settings = ducklake_settings()
    if not yes and not _confirmed(tiers, at):
        return EXIT_ERROR
    from monitorlink.warehouse import ducklake

    for name in tiers:
        with _one_line(name):
            snapshot = ducklake.restore(settings, name, at.value)
        console.print(f"restored {name} to its state at {at}: new snapshot {snapshot}", soft_wrap=True)
    return EXIT_OK


def _restore_tiers(tier: Tier | None, all_tiers: bool, at: Moment) -> list[str]:
    """Which tiers to restore, in publishing order (most restricted first, so the public tier moves
    last); a snapshot id names a snapshot of one catalog only, so it cannot go with --all-tiers."""
    if not all_tiers:
        return [(tier or Tier.published).value]
    if tier is not None:
        raise typer.BadParameter("give either --tier or --all-tiers", param_hint="--all-tiers")
    if isinstance(at.value, int):
        raise typer.BadParameter(
            "with --all-tiers, --at must be a time: each tier numbers its own snapshots", param_hint="--at"
        )
    return list(reversed(TIERS))  # TIERS runs from the most open to the most restricted


def _confirmed(tiers: list[str], at: Moment) -> bool:
    """Ask at a terminal; elsewhere (cron, CI) a restore without --yes is a usage error, never a hang."""
    if not sys.stdin.isatty():
        raise typer.BadParameter("no terminal to ask on: pass --yes to restore", param_hint="--yes")
    question = (
        f"Make the state at {at} current again for every reader of {', '.join(tiers)}? "
        "(the next build publishes over it)"
    )
    if typer.confirm(question, default=False):
        return True
    console.print("nothing restored")
    return False
