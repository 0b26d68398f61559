"""Availability as full state, replayed day by day on a real broker from the two real snapshots and edits.

Lists: the real 6 Aug and 14 Aug snapshots, and two edits of 14 Aug — 15 Aug drops five youth rows,
renames one offer and changes three figures; 16 Aug brings two of the dropped rows back. They are pulled
out of order (6, 15, 14, 16), one twice, one again with --force. Every expected number is computed here
from the JSON documents themselves (offers as provider + offer name — for an unnamed row the first clause
of its note, as docs/availability.md defines — + location + target group, lower-cased),
never through the platform's connector.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitorlink.core.config import Settings
from monitorlink.ingest import availability
from monitorlink.ops import alerts
from monitorlink.warehouse.build import build, connect_readonly
from tests.conftest import SNAPSHOT_AUG_06, SNAPSHOT_AUG_14

pytestmark = pytest.mark.integration

Document = dict[str, Any]
Key = tuple[str, str, str, str]
GROUPS = {"jeugd": "jeugd", "volwassenen": "volwassenen", "wmo": "volwassenen"}


def _keys(document: Document, group: str | None = None) -> set[Key]:
    """Every offer a list has, as the JSON says it: one per row and target group."""
    keys = set()
    for row in document["rows"]:
        targets = row["d"] if isinstance(row["d"], list) else [row["d"]]
        for target in {GROUPS[str(t).strip().lower()] for t in targets}:
            if group is None or target == group:
                name = (row.get("w") or _first_clause(row.get("s") or "")).strip().lower()
                keys.add((row["p"].strip().lower(), name, (row.get("l") or "").strip().lower(), target))
    return keys


def _first_clause(note: str) -> str:
    """An unnamed row is known by the first clause of its note (docs/availability.md)."""
    return re.split(r"[.;:]\s", note + " ", maxsplit=1)[0]


def _youth_rows_with_names(document: Document) -> list[int]:
    return [
        i for i, row in enumerate(document["rows"]) if row["d"] == "Jeugd" and (row.get("w") or "").strip()
    ]


def _lists() -> tuple[dict[str, Document], dict[str, Any]]:
    aug_06 = json.loads(SNAPSHOT_AUG_06.read_text(encoding="utf-8"))
    aug_14 = json.loads(SNAPSHOT_AUG_14.read_text(encoding="utf-8"))
    youth = _youth_rows_with_names(aug_14)
    dropped, renamed, changed = youth[:5], youth[5], youth[6:9]
    aug_15 = copy.deepcopy(aug_14)
    aug_15["generatedAt"] = "2026-08-15T06:00:00.000Z"
    aug_15["rows"][renamed]["w"] = "Hernoemd aanbod"
    for index in changed:
        aug_15["rows"][index].update({"i": 52.0, "iText": None, "date": "2026-08-15"})
    aug_15["rows"] = [row for i, row in enumerate(aug_15["rows"]) if i not in dropped]
    aug_16 = copy.deepcopy(aug_15)
    aug_16["generatedAt"] = "2026-08-16T06:00:00.000Z"
    back = [copy.deepcopy(aug_14["rows"][i]) for i in dropped[:2]]
    aug_16["rows"] += back
    facts = {
        "dropped_for_good": [aug_14["rows"][i] for i in dropped[2:]],
        "back": back,
        "old_name": aug_14["rows"][renamed],
    }
    return {"06": aug_06, "14": aug_14, "15": aug_15, "16": aug_16}, facts


def _pull(settings: Settings, path: Path, force: bool = False) -> tuple[bool, int, int]:
    pulled = availability.pull(settings, (str(path),))
    published = availability.publish(settings, pulled, force=force)
    stats = availability.land(settings, [ref for item in published for ref in item.messages], 120)
    return pulled[0].is_new, stats.validated, stats.quarantined


def _provider_offer(db: Any, table: str, row: dict[str, Any]) -> int:
    found = db.sql(
        f"select count(*) from {table} where lower(provider_name) = $p and lower(offer_name) = $w"
        " and lower(location_text) = $l",
        params={"p": row["p"].strip().lower(), "w": row["w"].strip().lower(), "l": row["l"].strip().lower()},
    ).fetchone()
    return int(found[0]) if found else 0


def test_any_order_of_pulls_leaves_exactly_the_newest_list(kafka_settings: Settings, tmp_path: Path) -> None:
    documents, facts = _lists()
    paths = {}
    for day, document in documents.items():
        paths[day] = tmp_path / f"wachttijden_2026-08-{day}.json"
        paths[day].write_text(json.dumps(document), encoding="utf-8")

    for day in ("06", "15", "14", "16"):  # 14 Aug arrives after 15 Aug
        is_new, _, quarantined = _pull(kafka_settings, paths[day])
        assert is_new and quarantined == 0
    assert _pull(kafka_settings, paths["14"]) == (False, 0, 0), "the same bytes again publish nothing"
    forced = _pull(kafka_settings, paths["15"], force=True)
    assert forced == (False, 0, 0), "a forced re-pull lands nothing twice: the same bytes are re-deliveries"
    build(kafka_settings)

    newest, youth = documents["16"], _keys(documents["16"], "jeugd")
    with connect_readonly(kafka_settings) as db:
        assert db.sql("select count(*) from fct_availability_current").fetchone() == (len(_keys(newest)),)
        assert db.sql("select count(*) from fct_offer_wait_norm").fetchone() == (len(youth),)
        assert db.sql("select count(distinct list_published_at) from fct_offer_wait_norm").fetchone() == (1,)
        # the lists: offers, youth offers and what each lacks of the one before it, in generatedAt order
        lists = db.sql(
            "select offers_listed, youth_offers_listed, offers_withdrawn, is_newest"
            " from fct_availability_lists order by published_at"
        ).fetchall()
        order = ["06", "14", "15", "16"]
        expected = [
            (
                len(_keys(documents[day])),
                len(_keys(documents[day], "jeugd")),
                len(_keys(documents[order[i - 1]]) - _keys(documents[day])) if i else 0,
                day == "16",
            )
            for i, day in enumerate(order)
        ]
        assert lists == expected
        # dropped for good and the old name are gone; what came back and the new name are current
        for row in facts["dropped_for_good"]:
            assert _provider_offer(db, "fct_availability_current", row) == 0
        assert _provider_offer(db, "fct_availability_current", facts["old_name"]) == 0
        renamed = {**facts["old_name"], "w": "Hernoemd aanbod"}
        assert _provider_offer(db, "fct_availability_current", renamed) == 1
        for row in facts["back"]:
            assert _provider_offer(db, "fct_availability_current", row) == 1
        # the history keeps the withdrawal of the old name, dated 15 Aug
        withdrawn = db.sql(
            "select strftime(published_at, '%Y-%m-%d') from fct_availability_history"
            " where event_type = 'withdrawal' and lower(offer_name) = $w and lower(provider_name) = $p",
            params={"w": facts["old_name"]["w"].strip().lower(), "p": facts["old_name"]["p"].strip().lower()},
        ).fetchall()
        assert withdrawn == [("2026-08-15",)]


def test_the_day_by_day_mart_and_provider_freshness_follow_the_lists(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    documents, facts = _lists()
    for day in ("06", "14", "15", "16"):
        path = tmp_path / f"wachttijden_2026-08-{day}.json"
        path.write_text(json.dumps(documents[day]), encoding="utf-8")
        _pull(kafka_settings, path)
    build(kafka_settings)
    with connect_readonly(kafka_settings) as db:
        per_day = dict(
            db.sql("select strftime(day, '%d'), count(*) from fct_offer_wait_daily group by 1").fetchall()
        )
        # 6–13 Aug the 6 Aug list holds, then one list a day
        expected = {f"{d:02d}": len(_keys(documents["06"], "jeugd")) for d in range(6, 14)}
        expected |= {day: len(_keys(documents[day], "jeugd")) for day in ("14", "15", "16")}
        assert per_day == expected
        back = facts["back"][0]
        days_back = db.sql(
            "select strftime(day, '%d') from fct_offer_wait_daily where lower(provider_name) = $p"
            " and lower(offer_name) = $w and lower(location_text) = $l and day >= date '2026-08-14'"
            " order by day",
            params={
                "p": back["p"].strip().lower(),
                "w": back["w"].strip().lower(),
                "l": back["l"].strip().lower(),
            },
        ).fetchall()
        assert days_back == [("14",), ("16",)], "no row on the day the offer was withdrawn"
        providers = {
            p for (p,) in db.sql("select provider_name from fct_availability_provider_freshness").fetchall()
        }
    listed = {row["p"].strip() for row in documents["16"]["rows"]}
    assert providers == listed, "only providers of the newest list"
    only_before = {row["p"].strip() for row in documents["06"]["rows"]} - listed
    assert only_before, "the real lists do lose providers"
    with connect_readonly(kafka_settings, "analysts") as db:
        late = alerts.late_sources(db, datetime(2026, 8, 16, 12, tzinfo=UTC))
    stale = {c.subject.removeprefix("availability/") for c in late if c.subject.startswith("availability/")}
    assert stale and stale <= listed and not stale & only_before, "freshness alerts only for listed offers"
