"""Every poison input issue 14 names, through the real landing path: each is quarantined under a rule that
says why, and the good delivery after it lands (a bad file never holds up another one)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import date
from types import ModuleType

import pytest

from connectors import cbs, chain, education
from connectors.availability import parse_snapshot, row_events
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest.availability import feed
from monitorlink.ingest.deliveries import DeliveryProcessor
from monitorlink.ingest.stream import Ingester, Message
from monitorlink.simulator.education import workbook_bytes
from tests.conftest import SNAPSHOT_AUG_14

CHAIN_RECORD = {
    "case_pseudo_id": "c" * 64,
    "client_pseudo_id": "a" * 64,
    "gemeente_code": "GM0141",
    "partner": "GI",
    "partner_naam": "William Schrikker Stichting",
    "milestone": "einde_maatregel",
    "maatregel": "JR",
    "occurred_at": "2024-01-22T10:05:00+00:00",
    "recorded_at": "2024-01-23T11:02:42+00:00",
}


def _chain(*records: object, **envelope: object) -> bytes:
    document = {"schema_version": 1, "partner": "GI", "period": "2024-01", "records": list(records)}
    return json.dumps(document | envelope).encode()


def _workbook() -> bytes:
    pupil = ["PO2301", date(2023, 10, 1), "12AB", "GM0141", "PO", 210, 0]
    absent = ["PO2301", "2023-2024", "GM0141", "absoluut verzuim", 4, 2]
    sheets = {"leerlingen": [pupil], "verzuim": [absent], "arrangementen": []}
    return workbook_bytes("PO2301", 2023, 4, sheets, None, 0)


def _damaged_member(content: bytes) -> bytes:
    """The workbook with one byte of a compressed sheet flipped: a CRC error inside the zip."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
    return content[:start] + bytes([content[start] ^ 0xFF]) + content[start + 1 :]


def _without_member(content: bytes, member: str) -> bytes:
    source, sink = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(sink, "w") as target:
        for item in source.infolist():
            if item.filename != member:
                target.writestr(item, source.read(item))
    return sink.getvalue()


POISON: dict[str, tuple[ModuleType, str, Callable[[], bytes], str]] = {
    "chain JSON nested 100,000 deep": (
        chain,
        "keten_GI_2024-01_v1.json",
        lambda: b"[" * 100_000 + b"]" * 100_000,
        "file_readable",
    ),
    "chain lone surrogate in a text": (
        chain,
        "keten_GI_2024-01_v1.json",
        lambda: _chain(CHAIN_RECORD | {"partner_naam": "x\ud800"}),
        "type_partner_naam",
    ),
    "chain number where the records list belongs": (
        chain,
        "keten_GI_2024-01_v1.json",
        lambda: _chain(records=7),
        "file_readable",
    ),
    "education CRC error in a sheet": (
        education,
        "onderwijs_jeugd_PO2301_2023Q4_v1.xlsx",
        lambda: _damaged_member(_workbook()),
        "file_readable",
    ),
    "education workbook without its styles": (
        education,
        "onderwijs_jeugd_PO2301_2023Q4_v1.xlsx",
        lambda: _without_member(_workbook(), "xl/styles.xml"),
        "type_peildatum",  # without its number formats a date cell is a bare number
    ),
    "cbs bundle missing its keys": (
        cbs,
        "cbs_85098NED_v4_v1.json",
        lambda: b'{"api": "v4"}',
        "file_readable",
    ),
    "cbs bundle with wrong JSON types": (
        cbs,
        "cbs_85098NED_v4_v1.json",
        lambda: json.dumps({"table": "85098NED", "api": "v4", "properties": 7, "observations": "x"}).encode(),
        "file_readable",
    ),
}


@pytest.mark.parametrize("example", sorted(POISON))
def test_a_poison_file_is_quarantined_with_its_rule_and_the_next_file_lands(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, example: str
) -> None:
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    connector, name, content, rule = POISON[example]
    good_name, good = {
        chain: ("keten_GI_2024-02_v1.json", _chain(CHAIN_RECORD)),
        education: ("onderwijs_jeugd_PO2301_2024Q1_v1.xlsx", _workbook()),
        cbs: ("cbs_85098NED_v4_v2.json", b""),
    }[connector]
    deliveries = [(name, content(), "test")] + ([(good_name, good, "test")] if good else [])

    outcomes = DeliveryProcessor(Lake(settings.lake_root), connector).process(deliveries)

    assert outcomes[0].outcome == "quarantined" and rule in outcomes[0].critical, outcomes[0].samples
    assert all(name in sample for samples in outcomes[0].samples.values() for sample in samples)
    assert [o.outcome for o in outcomes[1:]] == (["validated"] if good else [])


def test_a_number_where_availability_expects_a_list_fails_its_type_rule(settings: Settings) -> None:
    snapshot = parse_snapshot("s.json", SNAPSHOT_AUG_14.read_bytes())
    row = dict(snapshot.rows[0]) | {"a": 7}
    events = [event | {"schema_version": 2} for event in row_events(row, snapshot, 0)]
    huge_integer = b'{"free_places": ' + b"9" * 5000 + b"}"
    messages = [Message("t", 0, i, None, json.dumps(e).encode()) for i, e in enumerate(events)]
    ingester = Ingester(Lake(settings.lake_root), feed(settings))

    assert ingester.process([*messages, Message("t", 0, len(messages), None, huge_integer)]) == (
        0,
        len(events) + 1,
    )
    assert ingester.stats.rules["type_care_types"] == len(events)
    assert ingester.stats.rules["message_is_json"] == 1
