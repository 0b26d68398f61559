"""`monitorlink status`: what an operator needs on one screen, read from the lake, the alerts and Airflow.

Everything comes from durable state, never from the broker: the embedded broker misreports end offsets,
so the ingester's lag is measured against the lake (events the raw snapshots hold that have not landed,
and how old the newest landing is).

Lateness has two clocks (the contract's `freshness`, `core.contracts.Freshness`): when a source last
landed, and how old the newest period in its data is. A re-landing of old figures resets the first only,
so both are shown, and a source is late when either runs past its policy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from monitorlink.core import services
from monitorlink.core.config import Settings
from monitorlink.core.contracts import data_age_days, period_end
from monitorlink.core.lake import Lake, open_parquet
from monitorlink.ingest.events import LANDED, BatchEvent, announced, lake_batches
from monitorlink.ingest.sources import SOURCES, Source
from monitorlink.ops.alert_store import Alert, AlertStore
from monitorlink.ops.alerts import NORM_BREACH, NORM_SOURCE
from monitorlink.ops.recovery import unlanded_availability_events

if TYPE_CHECKING:
    from monitorlink.core.object_store import LakePath

#: Validated-zone columns that date a row, for sources whose deliveries name no period: the moment an
#: availability figure was measured, the period of a CBS observation.
MEASURED_AT = "measured_at"
PERIOD_CODE = "period_code"


@dataclass(frozen=True)
class SourceStatus:
    """One source: its newest batch, its age on both clocks against the policy, and what needs attention.

    `age_hours` against `sla_hours` is the landing clock; `data_age_days` (since `data_until`, the last day
    of `newest_period`) against `data_sla_days` the data clock; `late_reason` says which one ran out.
    """

    source: str
    batches: int
    quarantined_batches: int
    last_batch: str | None
    last_landed_at: str | None
    age_hours: float | None
    sla_hours: float
    late: bool
    last_rows: int
    unannounced: int
    open_alerts: int
    newest_period: str | None
    data_until: str | None
    data_age_days: float | None
    data_sla_days: int
    late_reason: str | None


@dataclass(frozen=True)
class Freshness:
    """One source against its contract's freshness policy, on both clocks, and whether it is late.

    The landing clock: `last_landed_at` and its `age_hours`. The data clock: `newest_period` (as delivered,
    e.g. `2024Q3`, or the day of the newest measurement), `data_until` (the ISO date it ends) and
    `data_age_days`; all None when the data names no period this can read, and then only landing counts.
    """

    source: str
    last_landed_at: str | None
    age_hours: float | None
    every_days: int
    grace_days: int
    late: bool
    lag_days: int
    newest_period: str | None
    data_until: str | None
    data_age_days: float | None
    late_reason: str | None


def freshness(settings: Settings, now: datetime | None = None) -> list[Freshness]:
    """Every source's newest landing and newest data against its policy (`freshness` in its contract)."""
    moment = now or datetime.now(UTC)
    lake = Lake(settings.lake_root)
    return [_freshness(item, lake, lake_batches(lake, item.name), moment) for item in SOURCES]


def _freshness(item: Source, lake: Lake, batches: list[BatchEvent], moment: datetime) -> Freshness:
    """A source on both clocks against its policy; never landed counts as late."""
    landed = batches[-1].landed_at if batches else None
    landed_at = None if landed is None else datetime.fromisoformat(landed)
    age = None if landed_at is None else round((moment - landed_at).total_seconds() / 3600, 1)
    newest = newest_data(lake, item, batches)
    period, until = newest if newest else (None, None)
    policy = item.freshness
    reason = policy.late_reason(moment, landed_at, until)
    return Freshness(
        source=item.name,
        last_landed_at=landed,
        age_hours=age,
        every_days=policy.every_days,
        grace_days=policy.grace_days,
        late=reason is not None,
        lag_days=policy.lag_days,
        newest_period=period,
        data_until=None if until is None else until.isoformat(),
        data_age_days=None if until is None else round(data_age_days(until, moment), 1),
        late_reason=reason,
    )


def newest_data(lake: Lake, item: Source, batches: list[BatchEvent]) -> tuple[str, date] | None:
    """The newest period a source's validated data covers, with its last day; None when unknown.

    Only validated batches count: quarantined rows are not data anyone reads. A delivery's period is in
    the delivery log, so file feeds cost nothing more. Sources whose deliveries name no period (availability
    micro-batches; CBS, whose file names carry the OData version) are dated from the validated zone instead,
    with pyarrow alone (no pandas or GX, so `status` stays cheap).
    """
    logged = (b.delivery.get("period") for b in batches if b.event_type == LANDED)
    return newest_period(p for p in logged if p) or _newest_in_zone(lake, item)


def newest_period(periods: Iterable[str]) -> tuple[str, date] | None:
    """The period that ends last, with its last day; periods `period_end` cannot read are passed over."""
    ends = [(end, period) for period in periods if (end := period_end(period)) is not None]
    if not ends:
        return None
    end, period = max(ends)
    return period, end


def _newest_in_zone(lake: Lake, item: Source) -> tuple[str, date] | None:
    """The newest period of a source's validated rows: its measurement days, or its CBS period codes."""
    periods: list[str] = []
    for dataset, schema in item.datasets.items():
        files = lake.parquet_files("validated", dataset)
        if MEASURED_AT in schema.names:
            day = _newest_measurement_day(files)
            periods += [day.isoformat()] if day else []
        elif PERIOD_CODE in schema.names:
            periods += _period_codes(files)
    return newest_period(periods)


def _newest_measurement_day(files: list[LakePath]) -> date | None:
    """The UTC day of the newest measurement, read from Parquet footers (no rows, as a rule).

    Newest landing first: a figure is measured before it lands, so a partition that landed before the
    newest day found so far cannot hold a newer one, and the scan stops there rather than open every
    micro-batch the stream ever wrote.
    """
    newest: date | None = None
    for path in reversed(files):
        if newest is not None and _ingest_day(path) < newest:
            break
        moment = _latest_instant(path, MEASURED_AT)
        if moment is not None and (newest is None or moment.date() > newest):
            newest = moment.date()
    return newest


def _ingest_day(path: LakePath) -> date:
    """The day a validated file landed, from its partition folder (`ingest_date=2026-08-14`)."""
    return date.fromisoformat(path.parent.name.removeprefix("ingest_date="))


#: Microseconds per tick of each Arrow timestamp unit.
_MICROSECONDS = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}


def _latest_instant(path: LakePath, column: str) -> datetime | None:
    """A timestamp column's latest value in one Parquet file: the footer statistics, else the column.

    Read as raw integers: letting pyarrow make a zoned datetime of a statistic (or use `pq.read_table`)
    imports pandas, which `status` must not load.
    """
    parquet = open_parquet(path)
    if column not in parquet.schema_arrow.names:
        return None
    kind = parquet.schema_arrow.field(column).type
    if not pa.types.is_timestamp(kind):  # not a moment this can date by: unknown, as for any other period
        return None
    metadata = parquet.metadata
    index = [metadata.schema.column(j).path for j in range(metadata.num_columns)].index(column)
    stats = [metadata.row_group(i).column(index).statistics for i in range(metadata.num_row_groups)]
    ticks: int | None
    if stats and all(s is not None and s.has_min_max for s in stats):
        ticks = max(int(s.max_raw) for s in stats)
    else:
        values = parquet.read(columns=[column])[column].cast(pa.int64()).to_pylist()
        ticks = max((v for v in values if v is not None), default=None)
    if ticks is None:
        return None
    unit = _MICROSECONDS[kind.unit]
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ticks * unit)


def _period_codes(files: list[LakePath]) -> list[str]:
    """The distinct period codes in a dataset's files (CBS tables are small; the column is all it reads).

    Read in full rather than from the statistics, because the largest code is not the newest period:
    `2025MM03` sorts after `2025JJ00`, which ends nine months later.
    """
    codes: set[str] = set()
    for path in files:
        column = open_parquet(path).read(columns=[PERIOD_CODE])[PERIOD_CODE]
        codes.update(code for code in column.unique().to_pylist() if code)
    return sorted(codes)


@dataclass(frozen=True)
class Status:
    """The whole picture; `--json` prints exactly this."""

    checked_at: str
    sources: list[SourceStatus]
    ingester_pending_events: int
    open_alerts: dict[str, int]
    dag_runs: list[dict[str, Any]]
    services: dict[str, bool] = field(default_factory=dict)


def status(settings: Settings, now: datetime | None = None) -> Status:
    """Collect the status; `now` is for tests."""
    moment = now or datetime.now(UTC)
    lake = Lake(settings.lake_root)
    open_alerts = list(AlertStore(settings).open_alerts().values())
    rows = []
    for item in SOURCES:
        batches = lake_batches(lake, item.name)
        last = batches[-1] if batches else None
        fresh = _freshness(item, lake, batches, moment)
        done = announced(settings, item.name)
        rows.append(
            SourceStatus(
                source=item.name,
                batches=len(batches),
                quarantined_batches=sum(1 for b in batches if not b.rows.get("validated")),
                last_batch=last.batch_id if last else None,
                last_landed_at=last.landed_at if last else None,
                age_hours=fresh.age_hours,
                sla_hours=float(item.freshness.late_after_days * 24),
                late=fresh.late,
                last_rows=sum(last.rows.values()) if last else 0,
                unannounced=sum(1 for b in batches if b.batch_id not in done),
                open_alerts=sum(1 for a in open_alerts if _source_of(a) == item.name),
                newest_period=fresh.newest_period,
                data_until=fresh.data_until,
                data_age_days=fresh.data_age_days,
                data_sla_days=item.freshness.data_late_after_days,
                late_reason=fresh.late_reason,
            )
        )
    kinds: dict[str, int] = {}
    for alert in open_alerts:
        kinds[alert.kind] = kinds.get(alert.kind, 0) + 1
    return Status(
        checked_at=moment.isoformat(timespec="seconds"),
        sources=rows,
        ingester_pending_events=len(unlanded_availability_events(settings)),
        open_alerts=kinds,
        dag_runs=last_dag_runs(settings),
        services={name: services.status(settings.run_dir, name).running for name in services.SERVICE_NAMES},
    )


def _source_of(alert: Alert) -> str:
    """The source an alert concerns: waiting-time norms are availability's; others name it first."""
    return NORM_SOURCE if alert.kind == NORM_BREACH else alert.subject.split("/")[0]


def last_dag_runs(settings: Settings) -> list[dict[str, Any]]:
    """The latest run of every DAG, read-only from Airflow's SQLite metadata (empty if there is none).

    With Airflow on Postgres (production), its UI and REST API say the same; this reads the embedded one.
    """
    database = settings.airflow_home / "airflow.db"
    if not database.exists():
        return []
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        connection.row_factory = sqlite3.Row
        try:
            rows = connection.execute(
                "select dag_id, run_id, run_type, state, start_date, end_date from dag_run"
                " where id in (select max(id) from dag_run group by dag_id) order by dag_id"
            ).fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return []
    return [dict(row) for row in rows]
