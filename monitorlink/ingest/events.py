"""Batch events: the only coupling between ingestion and transformation.

Every batch that lands in the lake — a file delivery, a CBS fetch, an availability micro-batch — is
announced on Kafka (`MONITORLINK_BATCH_TOPIC`, default `monitorlink.batches.v1`) as a `batch_landed` or
`batch_quarantined` event. Airflow's asset watchers listen there and trigger the warehouse DAG, which
rebuilds only what the batch's source feeds.

The lake is the outbox: `announce` publishes every batch of a source that the lake holds and
`ops/announced/<source>.jsonl` does not list yet, and only then lists it. A broker that is down, or a task
that dies between landing and publishing, therefore delays an event but never loses one; `replay`
re-publishes from the lake when the broker itself lost them (the embedded broker keeps nothing across
restarts).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Set
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Any

from monitorlink.core.config import Settings
from monitorlink.core.journal import Journal
from monitorlink.core.lake import Lake
from monitorlink.core.locks import named_lock
from monitorlink.ingest.delivery_log import DeliveryOutcome, delivery_log
from monitorlink.ingest.kafka_clients import publish_events

log = logging.getLogger(__name__)

SCHEMA = "monitorlink.batch.v1"
LANDED = "batch_landed"
QUARANTINED = "batch_quarantined"


@dataclass(frozen=True)
class BatchEvent:
    """One batch in the lake, as announced on the batch topic (schema `monitorlink.batch.v1`).

    `partitions` are the lake folders the batch wrote (`<zone>/<dataset>/ingest_date=…`), `rows` the row
    count per zone, `checksum` the delivery's sha256 as received (deliveries) or over the checksums of its
    messages (micro-batches), `quality` the rules that fired with their counts, and `delivery` the file (or
    micro-batch) with the scope, period and version its name gives.
    """

    event_type: str
    source: str
    batch_id: str
    landed_at: str
    partitions: list[str]
    rows: dict[str, int]
    checksum: str
    quality: dict[str, dict[str, int]] = field(default_factory=dict)
    delivery: dict[str, Any] = field(default_factory=dict)
    schema: str = SCHEMA

    @property
    def event_id(self) -> str:
        """Unique per batch, so consumers can de-duplicate a replayed event."""
        return f"{self.source}:{self.batch_id}"

    def as_message(self) -> dict[str, Any]:
        """The JSON payload on Kafka."""
        return {"event_id": self.event_id, **asdict(self)}


def lake_batches(lake: Lake, source: str, skip: Set[str] = frozenset()) -> list[BatchEvent]:
    """Every batch of a source in the lake but those in `skip`, oldest first, read from its delivery log.

    One event per delivery or micro-batch that landed; re-deliveries wrote nothing, so they have none.
    """
    batches = (
        _batch_event(outcome)
        for outcome in delivery_log(lake, source)
        if outcome.batch_id is not None and outcome.batch_id not in skip
        and outcome.outcome in ("validated", "quarantined")
    )  # fmt: skip
    return sorted(batches, key=lambda event: (event.landed_at, event.batch_id))


def _batch_event(outcome: DeliveryOutcome) -> BatchEvent:
    """A logged delivery or micro-batch as its event: which zones and datasets it wrote, and how much."""
    assert outcome.batch_id is not None
    day = outcome.processed_at[:10]
    zone_of_rows = "validated" if outcome.outcome == "validated" else "quarantine"
    written = [(zone_of_rows, dataset, count) for dataset, count in sorted(outcome.rows.items())]
    written += [("quarantine", dataset, count) for dataset, count in sorted(outcome.quarantined.items())]
    rows: dict[str, int] = {}
    for zone, _, count in written:
        rows[zone] = rows.get(zone, 0) + count
    return BatchEvent(
        event_type=LANDED if outcome.outcome == "validated" else QUARANTINED,
        source=outcome.source,
        batch_id=outcome.batch_id,
        landed_at=outcome.processed_at,
        partitions=[f"{zone}/{dataset}/ingest_date={day}" for zone, dataset, _ in written],
        rows=rows or {zone_of_rows: 0},
        checksum=outcome.received_sha256,
        quality={"critical": outcome.critical, "warnings": outcome.warnings},
        delivery={
            "file": outcome.name,
            "scope": outcome.scope,
            "period": outcome.period,
            "version": outcome.version,
        },
    )


def source_lock(settings: Settings, source: str) -> AbstractContextManager[None]:
    """One process at a time lands or announces a source (the watcher service and a DAG may overlap)."""
    return named_lock(settings, source)


def _announced(settings: Settings, source: str) -> Journal:
    """The outbox's record of what was published: one line per batch id (`ops/announced/<source>`)."""
    return Journal(settings.lake_root / "ops" / "announced" / f"{source}.jsonl")


def announced(settings: Settings, source: str) -> set[str]:
    """Batch ids of a source already published on the batch topic.

    Lakes from before the journal kept them as lines of `ops/announced/<source>.txt`; those still count,
    so an upgrade does not announce every batch again.
    """
    earlier = settings.lake_root / "ops" / "announced" / f"{source}.txt"
    before = set(earlier.read_text(encoding="utf-8").split()) if earlier.exists() else set()
    return before | {line["batch_id"] for line in _announced(settings, source).records()}


def announce(settings: Settings, source: str) -> list[BatchEvent]:
    """Publish every batch of `source` not announced yet, then record them; returns what was published."""
    with source_lock(settings, source):
        done = announced(settings, source)
        pending = lake_batches(Lake(settings.lake_root), source, skip=done)
        if not pending:
            return []
        publish(settings, pending)
        _announced(settings, source).append({"batch_id": event.batch_id} for event in pending)
    log.info("%s: announced %d batches on %s", source, len(pending), settings.batch_topic)
    return pending


def publish(settings: Settings, events: list[BatchEvent]) -> None:
    """Send batch events, keyed by source so each source's events stay in order."""
    publish_events(settings, settings.batch_topic, (e.as_message() for e in events), key_field="source")


def decode(value: bytes | str) -> dict[str, Any]:
    """A batch event from its Kafka payload; raises ValueError when it is not one of ours."""
    event = json.loads(value)
    if not isinstance(event, dict) or event.get("schema") != SCHEMA:
        raise ValueError(f"not a {SCHEMA} event: {str(value)[:120]}")
    return event
