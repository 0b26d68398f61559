"""Backfill and replay: put things right from the lake, which is the durable store, not the broker.

- `backfill` re-processes a source's deliveries for a range of periods from the raw zone (after a
  contract or suite fix, say); `recheck` does the same for quarantined deliveries (after a reference
  fix, such as a new municipality code in a seed). Each delivery keeps its batch id and landing time,
  so running the same backfill twice writes the same files and gives the same warehouse.
- `replay` re-publishes what the broker lost (the embedded broker keeps nothing across a restart):
  availability events the raw snapshots hold but the lake has not landed, and batch events of batches
  newer than what the warehouse was built from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from connectors import availability as snapshots
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest import availability as availability_pipeline
from monitorlink.ingest.deliveries import DeliveryProcessor
from monitorlink.ingest.delivery_log import DeliveryOutcome, delivery_log, rewrite_delivery_log
from monitorlink.ingest.events import BatchEvent, lake_batches, publish, source_lock
from monitorlink.ingest.kafka_clients import publish_events
from monitorlink.ingest.sources import SOURCES, source
from monitorlink.warehouse.watermarks import warehouse_watermarks

if TYPE_CHECKING:
    from monitorlink.core.object_store import LakePath

log = logging.getLogger(__name__)


def backfill(settings: Settings, source_name: str, first: str, last: str) -> list[DeliveryOutcome]:
    """Re-process the landed deliveries of `source_name` whose period lies in [first, last]."""

    def in_range(logged: list[DeliveryOutcome]) -> list[DeliveryOutcome]:
        chosen = [o for o in logged if o.batch_id and o.period and first <= o.period <= last]
        if not chosen:
            periods = sorted({o.period for o in logged if o.period})
            known = f"{periods[0]} … {periods[-1]}" if periods else "none yet"
            raise ValueError(f"no landed {source_name} deliveries in {first}–{last} (periods known: {known})")
        return chosen

    outcomes = _reprocess(settings, source_name, in_range)
    log.info("%s: re-processed %d deliveries of %s–%s", source_name, len(outcomes), first, last)
    return outcomes


def recheck(settings: Settings, source_name: str, batch_ids: tuple[str, ...] = ()) -> list[DeliveryOutcome]:
    """Check quarantined deliveries of `source_name` again from the raw zone (all, or these batches).

    For after a fix outside the delivery — a municipality code added to a seed, a product list or a
    contract corrected: the delivery keeps its batch id and log line, which now says what the gate
    decides today; one that still breaks a rule stays in quarantine with today's reasons.
    """

    def quarantined(logged: list[DeliveryOutcome]) -> list[DeliveryOutcome]:
        held = [o for o in logged if o.outcome == "quarantined" and o.batch_id]
        chosen = [o for o in held if not batch_ids or o.batch_id in batch_ids]
        unknown = sorted(set(batch_ids) - {o.batch_id for o in held})
        if unknown:
            raise ValueError(f"no quarantined {source_name} delivery has batch id {', '.join(unknown)}")
        if not chosen:
            raise ValueError(f"no quarantined {source_name} deliveries to check again")
        return chosen

    outcomes = _reprocess(settings, source_name, quarantined)
    landed = sum(1 for outcome in outcomes if outcome.outcome == "validated")
    log.info("%s: checked %d quarantined deliveries again, %d now landed", source_name, len(outcomes), landed)
    return outcomes


def _reprocess(
    settings: Settings, source_name: str, choose: Callable[[list[DeliveryOutcome]], list[DeliveryOutcome]]
) -> list[DeliveryOutcome]:
    """Land the deliveries `choose` picks from the log again from their raw-zone bytes, in place."""
    connector = source(source_name).connector
    if connector is None:
        raise ValueError(f"{source_name} arrives as events; replay re-publishes those (`monitorlink replay`)")
    lake = Lake(settings.lake_root)
    with source_lock(settings, source_name):
        chosen = choose(delivery_log(lake, source_name))
        contents = [(outcome, (lake.root / str(outcome.raw_path)).read_bytes()) for outcome in chosen]
        for outcome in chosen:
            for path in _batch_files(lake, outcome):
                path.unlink(missing_ok=True)
        processor = DeliveryProcessor(lake, connector, settings.delivery_chunk)
        outcomes = processor.reprocess(contents)
        rewrite_delivery_log(lake, source_name, outcomes)
    return outcomes


def _batch_files(lake: Lake, outcome: DeliveryOutcome) -> list[LakePath]:
    """The Parquet files (and quarantine report) one delivery wrote, in either zone."""
    day = f"ingest_date={outcome.processed_at[:10]}"
    connector = source(outcome.source).connector
    assert connector is not None
    files = []
    for zone in ("validated", "quarantine"):
        for contract in connector.contracts:
            files.append(lake.zone(zone, contract.name) / day / f"{outcome.batch_id}.parquet")
            files.append(lake.zone(zone, contract.name) / day / f"{outcome.batch_id}.validation.json")
    return files


@dataclass(frozen=True)
class ReplayReport:
    """What a replay re-published."""

    availability_events: int
    batch_events: dict[str, int]


def replay(settings: Settings, everything: bool = False) -> ReplayReport:
    """Re-publish lost availability events and the batch events the warehouse has not seen.

    With `everything`, every batch event is re-published (a consumer that lost its own state).
    """
    events = unlanded_availability_events(settings)
    if events:
        publish_events(settings, settings.availability_topic, events, key_field="offer_key")
    built = {} if everything else warehouse_watermarks(settings)
    lake = Lake(settings.lake_root)
    published = {}
    for item in SOURCES:
        newer = [e for e in lake_batches(lake, item.name) if _after(e, built.get(item.name))]
        if newer:
            publish(settings, newer)
        published[item.name] = len(newer)
    log.info("replayed %d availability events and batch events %s", len(events), published)
    return ReplayReport(len(events), published)


def _after(event: BatchEvent, watermark: datetime | None) -> bool:
    return watermark is None or datetime.fromisoformat(event.landed_at) > watermark


def unlanded_availability_events(settings: Settings) -> list[dict[str, object]]:
    """Events of every snapshot in the raw zone whose event id is in neither lake zone."""
    lake = Lake(settings.lake_root)
    landed = availability_pipeline.landed_event_ids(lake)
    known = list(availability_pipeline.known_lists(lake).values())
    events = [e for s in known for e in snapshots.full_state_events(s, known, settings.availability_feed)]
    return availability_pipeline.unique_events(events, landed)
