"""Providers publish with the Kafka client they have: librdkafka (confluent-kafka, kcat) with any
compression codec Kafka defines, and tombstones. The ingester must read all of it and never stop."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from confluent_kafka import Producer

from connectors.availability import fetch_snapshot, snapshot_events
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from tests.conftest import SNAPSHOT_AUG_14
from tests.waiting import ingest_until_caught_up

pytestmark = pytest.mark.integration

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")


def test_every_compression_codec_and_a_tombstone_from_librdkafka(kafka_settings: Settings) -> None:
    events = list(snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14))))[: 4 * len(CODECS)]
    for number, codec in enumerate(CODECS):
        producer = Producer(
            {"bootstrap.servers": kafka_settings.bootstrap_servers, "compression.type": codec}
        )
        for event in events[4 * number : 4 * number + 4]:
            producer.produce(
                kafka_settings.availability_topic, key=event["offer_key"], value=json.dumps(event)
            )
        if codec == "zstd":
            producer.produce(kafka_settings.availability_topic, key=b"withdrawn-offer", value=None)
        assert producer.flush(30) == 0

    stats = ingest_until_caught_up(kafka_settings)

    lake = Lake(kafka_settings.lake_root)
    landed = {
        row["event_id"]
        for path in lake.parquet_files("validated", "availability")
        for row in pq.read_table(path, columns=["event_id"]).to_pylist()
    }
    assert landed == {event["event_id"] for event in events}
    quarantined = [
        row
        for path in lake.parquet_files("quarantine", "availability")
        for row in pq.read_table(path).to_pylist()
    ]
    assert [row["failed_rules"] for row in quarantined] == [["message_has_value"]]
    assert (stats.validated, stats.quarantined) == (len(events), 1)


def test_headers_an_oversized_event_and_a_poison_message_never_stop_the_stream(
    kafka_settings: Settings,
) -> None:
    first, big, last = list(snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14))))[:3]
    big["note"] = "lange toelichting " * 150_000  # about 2.7 MB, beyond every client's 1 MB default
    producer = Producer(
        {"bootstrap.servers": kafka_settings.bootstrap_servers, "message.max.bytes": 8_000_000}
    )
    topic = kafka_settings.availability_topic
    producer.produce(topic, value=json.dumps(first), headers=[("trace-id", b"\x00\xff"), ("source", "crm")])
    producer.produce(topic, value=json.dumps(big))
    producer.produce(
        topic, value=b"\x00\x01 not json", headers=[("content-type", "application/octet-stream")]
    )
    producer.produce(topic, value=json.dumps(last))
    assert producer.flush(30) == 0

    stats = ingest_until_caught_up(kafka_settings)

    lake = Lake(kafka_settings.lake_root)
    landed = {row["event_id"] for row in lake.read_columns("validated", "availability", ["event_id"])}
    quarantined = lake.read_columns("quarantine", "availability", ["event_id", "failed_rules"])
    assert {first["event_id"], big["event_id"], last["event_id"]} <= landed
    assert [row["failed_rules"] for row in quarantined] == [["message_is_json"]]
    assert (stats.consumed, stats.validated, stats.quarantined) == (4, 3, 1)
