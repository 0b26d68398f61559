"""The expectation suite file and how failures become rules and reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.availability import EVENT_SCHEMA, fetch_snapshot, snapshot_events
from monitorlink.core.config import PROJECT_ROOT
from monitorlink.ingest.event_types import coerce
from monitorlink.ingest.quality import load_suite, validate
from tests.conftest import SNAPSHOT_AUG_14

SUITE = PROJECT_ROOT / "expectations" / "availability.v2.json"


def test_suite_file_loads_and_every_expectation_has_a_rule_and_reason() -> None:
    suite = load_suite(SUITE)
    assert suite.name == "availability.v2"
    rules = [(e.meta or {})["rule"] for e in suite.expectation_suite.expectations]
    assert len(rules) == len(set(rules)) >= 15


def test_suite_without_reasons_is_refused(tmp_path: Path) -> None:
    document = json.loads(SUITE.read_text(encoding="utf-8"))
    document["expectations"][0]["meta"] = {}
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.json: expectation .* lacks meta.rule/meta.reason"):
        load_suite(broken)


def test_row_failures_name_rule_column_and_value() -> None:
    events = list(snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14))))[:3]
    events[1] = {**events[1], "event_id": "not-a-uuid", "provider_name": None, "target_group": "ouderen"}
    events[2] = {**events[2], "wait_weeks_treatment": -1.0, "measured_at": "2026-09-01T00:00:00+00:00"}
    typed, type_failures = coerce(events, EVENT_SCHEMA)
    outcome = validate(typed, EVENT_SCHEMA.names, load_suite(SUITE))
    assert type_failures == {}
    assert outcome.batch_failures == []
    assert outcome.failures_for(0) == []
    failed = {f.rule: f for f in outcome.failures_for(1)}
    assert set(failed) == {"event_id_is_uuid", "provider_present", "target_group_known"}
    assert failed["target_group_known"].value == "ouderen"
    assert failed["target_group_known"].describe() == (
        "target_group_known: target group must be jeugd or volwassenen;"
        " youth and adult offers may not be mixed (target_group='ouderen')"
    )
    assert {f.rule for f in outcome.failures_for(2)} == {
        "wait_treatment_in_range",
        "measured_before_published",
    }


def test_a_failure_that_names_no_rows_quarantines_the_batch(tmp_path: Path) -> None:
    suite_file = tmp_path / "table_level.json"
    suite_file.write_text(
        json.dumps(
            {
                "name": "table_level",
                "expectations": [
                    {
                        "type": "expect_table_row_count_to_be_between",
                        "kwargs": {"min_value": 5},
                        "meta": {"rule": "enough_rows", "reason": "a delivery has at least five rows"},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    outcome = validate([{"x": 1}, {"x": 2}], ["x"], load_suite(suite_file))
    assert [f.rule for f in outcome.batch_failures] == ["enough_rows"]
    assert [f.rule for f in outcome.failures_for(0)] == ["enough_rows"]
    assert [f.rule for f in outcome.failures_for(1)] == ["enough_rows"]
