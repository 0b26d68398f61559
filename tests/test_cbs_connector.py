"""The CBS connector against a loopback server shaped like the real OData v3 and v4 endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors import cbs
from monitorlink.simulator.cbs import CbsServer, write_table

V3_TABLE = {
    "api": "v3",
    "properties": [
        {"ID": 0, "Type": "Dimension", "Key": "Leeftijd", "Title": "Leeftijd"},
        {"ID": 1, "Type": "GeoDimension", "Key": "RegioS", "Title": "Regio's"},
        {"ID": 2, "Type": "TimeDimension", "Key": "Perioden", "Title": "Perioden"},
        {"ID": 3, "Type": "Topic", "Key": "Bevolking_1", "Title": "Bevolking", "Unit": "aantal"},
        {"ID": 4, "Type": "Topic", "Key": "Jongeren_2", "Title": "Jongeren", "Unit": "aantal"},
    ],
    "rows": [
        {
            "ID": i,
            "Leeftijd": "10000 ",
            "RegioS": f"{code:<10}",
            "Perioden": f"{year}JJ00",
            "Bevolking_1": 1000 + i,
            "Jongeren_2": "       ." if code == "GM0183" else 200 + i,
        }
        for i, (code, year) in enumerate((c, y) for c in ("GM0141", "GM0183", "NL01") for y in (2022, 2023))
    ],
}
V4_TABLE = {
    "api": "v4",
    "properties": [{"Identifier": "M001179", "Title": "Jongeren met jeugdhulp", "Unit": "aantal"}],
    "rows": [
        {
            "Id": i,
            "Measure": "M001179",
            "ValueAttribute": "Confidential" if i == 3 else "None",
            "Value": None if i == 3 else float(i),
            "StringValue": None,
            "SoortJeugdhulp": "T001140",
            "RegioS": code,
            "Perioden": "2023JJ00",
        }
        for i, code in enumerate(["GM0141", "GM0147", "GM0153", "GM0183", "NL01"])
    ],
}


@pytest.fixture
def server(tmp_path: Path) -> CbsServer:
    write_table(tmp_path, "03759ned", V3_TABLE)
    write_table(tmp_path, "85098NED", V4_TABLE)
    return CbsServer(tmp_path, page_size=2)


def _rows(content: bytes) -> list[dict[str, object]]:
    (table,) = cbs.parse("bundle", content)
    assert table.problems == [] and table.flags == []
    return table.rows


def test_v3_follows_next_links_unpads_regions_and_reads_dots_as_suppressed(server: CbsServer) -> None:
    with server:
        content = cbs.fetch("03759ned", "v3", server.v3_url)
    pages = [r for r in server.requests if "TypedDataSet" in r]
    assert len(pages) == 3, "6 rows at 2 per page: the connector followed odata.nextLink twice"
    rows = _rows(content)
    assert len(rows) == 12, "one row per topic per observation"
    hidden = [r for r in rows if r["region_code"] == "GM0183" and r["measure"] == "Jongeren_2"]
    assert len(hidden) == 2 and all(r["value"] is None and r["is_suppressed"] for r in hidden)
    shown = next(r for r in rows if r["region_code"] == "GM0141" and r["measure"] == "Bevolking_1")
    assert shown["period_code"] == "2022JJ00" and shown["period_year"] == "2022" and shown["value"] == 1000
    assert json.loads(str(shown["dimensions"])) == {"Leeftijd": "10000"}
    assert shown["measure_title"] == "Bevolking" and shown["value_attribute"] == "None"


def test_v4_pages_and_keeps_value_attributes(server: CbsServer) -> None:
    with server:
        content = cbs.fetch("85098NED", "v4", server.v4_url, regions=("GM0141", "GM0183", "NL01"))
    assert all("RegioS+eq+%27GM0141%27" in r for r in server.requests if "Observations" in r)
    rows = _rows(content)
    assert [r["region_code"] for r in rows] == ["GM0141", "GM0183", "NL01"]
    confidential = rows[1]
    assert confidential["value"] is None and confidential["value_attribute"] == "Confidential"
    assert confidential["is_suppressed"] is True
    assert json.loads(str(rows[0]["dimensions"])) == {"SoortJeugdhulp": "T001140"}


def test_an_unchanged_table_gives_identical_bytes(server: CbsServer) -> None:
    with server:
        first = cbs.fetch("85098NED", "v4", server.v4_url)
        assert cbs.fetch("85098NED", "v4", server.v4_url) == first
    served = [(row["RegioS"], row["Value"]) for row in V4_TABLE["rows"]]  # type: ignore[index]
    assert [(r["region_code"], r["value"]) for r in _rows(first)] == served, "the same bytes are the table"


def test_server_errors_are_retried_with_backoff(tmp_path: Path) -> None:
    write_table(tmp_path, "85098NED", V4_TABLE)
    with CbsServer(tmp_path, fail_first=2) as flaky:
        content = cbs.fetch("85098NED", "v4", flaky.v4_url, backoff_s=0.01)
    assert len(_rows(content)) == 5 and len(flaky.requests) == 4


def test_a_server_that_keeps_failing_or_is_too_slow_gives_a_named_error(tmp_path: Path) -> None:
    write_table(tmp_path, "85098NED", V4_TABLE)
    with (
        CbsServer(tmp_path, fail_first=100) as down,
        pytest.raises(cbs.CbsError, match=r"after 2 retries \(HTTP 503"),
    ):
        cbs.fetch("85098NED", "v4", down.v4_url, retries=2, backoff_s=0.01)
    with CbsServer(tmp_path, delay_s=1.0) as slow, pytest.raises(cbs.CbsError, match="ReadTimeout"):
        cbs.fetch("85098NED", "v4", slow.v4_url, timeout_s=0.2, retries=1, backoff_s=0.01)


def test_an_unknown_table_is_an_http_error_not_a_retry(server: CbsServer) -> None:
    with server, pytest.raises(cbs.CbsError, match="404"):
        cbs.fetch("99999NED", "v4", server.v4_url)
