"""The analysts' live view: an event the ingester landed is queryable at once, without a rebuild.

After one build, `live.live_availability_current` in the analysts' file answers exactly what the built
mart `fct_availability_current` answers; then a provider's direct events land (no build) and the view
shows them while the mart, built before them, does not. The published file holds no view and no lake path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.availability import fetch_snapshot, snapshot_events
from monitorlink.core.config import Settings
from monitorlink.ingest import availability
from monitorlink.ingest.kafka_clients import publish_events
from monitorlink.warehouse.build import build, connect_readonly
from tests.conftest import SNAPSHOT_AUG_14

pytestmark = pytest.mark.integration

CURRENT = "select offer_key, event_id from {} order by offer_key"


def _direct(template: dict[str, Any], event_id: str, offer_key: str, weeks: float) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        **template,
        "event_id": event_id,
        "offer_key": offer_key,
        "full_state_feed": None,
        "wait_weeks_intake": weeks,
        "measured_at": now,
        "measured_at_precision": "day",
        "published_at": now,
    }


def test_a_landed_event_is_in_the_live_view_without_a_rebuild(kafka_settings: Settings) -> None:
    pulled = availability.pull(kafka_settings, (str(SNAPSHOT_AUG_14),))
    for published in availability.publish(kafka_settings, pulled):
        availability.land(kafka_settings, published.messages)
    build(kafka_settings)

    with connect_readonly(kafka_settings, "analysts") as analysts:
        built = analysts.sql(CURRENT.format("published.fct_availability_current")).fetchall()
        live = analysts.sql(CURRENT.format("live.live_availability_current")).fetchall()
    assert len(built) > 100 and live == built, "the view answers what the built mart answers"
    _one_view_in_the_analysts_file_none_in_the_published(kafka_settings)

    template = next(
        e for e in snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14))) if e["event_type"] == "figure"
    )
    known = built[0][0]
    updated = _direct(template, "00000000-0000-4000-8000-000000000001", known, 3.0)
    new = _direct(template, "00000000-0000-4000-8000-000000000002", "live-test/new-offer", 5.0)
    report = publish_events(kafka_settings, kafka_settings.availability_topic, [updated, new], "offer_key")
    availability.land(kafka_settings, report.messages)

    with connect_readonly(kafka_settings, "analysts") as analysts:
        live_now = dict(analysts.sql(CURRENT.format("live.live_availability_current")).fetchall())
        built_now = dict(analysts.sql(CURRENT.format("published.fct_availability_current")).fetchall())
        (weeks,) = analysts.sql(
            "select wait_weeks from live.live_availability_current where offer_key = $k", params={"k": known}
        ).fetchone() or (None,)
    assert live_now[known] == updated["event_id"] and weeks == 3.0
    assert live_now["live-test/new-offer"] == new["event_id"]
    assert len(live_now) == len(built) + 1
    assert built_now == dict(built), "the mart waits for the next build"


def _one_view_in_the_analysts_file_none_in_the_published(settings: Settings) -> None:
    with connect_readonly(settings) as published_file:
        views = published_file.sql("select count(*) from duckdb_views() where not internal").fetchone()
        schemas = published_file.sql("select distinct schema_name from duckdb_tables()").fetchall()
    assert views == (0,) and schemas == [("published",)]
    with connect_readonly(settings, "analysts") as analysts:
        live_views = analysts.sql(
            "select schema_name, view_name from duckdb_views() where not internal order by all"
        ).fetchall()
    assert live_views == [("live", "live_availability_current")], "the one view an analyst's file holds"
