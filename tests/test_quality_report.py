"""`monitorlink quality report` reads batches, counts and reasons back from the lake."""

from __future__ import annotations

import json

import pytest

from connectors.availability import fetch_snapshot, snapshot_events
from monitorlink.cli.main import main
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest.availability import feed
from monitorlink.ingest.stream import Ingester, Message
from monitorlink.ops.quality_report import batches, quarantined_rows
from tests.conftest import SNAPSHOT_AUG_14


def _land_two_batches(settings: Settings) -> None:
    events = list(snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14))))[:6]
    events[1] = {**events[1], "target_group": "ouderen"}
    events[2] = {**events[2], "provider_name": None, "wait_weeks_intake": -1}
    ingester = Ingester(Lake(settings.lake_root), feed(settings))
    messages = [Message("t", 0, i, None, json.dumps(e).encode()) for i, e in enumerate(events)]
    ingester.process(messages[:4])
    ingester.process(messages[4:])


def test_batches_count_validated_and_quarantined_rows_per_rule(settings: Settings) -> None:
    _land_two_batches(settings)
    newest, oldest = batches(Lake(settings.lake_root))
    assert (newest.validated, newest.quarantined, newest.rules) == (2, 0, {})
    assert (oldest.validated, oldest.quarantined) == (2, 2)
    assert oldest.rules == {"provider_present": 1, "target_group_known": 1, "wait_intake_in_range": 1}
    assert newest.landed_at >= oldest.landed_at
    assert batches(Lake(settings.lake_root), dataset="tmsd") == []


def test_quarantined_rows_of_a_batch_carry_every_reason(settings: Settings) -> None:
    _land_two_batches(settings)
    lake = Lake(settings.lake_root)
    oldest = batches(lake)[-1]
    rows = quarantined_rows(lake, "availability", oldest.batch_id)
    assert [row.location for row in rows] == ["0@1", "0@2"]
    assert rows[0].reasons == [
        "target_group_known: target group must be jeugd or volwassenen;"
        " youth and adult offers may not be mixed (target_group='ouderen')"
    ]
    assert {reason.split(":")[0] for reason in rows[1].reasons} == {
        "provider_present",
        "wait_intake_in_range",
    }


def test_cli_prints_the_report_and_json(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    _land_two_batches(settings)
    assert main(["quality", "report"]) == 0
    table = capsys.readouterr().out
    assert "target_group_known ×1" in table and "availability" in table
    assert main(["quality", "report", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(b["validated"], b["quarantined"]) for b in report] == [(2, 0), (2, 2)]
    assert main(["quality", "report", "--batch", report[1]["batch_id"], "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_run_summary_shows_the_same_lake_totals_as_the_report(settings: Settings) -> None:
    from rich.console import Console

    from monitorlink.ingest.stream import IngestStats
    from monitorlink.ops.summary import ingestion_table

    _land_two_batches(settings)
    console = Console(width=120, record=True)
    console.print(ingestion_table(Lake(settings.lake_root), "availability", IngestStats()))
    rows = {
        cells[0]: cells[-1]
        for line in console.export_text().splitlines()
        if (cells := [cell.strip() for cell in line.strip("│").split("│")]) and len(cells) == 3
    }
    assert rows["validated → lake"] == "4" and rows["quarantined"] == "2"
    for rule in ("provider_present", "target_group_known", "wait_intake_in_range"):
        assert rows[f"quarantine rule: {rule}"] == "1"
