"""Alerts: each condition opens one alert, which stays open across runs and resolves once it clears.

Four kinds, each checked from data that is already there, never from a separate monitoring store:
- `norm_breach`: an offer over the waiting-time norm that owes a herstelplan (`fct_offer_wait_norm`);
- `source_late`: a source whose last landing is older than its rhythm plus grace (`fct_source_freshness`,
  which has each source's contract `freshness`), or a provider whose availability lags the feed
  (`fct_availability_provider_freshness`, dbt var `provider_freshness_days`);
- `quality_gate`: the latest delivery for a scope and period was quarantined (a later good one resolves it),
  or the latest availability batch quarantined events;
- `pipeline_failure`: an Airflow task failed after its retries (resolved by the pipeline's next success).

Open alerts live in `<lake>/ops/alerts/open.json`, every transition is appended to
`<lake>/ops/alerts/log.jsonl`, and each transition goes to the notifiers (`MONITORLINK_ALERT_NOTIFIERS`):
`log`, `kafka` (topic `MONITORLINK_ALERT_TOPIC`, default `monitorlink.alerts.v1`) and, when
`MONITORLINK_ALERT_WEBHOOK_URL` is set, a JSON POST to that URL. State is written before anyone is told,
so a notifier that is down costs a message, never a duplicate or a lost alert.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import duckdb
import httpx

from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake, file_lock, write_atomic
from monitorlink.ingest.delivery_log import delivery_log
from monitorlink.ingest.events import lake_batches
from monitorlink.ingest.kafka_clients import publish_events
from monitorlink.ingest.sources import DELIVERY_SOURCES, EVENT_SOURCES

log = logging.getLogger(__name__)

SCHEMA = "monitorlink.alert.v1"
NORM_BREACH = "norm_breach"
#: The source the waiting-time checks read (`fct_offer_wait_norm`, `fct_availability_provider_freshness`):
#: its alerts' subjects are offers and providers, so status needs to be told whose they are.
NORM_SOURCE = "availability"
SOURCE_LATE = "source_late"
QUALITY_GATE = "quality_gate"
PIPELINE_FAILURE = "pipeline_failure"
KINDS = (NORM_BREACH, SOURCE_LATE, QUALITY_GATE, PIPELINE_FAILURE)


@dataclass(frozen=True)
class Condition:
    """Something that is wrong now: what it concerns (`subject`) and a sentence for people."""

    subject: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Alert:
    """One alert over its life: opened once, resolved once."""

    kind: str
    subject: str
    summary: str
    details: dict[str, Any]
    opened_at: str
    resolved_at: str | None = None

    @property
    def key(self) -> str:
        """Stable identity: the same condition on the next run is the same alert."""
        return f"{self.kind}:{self.subject}"

    def event(self, event_type: str) -> dict[str, Any]:
        """The message notifiers send (schema `monitorlink.alert.v1`)."""
        return {"schema": SCHEMA, "event_type": event_type, "alert_id": self.key, **asdict(self)}


class Notifier(Protocol):
    """Where alert events go; `send` gets the transitions of one check, in order."""

    name: str

    def send(self, events: list[dict[str, Any]]) -> None:
        """Deliver the events or raise."""


class LogNotifier:
    """Writes each transition to the `monitorlink.ops.alerts` log (service logs, `-v` on the CLI)."""

    name = "log"

    def send(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            log.info("%s %s: %s", event["event_type"], event["alert_id"], event["summary"])


class KafkaNotifier:
    """Publishes transitions on the alert topic, keyed by alert id so one alert's story stays in order."""

    name = "kafka"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, events: list[dict[str, Any]]) -> None:
        publish_events(self.settings, self.settings.alert_topic, events, key_field="alert_id")


class WebhookNotifier:
    """POSTs `{"alerts": [...]}` as JSON; a relay (Teams workflow, mail gateway) can take it from there."""

    name = "webhook"

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url, self.timeout_s = url, timeout_s

    def send(self, events: list[dict[str, Any]]) -> None:
        response = httpx.post(self.url, json={"alerts": events}, timeout=self.timeout_s)
        response.raise_for_status()


def notifiers(settings: Settings) -> list[Notifier]:
    """The configured notifiers; an unknown name is a configuration error, said at once."""
    chosen: list[Notifier] = []
    for name in settings.alert_notifiers:
        if name == "log":
            chosen.append(LogNotifier())
        elif name == "kafka":
            chosen.append(KafkaNotifier(settings))
        elif name != "webhook":
            raise ValueError(f"MONITORLINK_ALERT_NOTIFIERS: unknown notifier {name!r} (log, kafka, webhook)")
    if settings.alert_webhook_url:
        chosen.append(WebhookNotifier(settings.alert_webhook_url, settings.http_timeout_s))
    return chosen


class AlertStore:
    """Open alerts and the transition log under `<lake>/ops/alerts/`; changes hold its lock."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.folder = settings.lake_root / "ops" / "alerts"

    @property
    def _open_path(self) -> Path:
        return self.folder / "open.json"

    def open_alerts(self) -> dict[str, Alert]:
        """Alert key → open alert."""
        if not self._open_path.exists():
            return {}
        stored = json.loads(self._open_path.read_text(encoding="utf-8"))
        return {key: Alert(**value) for key, value in stored.items()}

    def history(self) -> list[dict[str, Any]]:
        """Every transition ever, oldest first."""
        path = self.folder / "log.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

    def reconcile(
        self, kind: str, conditions: Iterable[Condition], subjects: set[str] | None = None
    ) -> list[dict[str, Any]]:
        """Open an alert per new condition, resolve open alerts of `kind` whose condition is gone.

        `subjects` limits which open alerts this check may resolve (None: every alert of the kind), for
        checks that only see part of the picture, such as one pipeline's success.
        """
        now = datetime.now(UTC).isoformat()
        with file_lock(self.settings.lake_root / "ops" / "locks" / "alerts.lock"):
            current, acknowledged = self.open_alerts(), self.acknowledged()
            seen, events = set(), []
            for condition in conditions:
                alert = Alert(kind, condition.subject, condition.summary, condition.details, now)
                seen.add(alert.key)
                if alert.key not in current and alert.key not in acknowledged:
                    current[alert.key] = alert
                    events.append(alert.event("alert_opened"))
            for key, alert in sorted(current.items()):
                in_scope = subjects is None or alert.subject in subjects
                if alert.kind == kind and key not in seen and in_scope:
                    alert.resolved_at = now
                    events.append(alert.event("alert_resolved"))
                    del current[key]
            # An acknowledgement lasts while its condition does; once a full check no longer sees the
            # condition, it is forgotten, so the next occurrence alerts again.
            full_check = subjects is None
            still = {
                k for k in acknowledged if not (full_check and k.startswith(f"{kind}:") and k not in seen)
            }
            if events or still != acknowledged:
                self._write(current, events, still)
        if events:
            _notify(self.settings, events)
        return events

    def acknowledged(self) -> set[str]:
        """Alerts resolved by hand whose condition has not cleared yet (they do not reopen)."""
        path = self.folder / "acknowledged.json"
        return set(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else set()

    def acknowledge(self, key: str) -> bool:
        """Resolve an open alert by hand and keep it from reopening while its condition lasts."""
        alert = self.open_alerts().get(key)
        if alert is None:
            return False
        with file_lock(self.settings.lake_root / "ops" / "locks" / "alerts.lock"):
            acknowledged = self.acknowledged() | {key}
            write_atomic(self.folder / "acknowledged.json", json.dumps(sorted(acknowledged)).encode())
        self.reconcile(alert.kind, [], subjects={alert.subject})
        return True

    def _write(
        self, current: Mapping[str, Alert], events: list[dict[str, Any]], acknowledged: set[str]
    ) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.folder / "acknowledged.json", json.dumps(sorted(acknowledged)).encode())
        with (self.folder / "log.jsonl").open("a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(event, ensure_ascii=False) + "\n" for event in events)
        state = {key: asdict(alert) for key, alert in sorted(current.items())}
        write_atomic(self._open_path, json.dumps(state, indent=1, ensure_ascii=False).encode())


def _notify(settings: Settings, events: list[dict[str, Any]]) -> None:
    """Tell every notifier; one that fails is logged and the others still get the events."""
    for notifier in notifiers(settings):
        try:
            notifier.send(events)
        except Exception as error:
            # A notifier must never stop the others or the pipeline; the log keeps every transition.
            log.error("alert notifier %s failed (%s); see the alert log", notifier.name, error)


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
    """Sources past their rhythm plus grace, and providers whose availability lags the feed."""
    late = []
    rows = connection.execute(
        "select source, last_landed_at, expected_every_days, grace_days from published.fct_source_freshness"
    ).fetchall()
    for source, landed_at, every, grace in rows:
        landed = _as_utc(landed_at)
        due = None if landed is None else landed + timedelta(days=every + grace)
        if due is None or now > due:
            when = "never landed" if landed is None else f"last landed {landed:%Y-%m-%d %H:%M} UTC"
            late.append(
                Condition(
                    source,
                    f"{source} is late: {when}, expected every {every} days with {grace} days' grace",
                    {"last_landed_at": _iso(landed), "expected_every_days": every, "grace_days": grace},
                )
            )
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
    if not settings.analysts_warehouse_path.exists():
        return events
    with duckdb.connect(str(settings.analysts_warehouse_path), read_only=True) as connection:
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
