"""The snapshot connector on the two real snapshots and on edge cases of the format."""

from __future__ import annotations

import http.server
import json
import threading
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from connectors.availability import (
    EVENT_SCHEMA,
    Snapshot,
    SnapshotFormatError,
    SnapshotUnreachable,
    fetch_snapshot,
    full_state_events,
    map_location,
    parse_snapshot,
    snapshot_events,
    upgrade_v1,
)
from tests.conftest import SNAPSHOT_AUG_06, SNAPSHOT_AUG_14, SNAPSHOTS


def test_real_snapshots_become_one_event_per_row_and_target_group() -> None:
    for path, rows, events, youth in ((SNAPSHOT_AUG_06, 91, 108, 69), (SNAPSHOT_AUG_14, 151, 152, 130)):
        snapshot = fetch_snapshot(str(path))
        produced = list(snapshot_events(snapshot))
        assert len(snapshot.rows) == rows
        assert len(produced) == events
        assert Counter(e["target_group"] for e in produced)["jeugd"] == youth
        assert len({e["event_id"] for e in produced}) == events, "event ids must be unique within a snapshot"


def test_event_ids_are_deterministic_so_a_second_pull_is_recognised() -> None:
    first = [e["event_id"] for e in snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14)))]
    second = [e["event_id"] for e in snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14)))]
    other_day = {e["event_id"] for e in snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_06)))}
    assert first == second
    assert not other_day & set(first), "a new publication of the same offer is a new event"


def test_a_row_is_read_into_the_contract_fields() -> None:
    events = list(snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14))))
    doppa = next(e for e in events if e["offer_key"].startswith("doppa-zorg/individuele-behandeling"))
    assert doppa["provider_name"] == "DOPPA zorg"
    assert doppa["target_group"] == "jeugd"
    assert doppa["wait_text_intake"] == "9 mnd"
    assert doppa["wait_weeks_intake"] == pytest.approx(39.105)
    assert doppa["wait_kind_intake"] == "exact"
    assert doppa["gemeente_code"] == "GM0153"
    assert doppa["measured_at"] == "2026-08-14T00:00:00+00:00"
    assert doppa["published_at"].startswith("2026-08-14T05:45:56")
    assert doppa["source_name"] == "snapshot_2026-08-14.json" and doppa["source_row"] == 0


def test_youth_and_adult_offers_are_separated() -> None:
    events = list(snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14))))
    mediant_crisis = [
        e for e in events if e["offer"] == "Crisis / spoedaanmelding" and e["provider_name"] == "Mediant"
    ]
    assert sorted(e["target_group"] for e in mediant_crisis) == ["jeugd", "volwassenen"]
    assert len({e["offer_key"] for e in mediant_crisis}) == 2


def test_registration_stop_has_no_figure_but_keeps_its_wording() -> None:
    events = list(snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14))))
    stop = next(e for e in events if e["provider_name"] == "Pienter&Co")
    assert stop["wait_text_intake"] == "Aanmeldstop"
    assert stop["wait_kind_intake"] == "registration_stop"
    assert stop["wait_weeks_intake"] is None


@pytest.mark.parametrize(
    ("location", "codes", "regional"),
    [
        ("Enschede", ["GM0153"], False),
        ("Enschede / Twente", ["GM0153"], True),
        ("Hengelo / Hof van Twente", ["GM0164", "GM1735"], False),
        ("Vriezenveen", ["GM1700"], False),
        ("Denekamp", ["GM1774"], False),
        ("Losser / Overdinkel", ["GM0168"], False),
        ("Alle 14 Twentse gemeenten", [], True),
        ("Twente / ambulant thuis", [], True),
        ("Wierden / regio Twente", ["GM0189"], True),
        (None, [], False),
    ],
)
def test_location_maps_to_municipality_codes(location: str | None, codes: list[str], regional: bool) -> None:
    assert map_location(location) == (codes, regional)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "not a JSON document"),
        (b"[]", "expected a JSON object"),
        (b'{"schemaVersion": 2, "rows": []}', "unsupported schemaVersion 2"),
        (b'{"schemaVersion": 1, "generatedAt": "2026-08-14T05:45:56Z"}', "'rows' is missing"),
        (b'{"schemaVersion": 1, "rows": []}', "'generatedAt' is missing"),
    ],
)
def test_envelope_errors_name_the_source(content: bytes, message: str) -> None:
    with pytest.raises(SnapshotFormatError, match=message) as raised:
        parse_snapshot("landing/wachttijden.json", content)
    assert str(raised.value).startswith("landing/wachttijden.json:")


def test_a_row_that_is_not_an_object_still_becomes_an_event_for_the_gate() -> None:
    snapshot = parse_snapshot(
        "x.json", b'{"schemaVersion": 1, "generatedAt": "2026-08-14T00:00:00Z", "rows": [42]}'
    )
    (event,) = snapshot_events(snapshot)
    assert event["provider_name"] is None and event["source_row"] == 0


@pytest.fixture
def snapshot_server() -> Iterator[str]:
    """The shipped snapshots served over HTTP on loopback, like the public overview serves its JSON."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(SNAPSHOTS))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_snapshot_from_url_equals_snapshot_from_file(snapshot_server: str) -> None:
    from_url = fetch_snapshot(f"{snapshot_server}/{SNAPSHOT_AUG_14.name}")
    from_file = fetch_snapshot(str(SNAPSHOT_AUG_14))
    assert from_url.content == from_file.content
    assert from_url.name == SNAPSHOT_AUG_14.name
    assert list(snapshot_events(from_url)) == list(snapshot_events(from_file))


def test_missing_url_fails_with_one_line_naming_it_and_the_status(snapshot_server: str) -> None:
    with pytest.raises(SnapshotUnreachable, match=r"missing\.json: could not be read .*404"):
        fetch_snapshot(f"{snapshot_server}/missing.json")


def test_injected_row_defects_pass_through_for_the_gate(tmp_path: Path) -> None:
    document = json.loads(SNAPSHOT_AUG_14.read_text(encoding="utf-8"))
    document["rows"][0]["i"] = -3
    document["rows"][0].pop("iText")
    document["rows"][1]["d"] = "Ouderen"
    events = list(snapshot_events(parse_snapshot("x.json", json.dumps(document).encode())))
    assert events[0]["wait_weeks_intake"] == -3.0
    assert events[1]["target_group"] == "ouderen"


def _edited(path: Path, generated_at: str, drop: int = 0) -> Snapshot:
    """A copy of a real snapshot published at another moment, without its first `drop` rows."""
    document = json.loads(path.read_text(encoding="utf-8"))
    document["generatedAt"] = generated_at
    document["rows"] = document["rows"][drop:]
    return parse_snapshot(f"edited-{generated_at}.json", json.dumps(document).encode())


def test_a_pulled_list_withdraws_the_offers_of_the_list_before_it_that_it_lacks() -> None:
    """The real Aug 6 list against the real Aug 14 one: every Aug 6 offer without an Aug 14 figure gets a
    withdrawal dated Aug 14 with the offer's identity and no figures."""
    aug_06, aug_14 = fetch_snapshot(str(SNAPSHOT_AUG_06)), fetch_snapshot(str(SNAPSHOT_AUG_14))
    events = full_state_events(aug_14, [aug_06, aug_14], "wachttijden-twente")
    figures = [e for e in events if e["event_type"] == "figure"]
    gone = [e for e in events if e["event_type"] == "withdrawal"]
    keys_06 = {e["offer_key"] for e in snapshot_events(aug_06)}
    assert len(figures) == 152 and all(e["full_state_feed"] == "wachttijden-twente" for e in events)
    assert {e["offer_key"] for e in gone} == keys_06 - {e["offer_key"] for e in figures}
    assert len(gone) == 33
    withdrawal = gone[0]
    assert withdrawal["published_at"] == withdrawal["measured_at"] == aug_14.generated_at.isoformat()
    assert withdrawal["provider_name"] and withdrawal["target_group"] in ("jeugd", "volwassenen")
    assert withdrawal["wait_weeks_intake"] is None and withdrawal["quality"] is None
    assert set(withdrawal) == set(EVENT_SCHEMA.names)


def test_a_list_pulled_out_of_order_also_withdraws_from_the_newer_list_that_came_first() -> None:
    """Aug 14 arrived first; pulling Aug 6 afterwards publishes the withdrawals dated Aug 14 (the offers
    of Aug 6 that Aug 14 lacks) — the same events, with the same ids, as pulling them in order."""
    aug_06, aug_14 = fetch_snapshot(str(SNAPSHOT_AUG_06)), fetch_snapshot(str(SNAPSHOT_AUG_14))
    in_order = full_state_events(aug_14, [aug_06, aug_14], "f")
    late = full_state_events(aug_06, [aug_14, aug_06], "f")
    withdrawn = {e["event_id"] for e in in_order if e["event_type"] == "withdrawal"}
    assert {e["event_id"] for e in late if e["event_type"] == "withdrawal"} == withdrawn
    assert len([e for e in late if e["event_type"] == "figure"]) == 108


def test_a_list_between_two_others_withdraws_on_both_sides() -> None:
    """Three lists: Aug 14 (all rows), then Aug 15 without its first 10 rows, then Aug 16 again with all
    of them. Aug 15 withdraws what it lacks from Aug 14; Aug 16, pulled before Aug 15, re-lists them."""
    full = fetch_snapshot(str(SNAPSHOT_AUG_14))
    fewer = _edited(SNAPSHOT_AUG_14, "2026-08-15T06:00:00Z", drop=10)
    again = _edited(SNAPSHOT_AUG_14, "2026-08-16T06:00:00Z")
    events = full_state_events(fewer, [full, again, fewer], "f")
    dropped = {e["offer_key"] for e in snapshot_events(full)} - {
        e["offer_key"] for e in snapshot_events(fewer)
    }
    withdrawn = [e for e in events if e["event_type"] == "withdrawal"]
    assert dropped and {e["offer_key"] for e in withdrawn} == dropped
    assert {e["published_at"] for e in withdrawn} == {"2026-08-15T06:00:00+00:00"}, (
        "Aug 16 lacks nothing of Aug 15"
    )


def test_direct_events_belong_to_no_list_and_v1_events_are_read_as_figures() -> None:
    event = next(snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14))))
    assert event["full_state_feed"] is None and event["event_type"] == "figure"
    v1 = {key: value for key, value in event.items() if key not in ("event_type", "full_state_feed")}
    assert upgrade_v1({**v1, "schema_version": 1}) == {**event, "schema_version": 1}
