"""The published wording of waiting times, read into weeks (month = 4.345 weeks, range = midpoint)."""

from __future__ import annotations

import json

import pytest

from connectors.wait_wording import WaitKind, read_wait_wording
from tests.conftest import SNAPSHOT_AUG_06, SNAPSHOT_AUG_14


@pytest.mark.parametrize(
    ("text", "weeks", "kind"),
    [
        ("9 mnd", 39.105, WaitKind.EXACT),
        ("4–6 wk", 5.0, WaitKind.RANGE),
        ("4-6 weken", 5.0, WaitKind.RANGE),
        ("4 - 6 wk.", 5.0, WaitKind.RANGE),
        ("2 tot 3 maanden", 10.863, WaitKind.RANGE),
        ("3 weken tot 2 maanden", 5.845, WaitKind.RANGE),
        ("3–6 mnd", 19.553, WaitKind.RANGE),
        ("16–26 wk", 21.0, WaitKind.RANGE),
        ("geen wachttijd", 0.0, WaitKind.NO_WAIT),
        ("Geen wachtlijst", 0.0, WaitKind.NO_WAIT),
        ("< 4 wk", 4.0, WaitKind.AT_MOST),
        ("Binnen 24 uur", 0.143, WaitKind.AT_MOST),
        ("maximaal 2 weken", 2.0, WaitKind.AT_MOST),
        ("≥ 20 wk", 20.0, WaitKind.AT_LEAST),
        ("> 6 mnd", 26.07, WaitKind.AT_LEAST),
        ("minimaal 20 weken", 20.0, WaitKind.AT_LEAST),
        ("± 3 mnd", 13.035, WaitKind.APPROXIMATE),
        ("circa 9 maanden tot intake", 39.105, WaitKind.APPROXIMATE),
        ("1,5 maand", 6.518, WaitKind.EXACT),
        ("tien weken", 10.0, WaitKind.EXACT),
        ("6 wk na diagnostiek", 6.0, WaitKind.EXACT),
        ("1 jaar", 52.14, WaitKind.EXACT),
        ("5 werkdagen", 0.714, WaitKind.EXACT),
        ("Aanmeldstop", None, WaitKind.REGISTRATION_STOP),
        ("Korte aanmeldstop", None, WaitKind.REGISTRATION_STOP),
        ("In overleg", None, WaitKind.BY_ARRANGEMENT),
        ("Beschikbaarheid maatwerk", None, WaitKind.BY_ARRANGEMENT),
        ("Langere wachttijd", None, WaitKind.QUALITATIVE),
        ("Meestal korte termijn", None, WaitKind.QUALITATIVE),
        ("zie website!!", None, WaitKind.UNPARSEABLE),
        ("12", None, WaitKind.UNPARSEABLE),
        ("weken", None, WaitKind.UNPARSEABLE),
    ],
)
def test_wording_is_read_into_weeks(text: str, weeks: float | None, kind: WaitKind) -> None:
    reading = read_wait_wording(text)
    assert reading is not None
    assert reading.kind is kind
    assert reading.weeks == (pytest.approx(weeks, abs=1e-3) if weeks is not None else None)


@pytest.mark.parametrize("text", [None, "", "   "])
def test_no_wording_is_not_an_unreadable_wording(text: str | None) -> None:
    assert read_wait_wording(text) is None


def test_every_wording_in_the_real_snapshots_is_readable() -> None:
    texts = {
        row[key]
        for path in (SNAPSHOT_AUG_06, SNAPSHOT_AUG_14)
        for row in json.loads(path.read_text(encoding="utf-8"))["rows"]
        for key in ("iText", "bText")
        if row.get(key)
    }
    assert len(texts) > 30
    unreadable = {text for text in texts if read_wait_wording(text).kind is WaitKind.UNPARSEABLE}  # type: ignore[union-attr]
    assert unreadable == set()


def test_readings_agree_with_the_snapshot_conversion_where_both_exist() -> None:
    """The snapshot publishes its own weeks next to the text; ours must match within rounding."""
    rows = json.loads(SNAPSHOT_AUG_14.read_text(encoding="utf-8"))["rows"]
    pairs = [
        (row["iText"], row["i"]) for row in rows if row.get("iText") and isinstance(row.get("i"), int | float)
    ]
    pairs += [
        (row["bText"], row["b"]) for row in rows if row.get("bText") and isinstance(row.get("b"), int | float)
    ]
    assert len(pairs) >= 25
    for text, published in pairs:
        reading = read_wait_wording(text)
        assert reading is not None and reading.weeks is not None, text
        if reading.kind in (WaitKind.EXACT, WaitKind.RANGE, WaitKind.APPROXIMATE):
            assert reading.weeks == pytest.approx(published, abs=1.0), text
