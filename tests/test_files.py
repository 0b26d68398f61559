"""Reading delivered files: encodings, delimiters, Dutch headers and numbers, and redaction."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connectors.files import (
    SUPPRESSED,
    decode,
    map_columns,
    normalise_header,
    read_csv,
    redact_text,
    sniff_delimiter,
    to_contract_type,
)
from monitorlink.core.contracts import load_contract
from monitorlink.simulator.tmsd import HEADER
from tests.factories import tmsd_row

TMSD = load_contract("tmsd.v1")


def test_utf8_with_or_without_bom_and_cp1252_are_told_apart() -> None:
    assert decode("reden_beëindiging".encode()) == ("reden_beëindiging", "utf-8")
    assert decode(b"\xef\xbb\xbfa;b") == ("a;b", "utf-8-sig")
    assert decode("reden_beëindiging".encode("cp1252")) == ("reden_beëindiging", "cp1252")


def test_a_dos_code_page_is_recognised_so_its_headers_still_match() -> None:
    row = tmsd_row(einddatum="2023-06-30", **{"reden_beëindiging": "12"})
    content = f"{';'.join(HEADER)}\r\n{';'.join(row)}\r\n".encode("cp850")
    assert b"be\x89indiging" in content  # ë is 0x89 in cp850, where cp1252 has ‰
    table = read_csv(content, TMSD)
    assert decode(content)[1] == "cp850"
    assert [f.rule for f in table.flags] == ["encoding_not_utf8"] and table.problems == []
    assert table.records()[0]["reden_beeindiging"] == "12"
    assert decode("één café".encode("cp1252")) == ("één café", "cp1252")


@pytest.mark.parametrize("cut", [1, 7, 20])
def test_a_file_cut_inside_its_last_row_names_that_line(cut: int) -> None:
    row = ";".join(tmsd_row())
    text = f"{';'.join(HEADER)}\r\n{row}\r\n{row}"
    table = read_csv(text[: len(text) - len(row) + cut].encode(), TMSD)
    assert [(f.rule, f.value) for f in table.problems] == [("row_fields_match_header", 3)]
    assert "line 3 has" in table.problems[0].reason


def test_the_delimiter_is_read_from_the_header_line() -> None:
    assert sniff_delimiter("a;b;c\n1,5;2;3") == ";"
    assert sniff_delimiter('a,b,c\n"1,5",2,3') == ","
    assert sniff_delimiter("a\tb\n") == "\t"
    assert sniff_delimiter("single\n") == ";"


def test_headers_match_by_name_dutch_header_or_old_name_and_say_so() -> None:
    assert normalise_header("  Aantal  met TLV ") == "aantal_met_tlv"
    assert normalise_header("reden_beëindiging") == "reden_beeindiging"
    headers = [" Client_Pseudo_ID ", "kosten", "gemeente_code", "onbekend"]
    mapping, table = map_columns(headers, TMSD)
    assert {i: f.name for i, f in mapping.items()} == {
        0: "client_pseudo_id",
        1: "kosten_eur",
        2: "gemeente_code",
    }
    assert sorted(f.rule for f in table.flags) == ["column_renamed", "header_normalised", "unexpected_column"]
    assert all(not f.is_critical for f in table.flags)
    missing = {f.value for f in table.problems}
    assert "startdatum" in missing and "client_pseudo_id" not in missing
    assert all(f.rule == "columns_match_contract" and f.is_critical for f in table.problems)


def test_a_cp1252_comma_separated_delivery_is_read_and_flagged() -> None:
    header = ",".join(f.header or f.name for f in TMSD.fields)
    row = tmsd_row(geboortejaar="2010", geslacht="V", gemeente_code="GM0153", startdatum="2023-01-05")
    line = ",".join([*row[:-1], '"1.234,50"'])  # a comma-separated file quotes the decimal comma
    table = read_csv(f"{header}\r\n{line}\r\n\r\n".encode("cp1252"), TMSD)
    assert {f.rule for f in table.flags} == {"encoding_not_utf8", "delimiter_not_semicolon"}
    assert table.problems == [] and table.row_numbers == [2]
    assert table.records()[0]["kosten_eur"] == "1.234,50" and table.records()[0]["gemeente_code"] == "GM0153"


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("kosten_eur", "1.234,50", 1234.5),
        ("kosten_eur", "12,5", 12.5),
        ("kosten_eur", "12.5", 12.5),
        ("kosten_eur", " . ", SUPPRESSED),
        ("kosten_eur", "", None),
        ("geboortejaar", "2010", 2010),
        ("geboortejaar", 2010.0, 2010),
        ("startdatum", "05-01-2023", date(2023, 1, 5)),
        ("startdatum", "2023-01-05", date(2023, 1, 5)),
        ("startdatum", datetime(2023, 1, 5, 0, 0), date(2023, 1, 5)),
        ("aanbieder_agb", 12345678, "12345678"),
    ],
)
def test_dutch_values_become_contract_types(name: str, raw: object, expected: object) -> None:
    assert to_contract_type(raw, TMSD.field(name)) == expected


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("geboortejaar", "2010,5"),
        ("startdatum", "gisteren"),
        ("kosten_eur", "n.v.t."),
        ("geboortejaar", "inf"),
        ("kosten_eur", "1e400"),
        ("kosten_eur", "nan"),
        ("aanbieder_agb", ["12345678"]),  # JSON feeds: a list or object is no text
        ("aanbieder_agb", {"agb": "12345678"}),
        ("geboortejaar", [2010]),
    ],
)
def test_values_that_do_not_fit_raise(name: str, raw: object) -> None:
    with pytest.raises(ValueError):
        to_contract_type(raw, TMSD.field(name))


def test_timestamps_without_zone_are_utc() -> None:
    field = load_contract("chain.v1").field("occurred_at")
    assert to_contract_type("2023-02-01T10:00:00", field) == datetime(2023, 2, 1, 10, tzinfo=UTC)


def test_redaction_replaces_whole_tokens_and_keeps_the_encoding() -> None:
    content = "id;x\r\n123456782;beëindigd\r\n1234567829;x\r\n".encode("cp1252")
    redacted = redact_text(content, {"123456782": "f" * 64})
    assert redacted.decode("cp1252") == f"id;x\r\n{'f' * 64};beëindigd\r\n1234567829;x\r\n"
