"""Alerts: each condition opens one alert, which stays open across runs and resolves once it clears.

Four kinds, each checked from data that is already there, never from a separate monitoring store:
- `norm_breach`: an offer over the waiting-time norm that owes a herstelplan (`fct_offer_wait_norm`);
- `source_late`: a source late on either clock of its contract's `freshness` (`fct_source_freshness`):
  nothing landed for its rhythm plus grace, or its newest period ended longer ago than rhythm, lag and
  grace together (so re-landing old figures does not hide it); or a provider whose availability lags the
  feed (`fct_availability_provider_freshness`, dbt var `provider_freshness_days`);
- `quality_gate`: the latest delivery for a scope and period was quarantined (a later good one resolves it),
  or the latest availability batch quarantined events;
- `pipeline_failure`: an Airflow task failed after its retries (resolved by the pipeline's next success).

Open alerts, their history and the notifiers are in `alert_store`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import duckdb

from monitorlink.core.config import Settings
from monitorlink.core.contracts import Freshness, period_end
from monitorlink.core.lake import Lake
from monitorlink.ingest.delivery_log import delivery_log
from monitorlink.ingest.events import lake_batches
from monitorlink.ingest.sources import DELIVERY_SOURCES, EVENT_SOURCES
from monitorlink.ops.alert_store import AlertStore, Condition
from monitorlink.warehouse.tiers import last_published

log = logging.getLogger(__name__)

NORM_BREACH = "norm_breach"
#: The source the waiting-time checks read (`fct_offer_wait_norm`, `fct_availability_provider_freshness`):
#: its alerts' subjects are offers and providers, so status needs to be told whose they are.
NORM_SOURCE = "availability"
SOURCE_LATE = "source_late"
QUALITY_GATE = "quality_gate"
PIPELINE_FAILURE = "pipeline_failure"
KINDS = (NORM_BREACH, SOURCE_LATE, QUALITY_GATE, PIPELINE_FAILURE)


# the checks ---------------------------------------------------------------------------------------------


def norm_breaches(connection: duckdb.DuckDBPyConnection) -> list[Condition]:
    """Offers over the waiting-time norm that owe a herstelplan."""
    rows = connection.execute(
        "select offer_key, provider_name, offer_name, wait_weeks, norm_weeks"
        " from published.fct_offer_wait_norm where herstelplan_required order by offer_key"
    ).fetchall()
    return [
        Condition(
            str(key),
            f"{provider}: {offer} waits {weeks:g} weeks (norm {float(norm):g}); herstelplan required",
            {"provider": provider, "offer": offer, "wait_weeks": weeks, "norm_weeks": float(norm)},
        )
        for key, provider, offer, weeks, norm in rows
    ]


def late_sources(connection: duckdb.DuckDBPyConnection, now: datetime) -> list[Condition]:
    """Sources late on either clock of their policy, and providers whose availability lags the feed.

    The verdict and its reason are `Freshness.late_reason` at `now`, the ones `monitorlink status` gives;
    the landing, the newest period and the policy are the warehouse's (not its `is_late`, which is as of
    the build).
    """
    late = []
    rows = connection.execute(
        "select source, last_landed_at, newest_period, expected_every_days, grace_days, lag_days"
        " from published.fct_source_freshness order by source"
    ).fetchall()
    for source, landed_at, newest, every, grace, lag in rows:
        late += _late_source(source, _as_utc(landed_at), newest, _policy(every, grace, lag), now)
    stale = connection.execute(
        "select provider_name, last_measured_at, days_behind_feed"
        " from published.fct_availability_provider_freshness where is_stale order by provider_name"
    ).fetchall()
    for provider, measured, behind in stale:
        late.append(
            Condition(
                f"{NORM_SOURCE}/{provider}",
                f"availability of {provider} is {behind} days behind the feed ({measured:%Y-%m-%d})",
                {"last_measured_at": _iso(measured), "days_behind_feed": behind},
            )
        )
    return late


def _policy(every: int, grace: int, lag: int) -> Freshness:
    """The policy dbt was built with: each contract's `freshness`, passed by the build (`source_sla_days`)."""
    return Freshness(int(every), int(grace), int(lag))


def _late_source(
    source: str, landed: datetime | None, newest: str | None, policy: Freshness, now: datetime
) -> list[Condition]:
    """The source's late condition, with the reason in its summary; none when it is on time.

    A newest period `period_end` cannot read counts as unknown: then only the landing clock decides.
    """
    until = None if newest is None else period_end(str(newest))
    reason = policy.late_reason(now, landed, until)
    if reason is None:
        return []
    details = {
        "last_landed_at": _iso(landed),
        "newest_period": newest,
        "data_until": None if until is None else until.isoformat(),
        "expected_every_days": policy.every_days,
        "lag_days": policy.lag_days,
        "grace_days": policy.grace_days,
        "reason": reason,
    }
    return [Condition(source, f"{source} is late: {reason}", details)]


def _as_utc(moment: datetime | None) -> datetime | None:
    """DuckDB hands timestamps back naive (UTC by the lake's convention) or aware; compare them in UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def quality_failures(lake: Lake) -> list[Condition]:
    """Scope-periods whose latest delivery was quarantined, and the last availability batch if it was."""
    failures = []
    for source in DELIVERY_SOURCES:
        latest: dict[str, Any] = {}
        for outcome in delivery_log(lake, source):
            if outcome.outcome in ("validated", "quarantined"):
                where = f"{outcome.scope}/{outcome.period}" if outcome.scope else outcome.name
                latest[f"{source}/{where}"] = outcome
        for subject, outcome in sorted(latest.items()):
            if outcome.outcome == "quarantined":
                rules = ", ".join(sorted(outcome.critical))
                failures.append(
                    Condition(
                        subject,
                        f"{outcome.name} was quarantined ({rules}); see `monitorlink quality report`",
                        {"file": outcome.name, "batch_id": outcome.batch_id, "rules": outcome.critical},
                    )
                )
    for source in EVENT_SOURCES:
        batches = lake_batches(lake, source)
        if batches and batches[-1].rows.get("quarantine"):
            last = batches[-1]
            failures.append(
                Condition(
                    source,
                    f"the latest {source} batch quarantined {last.rows['quarantine']} events",
                    {"batch_id": last.batch_id, "rows": last.rows},
                )
            )
    return failures


def check(settings: Settings, now: datetime | None = None) -> list[dict[str, Any]]:
    """Run the data checks (norm, lateness, quality) against the analysts' warehouse and the lake.

    Pipeline failures are not checked here: Airflow reports them (`pipeline_failed`/`pipeline_succeeded`).
    """
    store = AlertStore(settings)
    events = store.reconcile(QUALITY_GATE, quality_failures(Lake(settings.lake_root)))
    opened = last_published(settings, "analysts")
    if opened is None:
        return events
    with opened as connection:
        norm = norm_breaches(connection)
        late = late_sources(connection, now or datetime.now(UTC))
    return events + store.reconcile(NORM_BREACH, norm) + store.reconcile(SOURCE_LATE, late)


def pipeline_failed(settings: Settings, pipeline: str, task: str, error: str) -> list[dict[str, Any]]:
    """Open (once) the failure alert of a pipeline."""
    condition = Condition(pipeline, f"{pipeline} failed in {task}: {error[:300]}", {"task": task})
    return AlertStore(settings).reconcile(PIPELINE_FAILURE, [condition], subjects=set())


def pipeline_succeeded(settings: Settings, pipeline: str) -> list[dict[str, Any]]:
    """Resolve the failure alert of a pipeline, if one is open."""
    return AlertStore(settings).reconcile(PIPELINE_FAILURE, [], subjects={pipeline})
