"""The delivery processor on small hand-made TMSD files: verdicts, re-deliveries, reports."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from connectors import tmsd
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.core.pseudonym import MissingPseudonymKey
from monitorlink.ingest import deliveries
from monitorlink.ingest.deliveries import DeliveryProcessor
from monitorlink.ingest.delivery_log import delivery_journal, delivery_log
from monitorlink.ingest.landing import land
from monitorlink.ingest.quality import load_suite
from monitorlink.ingest.sources import FILE_SOURCES
from monitorlink.ops import quality_report, recovery
from monitorlink.ops.watch import watch
from tests.factories import tmsd_file as _file
from tests.factories import tmsd_row as _row


@pytest.fixture
def processor(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> DeliveryProcessor:
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    return DeliveryProcessor(Lake(settings.lake_root), tmsd)


def test_a_clean_delivery_is_validated_with_its_types_and_bookkeeping(processor: DeliveryProcessor) -> None:
    good = _file(_row(), _row(client_pseudo_id="b" * 64, einddatum="2023-03-01", reden_beëindiging="01"))
    (outcome,) = processor.process([("tmsd_jeugd_GM0141_2023Q1_v1.csv", good, "test")])
    assert (outcome.outcome, outcome.rows, outcome.critical) == ("validated", {"tmsd": 2}, {})
    (batch,) = quality_report.batches(processor.lake, "tmsd")
    assert (batch.validated, batch.quarantined, batch.delivery) == (2, 0, "tmsd_jeugd_GM0141_2023Q1_v1.csv")
    rows = processor.lake.read_columns("validated", "tmsd", ["kosten_eur", "_delivery_scope", "_source_row"])
    assert list(rows) == [
        {"kosten_eur": 1250.0, "_delivery_scope": "GM0141", "_source_row": 2},
        {"kosten_eur": 1250.0, "_delivery_scope": "GM0141", "_source_row": 3},
    ]


def test_the_same_file_again_is_skipped_and_a_copy_under_another_name_is_logged(
    processor: DeliveryProcessor,
) -> None:
    content = _file(_row())
    processor.process([("tmsd_jeugd_GM0141_2023Q1_v1.csv", content, "test")])
    again = DeliveryProcessor(processor.lake, tmsd)
    assert again.process([("tmsd_jeugd_GM0141_2023Q1_v1.csv", content, "test")]) == []
    (copy,) = again.process([("tmsd_jeugd_GM0141_2023Q1_v2.csv", content, "test")])
    assert (copy.outcome, copy.duplicate_of) == ("redelivery_ignored", "tmsd_jeugd_GM0141_2023Q1_v1.csv")
    assert (
        DeliveryProcessor(processor.lake, tmsd).process([("tmsd_jeugd_GM0141_2023Q1_v2.csv", content, "t")])
        == []
    )
    assert [o.outcome for o in delivery_log(processor.lake, "tmsd")] == ["validated", "redelivery_ignored"]


def test_one_bad_row_quarantines_the_whole_delivery_naming_file_row_and_rule(
    processor: DeliveryProcessor,
) -> None:
    bad = _file(
        _row(),
        _row(client_pseudo_id="c" * 64, gemeente_code="GM9999"),
        _row(client_pseudo_id="d" * 64, einddatum="2022-12-31"),
    )
    (outcome,) = processor.process([("tmsd_jeugd_GM0141_2023Q2_v1.csv", bad, "test")])
    assert outcome.outcome == "quarantined"
    assert outcome.critical == {"gemeente_code_known": 1, "end_not_before_start": 1}
    assert outcome.samples["gemeente_code_known"] == [
        "tmsd_jeugd_GM0141_2023Q2_v1.csv, tmsd row 3: gemeente_code_known: gemeente_code must be one of the"
        " codes in dbt/seeds/gemeenten.csv (referential check) (gemeente_code='GM9999')"
    ]
    (batch,) = quality_report.batches(processor.lake, "tmsd")
    assert batch.rules == {"delivery_rejected": 1, "end_not_before_start": 1, "gemeente_code_known": 1}
    rows = quality_report.quarantined_rows(processor.lake, "tmsd", batch.batch_id)
    assert [r.location for r in rows] == [f"tmsd_jeugd_GM0141_2023Q2_v1.csv:{n}" for n in (3, 4, 2)]
    assert (
        rows[-1].reasons[0].startswith("delivery_rejected: the delivery was rejected as a whole because of")
    )
    assert processor.lake.parquet_files("validated", "tmsd") == []


def test_a_malformed_district_code_is_flagged_and_the_trajectory_still_counts(
    processor: DeliveryProcessor,
) -> None:
    """docs/tmsd.md: district not `WK` + 6 digits → flagged (`wijk_code_format`, a warning)."""
    content = _file(_row(wijk_code="WK014101"), _row(client_pseudo_id="b" * 64, wijk_code="Enschede-Zuid"))
    (outcome,) = processor.process([("tmsd_jeugd_GM0141_2023Q1_v1.csv", content, "test")])
    assert (outcome.outcome, outcome.warnings) == ("validated", {"wijk_code_format": 1})
    rows = processor.lake.read_columns("validated", "tmsd", ["wijk_code", "_source_row", "_quality_flags"])
    flagged = {
        row["_source_row"]: ("wijk_code_format" in row["_quality_flags"], row["wijk_code"]) for row in rows
    }
    assert flagged == {2: (False, "WK014101"), 3: (True, "Enschede-Zuid")}, "file row 3 holds the bad code"


def test_a_bsn_in_a_text_column_is_masked_in_the_row_and_the_raw_copy(processor: DeliveryProcessor) -> None:
    """docs/tmsd.md: a BSN in any other column than the pseudonym → `[BSN]` in the row and the raw copy
    (`bsn_removed`, a warning). 123456782 passes the 11-check."""
    content = _file(_row(wijk_code="wijk van 123456782"))
    assert b"123456782" in content
    (outcome,) = processor.process([("tmsd_jeugd_GM0141_2023Q1_v1.csv", content, "test")])
    assert outcome.outcome == "validated" and outcome.warnings["bsn_removed"] == 1
    (row,) = processor.lake.read_columns("validated", "tmsd", ["wijk_code", "_quality_flags"])
    assert row["wijk_code"] == "wijk van [BSN]" and "bsn_removed" in row["_quality_flags"]
    (raw,) = processor.lake.manifest("tmsd")
    stored = (processor.lake.root / raw.path).read_bytes()
    assert b"123456782" not in stored and b"wijk van [BSN]" in stored


def test_a_missing_required_value_quarantines_the_delivery(processor: DeliveryProcessor) -> None:
    """docs/tmsd.md: a missing required value → delivery quarantined (`<field>_present`)."""
    content = _file(_row(), _row(client_pseudo_id="b" * 64, verwijzer=""))
    (outcome,) = processor.process([("tmsd_jeugd_GM0141_2023Q1_v1.csv", content, "test")])
    assert (outcome.outcome, outcome.critical) == ("quarantined", {"verwijzer_present": 1})


def test_a_file_name_outside_the_contract_or_an_unreadable_type_is_critical(
    processor: DeliveryProcessor,
) -> None:
    (outcome,) = processor.process([("trajecten.csv", _file(_row(geboortejaar="twaalf")), "test")])
    assert outcome.outcome == "quarantined"
    assert {"file_name_matches_contract", "type_geboortejaar"} <= set(outcome.critical)


@pytest.mark.parametrize("value", ["inf", "1e400", "nan", "9" * 400])
def test_a_number_that_is_no_finite_number_fails_its_type_rule(
    processor: DeliveryProcessor, value: str
) -> None:
    name = "tmsd_jeugd_GM0141_2023Q1_v1.csv"
    (outcome,) = processor.process([(name, _file(_row(geboortejaar=value)), "test")])
    assert outcome.outcome == "quarantined"
    assert "type_geboortejaar" in outcome.critical


def test_a_file_the_csv_reader_refuses_is_quarantined_and_the_next_file_lands(
    processor: DeliveryProcessor,
) -> None:
    """One stray quote before 200 KB of text exceeds csv's field limit (an Error, not a ValueError)."""
    poisoned = _file(_row()) + b'"' + b"x" * 200_000 + b"\n"
    outcomes = processor.process(
        [
            ("tmsd_jeugd_GM0141_2023Q1_v1.csv", poisoned, "test"),
            ("tmsd_jeugd_GM0147_2023Q1_v1.csv", _file(_row()), "test"),
        ]
    )
    assert [o.outcome for o in outcomes] == ["quarantined", "validated"]
    assert "file_readable" in outcomes[0].critical
    assert any("field larger than field limit" in sample for sample in outcomes[0].samples["file_readable"])


def test_without_a_key_outside_dev_mode_nothing_is_read(
    processor: DeliveryProcessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONITORLINK_DEV_MODE")
    monkeypatch.delenv("MONITORLINK_PSEUDONYM_KEY", raising=False)
    with pytest.raises(MissingPseudonymKey):
        processor.process([("tmsd_jeugd_GM0141_2023Q1_v1.csv", _file(_row()), "test")])
    assert not (processor.lake.root / "raw").exists()


NAME = "tmsd_jeugd_GM0141_2023Q1_v1.csv"
COPY = "tmsd_jeugd_GM0141_2023Q1_v2.csv"


def _validated_rows(lake: Lake) -> int:
    return len(list(lake.read_columns("validated", "tmsd", ["_delivery_file"])))


def _drop_last_log_line(lake: Lake) -> None:
    """What a crash between a delivery's Parquet files and its log line leaves behind."""
    path = delivery_journal(lake, "tmsd").path
    path.write_text(
        "".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:-1]), encoding="utf-8"
    )


def test_a_delivery_interrupted_before_its_log_line_lands_again_whole_and_once(
    processor: DeliveryProcessor,
) -> None:
    content = _file(_row(), _row(client_pseudo_id="b" * 64))
    processor.process([(NAME, content, "test")])
    _drop_last_log_line(processor.lake)
    (outcome,) = DeliveryProcessor(processor.lake, tmsd).process([(NAME, content, "test")])
    assert outcome.outcome == "validated"
    assert _validated_rows(processor.lake) == 2  # the orphaned first landing was rolled back
    assert [o.outcome for o in delivery_log(processor.lake, "tmsd")] == ["validated"]


def test_an_interrupted_delivery_without_rows_leaves_no_quarantine_report_behind(
    processor: DeliveryProcessor,
) -> None:
    """A file with only its header is quarantined with a report and no Parquet file; interrupted before
    its log line, the report alone is what the crash leaves, and it goes with the roll-back."""
    header_only = _file()
    processor.process([(NAME, header_only, "test")])
    _drop_last_log_line(processor.lake)
    (outcome,) = DeliveryProcessor(processor.lake, tmsd).process([(NAME, header_only, "test")])
    assert outcome.outcome == "quarantined"
    reports = list(Path(str(processor.lake.root), "quarantine").rglob("*.validation.json"))
    assert [report.name for report in reports] == [f"{outcome.batch_id}.validation.json"]


def test_a_copy_is_never_logged_before_its_original_has_landed(
    processor: DeliveryProcessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = _file(_row())

    def crash(self: DeliveryProcessor, chunk: list[object]) -> None:
        raise KeyboardInterrupt("killed while the chunk lands")

    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr(DeliveryProcessor, "_land_chunk", crash)
        processor.process([(NAME, content, "test"), (COPY, content, "test")])
    assert delivery_log(processor.lake, "tmsd") == []
    outcomes = DeliveryProcessor(processor.lake, tmsd).process(
        [(NAME, content, "test"), (COPY, content, "test")]
    )
    assert [(o.name, o.outcome) for o in outcomes] == [(NAME, "validated"), (COPY, "redelivery_ignored")]


def test_a_copy_of_a_quarantined_delivery_is_a_delivery_of_its_own(processor: DeliveryProcessor) -> None:
    """Quarantined only for its file name, then re-sent with the right name: the fix lands."""
    content = _file(_row())
    (first,) = processor.process([("trajecten.csv", content, "test")])
    assert first.outcome == "quarantined"
    (fixed,) = DeliveryProcessor(processor.lake, tmsd).process([(NAME, content, "test")])
    assert (fixed.outcome, fixed.duplicate_of) == ("validated", None)
    assert _validated_rows(processor.lake) == 1


def test_a_file_still_being_copied_waits_for_its_rename(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    folder = settings.landing_root / "tmsd"
    folder.mkdir(parents=True)
    content = _file(_row())
    (folder / f"{NAME}.part").write_bytes(content[: len(content) // 2])  # the sender is still copying
    assert land(settings, "tmsd") == []
    (folder / f"{NAME}.part").write_bytes(content)
    (folder / f"{NAME}.part").rename(folder / NAME)
    assert [o.outcome for o in land(settings, "tmsd")] == ["validated"]


def test_the_watcher_makes_the_landing_folders_before_its_first_round(settings: Settings) -> None:
    stop = threading.Event()
    stop.set()
    watch(settings, stop)
    assert all((settings.landing_root / source).is_dir() for source in FILE_SOURCES)


def test_a_quarantined_delivery_lands_when_checked_again_after_a_reference_fix(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    lake = Lake(settings.lake_root)
    content = _file(_row(gemeente_code="GM9999"), _row(client_pseudo_id="b" * 64, gemeente_code="GM9999"))
    (first,) = DeliveryProcessor(lake, tmsd).process([("tmsd_jeugd_GM0141_2023Q1_v1.csv", content, "test")])
    assert first.outcome == "quarantined" and "gemeente_code_known" in first.critical

    (unchanged,) = recovery.recheck(settings, "tmsd")
    assert (unchanged.outcome, unchanged.batch_id) == ("quarantined", first.batch_id)

    # the fix: GM9999 becomes a known municipality (a new code in the seed and its suite)
    fixed_suite = tmp_path / "tmsd.v1.json"
    document = json.loads(tmsd.CONTRACT.suite.read_text(encoding="utf-8"))
    for expectation in document["expectations"]:
        if expectation["meta"]["rule"] == "gemeente_code_known":
            expectation["kwargs"]["value_set"].append("GM9999")
    fixed_suite.write_text(json.dumps(document), encoding="utf-8")
    monkeypatch.setattr(
        deliveries,
        "load_suite",
        lambda path: load_suite(fixed_suite if path == tmsd.CONTRACT.suite else path),
    )
    (landed,) = recovery.recheck(settings, "tmsd", (str(first.batch_id),))

    assert (landed.outcome, landed.batch_id) == ("validated", first.batch_id)
    assert [o.outcome for o in delivery_log(lake, "tmsd")] == ["validated"], "its log line now says so"
    assert _validated_rows(lake) == 2 and lake.parquet_files("quarantine", "tmsd") == []
    with pytest.raises(ValueError, match="no quarantined tmsd delivery has batch id nope"):
        recovery.recheck(settings, "tmsd", ("nope",))
