"""`monitorlink status`: what an operator needs on one screen, read from the lake, the alerts and Airflow.

Everything comes from durable state, never from the broker: the embedded broker misreports end offsets,
so the ingester's lag is measured against the lake (events the raw snapshots hold that have not landed,
and how old the newest landing is).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from monitorlink.core import services
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest.events import BatchEvent, announced, lake_batches
from monitorlink.ingest.sources import SOURCES, Source
from monitorlink.ops.alert_store import Alert, AlertStore
from monitorlink.ops.alerts import NORM_BREACH, NORM_SOURCE
from monitorlink.ops.recovery import unlanded_availability_events

SERVICES = ("broker", "ingester", "watcher", "airflow", "superset")


@dataclass(frozen=True)
class SourceStatus:
    """One source: its newest batch, that batch's age against the SLA, and what needs attention."""

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


@dataclass(frozen=True)
class Freshness:
    """One source against its contract's freshness policy: when it last landed and whether that is late."""

    source: str
    last_landed_at: str | None
    age_hours: float | None
    every_days: int
    grace_days: int
    late: bool


def freshness(settings: Settings, now: datetime | None = None) -> list[Freshness]:
    """Every source's newest landing against its policy (`freshness` in its contract), from the lake."""
    moment = now or datetime.now(UTC)
    lake = Lake(settings.lake_root)
    return [_freshness(item, lake_batches(lake, item.name), moment) for item in SOURCES]


def _freshness(item: Source, batches: list[BatchEvent], moment: datetime) -> Freshness:
    """A source's newest batch against its policy; never landed counts as late."""
    landed = batches[-1].landed_at if batches else None
    age = (
        None if landed is None else round((moment - datetime.fromisoformat(landed)).total_seconds() / 3600, 1)
    )
    policy = item.freshness
    late = age is None or age > policy.late_after_days * 24
    return Freshness(item.name, landed, age, policy.every_days, policy.grace_days, late)


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
        fresh = _freshness(item, batches, moment)
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
        services={name: services.status(settings.run_dir, name).running for name in SERVICES},
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
