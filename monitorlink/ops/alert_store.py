"""Where alerts live and who is told: the open alerts, every transition, and the notifiers.

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
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from monitorlink.core.config import Settings
from monitorlink.core.journal import Journal
from monitorlink.core.locks import named_lock
from monitorlink.core.object_store import write_atomic
from monitorlink.ingest.kafka_clients import publish_events

if TYPE_CHECKING:
    from monitorlink.core.object_store import LakePath

log = logging.getLogger(__name__)

SCHEMA = "monitorlink.alert.v1"


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
        import httpx  # loads only when a webhook is configured

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
    def _open_path(self) -> LakePath:
        return self.folder / "open.json"

    def open_alerts(self) -> dict[str, Alert]:
        """Alert key → open alert."""
        if not self._open_path.exists():
            return {}
        stored = json.loads(self._open_path.read_text(encoding="utf-8"))
        return {key: Alert(**value) for key, value in stored.items()}

    def history(self) -> list[dict[str, Any]]:
        """Every transition ever, oldest first."""
        return Journal(self.folder / "log.jsonl").records()

    def reconcile(
        self, kind: str, conditions: Iterable[Condition], subjects: set[str] | None = None
    ) -> list[dict[str, Any]]:
        """Open an alert per new condition, resolve open alerts of `kind` whose condition is gone.

        `subjects` limits which open alerts this check may resolve (None: every alert of the kind), for
        checks that only see part of the picture, such as one pipeline's success.
        """
        now = datetime.now(UTC).isoformat()
        with named_lock(self.settings, "alerts"):
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
        with named_lock(self.settings, "alerts"):
            acknowledged = self.acknowledged() | {key}
            write_atomic(self.folder / "acknowledged.json", json.dumps(sorted(acknowledged)).encode())
        self.reconcile(alert.kind, [], subjects={alert.subject})
        return True

    def _write(
        self, current: Mapping[str, Alert], events: list[dict[str, Any]], acknowledged: set[str]
    ) -> None:
        write_atomic(self.folder / "acknowledged.json", json.dumps(sorted(acknowledged)).encode())
        Journal(self.folder / "log.jsonl").append(events)
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
