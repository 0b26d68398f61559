"""The availability pipeline as plain functions: pull → publish → land → build.

The Airflow DAG and `monitorlink run` call exactly these; each step takes and returns small values (paths,
counts, event ids) so they can travel between Airflow tasks as XCom.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from connectors import availability
from connectors.files import mask_bsns_in_text
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest.kafka_clients import MessageRef, new_consumer, publish_events
from monitorlink.ingest.quality import load_suite
from monitorlink.ingest.stream import Feed, Ingester, IngestStats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PulledSnapshot:
    """A snapshot kept in the raw zone; `is_new` is False when the same bytes were pulled before.

    `error` says why a snapshot failed on its own (unreachable, or not a snapshot: then its bytes are
    still in the raw zone, `raw_path`); the other snapshots of the pull go on without it.
    """

    origin: str
    raw_path: str
    sha256: str
    rows: int
    is_new: bool
    error: str | None = None


@dataclass(frozen=True)
class Published:
    """Events sent for one snapshot; the acknowledged messages let the landing step know when it is done."""

    raw_path: str
    messages: list[MessageRef]


def feed(settings: Settings) -> Feed:
    """The availability feed as the ingester sees it: dataset, contract schema and suite file."""
    return Feed(
        dataset=availability.SOURCE_NAME,
        schema=availability.EVENT_SCHEMA,
        suite=load_suite(availability.CONTRACT.suite),
        schema_version=availability.SCHEMA_VERSION,
        reads_versions=availability.CONTRACT.reads_versions,
        upgrade=availability.upgrade_v1,
    )


def pull(settings: Settings, sources: tuple[str, ...] | None = None) -> list[PulledSnapshot]:
    """Fetch each snapshot (path or URL) and keep its bytes in the raw zone with checksum and manifest.

    Each snapshot succeeds or fails on its own: one that cannot be read or is no snapshot is reported
    with its error and the pull goes on with the next.
    """
    lake = Lake(settings.lake_root)
    return [pull_one(lake, source) for source in sources or settings.snapshot_sources]


def pull_one(lake: Lake, source: str) -> PulledSnapshot:
    """Fetch one snapshot into the raw zone; bytes that are no snapshot are kept too, with the reason."""
    try:
        content = availability.fetch_content(source)
    except availability.SnapshotUnreachable as error:
        log.error("%s", error)
        return PulledSnapshot(source, "", "", 0, False, str(error))
    # a citizen service number in a snapshot's text never reaches the lake or the topic
    stored, masked = mask_bsns_in_text(content)
    record, is_new = lake.store_raw(
        availability.SOURCE_NAME,
        availability.snapshot_name(source),
        stored,
        source,
        received_sha256=hashlib.sha256(content).hexdigest() if masked else None,
        redacted_values=masked,
    )
    try:
        rows = len(availability.parse_snapshot(source, stored).rows)
    except availability.SnapshotFormatError as error:
        log.error("%s (kept in the raw zone as %s)", error, record.path)
        return PulledSnapshot(source, record.path, record.sha256, 0, is_new, str(error))
    log.info("pulled %s: %d rows, %s", source, rows, "new" if is_new else "already in the lake")
    return PulledSnapshot(source, record.path, record.sha256, rows, is_new)


def publish(settings: Settings, pulled: list[PulledSnapshot], force: bool = False) -> list[Published]:
    """Publish the events of pulled snapshots that have not landed yet (all of them with `force`).

    A snapshot is the overview's whole list (a full-state source, `MONITORLINK_AVAILABILITY_FEED`): with
    its figures go withdrawals of the offers that left the list, against its neighbours in the raw zone.
    A new snapshot sends all its figures; one pulled before sends those in neither lake zone (a pull
    that stopped between the raw zone and the broker is finished by pulling again). With `force`, all
    figures go again (the ingester skips them as re-deliveries of the same bytes, counted). A
    withdrawal is derived, not delivered, so one that already landed (an out-of-order list derives it
    again) or that another list of this pull carries is not sent twice. Snapshots that failed to pull
    are skipped.
    """
    published = []
    lake = Lake(settings.lake_root)
    known = known_lists(lake)
    sent = landed_event_ids(lake, ("validated",))
    landed = sent | landed_event_ids(lake, ("quarantine",))
    for item in pulled:
        if item.error is not None or item.raw_path not in known:
            continue
        listed = availability.full_state_events(
            known[item.raw_path], list(known.values()), settings.availability_feed
        )
        figures = [event for event in listed if event["event_type"] == "figure"]
        if not (item.is_new or force):
            figures = [event for event in figures if event["event_id"] not in landed]
        events = figures + unique_events([e for e in listed if e["event_type"] == "withdrawal"], sent)
        if not (events or item.is_new):
            continue
        report = publish_events(settings, settings.availability_topic, events, key_field="offer_key")
        log.info("published %d events from %s to %s", len(report.messages), item.origin, report.topic)
        published.append(Published(item.raw_path, report.messages))
    return published


def landed_event_ids(lake: Lake, zones: tuple[str, ...] = ("validated", "quarantine")) -> set[str]:
    """The ids of the availability events in these lake zones."""
    return {
        row["event_id"]
        for zone in zones
        for row in lake.read_columns(zone, availability.SOURCE_NAME, ["event_id"])
    }


def unique_events(events: list[dict[str, Any]], seen: set[str]) -> list[dict[str, Any]]:
    """The events whose id is not in `seen` (which it extends): each event is published once."""
    fresh = []
    for event in events:
        if event["event_id"] not in seen:
            seen.add(event["event_id"])
            fresh.append(event)
    return fresh


def known_lists(lake: Lake) -> dict[str, availability.Snapshot]:
    """Every snapshot in the raw zone by its raw path; one that does not parse is left out."""
    lists = {}
    for record in lake.manifest(availability.SOURCE_NAME):
        try:
            lists[record.path] = availability.parse_snapshot(
                record.origin, (lake.root / record.path).read_bytes()
            )
        except availability.SnapshotFormatError:
            log.warning("raw snapshot %s is not a snapshot; it withdraws nothing", record.path)
    return lists


def land(settings: Settings, expected: list[MessageRef], max_seconds: float = 300.0) -> IngestStats:
    """Consume until every expected message has landed (validated or quarantined), then stop.

    Runs as a member of the ingester's consumer group, so it shares the work with a long-running
    ingester service if one is up (`make up`) and does all of it if none is (`make run`, tests).
    """
    from monitorlink.ingest.consumer import Batching, run_consumer  # Kafka's client loads only to consume

    ingester = Ingester(Lake(settings.lake_root), feed(settings))
    until_landed = _AllLanded(ingester, expected)
    if until_landed(ingester.stats):
        return ingester.stats
    consumer = new_consumer(settings, settings.availability_topic)
    try:
        stats = run_consumer(
            consumer,
            ingester,
            stop_when=until_landed,
            idle_seconds=None,
            max_seconds=max_seconds,
            batching=Batching.of(settings),
        )
    finally:
        consumer.close()
    ingester.reload_ledger()
    missing = [ref for ref in expected if not ingester.has_landed(ref)]
    if missing:
        raise TimeoutError(
            f"{len(missing)} of {len(expected)} published messages did not land within {max_seconds:.0f} s "
            f"(first: {missing[0]}); is the broker at {settings.bootstrap_servers} healthy?"
        )
    return stats


class _AllLanded:
    """Stop condition: all expected messages landed, by this consumer or by another group member.

    Another member (the ingester service) may hold some partitions, so the lake is re-read too, but at
    most every few seconds: rebuilding the ledger is cheap, not free.
    """

    def __init__(self, ingester: Ingester, expected: list[MessageRef], every_s: float = 2.0) -> None:
        self.ingester, self.pending, self.every_s = ingester, list(expected), every_s
        self._next_look = time.monotonic() + every_s
        self._batches_seen = -1

    def __call__(self, stats: IngestStats) -> bool:
        # The pending list is only looked through when the ledger may have grown (a batch landed here, or
        # the lake was re-read): it runs after every poll, and a backfill waits for tens of thousands.
        if stats.batches != self._batches_seen:
            self._batches_seen = stats.batches
            self._drop_landed()
        if self.pending and time.monotonic() >= self._next_look:
            self._next_look = time.monotonic() + self.every_s
            # never waits for a batch that is landing: it is in the ledger when done, and looked at then
            if self.ingester.reload_ledger(wait=False):
                self._drop_landed()
        return not self.pending

    def _drop_landed(self) -> None:
        self.pending = [ref for ref in self.pending if not self.ingester.has_landed(ref)]


def ingest(
    settings: Settings, follow: bool = False, idle_seconds: float = 5.0, stop: threading.Event | None = None
) -> IngestStats:
    """Run the ingester: until the topic is idle, or as a service until SIGTERM with `follow`.

    SIGTERM is taken over first, before connecting and reading the ledger, so a stop during start-up
    is as clean as one later; a caller that took it over earlier (the command line, before it starts
    the broker) passes its `stop` event instead.
    """
    from monitorlink.ingest.consumer import stop_signals

    if stop is not None:
        return _ingest_until(settings, follow, idle_seconds, stop)
    with stop_signals() as installed:
        return _ingest_until(settings, follow, idle_seconds, installed)


def _ingest_until(
    settings: Settings, follow: bool, idle_seconds: float, stop: threading.Event
) -> IngestStats:
    """Connect, read the ledger, then consume until idle (or, following, until `stop` is set)."""
    from monitorlink.ingest.consumer import Batching, run_consumer

    consumer = new_consumer(settings, settings.availability_topic)
    try:
        ingester = Ingester(Lake(settings.lake_root), feed(settings))
        idle = None if follow else idle_seconds
        return run_consumer(consumer, ingester, idle_seconds=idle, stop=stop, batching=Batching.of(settings))
    finally:
        consumer.close()


def as_dicts(items: list[PulledSnapshot] | list[MessageRef]) -> list[dict[str, object]]:
    """XCom-friendly form of step results."""
    return [asdict(item) for item in items]
