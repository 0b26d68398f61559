"""The ingester's batch logic without a broker: re-deliveries, duplicates, types and the gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from connectors.availability import fetch_snapshot, snapshot_events
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest.availability import feed
from monitorlink.ingest.event_types import coerce
from monitorlink.ingest.kafka_clients import MessageRef
from monitorlink.ingest.stream import Ingester, Message
from tests.conftest import SNAPSHOT_AUG_14

TOPIC = "availability.v1"


def _messages(events: list[dict[str, Any]], first_offset: int = 0) -> list[Message]:
    return [
        Message(TOPIC, 0, first_offset + i, e.get("offer_key", "").encode(), json.dumps(e).encode())
        for i, e in enumerate(events)
    ]


def _zone_rows(lake: Lake, zone: str) -> list[dict[str, Any]]:
    return [
        row for path in lake.parquet_files(zone, "availability") for row in pq.read_table(path).to_pylist()
    ]


@pytest.fixture
def events() -> list[dict[str, Any]]:
    return list(snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14))))[:20]


def test_valid_events_land_with_their_kafka_origin(settings: Settings, events: list[dict[str, Any]]) -> None:
    lake = Lake(settings.lake_root)
    assert Ingester(lake, feed(settings)).process(_messages(events)) == (20, 0)
    rows = _zone_rows(lake, "validated")
    assert [r["event_id"] for r in rows] == [e["event_id"] for e in events]
    assert [r["_kafka_offset"] for r in rows] == list(range(20))
    assert all(r["_message_sha256"] and r["_batch_id"] for r in rows)


def test_redelivered_messages_are_skipped_even_after_a_restart(
    settings: Settings, events: list[dict[str, Any]]
) -> None:
    lake = Lake(settings.lake_root)
    Ingester(lake, feed(settings)).process(_messages(events[:10]))
    restarted = Ingester(lake, feed(settings))  # rebuilds its ledger from the lake
    assert restarted.process(_messages(events)) == (10, 0)
    assert restarted.stats.redelivered_skipped == 10
    assert len(_zone_rows(lake, "validated")) == 20
    assert _zone_rows(lake, "quarantine") == []


def test_new_message_at_a_reused_offset_is_not_mistaken_for_a_redelivery(
    settings: Settings, events: list[dict[str, Any]]
) -> None:
    """After a restart the in-memory broker hands out offset 0 again; the checksum tells them apart."""
    lake = Lake(settings.lake_root)
    Ingester(lake, feed(settings)).process(_messages(events[:5]))
    assert Ingester(lake, feed(settings)).process(_messages(events[5:10])) == (5, 0)


def test_same_event_id_as_another_message_is_quarantined_with_where_it_landed(
    settings: Settings, events: list[dict[str, Any]]
) -> None:
    lake = Lake(settings.lake_root)
    ingester = Ingester(lake, feed(settings))
    ingester.process(_messages(events[:3]))
    changed = [{**events[0], "note": "gecorrigeerd"}, {**events[0], "note": "nogmaals"}]
    assert ingester.process(_messages(changed, first_offset=3)) == (0, 2)
    quarantined = _zone_rows(lake, "quarantine")
    assert [r["failed_rules"] for r in quarantined] == [["unique_event_id"], ["unique_event_id"]]
    assert "already landed (validated availability.v1[0]@0)" in quarantined[0]["reasons"][0]


def test_duplicate_inside_one_batch_keeps_the_first(settings: Settings, events: list[dict[str, Any]]) -> None:
    lake = Lake(settings.lake_root)
    changed = {**events[0], "note": "gecorrigeerd"}
    assert Ingester(lake, feed(settings)).process(_messages([events[0], events[1], changed])) == (2, 1)
    (quarantined,) = _zone_rows(lake, "quarantine")
    assert quarantined["_kafka_offset"] == 2
    assert "this batch availability.v1[0]@0" in quarantined["reasons"][0]


def test_an_event_sent_again_byte_for_byte_is_a_redelivery_at_any_offset(
    settings: Settings, events: list[dict[str, Any]]
) -> None:
    """A replay racing an ingester, a forced re-pull or a producer's retry: the same bytes at new offsets."""
    lake = Lake(settings.lake_root)
    Ingester(lake, feed(settings)).process(_messages(events[:3]))
    again = _messages([events[0], events[1], events[1]], first_offset=10)
    restarted = Ingester(lake, feed(settings))

    assert restarted.process(again) == (0, 0)
    assert restarted.stats.redelivered_skipped == 3
    assert all(restarted.has_landed(MessageRef(m.topic, m.partition, m.offset, m.sha256)) for m in again)
    assert _zone_rows(lake, "quarantine") == [] and len(_zone_rows(lake, "validated")) == 3


def test_unreadable_messages_are_quarantined_not_dropped(
    settings: Settings, events: list[dict[str, Any]]
) -> None:
    lake = Lake(settings.lake_root)
    bad = [
        Message(TOPIC, 0, 0, None, b"\xff\xfe not utf-8"),
        Message(TOPIC, 0, 1, None, b"[1, 2]"),
        Message(TOPIC, 0, 2, None, json.dumps({**events[0], "schema_version": 3}).encode()),
        Message(TOPIC, 0, 3, None, json.dumps({**events[1], "free_places": "twee"}).encode()),
    ]
    assert Ingester(lake, feed(settings)).process(bad) == (0, 4)
    rules = [r["failed_rules"] for r in _zone_rows(lake, "quarantine")]
    assert rules == [
        ["message_is_json"],
        ["message_is_object"],
        ["schema_version_supported"],
        ["type_free_places"],
    ]
    report = json.loads(
        next(Path(str(lake.root), "quarantine", "availability").rglob("*.validation.json")).read_text()
    )
    assert report["quarantined_rows"] == 4 and report["suite"] == "availability.v2"


def test_poison_messages_any_client_can_send_are_quarantined_never_raised(
    settings: Settings, events: list[dict[str, Any]]
) -> None:
    """Examples from the hostile-supplier review: each used to stop the ingester with a traceback."""
    lake = Lake(settings.lake_root)
    text, other = json.dumps(events[0]), json.dumps(events[1])
    poison = [
        None,  # a tombstone
        ("[" * 100_000 + "]" * 100_000).encode(),  # nested far past the parser's limit
        text.replace('"offer": "', '"offer": "\\ud800', 1).encode(),  # a lone surrogate
        text.replace('"free_places": ', '"free_places": 1e400, "x": ', 1).encode(),  # infinity in a count
        other.replace('"free_places": ', '"free_places": Infinity, "x": ', 1).encode(),
    ]
    messages = [Message(TOPIC, 0, offset, None, value) for offset, value in enumerate(poison)]
    assert Ingester(lake, feed(settings)).process(messages) == (0, len(poison))
    rules = [r["failed_rules"] for r in _zone_rows(lake, "quarantine")]
    assert rules == [
        ["message_has_value"],
        ["message_is_json"],
        ["text_is_unicode"],
        ["type_free_places"],
        ["type_free_places"],
    ]


@pytest.mark.parametrize(
    ("value", "arrow_field", "expected"),
    [
        (3, "free_places", 3),
        (3.0, "free_places", 3),
        (12, "wait_weeks_intake", 12.0),
        ("2026-08-14", "measured_at", "2026-08-14 00:00:00+00:00"),
        (["a", 1], "care_types", ["a", "1"]),
    ],
)
def test_coercion_to_contract_types(value: Any, arrow_field: str, expected: Any) -> None:
    from connectors.availability import EVENT_SCHEMA

    typed, failures = coerce([{arrow_field: value}], EVENT_SCHEMA)
    assert failures == {}
    result = typed[0][arrow_field]
    assert (str(result) if arrow_field == "measured_at" else result) == expected


@pytest.mark.parametrize(
    ("value", "arrow_field"),
    [
        (2.5, "free_places"),
        (True, "free_places"),
        ("soon", "measured_at"),
        ("x", "care_types"),
        ({}, "offer"),
    ],
)
def test_values_that_do_not_fit_the_contract_are_named(value: Any, arrow_field: str) -> None:
    from connectors.availability import EVENT_SCHEMA

    typed, failures = coerce([{arrow_field: value}], EVENT_SCHEMA)
    assert typed[0][arrow_field] is None
    assert [f.rule for f in failures[0]] == [f"type_{arrow_field}"]


def test_ledger_survives_in_the_lake_only(
    settings: Settings, events: list[dict[str, Any]], tmp_path: Path
) -> None:
    """A fresh lake knows nothing: the ledger is the lake, not a side file that could drift from it."""
    Ingester(Lake(settings.lake_root), feed(settings)).process(_messages(events[:2]))
    fresh = Ingester(Lake(tmp_path / "other-lake"), feed(settings))
    restarted = Ingester(Lake(settings.lake_root), feed(settings))
    landed = MessageRef(TOPIC, 0, 1, _messages(events[:2])[1].sha256)
    assert restarted.has_landed(landed) and not fresh.has_landed(landed)
    assert not restarted.has_landed(MessageRef(TOPIC, 0, 1, "another message at the same offset"))


def test_a_v1_event_is_read_as_a_figure_and_an_unknown_version_names_the_ones_read(
    settings: Settings, events: list[dict[str, Any]]
) -> None:
    lake = Lake(settings.lake_root)
    v1 = {k: v for k, v in events[0].items() if k not in ("event_type", "full_state_feed")}
    v3 = {**events[1], "schema_version": 3}
    assert Ingester(lake, feed(settings)).process(_messages([{**v1, "schema_version": 1}, v3])) == (1, 1)
    (landed,) = _zone_rows(lake, "validated")
    assert (landed["schema_version"], landed["event_type"], landed["full_state_feed"]) == (1, "figure", None)
    (refused,) = _zone_rows(lake, "quarantine")
    assert "schema_version must be one of 1, 2" in refused["reasons"][0]
