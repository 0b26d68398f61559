"""`monitorlink quality report`: what the quality gate decided, per batch, read back from the lake."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from monitorlink.cli.output import EXIT_OK, console, print_json, table
from monitorlink.cli.reports import Json, existing_platform

if TYPE_CHECKING:  # the report module reads Parquet with DuckDB: imported only when a command runs
    from monitorlink.core.lake import Lake
    from monitorlink.ops.quality_report import Batch, RuleCount

quality = typer.Typer(help="What the quality gate decided, read back from the lake.")

#: The batch table's columns; every count names its unit (rule counts in rows, as in `run`'s summary).
BATCH_COLUMNS = (
    "batch / delivery",
    "landed at (UTC)",
    "outcome",
    "dataset",
    "validated (rows)",
    "quarantined (rows)",
    "rules (rows)",
    "flags (rows)",
)


@quality.command("report")
def report(
    dataset: Annotated[
        str | None, typer.Option(help="only this dataset (default: all); an unknown one: exit 1")
    ] = None,
    batch: Annotated[
        str | None,
        typer.Option(help="one batch: its quarantined rows and why; an unknown id: exit 1"),
    ] = None,
    quarantined: Annotated[
        bool,
        typer.Option(
            "--quarantined",
            help="only batches with quarantined rows and deliveries quarantined whole (with rows or not)",
        ),
    ] = False,
    limit: Annotated[
        int, typer.Option(min=1, help="the newest N batches (a delivery counts once, whatever its datasets)")
    ] = 50,
    as_json: Json = False,
) -> int:
    """Per batch (a delivery with every dataset it filled, or a micro-batch of events), newest first: rows
    validated and quarantined, rules and warning flags counted in rows; then why each quarantined delivery
    was quarantined (the delivery log's samples: the only trace of a delivery with no readable rows), and
    every rule counted in deliveries and in rows. With --batch, one batch's reasons and rejected rows.

    An unknown --batch or --dataset exits 1 with one line naming the newest batches or the datasets.
    """
    from monitorlink.core.lake import Lake
    from monitorlink.ops import quality_report

    lake = Lake(existing_platform().lake_root)
    if batch:
        return _one_batch(lake, quality_report.find_batch(lake, batch, dataset), as_json)
    listed = [item for item in quality_report.report(lake, dataset) if item.is_quarantined or not quarantined]
    listed = listed[:limit]
    if as_json:
        print_json([dataclasses.asdict(item) for item in listed])
        return EXIT_OK
    which = "quarantined, " if quarantined else ""
    console.print(
        _batches_table(
            f"Quality per batch ({which}newest first, {len(listed)} shown) — lake {lake.root}", listed
        )
    )
    if any(item.reasons for item in listed):
        console.print(_reasons_table("Why the deliveries shown were quarantined", listed))
    counts = quality_report.rule_counts(listed)
    if counts:
        console.print(_rules_table(f"Rules over the {len(listed)} batches shown", counts))
    console.print("Reasons and rows of one batch: monitorlink quality report --batch <batch>")
    return EXIT_OK


def _batches_table(title: str, listed: list[Batch]) -> Table:
    """One line per batch; a delivery's datasets are lines within its cells, so `--limit` counts lines."""
    listing = table(title, BATCH_COLUMNS, ("validated (rows)", "quarantined (rows)"))
    for item in listed:
        listing.add_row(
            item.batch_id + (f"\n{item.delivery}" if item.delivery else ""),
            f"{item.landed_at:%Y-%m-%d %H:%M:%S}",
            item.outcome,
            "\n".join(part.dataset for part in item.datasets) or f"{item.source}: no rows",
            "\n".join(str(part.validated) for part in item.datasets) or "0",
            "\n".join(str(part.quarantined) for part in item.datasets) or "0",
            _tally(item.rules),
            _tally(item.flags),
        )
    return listing


def _reasons_table(title: str, listed: list[Batch]) -> Table:
    """One line per sample the delivery log keeps (up to five per rule), so each reason reads whole."""
    listing = table(f"{title} (delivery log samples)", ("batch", "rule", "sample"))
    for item in listed:
        for rule, samples in item.reasons.items():
            for sample in samples:
                listing.add_row(item.batch_id, rule, sample)
    return listing


def _rules_table(title: str, counts: list[RuleCount]) -> Table:
    """Each rule in both units, side by side: the deliveries it fired in and the rows carrying it."""
    listing = table(
        f"{title} (a micro-batch of events counts as one delivery)",
        ("rule", "kind", "deliveries", "rows"),
        ("deliveries", "rows"),
    )
    for count in counts:
        listing.add_row(count.rule, count.kind, str(count.deliveries), str(count.rows))
    return listing


def _one_batch(lake: Lake, item: Batch, as_json: bool) -> int:
    """One batch: why its delivery was quarantined (the delivery log), then its rejected rows."""
    from monitorlink.ops import quality_report

    rows = quality_report.rejected_rows(lake, item)
    if as_json:
        print_json({"batch": dataclasses.asdict(item), "rows": [dataclasses.asdict(row) for row in rows]})
        return EXIT_OK
    what = f"batch {item.batch_id}" + (f" ({item.delivery})" if item.delivery else "")
    if item.reasons:
        console.print(_reasons_table(f"Why {what} was quarantined", [item]))
    if not rows:
        console.print(f"{what}: {item.outcome}, no quarantined rows", soft_wrap=True)
        return EXIT_OK
    listing = table(
        f"Quarantined rows of {what}", ("where (partition@offset or file:row)", "event_id", "reasons")
    )
    for row in rows:
        listing.add_row(row.location, row.event_id or "", "\n".join(row.reasons))
    console.print(listing)
    return EXIT_OK


def _tally(counts: dict[str, int]) -> str:
    """Rule counts one per line, as `rule ×count`."""
    return "\n".join(f"{rule} ×{count}" for rule, count in counts.items())
