"""`monitorlink quality report` reads batches, counts and reasons back from the lake."""

from __future__ import annotations

import json
from datetime import date

import pytest
from rich.console import Console
from rich.table import Table

from connectors.availability import fetch_snapshot, snapshot_events
from monitorlink.cli.main import main
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest.availability import feed
from monitorlink.ingest.delivery_log import DeliveryOutcome
from monitorlink.ingest.landing import land
from monitorlink.ingest.stream import Ingester, Message
from monitorlink.ops.quality_report import batches, quarantined_rows
from monitorlink.ops.summary import sources_table
from monitorlink.simulator.education import workbook_bytes
from tests.conftest import SNAPSHOT_AUG_14
from tests.factories import tmsd_file, tmsd_row


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
    assert len(json.loads(capsys.readouterr().out)["rows"]) == 2


def test_run_summary_shows_the_same_lake_totals_as_the_report(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
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
    assert main(["quality", "report", "--dataset", "availability"]) == 0
    report_rules = _rules(capsys.readouterr().out)
    for rule in ("provider_present", "target_group_known", "wait_intake_in_range"):
        assert rows[f"quarantine rule (rows): {rule}"] == "1"
        assert report_rules[rule] == ("quarantine", 1, 1)  # one micro-batch, one row


# Deliveries landed through the real landing path (`land`): what an operator sees after `monitorlink land`.

TMSD_GOOD = "tmsd_jeugd_GM0141_2023Q1_v1.csv"
XLSX_TEXT = "onderwijs_jeugd_PO2301_2023Q4_v1.xlsx"  # an "XLSX" that is really text: nothing can be read
XLSX_GOOD = "onderwijs_jeugd_PO2301_2024Q1_v1.xlsx"


def _workbook() -> bytes:
    """A valid education workbook filling its three datasets with one row each."""
    pupil = ["PO2301", date(2024, 1, 1), "12AB", "GM0141", "PO", 210, 0]
    absent = ["PO2301", "2023-2024", "GM0141", "absoluut verzuim", 4, 2]
    arrangement = ["a" * 64, "PO2301", "12AB", "GM0141", "OZA", date(2023, 9, 1), None]
    sheets = {"leerlingen": [pupil], "verzuim": [absent], "arrangementen": [arrangement]}
    return workbook_bytes("PO2301", 2024, 1, sheets, None, 0)


def _land(settings: Settings, source: str, files: dict[str, bytes]) -> list[DeliveryOutcome]:
    """Drop files in a source's landing folder and land them as `monitorlink land <source>` does."""
    folder = settings.landing_root / source
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return land(settings, source)


def _section(out: str, title_start: str) -> list[str]:
    """One table of the CLI's plain output (stdout not a terminal): its header line and rows, as text."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"# {title_start}"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("# ")), len(lines))
    return lines[start + 1 : end]


def _line_of(out: str, title_start: str, batch_id: str | None) -> str:
    """The one line of a table that names a batch (a cell's lines are joined with "; ")."""
    (line,) = [line for line in _section(out, title_start) if str(batch_id) in line]
    return line


def _reasons(out: str, title_start: str, batch_id: str | None) -> dict[str, list[str]]:
    """A reasons table's samples of one batch, by rule (no cell but the last holds a space)."""
    reasons: dict[str, list[str]] = {}
    for line in _section(out, title_start):
        if line.startswith(str(batch_id)):
            _, rule, sample = line.split(maxsplit=2)
            reasons.setdefault(rule, []).append(sample)
    return reasons


def _rules(out: str) -> dict[str, tuple[str, int, int]]:
    """The report's rules table, rule → (kind, deliveries, rows); none of its cells holds a space."""
    return {
        cells[0]: (cells[1], int(cells[2]), int(cells[3]))
        for line in _section(out, "Rules over")
        if len(cells := line.split()) == 4 and cells[1] in ("quarantine", "flag")
    }


def _rich_rows(table: Table) -> list[dict[str, str]]:
    """A rich table as drawn on a wide terminal, each row as {header: cell}."""
    console = Console(width=400, record=True)
    console.print(table)
    lines = [
        [cell.strip() for cell in line.strip().strip("│┃").replace("┃", "│").split("│")]
        for line in console.export_text().splitlines()
        if "│" in line or "┃" in line
    ]
    return [dict(zip(lines[0], cells, strict=True)) for cells in lines[1:]]


@pytest.fixture
def dev_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")


@pytest.mark.usefixtures("dev_mode")
def test_a_delivery_quarantined_with_no_rows_shows_with_its_reasons(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    (good,) = _land(settings, "tmsd", {TMSD_GOOD: tmsd_file(tmsd_row())})
    (text,) = _land(settings, "education", {XLSX_TEXT: b"naam;aantal\nschool;3\n"})
    assert text.outcome == "quarantined"  # the premise: nothing readable, so no Parquet file at all

    assert main(["quality", "report"]) == 0
    out = capsys.readouterr().out
    line = _line_of(out, "Quality per batch", text.batch_id)
    assert f"{text.batch_id}; {XLSX_TEXT}" in line and "quarantined" in line and "education: no rows" in line
    reasons = _reasons(out, "Why the deliveries shown", text.batch_id)
    assert sorted(reasons) == ["delivery_not_empty", "file_readable"]  # no workbook, so no rows either
    (unreadable,) = reasons["file_readable"]
    assert unreadable.startswith(f"{XLSX_TEXT}, delivery: file_readable: the file could not be read")
    (empty,) = reasons["delivery_not_empty"]
    assert empty.startswith(f"{XLSX_TEXT}, delivery: delivery_not_empty: ")
    assert "validated" in _line_of(out, "Quality per batch", good.batch_id)

    assert main(["quality", "report", "--quarantined"]) == 0
    out = capsys.readouterr().out
    assert str(text.batch_id) in out and str(good.batch_id) not in out
    assert _rules(out) == {
        "file_readable": ("quarantine", 1, 0),
        "delivery_not_empty": ("quarantine", 1, 0),
    }

    assert main(["quality", "report", "--quarantined", "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert (entry["batch_id"], entry["delivery"], entry["source"]) == (text.batch_id, XLSX_TEXT, "education")
    assert (entry["outcome"], entry["validated"], entry["quarantined"], entry["datasets"]) == (
        "quarantined", 0, 0, []
    )  # fmt: skip
    assert set(entry["reasons"]) == {"file_readable", "delivery_not_empty"}
    assert all(
        sample.startswith(f"{XLSX_TEXT}, delivery: ") for s in entry["reasons"].values() for sample in s
    )

    assert main(["quality", "report", "--batch", str(text.batch_id)]) == 0
    out = capsys.readouterr().out
    why = _reasons(out, f"Why batch {text.batch_id} ({XLSX_TEXT}) was quarantined", text.batch_id)
    assert sorted(why) == ["delivery_not_empty", "file_readable"]
    assert f"batch {text.batch_id} ({XLSX_TEXT}): quarantined, no quarantined rows" in out
    assert main(["quality", "report", "--batch", str(text.batch_id), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["batch"]["reasons"], shown["rows"]) == (entry["reasons"], [])

    # a dataset of the source: the unreadable workbook was meant for it as much as for the others
    assert main(["quality", "report", "--dataset", "education_absence", "--json"]) == 0
    assert [item["batch_id"] for item in json.loads(capsys.readouterr().out)] == [text.batch_id]
    assert main(["quality", "report", "--dataset", "tmsd", "--quarantined", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.usefixtures("dev_mode")
def test_an_empty_file_is_listed_under_its_dataset_with_its_reasons(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    (empty,) = _land(settings, "tmsd", {TMSD_GOOD: b""})
    assert main(["quality", "report", "--dataset", "tmsd", "--quarantined", "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert (entry["batch_id"], entry["outcome"], entry["quarantined"]) == (empty.batch_id, "quarantined", 0)
    assert "delivery_not_empty" in entry["reasons"]


@pytest.mark.usefixtures("dev_mode")
def test_an_unknown_batch_or_dataset_fails_naming_the_valid_ones(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    (older,) = _land(settings, "tmsd", {TMSD_GOOD: tmsd_file(tmsd_row())})
    (newer,) = _land(settings, "education", {XLSX_TEXT: b"not a workbook"})

    assert main(["quality", "report", "--batch", "20990101T000000000000-deadbeef"]) == 1
    assert capsys.readouterr().out.strip() == (
        "error: no batch '20990101T000000000000-deadbeef' in the lake; the newest batches: "
        f"{newer.batch_id}, {older.batch_id}"
    )
    assert main(["quality", "report", "--dataset", "tmsd", "--batch", str(newer.batch_id)]) == 1
    assert (
        f"no batch '{newer.batch_id}' of dataset 'tmsd' in the lake; the newest batches: {older.batch_id}"
        in (capsys.readouterr().out)
    )
    assert main(["quality", "report", "--dataset", "tmsdd"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("error: unknown dataset 'tmsdd'; the datasets are: ") and len(out.splitlines()) == 1
    named = out.strip().split(": ", 2)[2].split(", ")
    assert {"availability", "tmsd", "education_pupils", "education_absence", "education_arrangements"} <= set(
        named
    )


@pytest.mark.usefixtures("dev_mode")
def test_limit_counts_deliveries_not_dataset_rows(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmsd_delivery,) = _land(settings, "tmsd", {TMSD_GOOD: tmsd_file(tmsd_row())})
    (workbook,) = _land(settings, "education", {XLSX_GOOD: _workbook()})
    assert workbook.rows == {"education_pupils": 1, "education_absence": 1, "education_arrangements": 1}

    assert main(["quality", "report", "--limit", "1", "--json"]) == 0
    (newest,) = json.loads(capsys.readouterr().out)
    assert newest["batch_id"] == workbook.batch_id
    assert sorted(part["dataset"] for part in newest["datasets"]) == sorted(workbook.rows)
    assert main(["quality", "report", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Quality per batch (newest first, 1 shown)")
    line = _line_of(out, "Quality per batch", workbook.batch_id)
    assert "; ".join(workbook.rows) in line and "1; 1; 1" in line  # one line for its three datasets
    assert len(_section(out, "Quality per batch")) == 3  # header, that line, the hint below the tables
    assert main(["quality", "report", "--limit", "2", "--json"]) == 0
    assert [item["batch_id"] for item in json.loads(capsys.readouterr().out)] == [
        workbook.batch_id,
        tmsd_delivery.batch_id,
    ]
    assert main(["quality", "report", "--limit", "0"]) == 2  # usage error: typer names the range


@pytest.mark.usefixtures("dev_mode")
def test_the_run_summary_and_the_report_count_a_rule_alike_in_each_unit(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two deliveries break gemeente_code_known, in 2 rows and 1 row; an empty file has no row at all
    and misses every required column (its log counts one failure per column, but it is 1 delivery)."""
    outcomes = _land(
        settings,
        "tmsd",
        {
            "tmsd_jeugd_GM0141_2023Q1_v1.csv": tmsd_file(
                tmsd_row(gemeente_code="GM9999"),
                tmsd_row(client_pseudo_id="b" * 64, gemeente_code="GM9999"),
                tmsd_row(client_pseudo_id="c" * 64),
            ),
            "tmsd_jeugd_GM0147_2023Q1_v1.csv": tmsd_file(tmsd_row(gemeente_code="GM9999")),
            "tmsd_jeugd_GM0153_2023Q1_v1.csv": b"",
            "tmsd_jeugd_GM0158_2023Q1_v1.csv": tmsd_file(tmsd_row()),
        },
    )
    assert [o.outcome for o in outcomes] == ["quarantined", "quarantined", "quarantined", "validated"]
    assert outcomes[2].critical["columns_match_contract"] > 1  # the log's count is in neither unit
    (summary,) = _rich_rows(sources_table(Lake(settings.lake_root), {"tmsd": outcomes}))
    summary_rules = {
        rule: int(count)
        for rule, count in (item.rsplit(" ×", 1) for item in summary["rules (deliveries)"].split(", "))
    }
    assert summary_rules["gemeente_code_known"] == 2
    assert summary_rules["columns_match_contract"] == 1  # one delivery, though its log counts 9 columns
    assert summary_rules["delivery_not_empty"] == 1

    assert main(["quality", "report", "--dataset", "tmsd"]) == 0
    out = capsys.readouterr().out
    report_rules = _rules(out)
    assert {rule: deliveries for rule, (_, deliveries, _) in report_rules.items()} == summary_rules
    assert report_rules["gemeente_code_known"] == ("quarantine", 2, 3)
    assert report_rules["columns_match_contract"] == ("quarantine", 1, 0)
    assert "delivery_rejected ×1; gemeente_code_known ×2" in _line_of(
        out, "Quality per batch", outcomes[0].batch_id
    )
    assert "gemeente_code_known ×1" in _line_of(out, "Quality per batch", outcomes[1].batch_id)
