"""The ingester's per-event shortcuts give exactly the answers of the slow paths they skip.

A message without a `\\u` escape cannot hold a lone surrogate, one without nine digits in a row no BSN,
and a value that already has its contract type passes `coerce` unchanged; everything else still takes
the full path. The expected values come from `event_types.coerce` and from the BSN and surrogate rules
as the contract states them, not from the shortcuts.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow.parquet as pq
import pytest

from connectors.availability import fetch_snapshot, snapshot_events
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest.availability import feed
from monitorlink.ingest.event_types import coerce
from monitorlink.ingest.stream import Ingester, Message
from tests.conftest import SNAPSHOT_AUG_14

#: A valid BSN (11-check: 9·1+8·1+7·1+6·2+5·2+4·2+3·3+2·3−1·3 = 66, a multiple of 11).
BSN = "111222333"


@pytest.fixture
def event() -> dict[str, Any]:
    return next(
        e for e in snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14))) if e["event_type"] == "figure"
    )


def _land(settings: Settings, values: list[bytes]) -> tuple[Lake, tuple[int, int]]:
    lake = Lake(settings.lake_root)
    messages = [Message("availability.v1", 0, i, None, value) for i, value in enumerate(values)]
    return lake, Ingester(lake, feed(settings)).process(messages)


def _rows(lake: Lake, zone: str) -> list[dict[str, Any]]:
    return [
        row for path in lake.parquet_files(zone, "availability") for row in pq.read_table(path).to_pylist()
    ]


def test_the_typed_events_are_exactly_coerces(settings: Settings, event: dict[str, Any]) -> None:
    odd = [
        event,
        {**event, "provider_agb": 12345678, "free_places": 3.0, "waitlist_size": True},
        {**event, "wait_weeks_intake": 4, "wait_weeks_treatment": "6", "is_crisis": 1},
        {**event, "offer": ["not", "text"], "care_types": "behandeling", "free_places": 2.5},
        {**event, "measured_at": "soon", "published_at": None, "location_gemeente_codes": [1, None]},
        {key: value for key, value in event.items() if key not in ("note", "free_places")},
    ]
    ingester = Ingester(Lake(settings.lake_root), feed(settings))
    assert ingester._coerce(odd) == coerce(odd, ingester.feed.schema)


def test_a_bsn_in_plain_text_is_masked(settings: Settings, event: dict[str, Any]) -> None:
    value = json.dumps({**event, "note": f"client {BSN} waits"}, ensure_ascii=False).encode()
    lake, landed = _land(settings, [value])
    assert landed == (1, 0)
    assert _rows(lake, "validated")[0]["note"] == "client [BSN] waits"


def test_a_bsn_spelt_with_json_escapes_is_masked_too(settings: Settings, event: dict[str, Any]) -> None:
    # "\u0031\u0031\u0031222333" is the same BSN: no nine digits in a row in the message, but in the text
    escaped = "".join(f"\\u{ord(digit):04x}" for digit in BSN[:3]) + BSN[3:]
    value = json.dumps({**event, "note": "client NUMBER waits"}).replace("NUMBER", escaped).encode()
    assert BSN.encode() not in value
    lake, landed = _land(settings, [value])
    assert landed == (1, 0)
    assert _rows(lake, "validated")[0]["note"] == "client [BSN] waits"


def test_a_lone_surrogate_is_still_quarantined(settings: Settings, event: dict[str, Any]) -> None:
    value = json.dumps({**event, "note": "broken NOTE"}).replace("NOTE", "\\ud800").encode()
    lake, landed = _land(settings, [value])
    assert landed == (0, 1)
    (row,) = _rows(lake, "quarantine")
    assert row["failed_rules"] == ["text_is_unicode"]


def test_non_ascii_text_without_escapes_lands_unchanged(settings: Settings, event: dict[str, Any]) -> None:
    value = json.dumps({**event, "note": "wachttijd ± 6 weken — één locatie"}, ensure_ascii=False).encode()
    lake, landed = _land(settings, [value])
    assert landed == (1, 0)
    assert _rows(lake, "validated")[0]["note"] == "wachttijd ± 6 weken — één locatie"


def test_a_message_in_another_json_encoding_is_quarantined_as_not_utf8(
    settings: Settings, event: dict[str, Any]
) -> None:
    # json.loads would read UTF-16 bytes; the contract says UTF-8 JSON, so it is poison, kept with a reason
    value = json.dumps({**event, "note": f"client {BSN} waits"}).encode("utf-16")
    lake, landed = _land(settings, [value])
    assert landed == (0, 1)
    assert _rows(lake, "quarantine")[0]["failed_rules"] == ["message_is_json"]
