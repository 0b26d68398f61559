"""The stream ingester logs each micro-batch in the delivery log, as every delivery source does.

Batch events, alerts and status read only the delivery log, so a micro-batch must be in it — also after a
crash between writing its files and logging it, when the next ingester start logs it from the files.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.availability import fetch_snapshot, snapshot_events
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest.availability import feed
from monitorlink.ingest.delivery_log import delivery_journal, delivery_log
from monitorlink.ingest.events import lake_batches
from monitorlink.ingest.stream import Ingester, Message
from tests.conftest import SNAPSHOT_AUG_14

TOPIC = "availability.v1"


def _messages(events: list[dict[str, Any]]) -> list[Message]:
    return [Message(TOPIC, 0, at, None, json.dumps(event).encode()) for at, event in enumerate(events)]


def _batch_with_three_bad(settings: Settings) -> tuple[Lake, list[Message]]:
    """Twelve events of the real snapshot, three of them with a negative wait to intake (a critical rule)."""
    events = list(snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14))))[:12]
    for event in events[:3]:
        event["wait_weeks_intake"] = -1
    return Lake(settings.lake_root), _messages(events)


def test_a_micro_batch_is_one_log_line_with_its_validated_and_quarantined_rows(settings: Settings) -> None:
    lake, messages = _batch_with_three_bad(settings)
    Ingester(lake, feed(settings)).process(messages)
    (line,) = delivery_log(lake, "availability")
    assert (line.outcome, line.rows, line.quarantined) == (
        "validated",
        {"availability": 9},
        {"availability": 3},
    )
    assert line.critical and sum(line.critical.values()) >= 3
    (event,) = lake_batches(lake, "availability")
    assert (event.batch_id, event.rows) == (line.batch_id, {"validated": 9, "quarantine": 3})


def test_a_batch_whose_log_line_was_lost_is_logged_again_from_its_files(settings: Settings) -> None:
    lake, messages = _batch_with_three_bad(settings)
    Ingester(lake, feed(settings)).process(messages)
    (before,) = delivery_log(lake, "availability")
    delivery_journal(lake, "availability").path.unlink()  # as if the ingester died before logging
    assert lake_batches(lake, "availability") == []
    Ingester(lake, feed(settings))  # the next start repairs the log from the lake
    (after,) = delivery_log(lake, "availability")
    same = ("batch_id", "outcome", "rows", "quarantined", "critical", "received_sha256", "processed_at")
    assert {k: getattr(after, k) for k in same} == {k: getattr(before, k) for k in same}


def test_a_batch_logged_twice_counts_once(settings: Settings) -> None:
    lake, messages = _batch_with_three_bad(settings)
    Ingester(lake, feed(settings)).process(messages)
    path = delivery_journal(lake, "availability").path
    path.write_text(path.read_text() * 2)  # two group members both logged it
    assert len(delivery_log(lake, "availability")) == 1
