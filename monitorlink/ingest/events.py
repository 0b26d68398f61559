"""Batch events: the only coupling between ingestion and transformation.

Every batch that lands in the lake — a file delivery, a CBS fetch, an availability micro-batch — is
announced on Kafka (`MONITORLINK_BATCH_TOPIC`, default `monitorlink.batches.v1`) as a `batch_landed` or
`batch_quarantined` event. Airflow's asset watchers listen there and trigger the warehouse DAG, which
rebuilds only what the batch's source feeds.

The lake is the outbox: `announce` publishes every batch of a source that the lake holds and
`ops/announced/<source>.txt` does not list yet, and only then lists it. A broker that is down, or a task
that dies between landing and publishing, therefore delays an event but never loses one; `replay`
re-publishes from the lake when the broker itself lost them (the embedded broker keeps nothing across
restarts).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Set
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake, file_lock
from monitorlink.ingest.delivery_log import delivery_log
from monitorlink.ingest.kafka_clients import publish_events
from monitorlink.ingest.sources import EVENT_SOURCES

log = logging.getLogger(__name__)

SCHEMA = "monitorlink.batch.v1"
LANDED = "batch_landed"
QUARANTINED = "batch_quarantined"


@dataclass(frozen=True)
class BatchEvent:
    """One batch in the lake, as announced on the batch topic (schema `monitorlink.batch.v1`).

    `partitions` are the lake folders the batch wrote (`<zone>/<dataset>/ingest_date=…`), `rows` the row
    count per zone, `checksum` the delivery's sha256 as received (file sources) or of the batch's Parquet
    files (availability), and `quality` the rules that fired with their counts.
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
    """Every batch of a source in the lake but those in `skip`, oldest first."""
    if source in EVENT_SOURCES:
        batches = _stream_batches(lake, source, skip)
    else:
        batches = (e for e in _delivery_batches(lake, source) if e.batch_id not in skip)
    return sorted(batches, key=lambda event: (event.landed_at, event.batch_id))


def _delivery_batches(lake: Lake, source: str) -> Iterator[BatchEvent]:
    """File sources: one event per delivery that landed (re-deliveries wrote nothing, so none)."""
    for outcome in delivery_log(lake, source):
        if outcome.batch_id is None or outcome.outcome not in ("validated", "quarantined"):
            continue
        zone = "validated" if outcome.outcome == "validated" else "quarantine"
        day = outcome.processed_at[:10]
        yield BatchEvent(
            event_type=LANDED if zone == "validated" else QUARANTINED,
            source=source,
            batch_id=outcome.batch_id,
            landed_at=outcome.processed_at,
            partitions=[f"{zone}/{dataset}/ingest_date={day}" for dataset in sorted(outcome.rows)],
            rows={zone: sum(outcome.rows.values())},
            checksum=outcome.received_sha256,
            quality={"critical": outcome.critical, "warnings": outcome.warnings},
            delivery={
                "file": outcome.name,
                "scope": outcome.scope,
                "period": outcome.period,
                "version": outcome.version,
            },
        )


def _stream_batches(lake: Lake, source: str, skip: Set[str]) -> Iterator[BatchEvent]:
    """An event source: one event per ingester micro-batch, read from the Parquet files it wrote.

    Batches in `skip` are left out before their files are read (the watcher asks every few seconds).
    """
    files: dict[str, list[tuple[str, Path]]] = {}
    for zone in ("validated", "quarantine"):
        for path in lake.parquet_files(zone, source):
            if path.stem not in skip:
                files.setdefault(path.stem, []).append((zone, path))
    for batch_id, written in files.items():
        rows = {zone: pq.read_metadata(path).num_rows for zone, path in written}
        digest = hashlib.sha256(b"".join(path.read_bytes() for _, path in written)).hexdigest()
        stamp = datetime.strptime(batch_id.split("-")[0], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        yield BatchEvent(
            event_type=LANDED if rows.get("validated") else QUARANTINED,
            source=source,
            batch_id=batch_id,
            landed_at=stamp.isoformat(),
            partitions=[f"{zone}/{source}/{path.parent.name}" for zone, path in written],
            rows=rows,
            checksum=digest,
            quality={"quarantined_rows": {"events": rows.get("quarantine", 0)}},
        )


def source_lock(settings: Settings, source: str) -> AbstractContextManager[None]:
    """One process at a time lands or announces a source (the watcher service and a DAG may overlap)."""
    return file_lock(settings.lake_root / "ops" / "locks" / f"{source}.lock")


def _announced_path(settings: Settings, source: str) -> Path:
    return settings.lake_root / "ops" / "announced" / f"{source}.txt"


def announced(settings: Settings, source: str) -> set[str]:
    """Batch ids of a source already published on the batch topic."""
    path = _announced_path(settings, source)
    return set(path.read_text(encoding="utf-8").split()) if path.exists() else set()


def announce(settings: Settings, source: str) -> list[BatchEvent]:
    """Publish every batch of `source` not announced yet, then record them; returns what was published."""
    with source_lock(settings, source):
        done = announced(settings, source)
        pending = lake_batches(Lake(settings.lake_root), source, skip=done)
        if not pending:
            return []
        publish(settings, pending)
        path = _announced_path(settings, source)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.writelines(f"{event.batch_id}\n" for event in pending)
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
