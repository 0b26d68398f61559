"""`monitorlink quality report`: per landed batch, how many rows passed, how many were quarantined and why.

Read straight from the lake's validated and quarantine zones with DuckDB, so the report is what an analyst
finds in the files themselves — there is no separate bookkeeping that could disagree with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from monitorlink.core.lake import ZONES, Lake
from monitorlink.ingest.sources import SOURCES, Arrival


@dataclass(frozen=True)
class BatchQuality:
    """One micro-batch of one dataset: rows passed, rows quarantined, and each rule with its count."""

    dataset: str
    batch_id: str
    landed_at: datetime
    validated: int
    quarantined: int
    rules: dict[str, int]
    flags: dict[str, int]
    delivery: str | None


@dataclass(frozen=True)
class QuarantinedRow:
    """One rejected row: where it came from (Kafka partition@offset, or file:row) and every reason."""

    batch_id: str
    location: str
    event_id: str | None
    reasons: list[str]


def datasets(lake: Lake, dataset: str | None = None) -> list[str]:
    """Datasets of the platform's sources with anything in the validated or quarantine zone (or just
    `dataset`, if it has)."""
    names = {path.name for zone in ("validated", "quarantine") for path in (lake.root / zone).glob("*/")}
    known = {name for item in SOURCES for name in item.datasets}
    return sorted(name for name in names & known if dataset in (None, name))


def _arrives_as_events(dataset: str) -> bool:
    """Whether a dataset's rows came as events (a row's place is a Kafka offset) or in deliveries (a file
    row): the source says so, the files need not be inspected."""
    return any(dataset in item.datasets for item in SOURCES if item.arrival is Arrival.EVENTS)


def _counts(lake: Lake, zone: str, dataset: str) -> dict[str, tuple[datetime, int]]:
    files = [str(p) for p in lake.parquet_files(zone, dataset)]
    if not files:
        return {}
    rows = duckdb.sql(
        "select _batch_id, timezone('UTC', min(_ingested_at)), count(*) from read_parquet($files) group by 1",
        params={"files": files},
    ).fetchall()
    return {batch: (landed_at, count) for batch, landed_at, count in rows}


def _per_rule(lake: Lake, zone: str, dataset: str, column: str) -> dict[str, dict[str, int]]:
    """Per batch, how many rows carry each rule in a list column (quarantine rules or warning flags)."""
    files = [str(p) for p in lake.parquet_files(zone, dataset)]
    if not files:
        return {}
    rows = duckdb.sql(
        f"select _batch_id, rule, count(*) from"
        f" (select _batch_id, unnest({column}) as rule from read_parquet($files)) group by 1, 2",
        params={"files": files},
    ).fetchall()
    rules: dict[str, dict[str, int]] = {}
    for batch, rule, count in rows:
        rules.setdefault(batch, {})[rule] = count
    return rules


def _deliveries(lake: Lake, dataset: str) -> dict[str, str]:
    """Batch id → the file it landed from (a micro-batch of events has no file)."""
    files = [str(p) for zone in ZONES for p in lake.parquet_files(zone, dataset)]
    if not files or _arrives_as_events(dataset):
        return {}
    rows = duckdb.sql(
        "select distinct _batch_id, _delivery_file from read_parquet($files, union_by_name=true)",
        params={"files": files},
    ).fetchall()
    return dict(rows)


def batches(lake: Lake, dataset: str | None = None) -> list[BatchQuality]:
    """Every batch in the lake, newest first."""
    report = []
    for name in datasets(lake, dataset):
        validated, quarantined = _counts(lake, "validated", name), _counts(lake, "quarantine", name)
        rules = _per_rule(lake, "quarantine", name, "failed_rules")
        flags = {} if _arrives_as_events(name) else _per_rule(lake, "validated", name, "_quality_flags")
        deliveries = _deliveries(lake, name)
        for batch_id in validated.keys() | quarantined.keys():
            parts = [part for part in (validated.get(batch_id), quarantined.get(batch_id)) if part]
            report.append(
                BatchQuality(
                    dataset=name,
                    batch_id=batch_id,
                    landed_at=min(landed_at for landed_at, _ in parts),
                    validated=validated[batch_id][1] if batch_id in validated else 0,
                    quarantined=quarantined[batch_id][1] if batch_id in quarantined else 0,
                    rules=dict(sorted(rules.get(batch_id, {}).items())),
                    flags=dict(sorted(flags.get(batch_id, {}).items())),
                    delivery=deliveries.get(batch_id),
                )
            )
    return sorted(report, key=lambda b: (b.landed_at, b.batch_id), reverse=True)


def quarantined_rows(lake: Lake, dataset: str, batch_id: str) -> list[QuarantinedRow]:
    """The rejected rows of one batch with all their reasons (for files: the rows at fault first)."""
    files = [str(p) for p in lake.parquet_files("quarantine", dataset)]
    if not files:
        return []
    location, order, event = (
        # rows with a failure of their own first, then those rejected only with their delivery
        ("_delivery_file || ':' || _source_row", "failed_rules = ['delivery_rejected'], _source_row", "null")
        if not _arrives_as_events(dataset)
        else ("_kafka_partition || '@' || _kafka_offset", "_kafka_partition, _kafka_offset", "event_id")
    )
    rows = duckdb.sql(
        f"select _batch_id, {location}, {event}, reasons from read_parquet($files)"
        f" where _batch_id = $batch order by {order}",
        params={"files": files, "batch": batch_id},
    ).fetchall()
    return [QuarantinedRow(*row) for row in rows]
