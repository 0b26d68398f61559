"""The availability feed end to end on a real broker: snapshots → Kafka → lake → dbt → published file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from connectors.availability import fetch_snapshot, snapshot_events
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest import availability
from monitorlink.ingest.stream import IngestStats
from monitorlink.warehouse.build import build, connect_readonly
from tests.availability_truth import youth_offers
from tests.conftest import SNAPSHOT_AUG_06, SNAPSHOT_AUG_14
from tests.waiting import ingest_until_caught_up

pytestmark = pytest.mark.integration

MARTS = ("fct_availability_history", "fct_availability_current", "fct_offer_wait_norm", "dim_gemeente")


def _ingest(settings: Settings, sources: tuple[str, ...], force: bool = False) -> IngestStats:
    pulled = availability.pull(settings, sources)
    published = availability.publish(settings, pulled, force=force)
    return availability.land(settings, [ref for item in published for ref in item.messages], 120)


def _marts(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    with connect_readonly(settings) as connection:
        return {mart: connection.sql(f"select * from {mart} order by all").fetchall() for mart in MARTS}


def test_shipped_snapshots_flow_through_kafka_into_the_published_warehouse(kafka_settings: Settings) -> None:
    stats = _ingest(kafka_settings, (str(SNAPSHOT_AUG_06), str(SNAPSHOT_AUG_14)))
    aug_06 = {e["offer_key"] for e in snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_06)))}
    aug_14 = {e["offer_key"] for e in snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14)))}
    withdrawn = aug_06 - aug_14
    # 108 + 152 figures, and a withdrawal for every Aug 6 offer the Aug 14 list no longer has
    assert (stats.validated, stats.quarantined) == (260 + len(withdrawn), 0)
    result = build(kafka_settings)
    assert result.published_path == kafka_settings.warehouse_path
    with connect_readonly(kafka_settings) as db:
        assert db.sql(
            "select event_type, count(*) from fct_availability_history group by 1 order by 1"
        ).fetchall() == [
            ("figure", 260),
            ("withdrawal", len(withdrawn)),
        ]
        current = {k for (k,) in db.sql("select offer_key from fct_availability_current").fetchall()}
        assert current == aug_14, "the current state is the newest list, exactly"
        # DOPPA's youth treatment went from 30.4 weeks (6 Aug) to "9 mnd" (14 Aug): the newer one is current.
        doppa = db.sql(
            "select wait_weeks, wait_text_intake, is_over_norm, herstelplan_required from fct_offer_wait_norm"
            " where offer_key = 'doppa-zorg/individuele-behandeling-o-a-emdr-schema/enschede/jeugd'"
        ).fetchall()
        assert doppa == [(pytest.approx(39.105), "9 mnd", True, True)]
        mart = db.sql(
            "select provider_name, offer_name, location_text, wait_weeks, is_over_norm, herstelplan_required"
            " from fct_offer_wait_norm"
        ).fetchall()
    # Expected from the snapshot JSON itself, read by the KPI's written definition (tests/availability_truth)
    truth = youth_offers(SNAPSHOT_AUG_06, SNAPSHOT_AUG_14)
    by_offer = {(provider, offer, location): rest for provider, offer, location, *rest in mart}
    assert len(by_offer) == len(mart) == len(truth) == 130, "one row per youth offer of the newest list"
    assert {key: weeks for key, (weeks, _, _) in by_offer.items()} == pytest.approx(
        {offer.identity: offer.wait_weeks for offer in truth}, abs=1e-3
    ), "weeks to the thousandth, as the platform keeps them"
    over = {key for key, (_, is_over, _) in by_offer.items() if is_over}
    assert over == {offer.identity for offer in truth if offer.over_norm}
    assert len(over) == 13, "the 14 Aug list: 13 youth offers over 4 × 4.345 weeks"
    owing = {key for key, (_, _, herstelplan) in by_offer.items() if herstelplan}
    assert owing == {offer.identity for offer in truth if offer.herstelplan}


def test_reingesting_the_same_snapshot_changes_no_mart(kafka_settings: Settings) -> None:
    _ingest(kafka_settings, (str(SNAPSHOT_AUG_14),))
    build(kafka_settings)
    before = _marts(kafka_settings)

    unchanged = availability.pull(kafka_settings, (str(SNAPSHOT_AUG_14),))
    assert [item.is_new for item in unchanged] == [False]
    assert availability.publish(kafka_settings, unchanged) == [], "same bytes are not published again"

    forced = _ingest(kafka_settings, (str(SNAPSHOT_AUG_14),), force=True)
    assert (forced.validated, forced.quarantined) == (0, 0), "known by their checksum: landed already"
    consumed = ingest_until_caught_up(kafka_settings)  # the service reading the topic, to its end
    assert (consumed.validated, consumed.quarantined, consumed.redelivered_skipped) == (0, 0, 152)
    build(kafka_settings)
    assert _marts(kafka_settings) == before


def _inject_defects(target: Path) -> dict[str, str]:
    """A copy of the 14 Aug snapshot with one row per defect kind; returns offer name → expected rule."""
    document = json.loads(SNAPSHOT_AUG_14.read_text(encoding="utf-8"))
    rows = document["rows"]
    youth = [i for i, row in enumerate(rows) if row.get("d") == "Jeugd" and row.get("w")]
    expected = {}
    duplicate, negative, unknown_group, unreadable, no_provider = youth[:5]
    rows.append(dict(rows[duplicate]))
    expected[rows[duplicate]["w"]] = "unique_event_id"
    rows[negative] |= {"i": -3, "iText": None}
    expected[rows[negative]["w"]] = "wait_intake_in_range"
    rows[unknown_group]["d"] = "Ouderen"
    expected[rows[unknown_group]["w"]] = "target_group_known"
    rows[unreadable]["bText"] = "zie website!!"
    expected[rows[unreadable]["w"]] = "wait_treatment_wording_readable"
    del rows[no_provider]["p"]
    expected[rows[no_provider]["w"]] = "provider_present"
    target.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return expected


def test_every_injected_defect_lands_in_quarantine_with_its_reason(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    defective = tmp_path / "snapshot_2026-08-14_defects.json"
    expected = _inject_defects(defective)
    stats = _ingest(kafka_settings, (str(defective),))
    assert stats.quarantined == len(expected) == 5
    assert stats.validated == 152 + 1 - 5  # one row duplicated, five rows quarantined

    lake = Lake(kafka_settings.lake_root)
    quarantined = [
        row
        for path in lake.parquet_files("quarantine", "availability")
        for row in pq.read_table(path).to_pylist()
    ]
    found = {}
    for row in quarantined:
        message = json.loads(row["record"])
        found[message["offer"]] = row["failed_rules"]
        assert message["source_name"] == defective.name, "the reason must name the file"
        assert isinstance(message["source_row"], int), "…and the row"
        assert any(reason.startswith(row["failed_rules"][0] + ":") for reason in row["reasons"])
    assert found == {offer: [rule] for offer, rule in expected.items()}

    reports = list(Path(str(lake.root), "quarantine", "availability").rglob("*.validation.json"))
    assert reports and all(json.loads(r.read_text())["suite"] == "availability.v2" for r in reports)
    validated = duckdb.sql(
        f"select count(*) from read_parquet('{lake.zone('validated', 'availability')}/**/*.parquet')"
    ).fetchone()
    assert validated == (148,)


def test_landing_works_outside_the_main_thread(kafka_settings: Settings) -> None:
    """Some executors run tasks in worker threads, where signal handlers cannot be installed."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        stats = pool.submit(_ingest, kafka_settings, (str(SNAPSHOT_AUG_06),)).result(timeout=180)
    assert (stats.validated, stats.quarantined) == (108, 0)
