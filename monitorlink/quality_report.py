"""`monitorlink quality report`: per landed batch, how many rows passed, how many were quarantined and why.

Read straight from the lake's validated and quarantine zones with DuckDB, so the report is what an analyst
finds in the files themselves — there is no separate bookkeeping that could disagree with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from monitorlink.lake import Lake


@dataclass(frozen=True)
class BatchQuality:
    """One micro-batch of one dataset: rows passed, rows quarantined, and each rule with its count."""

    dataset: str
    batch_id: str
    landed_at: datetime
    validated: int
    quarantined: int
    rules: dict[str, int]


@dataclass(frozen=True)
class QuarantinedRow:
    """One rejected row with where it came from and every reason."""

    batch_id: str
    kafka_partition: int
    kafka_offset: int
    event_id: str | None
    reasons: list[str]


def _datasets(lake: Lake, dataset: str | None) -> list[str]:
    names = {path.name for zone in ("validated", "quarantine") for path in (lake.root / zone).glob("*/")}
    return sorted(name for name in names if dataset in (None, name))


def _counts(lake: Lake, zone: str, dataset: str) -> dict[str, tuple[datetime, int]]:
    files = [str(p) for p in lake.parquet_files(zone, dataset)]
    if not files:
        return {}
    rows = duckdb.sql(
        "select _batch_id, timezone('UTC', min(_ingested_at)), count(*) from read_parquet($files) group by 1",
        params={"files": files},
    ).fetchall()
    return {batch: (landed_at, count) for batch, landed_at, count in rows}


def _rules(lake: Lake, dataset: str) -> dict[str, dict[str, int]]:
    files = [str(p) for p in lake.parquet_files("quarantine", dataset)]
    if not files:
        return {}
    rows = duckdb.sql(
        "select _batch_id, rule, count(*) from"
        " (select _batch_id, unnest(failed_rules) as rule from read_parquet($files)) group by 1, 2",
        params={"files": files},
    ).fetchall()
    rules: dict[str, dict[str, int]] = {}
    for batch, rule, count in rows:
        rules.setdefault(batch, {})[rule] = count
    return rules


def batches(lake: Lake, dataset: str | None = None) -> list[BatchQuality]:
    """Every batch in the lake, newest first."""
    report = []
    for name in _datasets(lake, dataset):
        validated, quarantined, rules = (
            _counts(lake, "validated", name),
            _counts(lake, "quarantine", name),
            _rules(lake, name),
        )
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
                )
            )
    return sorted(report, key=lambda b: (b.landed_at, b.batch_id), reverse=True)


def quarantined_rows(lake: Lake, dataset: str, batch_id: str) -> list[QuarantinedRow]:
    """The rejected rows of one batch, in offset order, with all their reasons."""
    files = [str(p) for p in lake.parquet_files("quarantine", dataset)]
    if not files:
        return []
    rows = duckdb.sql(
        "select _batch_id, _kafka_partition, _kafka_offset, event_id, reasons from read_parquet($files)"
        " where _batch_id = $batch order by _kafka_partition, _kafka_offset",
        params={"files": files, "batch": batch_id},
    ).fetchall()
    return [QuarantinedRow(*row) for row in rows]
