"""Typing delivered values column by column (Arrow) must give what typing them one by one gives.

Large tables are typed by Arrow kernels, small ones (and every unusual value) by `typed_value`; these tests
type the same deliveries both ways and also check the results against values worked out by hand.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
from datetime import date
from typing import Any

import pytest

from connectors import chain, tmsd
from connectors.base import ParsedTable
from connectors.files import read_csv
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.core.pseudonym import DEV_KEY
from monitorlink.ingest import delivery_prepare
from monitorlink.ingest.deliveries import DeliveryProcessor
from monitorlink.ingest.landing import land
from monitorlink.simulator.tmsd import HEADER
from tests.factories import tmsd_file, tmsd_row

KEY = DEV_KEY.encode()
BSN = "123456782"  # 9·1 + 8·2 + 7·3 + 6·4 + 5·5 + 4·6 + 3·7 + 2·8 − 2 = 154 = 14 · 11
#: Values a delivery may hold, per field, each with what it must become (worked out by hand).
ODD_VALUES: list[tuple[str, str]] = [
    ("kosten_eur", "1.234,50"),
    ("kosten_eur", "12,5"),
    ("kosten_eur", "12.5"),
    ("kosten_eur", " . "),
    ("kosten_eur", "1e3"),
    ("kosten_eur", "n.v.t."),
    ("geboortejaar", "2010,5"),
    ("geboortejaar", "007"),
    ("geboortejaar", "+2011"),
    ("geboortejaar", " 2012 "),
    ("startdatum", "05-01-2023"),
    ("startdatum", "2023-02-30"),
    ("startdatum", "gisteren"),
    ("startdatum", "0000-01-01"),
    ("startdatum", "5-1-2023"),
    ("einddatum", "20230105"),
    ("client_pseudo_id", BSN),
    ("client_pseudo_id", f" {BSN} "),
    ("wijk_code", f"zie {BSN}"),
    ("wijk_code", "WK\t014101"),
    ("geslacht", "é"),
    ("aanbieder_agb", "١٢٣٤٥٦٧٨٢"),  # Arabic-Indic digits: Python's \d finds them, so must we
    ("crisis", "."),
    ("segment", "1234567890123456789"),
]


def _rows(count: int) -> list[list[str]]:
    """`count` valid rows, the odd values spread over them (one per row, cycling)."""
    rows = []
    for number in range(count):
        field, value = ODD_VALUES[number % len(ODD_VALUES)]
        row = tmsd_row(client_pseudo_id=f"{number:064x}")
        row[_index(field)] = value
        rows.append(row)
    return rows


def _index(field: str) -> int:
    return [f.name for f in tmsd.CONTRACT.fields].index(field)


def _typed(parsed: ParsedTable, monkeypatch: pytest.MonkeyPatch, vector: bool) -> tuple[Any, ...]:
    monkeypatch.setattr(delivery_prepare, "VECTOR_ROWS", 0 if vector else 10**9)
    replacements: dict[str, str] = {}
    table = delivery_prepare.typed_table(parsed, KEY, replacements)
    failures = [[(f.rule, f.column, f.describe()) for f in row] for row in table.row_failures]
    return table.records(), failures, replacements


def test_a_large_csv_typed_by_arrow_matches_typing_value_by_value(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = read_csv(tmsd_file(*_rows(300)), tmsd.CONTRACT)
    assert parsed.arrow is not None  # a plain file: read column by column
    assert _typed(parsed, monkeypatch, vector=True) == _typed(parsed, monkeypatch, vector=False)


def test_arrow_typing_gives_the_values_and_rules_worked_out_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = read_csv(tmsd_file(*_rows(len(ODD_VALUES))), tmsd.CONTRACT)
    records, failures, replacements = _typed(parsed, monkeypatch, vector=True)
    got = {
        (field, value): (
            records[n][field],
            sorted(rule for rule, column, _ in failures[n] if column == field),
        )
        for n, (field, value) in enumerate(ODD_VALUES)
    }
    pseudonym = hmac.new(KEY, BSN.encode(), hashlib.sha256).hexdigest()
    assert got[("kosten_eur", "1.234,50")] == (1234.5, [])
    assert got[("kosten_eur", "12,5")] == (12.5, [])
    assert got[("kosten_eur", "12.5")] == (12.5, [])
    assert got[("kosten_eur", " . ")] == (None, ["suppressed_value"])
    assert got[("kosten_eur", "1e3")] == (1000.0, [])
    assert got[("kosten_eur", "n.v.t.")] == (None, ["type_kosten_eur"])
    assert got[("geboortejaar", "2010,5")] == (None, ["type_geboortejaar"])
    assert got[("geboortejaar", "007")] == (7, [])
    assert got[("geboortejaar", "+2011")] == (2011, [])
    assert got[("geboortejaar", " 2012 ")] == (2012, [])
    assert got[("startdatum", "05-01-2023")] == (date(2023, 1, 5), [])
    assert got[("startdatum", "2023-02-30")] == (None, ["type_startdatum"])
    assert got[("startdatum", "gisteren")] == (None, ["type_startdatum"])
    assert got[("startdatum", "0000-01-01")] == (None, ["type_startdatum"])
    assert got[("startdatum", "5-1-2023")] == (date(2023, 1, 5), [])
    assert got[("einddatum", "20230105")] == (date(2023, 1, 5), [])
    assert got[("client_pseudo_id", BSN)] == (pseudonym, ["bsn_pseudonymised"])
    assert got[("client_pseudo_id", f" {BSN} ")] == (pseudonym, ["bsn_pseudonymised"])
    assert got[("wijk_code", f"zie {BSN}")] == ("zie [BSN]", ["bsn_removed"])
    assert got[("wijk_code", "WK\t014101")] == ("WK\t014101", [])
    assert got[("geslacht", "é")] == ("é", [])
    assert got[("aanbieder_agb", "١٢٣٤٥٦٧٨٢")] == ("[BSN]", ["bsn_removed"])
    assert got[("crisis", ".")] == (None, ["suppressed_value"])  # as a text "." has always read
    assert got[("segment", "1234567890123456789")][0] == 1234567890123456768  # as float() rounds it
    assert replacements == {BSN: pseudonym, "١٢٣٤٥٦٧٨٢": "[BSN]"}


def test_json_records_typed_by_arrow_match_typing_value_by_value(monkeypatch: pytest.MonkeyPatch) -> None:
    record = {
        "case_pseudo_id": "c" * 64,
        "client_pseudo_id": "a" * 64,
        "gemeente_code": "GM0141",
        "partner": "GI",
        "milestone": "einde_maatregel",
        "occurred_at": "2024-01-22T10:05:00",
        "recorded_at": "2024-01-23T11:02:42Z",
    }
    odd: list[Any] = [
        7,
        1.5,
        True,
        None,
        ["x"],
        {"a": 1},
        "\ud800",
        f"zie {BSN}",
        BSN,
        " . ",
        "é\u00a0",
        2**70,
    ]
    records = []
    for number in range(240):
        row = dict(record, case_pseudo_id=f"{number:064x}")
        field = list(record)[number % len(record)]
        row[field] = odd[number % len(odd)]
        records.append(row)
    parsed = ParsedTable(chain.CONTRACT, records, list(range(1, len(records) + 1)))
    vector = _typed(parsed, monkeypatch, vector=True)
    assert vector == _typed(parsed, monkeypatch, vector=False)
    json.dumps(vector[0], default=str)  # the quarantine record of every row can still be written


def test_blank_lines_are_skipped_and_rows_keep_their_line_numbers() -> None:
    header, row = ";".join(HEADER), ";".join(tmsd_row())
    blank = ";" * (len(HEADER) - 1)
    content = f"{header}\r\n{row}\r\n\r\n{blank}\r\n  \r\n{row}\r{row}\n".encode()
    table = read_csv(content, tmsd.CONTRACT)
    assert table.arrow is not None and table.problems == []
    assert table.row_numbers == [2, 6, 7]  # lines 3–5 are blank; a lone CR ends line 6
    assert [r["geboortejaar"] for r in table.records()] == ["2012", "2012", "2012"]


def test_a_file_with_a_quote_or_a_ragged_row_is_read_row_by_row() -> None:
    header, row = ";".join(HEADER), ";".join(tmsd_row())
    quoted = read_csv(f'{header}\n{row[:-8]}"1,00"\n'.encode(), tmsd.CONTRACT)
    ragged = read_csv(f"{header}\n{row}\n{row};extra\n".encode(), tmsd.CONTRACT)
    assert quoted.arrow is None and ragged.arrow is None
    assert [f.value for f in ragged.problems] == [3]


def test_a_large_delivery_lands_with_its_rows_in_order(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    rows = [tmsd_row(client_pseudo_id=f"{n:064x}", geboortejaar=str(2000 + n % 20)) for n in range(450)]
    processor = DeliveryProcessor(Lake(settings.lake_root), tmsd)
    (outcome,) = processor.process([("tmsd_jeugd_GM0141_2023Q1_v1.csv", tmsd_file(*rows), "test")])
    assert (outcome.outcome, outcome.rows) == ("validated", {"tmsd": 450})
    landed = list(processor.lake.read_columns("validated", "tmsd", ["geboortejaar", "_source_row"]))
    assert [r["_source_row"] for r in landed] == list(range(2, 452))
    assert [r["geboortejaar"] for r in landed] == [2000 + n % 20 for n in range(450)]


def test_landing_cannot_switch_the_gate_off(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the benchmark constructs a processor without the gate; `land` has no such parameter."""
    assert "quality_gate" not in inspect.signature(land).parameters
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    unknown = tmsd_file(tmsd_row(gemeente_code="GM9999"))
    gated = DeliveryProcessor(Lake(settings.lake_root / "a"), tmsd)
    ungated = DeliveryProcessor(Lake(settings.lake_root / "b"), tmsd, quality_gate=False)
    name = "tmsd_jeugd_GM0141_2023Q1_v1.csv"
    assert gated.process([(name, unknown, "test")])[0].outcome == "quarantined"
    assert ungated.process([(name, unknown, "test")])[0].outcome == "validated"
