"""The availability pipeline as plain functions: pull → publish → land → build.

The Airflow DAG and `monitorlink run` call exactly these; each step takes and returns small values (paths,
counts, event ids) so they can travel between Airflow tasks as XCom.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

from connectors import availability
from monitorlink.config import Settings
from monitorlink.ingest import Feed, Ingester, IngestStats, run_consumer
from monitorlink.lake import Lake
from monitorlink.quality import load_suite
from monitorlink.streams import new_consumer, publish_events

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PulledSnapshot:
    """A snapshot kept in the raw zone; `is_new` is False when the same bytes were pulled before."""

    origin: str
    raw_path: str
    sha256: str
    rows: int
    is_new: bool


@dataclass(frozen=True)
class Published:
    """Events sent for one snapshot; their ids let the landing step know when it is done."""

    raw_path: str
    event_ids: list[str]


def feed(settings: Settings) -> Feed:
    """The availability feed as the ingester sees it: dataset, contract schema and suite file."""
    return Feed(
        dataset=availability.SOURCE_NAME,
        schema=availability.EVENT_SCHEMA,
        suite=load_suite(settings.expectations_dir / "availability.v1.json"),
        schema_version=availability.SCHEMA_VERSION,
    )


def pull(settings: Settings, sources: tuple[str, ...] | None = None) -> list[PulledSnapshot]:
    """Fetch each snapshot (path or URL) and keep its bytes in the raw zone with checksum and manifest."""
    lake = Lake(settings.lake_root)
    pulled = []
    for source in sources or settings.snapshot_sources:
        snapshot = availability.fetch_snapshot(source)
        record, is_new = lake.store_raw(availability.SOURCE_NAME, snapshot.name, snapshot.content, source)
        pulled.append(PulledSnapshot(source, record.path, record.sha256, len(snapshot.rows), is_new))
        log.info(
            "pulled %s: %d rows, %s", source, len(snapshot.rows), "new" if is_new else "already in the lake"
        )
    return pulled


def publish(settings: Settings, pulled: list[PulledSnapshot], force: bool = False) -> list[Published]:
    """Publish the events of newly pulled snapshots (all of them with `force`) from the raw zone copy."""
    published = []
    for item in pulled:
        if not (item.is_new or force):
            continue
        raw_file = settings.lake_root / item.raw_path
        snapshot = availability.parse_snapshot(item.origin, raw_file.read_bytes())
        events = list(availability.snapshot_events(snapshot))
        report = publish_events(settings, settings.availability_topic, events, key_field="offer_key")
        log.info("published %d events from %s to %s", report.events, item.origin, report.topic)
        published.append(Published(item.raw_path, [event["event_id"] for event in events]))
    return published


def land(settings: Settings, expected_event_ids: set[str], max_seconds: float = 300.0) -> IngestStats:
    """Consume until every expected event has landed (validated or quarantined), then stop.

    Runs as a member of the ingester's consumer group, so it shares the work with a long-running
    ingester service if one is up (`make up`) and does all of it if none is (`make run`, tests).
    """
    lake = Lake(settings.lake_root)
    ingester = Ingester(lake, feed(settings))
    missing = set(expected_event_ids) - ingester.known_event_ids()
    if not missing:
        return ingester.stats
    consumer = new_consumer(settings, settings.availability_topic)
    try:
        stats = run_consumer(
            consumer,
            ingester,
            stop_when=_AllLanded(lake, missing),
            idle_seconds=None,
            max_seconds=max_seconds,
        )
    finally:
        consumer.close()
    still_missing = missing - stats.landed_event_ids - _landed_ids(lake)
    if still_missing:
        raise TimeoutError(
            f"{len(still_missing)} of {len(missing)} published events did not land within "
            f"{max_seconds:.0f} s (e.g. {sorted(still_missing)[:3]}); "
            f"is the broker at {settings.bootstrap_servers} healthy?"
        )
    return stats


def _landed_ids(lake: Lake) -> set[str]:
    ids: set[str] = set()
    for zone in ("validated", "quarantine"):
        ids.update(row["event_id"] for row in lake.read_columns(zone, availability.SOURCE_NAME, ["event_id"]))
    return ids


class _AllLanded:
    """Stop condition: all expected events landed, by this consumer or by another group member.

    Another member (the ingester service) may hold some partitions, so the lake is looked at too, but
    at most every few seconds: reading the lake's ids is cheap, not free.
    """

    def __init__(self, lake: Lake, expected: set[str], every_s: float = 2.0) -> None:
        self.lake, self.expected, self.every_s = lake, expected, every_s
        self._next_look = time.monotonic() + every_s

    def __call__(self, stats: IngestStats) -> bool:
        if self.expected <= stats.landed_event_ids:
            return True
        if time.monotonic() < self._next_look:
            return False
        self._next_look = time.monotonic() + self.every_s
        return self.expected <= stats.landed_event_ids | _landed_ids(self.lake)


def ingest(settings: Settings, follow: bool = False, idle_seconds: float = 5.0) -> IngestStats:
    """Run the ingester: until the topic is idle, or as a service until SIGTERM with `follow`."""
    consumer = new_consumer(settings, settings.availability_topic)
    try:
        return run_consumer(
            consumer,
            Ingester(Lake(settings.lake_root), feed(settings)),
            idle_seconds=None if follow else idle_seconds,
        )
    finally:
        consumer.close()


def as_dicts(items: list[PulledSnapshot] | list[Published]) -> list[dict[str, object]]:
    """XCom-friendly form of step results."""
    return [asdict(item) for item in items]
