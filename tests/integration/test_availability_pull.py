"""A pull of several snapshots on a real broker: each snapshot succeeds or fails on its own (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.availability import fetch_snapshot, snapshot_events
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest import availability
from monitorlink.ops.recovery import unlanded_availability_events
from tests.conftest import SNAPSHOT_AUG_06, SNAPSHOT_AUG_14

pytestmark = pytest.mark.integration


def _pull_publish_land(settings: Settings, sources: tuple[str, ...]) -> list[availability.PulledSnapshot]:
    pulled = availability.pull(settings, sources)
    published = availability.publish(settings, pulled)
    availability.land(settings, [ref for item in published for ref in item.messages], 120)
    return pulled


def _event_ids(settings: Settings, zone: str) -> set[str]:
    return {
        row["event_id"] for row in Lake(settings.lake_root).read_columns(zone, "availability", ["event_id"])
    }


def _figure_ids(path: Path) -> set[str]:
    """The figure events a snapshot holds, read by the connector from the file itself."""
    return {event["event_id"] for event in snapshot_events(fetch_snapshot(str(path)))}


def test_a_truncated_snapshot_between_two_good_ones_fails_alone(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    truncated = tmp_path / "snapshot_2026-08-10.json"
    content = SNAPSHOT_AUG_06.read_bytes()
    truncated.write_bytes(content[: len(content) // 2])

    pulled = _pull_publish_land(kafka_settings, (str(SNAPSHOT_AUG_06), str(truncated), str(SNAPSHOT_AUG_14)))

    assert [item.error is None for item in pulled] == [True, False, True]
    assert "not a JSON document" in str(pulled[1].error) and str(truncated) in str(pulled[1].error)
    assert pulled[1].raw_path, "the truncated bytes are kept in the raw zone"
    landed = _event_ids(kafka_settings, "validated") | _event_ids(kafka_settings, "quarantine")
    assert _figure_ids(SNAPSHOT_AUG_06) | _figure_ids(SNAPSHOT_AUG_14) <= landed


def test_a_missing_snapshot_is_reported_and_the_others_land(kafka_settings: Settings, tmp_path: Path) -> None:
    pulled = _pull_publish_land(kafka_settings, (str(tmp_path / "gone.json"), str(SNAPSHOT_AUG_14)))

    assert "could not be read" in str(pulled[0].error) and pulled[0].raw_path == ""
    assert _figure_ids(SNAPSHOT_AUG_14) <= _event_ids(kafka_settings, "validated")


def test_a_pull_stopped_before_publishing_is_finished_by_pulling_again(kafka_settings: Settings) -> None:
    stored = availability.pull(kafka_settings, (str(SNAPSHOT_AUG_14),))  # then the process died
    assert stored[0].is_new

    again = _pull_publish_land(kafka_settings, (str(SNAPSHOT_AUG_14),))

    assert not again[0].is_new
    assert _figure_ids(SNAPSHOT_AUG_14) <= _event_ids(kafka_settings, "validated")


def test_a_lone_surrogate_in_a_snapshot_is_quarantined_and_replay_still_works(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    document = json.loads(SNAPSHOT_AUG_14.read_text(encoding="utf-8"))
    document["rows"][0]["s"] = "wacht \ud800 weken"
    poisoned = tmp_path / "snapshot_surrogate.json"
    poisoned.write_text(json.dumps(document), encoding="ascii")  # \ud800 travels as a JSON escape

    _pull_publish_land(kafka_settings, (str(poisoned),))

    quarantine = Lake(kafka_settings.lake_root).read_columns("quarantine", "availability", ["failed_rules"])
    assert {rule for row in quarantine for rule in row["failed_rules"]} == {"text_is_unicode"}
    events = snapshot_events(fetch_snapshot(str(poisoned)))
    first_row_events = {event["event_id"] for event in events if event["source_row"] == 0}
    assert first_row_events == _event_ids(kafka_settings, "quarantine")
    assert unlanded_availability_events(kafka_settings) == []
