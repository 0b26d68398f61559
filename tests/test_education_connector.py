"""Education workbooks: header detection under title rows, totals rows, missing sheets, redaction."""

from __future__ import annotations

import io
import time
from datetime import date

import pytest
from openpyxl import load_workbook

from connectors import education
from monitorlink.simulator.education import SHEETS, workbook_bytes
from tests.waiting import wait_until

PUPIL = ["PO2301", date(2023, 10, 1), "12AB", "GM0141", "PO", 210, 0]
SPECIAL = ["PO2301", date(2023, 10, 1), "34CD", "GM0141", "SO", 80, 80]
ABSENT = ["PO2301", "2023-2024", "GM0141", "absoluut verzuim", 4, 2]
ARRANGEMENT = ["123456782", "PO2301", "12AB", "GM0141", "OZA", date(2023, 9, 1), None]


def _workbook(totals_offset: int = 0, headers: dict[str, list[str]] | None = None) -> bytes:
    sheets = {"leerlingen": [PUPIL, SPECIAL], "verzuim": [ABSENT], "arrangementen": [ARRANGEMENT]}
    return workbook_bytes("PO2301", 2023, 4, sheets, headers, totals_offset)


def test_rows_are_read_under_the_detected_header_and_stop_at_the_totals_row() -> None:
    pupils, absence, arrangements = education.parse("x.xlsx", _workbook())
    assert [t.contract.name for t in (pupils, absence, arrangements)] == [
        "education_pupils",
        "education_absence",
        "education_arrangements",
    ]
    assert pupils.row_numbers == [5, 6], "title, subtitle and a blank row sit above the header on row 4"
    assert pupils.rows[1]["onderwijssoort"] == "SO" and pupils.rows[1]["aantal_met_tlv"] == 80
    assert pupils.flags == [] and pupils.problems == []
    assert len(arrangements.rows) == 1, "the source note under the table is not a row"


def test_a_totals_row_that_disagrees_with_the_rows_is_flagged() -> None:
    pupils, absence, _ = education.parse("x.xlsx", _workbook(totals_offset=7))
    assert {(f.rule, f.column, f.value) for f in pupils.flags} == {
        ("totals_row_matches", "aantal_leerlingen", 297),
        ("totals_row_matches", "aantal_met_tlv", 87),
    }
    assert all(not f.is_critical for f in pupils.flags + absence.flags)


def test_a_renamed_column_and_a_missing_sheet_are_named() -> None:
    headers = {
        **SHEETS,
        "leerlingen": [h if h != "Aantal met TLV" else "aantal_tlv" for h in SHEETS["leerlingen"]],
    }
    book = load_workbook(io.BytesIO(_workbook(headers=headers)))
    del book["verzuim"]
    sink = io.BytesIO()
    book.save(sink)
    pupils, absence, _ = education.parse("x.xlsx", sink.getvalue())
    assert [f.rule for f in pupils.flags] == ["column_renamed"]
    assert pupils.rows[0]["aantal_met_tlv"] == 0
    assert [(f.rule, f.is_critical) for f in absence.problems] == [("sheet_present", True)]


def test_a_file_that_is_not_a_workbook_raises_a_readable_error() -> None:
    with pytest.raises(ValueError, match="not an XLSX workbook"):
        education.parse("x.xlsx", b"not a zip")


def test_redaction_replaces_the_bsn_cell_and_nothing_else() -> None:
    redacted = education.redact(_workbook(), {"123456782": "e" * 64})
    *_, arrangements = education.parse("x.xlsx", redacted)
    assert arrangements.rows[0]["client_pseudo_id"] == "e" * 64
    assert arrangements.rows[0]["brin"] == "12AB"


def test_a_simulated_workbook_is_byte_identical_whenever_it_is_written() -> None:
    first = _workbook()
    written = int(time.time())
    # openpyxl stamps the save time to the second: write the second one in a later second
    wait_until(lambda: int(time.time()) > written, 5, "the clock to pass the second of the first write")
    assert _workbook() == first
