"""Alerts: every kind opens once, stays open across checks, and resolves once its condition clears.

Quality alerts come from real deliveries through the processor; the warehouse-based kinds read a
restricted warehouse file whose three operations tables are written by hand here, so each condition can
be switched on and off. The notifiers are real: a webhook on loopback and the session's Kafka broker.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import duckdb
import pytest

from connectors import tmsd
from monitorlink.core.config import Settings, load_settings
from monitorlink.core.lake import Lake
from monitorlink.ingest.deliveries import DeliveryProcessor
from monitorlink.ops import alert_store, alerts
from tests.conftest import topic_messages
from tests.factories import tmsd_file, tmsd_row

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.fixture
def quiet(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings that notify only the log (no broker needed) and use the development pseudonym key."""
    monkeypatch.setenv("MONITORLINK_ALERT_NOTIFIERS", "log")
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    return load_settings()


def _warehouse(
    settings: Settings,
    wait_weeks: float,
    tmsd_landed: datetime,
    provider_behind: int,
    tmsd_period: str | None = "2026Q2",
) -> None:
    """An analysts' warehouse with just the tables the checks read.

    TMSD's newest quarter is 2026Q2 unless told: it ended 30 June, 123.5 days before NOW, within its
    92 + 45 + 31 days; CBS's newest year, 2025, ended 304.5 days before NOW, within 183 + 365 + 60.
    """
    path = settings.analysts_warehouse_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as db:
        db.execute("create schema published; use published")
        db.execute(
            "create table fct_offer_wait_norm as select 'p/offer/enschede/jeugd' as offer_key,"
            " 'Provider' as provider_name, 'Offer' as offer_name, $w::double as wait_weeks,"
            " 17.38::decimal(6,3) as norm_weeks, $w > 17.38 as herstelplan_required",
            {"w": wait_weeks},
        )
        db.execute(
            "create table fct_source_freshness as select * from (values"
            " ('tmsd', $landed::timestamp, $period::varchar, 92, 31, 45),"
            " ('cbs', $landed::timestamp, '2025JJ00', 183, 60, 365))"
            " as t(source, last_landed_at, newest_period, expected_every_days, grace_days, lag_days)",
            {"landed": tmsd_landed.replace(tzinfo=None), "period": tmsd_period},
        )
        db.execute(
            "create table fct_availability_provider_freshness as select 'Provider' as provider_name,"
            " timestamp '2026-10-01' as last_measured_at, $d as days_behind_feed, $d > 7 as is_stale",
            {"d": provider_behind},
        )


def _kinds(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((e["event_type"], e["kind"], e["subject"]) for e in events)


def test_norm_and_late_source_alerts_open_once_stay_open_and_resolve(quiet: Settings) -> None:
    _warehouse(quiet, wait_weeks=26.0, tmsd_landed=NOW - timedelta(days=130), provider_behind=9)
    subjects = [
        ("norm_breach", "p/offer/enschede/jeugd"),
        ("source_late", "availability/Provider"),
        ("source_late", "tmsd"),
    ]
    opened = alerts.check(quiet, now=NOW)
    assert _kinds(opened) == [("alert_opened", kind, subject) for kind, subject in subjects], (
        "tmsd is 130 days old against 92 + 31; cbs (183 + 60) is not late"
    )
    assert alerts.check(quiet, now=NOW + timedelta(hours=1)) == [], "an open alert is not raised again"
    assert len(alert_store.AlertStore(quiet).open_alerts()) == 3

    _warehouse(quiet, wait_weeks=12.0, tmsd_landed=NOW - timedelta(days=2), provider_behind=1)
    resolved = alerts.check(quiet, now=NOW)
    assert _kinds(resolved) == [("alert_resolved", kind, subject) for kind, subject in subjects]
    assert alerts.check(quiet, now=NOW) == [] and alert_store.AlertStore(quiet).open_alerts() == {}
    history = alert_store.AlertStore(quiet).history()
    assert [e["event_type"] for e in history] == ["alert_opened"] * 3 + ["alert_resolved"] * 3
    assert all(e["schema"] == "monitorlink.alert.v1" for e in history)


def test_a_source_that_stopped_landing_says_so_in_its_summary(quiet: Settings) -> None:
    _warehouse(quiet, wait_weeks=12.0, tmsd_landed=NOW - timedelta(days=130), provider_behind=0)
    (opened,) = alerts.check(quiet, now=NOW)
    assert opened["summary"] == "tmsd is late: no delivery for 130 days (policy: every 92 + grace 31)"
    assert opened["details"] == {
        "last_landed_at": (NOW - timedelta(days=130)).isoformat(),
        "newest_period": "2026Q2",
        "data_until": "2026-06-30",
        "expected_every_days": 92,
        "lag_days": 45,
        "grace_days": 31,
        "reason": "no delivery for 130 days (policy: every 92 + grace 31)",
    }


def test_a_source_relanded_with_old_data_is_late_by_its_newest_period(quiet: Settings) -> None:
    """Landed two days ago, but its newest quarter (2025Q4) ended on 31 Dec 2025: 304.5 days before NOW
    (1 Jan 00:00 to 1 Nov 12:00), past 92 + 45 + 31 = 168. A newer quarter resolves it."""
    _warehouse(quiet, 12.0, NOW - timedelta(days=2), provider_behind=0, tmsd_period="2025Q4")
    (opened,) = alerts.check(quiet, now=NOW)
    assert (opened["event_type"], opened["kind"], opened["subject"]) == (
        "alert_opened",
        "source_late",
        "tmsd",
    )
    assert opened["summary"] == (
        "tmsd is late: newest data ends 2025-12-31, 304.5 days ago (policy: every 92 + lag 45 + grace 31)"
    )
    assert (opened["details"]["newest_period"], opened["details"]["data_until"]) == ("2025Q4", "2025-12-31")
    _warehouse(quiet, 12.0, NOW - timedelta(days=2), provider_behind=0, tmsd_period="2026Q3")
    (resolved,) = alerts.check(quiet, now=NOW)
    assert (resolved["event_type"], resolved["subject"]) == ("alert_resolved", "tmsd")


@pytest.mark.parametrize("period", [None, "v4", "sometime"])
def test_an_unknown_newest_period_leaves_the_verdict_to_the_landing_clock(
    quiet: Settings, period: str | None
) -> None:
    _warehouse(quiet, 12.0, NOW - timedelta(days=2), provider_behind=0, tmsd_period=period)
    assert alerts.check(quiet, now=NOW) == []
    _warehouse(quiet, 12.0, NOW - timedelta(days=124), provider_behind=0, tmsd_period=period)
    (opened,) = alerts.check(quiet, now=NOW)
    assert opened["summary"] == "tmsd is late: no delivery for 124 days (policy: every 92 + grace 31)"
    assert opened["details"]["data_until"] is None


def test_a_quarantined_delivery_alerts_until_a_good_version_of_the_same_period_lands(quiet: Settings) -> None:
    processor = DeliveryProcessor(Lake(quiet.lake_root), tmsd)
    processor.process([("tmsd_jeugd_GM0141_2023Q1_v1.csv", tmsd_file(tmsd_row(geslacht="Q")), "test")])
    (opened,) = alerts.check(quiet)
    assert (opened["event_type"], opened["kind"], opened["subject"]) == (
        "alert_opened",
        "quality_gate",
        "tmsd/GM0141/2023Q1",
    )
    assert "tmsd_jeugd_GM0141_2023Q1_v1.csv was quarantined" in opened["summary"]
    assert alerts.check(quiet) == []

    processor.process([("tmsd_jeugd_GM0141_2023Q1_v2.csv", tmsd_file(tmsd_row()), "test")])
    (resolved,) = alerts.check(quiet)
    assert (resolved["event_type"], resolved["subject"]) == ("alert_resolved", "tmsd/GM0141/2023Q1")


def test_a_pipeline_failure_opens_once_and_its_next_success_resolves_it(quiet: Settings) -> None:
    first = alerts.pipeline_failed(quiet, "tmsd", "land_deliveries", "CbsError: boom")
    assert _kinds(first) == [("alert_opened", "pipeline_failure", "tmsd")]
    assert alerts.pipeline_failed(quiet, "tmsd", "land_deliveries", "again") == []
    assert alerts.pipeline_succeeded(quiet, "chain") == [], "another pipeline's success resolves nothing"
    assert alerts.check(quiet) == [], "the data checks leave pipeline alerts alone"
    assert _kinds(alerts.pipeline_succeeded(quiet, "tmsd")) == [
        ("alert_resolved", "pipeline_failure", "tmsd")
    ]
    assert alerts.pipeline_succeeded(quiet, "tmsd") == []


def test_an_alert_resolved_by_hand_stays_quiet_while_its_condition_lasts(quiet: Settings) -> None:
    _warehouse(quiet, wait_weeks=26.0, tmsd_landed=NOW, provider_behind=0)
    alerts.check(quiet, now=NOW)
    store = alert_store.AlertStore(quiet)
    assert store.acknowledge("norm_breach:p/offer/enschede/jeugd")
    assert store.open_alerts() == {}
    assert alerts.check(quiet, now=NOW) == [], "acknowledged: no reopening while the offer is over the norm"
    _warehouse(quiet, wait_weeks=12.0, tmsd_landed=NOW, provider_behind=0)
    assert alerts.check(quiet, now=NOW) == [] and store.acknowledged() == set()
    _warehouse(quiet, wait_weeks=30.0, tmsd_landed=NOW, provider_behind=0)
    assert _kinds(alerts.check(quiet, now=NOW)) == [("alert_opened", "norm_breach", "p/offer/enschede/jeugd")]


def test_an_unknown_notifier_is_a_configuration_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITORLINK_ALERT_NOTIFIERS", "log,pager")
    with pytest.raises(ValueError, match="unknown notifier 'pager'"):
        alert_store.notifiers(load_settings())


class _Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    _Webhook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts"
    server.shutdown()


def test_transitions_reach_the_webhook_and_the_kafka_alert_topic(
    kafka_settings: Settings, webhook: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITORLINK_ALERT_WEBHOOK_URL", webhook)
    monkeypatch.setenv("MONITORLINK_ALERT_TOPIC", f"{kafka_settings.availability_topic}.alerts")
    settings = load_settings()
    alerts.pipeline_failed(settings, "cbs", "land_deliveries", "no route to host")
    alerts.pipeline_succeeded(settings, "cbs")

    posted = [event for body in _Webhook.received for event in body["alerts"]]
    assert [(e["event_type"], e["alert_id"]) for e in posted] == [
        ("alert_opened", "pipeline_failure:cbs"),
        ("alert_resolved", "pipeline_failure:cbs"),
    ]
    on_kafka = topic_messages(settings, settings.alert_topic)
    assert [(e["event_type"], e["alert_id"]) for e in on_kafka] == [
        ("alert_opened", "pipeline_failure:cbs"),
        ("alert_resolved", "pipeline_failure:cbs"),
    ]


def test_a_notifier_that_is_down_loses_no_alert_state(
    quiet: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITORLINK_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/unreachable")
    settings = load_settings()
    assert len(alerts.pipeline_failed(settings, "tmsd", "land_deliveries", "boom")) == 1
    assert list(alert_store.AlertStore(settings).open_alerts()) == ["pipeline_failure:tmsd"]
