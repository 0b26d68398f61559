"""Batch events: what the lake says landed, the outbox that announces each batch once, the trigger filter."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors import tmsd
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest import events
from monitorlink.ingest.deliveries import DeliveryProcessor
from monitorlink.ops import triggers
from tests.conftest import topic_messages
from tests.factories import tmsd_file, tmsd_row


@pytest.fixture
def landed(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A lake with one validated and one quarantined TMSD delivery, and a re-delivery (no batch)."""
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    good = tmsd_file(tmsd_row(), tmsd_row(client_pseudo_id="b" * 64))
    DeliveryProcessor(Lake(settings.lake_root), tmsd).process(
        [
            ("tmsd_jeugd_GM0141_2023Q1_v1.csv", good, "test"),
            ("tmsd_jeugd_GM0153_2023Q1_v1.csv", tmsd_file(tmsd_row(geslacht="Q")), "test"),
            ("tmsd_jeugd_GM0141_2023Q1_v1_copy.csv", good, "test"),
        ]
    )
    return settings


def test_every_landed_delivery_is_one_schema_versioned_batch_event(landed: Settings) -> None:
    good, bad = events.lake_batches(Lake(landed.lake_root), "tmsd")
    assert (good.event_type, good.rows, good.delivery["scope"]) == (
        "batch_landed",
        {"validated": 2},
        "GM0141",
    )
    assert (bad.event_type, bad.rows, bad.delivery["scope"]) == (
        "batch_quarantined",
        {"quarantine": 1},
        "GM0153",
    )
    assert bad.quality["critical"] == {"geslacht_known": 1}
    message = good.as_message()
    assert message["schema"] == "monitorlink.batch.v1" and message["event_id"] == f"tmsd:{good.batch_id}"
    assert good.partitions == [f"validated/tmsd/ingest_date={good.landed_at[:10]}"]
    assert (Lake(landed.lake_root).root / good.partitions[0] / f"{good.batch_id}.parquet").exists()


@dataclass
class _Message:
    """What the Kafka trigger hands its apply_function: an object with `value()`."""

    payload: bytes

    def value(self) -> bytes:
        return self.payload


def test_the_trigger_filter_passes_only_landed_batches_of_its_own_source(landed: Settings) -> None:
    good, bad = events.lake_batches(Lake(landed.lake_root), "tmsd")
    as_bytes = [json.dumps(e.as_message()).encode() for e in (good, bad)]
    assert triggers.landed_batch_of(_Message(as_bytes[0]), source="tmsd") == good.as_message()
    assert triggers.landed_batch_of(_Message(as_bytes[0]), source="chain") is None
    assert triggers.landed_batch_of(_Message(as_bytes[1]), source="tmsd") is None, (
        "quarantined: nothing to build"
    )
    assert triggers.landed_batch_of(_Message(b"not json"), source="tmsd") is None
    assert triggers.landed_batch_of(_Message(b'{"schema": "other"}'), source="tmsd") is None


def test_announce_publishes_each_batch_once_and_what_a_down_broker_missed_later(
    landed: Settings, kafka_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITORLINK_BATCH_TOPIC", f"{kafka_settings.availability_topic}.batches")
    monkeypatch.setenv("MONITORLINK_KAFKA_BOOTSTRAP", "127.0.0.1:9")  # nothing listens: publishing fails
    from monitorlink.core.config import load_settings

    down = load_settings()
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises, nothing may be marked sent
        events.announce(down, "tmsd")
    assert events.announced(down, "tmsd") == set()

    monkeypatch.setenv("MONITORLINK_KAFKA_BOOTSTRAP", kafka_settings.bootstrap_servers)
    up = load_settings()
    first = events.announce(up, "tmsd")
    assert len(first) == 2 and events.announce(up, "tmsd") == []
    received = topic_messages(up, up.batch_topic)
    assert sorted(e["event_id"] for e in received) == sorted(e.event_id for e in first)


def test_batches_announced_before_the_journal_still_count(settings: Settings) -> None:
    """A lake from before the outbox journal lists announced batches in `ops/announced/<source>.txt`."""
    legacy = Path(str(settings.lake_root), "ops", "announced", "tmsd.txt")
    legacy.parent.mkdir(parents=True)
    legacy.write_text("20250101T000000000000-aaaa\n20250102T000000000000-bbbb\n", encoding="utf-8")
    assert events.announced(settings, "tmsd") == {"20250101T000000000000-aaaa", "20250102T000000000000-bbbb"}
