"""Lateness on two clocks: when a source last landed, and how old the newest period in its data is.

A re-landing of old figures resets the landing clock but not the data's age, so a feed whose newest figure
is months old no longer reads fresh after one. Every threshold here is worked out by hand from the
contracts' `freshness` (rhythm + lag + grace, counted from the midnight after the newest period's last day).
Landing times are frozen where a test builds a lake, so the reasons can be compared word for word.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors import cbs, tmsd
from connectors.availability import fetch_snapshot, snapshot_events
from monitorlink.core.config import Settings, load_settings
from monitorlink.core.contracts import Freshness, data_age_days, period_end
from monitorlink.core.lake import Lake
from monitorlink.ingest import deliveries, stream
from monitorlink.ingest.availability import feed
from monitorlink.ingest.deliveries import DeliveryProcessor
from monitorlink.ingest.events import lake_batches
from monitorlink.ingest.sources import SOURCES, source
from monitorlink.ingest.stream import Ingester, Message
from monitorlink.ops import alerts
from monitorlink.ops.status import freshness, newest_data, status
from tests.conftest import SNAPSHOT_AUG_06, SNAPSHOT_AUG_14
from tests.factories import tmsd_file, tmsd_row

TMSD = Freshness(every_days=92, grace_days=31, lag_days=45)
CBS = Freshness(every_days=183, grace_days=60, lag_days=365)
AVAILABILITY = Freshness(every_days=1, grace_days=1, lag_days=0)


def at(text: str) -> datetime:
    """A UTC moment from `2025-03-18T12:00`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# period_end -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "end"),
    [
        ("2024Q1", date(2024, 3, 31)),
        ("2024Q2", date(2024, 6, 30)),
        ("2024Q3", date(2024, 9, 30)),
        ("2024Q4", date(2024, 12, 31)),
        ("2024-01", date(2024, 1, 31)),
        ("2024-02", date(2024, 2, 29)),  # a leap year
        ("2023-02", date(2023, 2, 28)),
        ("2024-04", date(2024, 4, 30)),
        ("2024-12", date(2024, 12, 31)),
        ("2024", date(2024, 12, 31)),
        ("2024-07-15", date(2024, 7, 15)),  # a measurement's day
        ("2024-02-29", date(2024, 2, 29)),
        ("2024JJ00", date(2024, 12, 31)),
        ("2024HJ01", date(2024, 6, 30)),
        ("2024HJ02", date(2024, 12, 31)),
        ("2024KW01", date(2024, 3, 31)),
        ("2024KW03", date(2024, 9, 30)),
        ("2024MM02", date(2024, 2, 29)),
        ("2025MM02", date(2025, 2, 28)),
        ("2024MM11", date(2024, 11, 30)),
        (" 2024JJ00 ", date(2024, 12, 31)),  # CBS pads some keys
    ],
)
def test_the_last_day_of_a_period(period: str, end: date) -> None:
    assert period_end(period) == end


@pytest.mark.parametrize(
    "period",
    [
        "v4",  # CBS's file names carry the OData version where others carry the period
        "v3",
        "",
        "sometime",
        "2024Q0",
        "2024Q5",
        "2024-13",
        "2024-00",
        "2023-02-29",  # not a leap year
        "2024-04-31",
        "2024MM00",
        "2024MM13",
        "2024KW05",
        "2024HJ03",
        "2024JJ01",
        "2024X000",
        "0000",  # no year 0
        "24Q3",
        "2024q3",
    ],
)
def test_a_period_it_cannot_read_has_no_end(period: str) -> None:
    assert period_end(period) is None


def test_data_counts_as_ended_at_the_midnight_after_its_last_day() -> None:
    assert data_age_days(date(2024, 9, 30), at("2024-10-01T00:00")) == 0
    assert data_age_days(date(2024, 9, 30), at("2024-10-01T12:00")) == 0.5
    assert data_age_days(date(2024, 9, 30), at("2025-03-18T00:00")) == 168
    assert data_age_days(date(2024, 9, 30), at("2024-09-30T18:00")) == -0.25  # still in its last day


# the policy -------------------------------------------------------------------------------------------


def test_each_source_has_its_contracts_rhythm_lag_and_grace() -> None:
    policies = {
        s.name: (s.freshness, s.freshness.late_after_days, s.freshness.data_late_after_days) for s in SOURCES
    }
    assert policies == {
        "tmsd": (TMSD, 92 + 31, 92 + 45 + 31),
        "chain": (Freshness(31, 14, 15), 31 + 14, 31 + 15 + 14),
        "education": (Freshness(92, 31, 45), 92 + 31, 92 + 45 + 31),
        "cbs": (CBS, 183 + 60, 183 + 365 + 60),
        "availability": (AVAILABILITY, 1 + 1, 1 + 0 + 1),
    }


def test_a_quarter_is_late_on_the_data_clock_from_rhythm_plus_lag_plus_grace_after_it_ends() -> None:
    """2024Q3 ends 2024-09-30, so it has ended at 2024-10-01 00:00; 92 + 45 + 31 = 168 days later is
    2025-03-18 00:00 (Oct 31 + Nov 30 + Dec 31 + Jan 31 + Feb 28 = 151, + 17): late from then on."""
    until = period_end("2024Q3")
    assert until == date(2024, 9, 30)

    def reason(now: str) -> str | None:
        return TMSD.late_reason(at(now), at(now) - timedelta(days=1), until)

    assert reason("2025-03-17T23:59") is None
    assert reason("2025-03-18T00:00") is None  # exactly 168 days: not yet past
    assert reason("2025-03-18T12:00") == (
        "newest data ends 2024-09-30, 168.5 days ago (policy: every 92 + lag 45 + grace 31)"
    )


def test_the_landing_clock_runs_out_after_rhythm_plus_grace() -> None:
    """Landed 2025-01-01 12:00; 92 + 31 = 123 days later is 2025-05-04 12:00. The data (2024Q4, ended at
    2025-01-01 00:00) is within its 168 days until 2025-06-18 00:00, so only the landing clock speaks."""
    landed, until = at("2025-01-01T12:00"), date(2024, 12, 31)
    assert TMSD.late_reason(at("2025-05-04T12:00"), landed, until) is None
    assert TMSD.late_reason(at("2025-05-11T12:00"), landed, until) == (
        "no delivery for 130 days (policy: every 92 + grace 31)"
    )


def test_both_clocks_give_their_reason_when_both_ran_out() -> None:
    """Landed 2025-01-01 12:00 with data to 2024-12-31; at 2025-07-01 12:00 that is 181 days since the
    landing (> 123) and 181.5 since the data ended (> 168)."""
    reason = TMSD.late_reason(at("2025-07-01T12:00"), at("2025-01-01T12:00"), date(2024, 12, 31))
    assert reason == (
        "no delivery for 181 days (policy: every 92 + grace 31); "
        "newest data ends 2024-12-31, 181.5 days ago (policy: every 92 + lag 45 + grace 31)"
    )


def test_unknown_data_leaves_the_landing_clock_alone_and_never_landed_is_late() -> None:
    now = at("2026-12-02T12:00")
    assert TMSD.late_reason(now, now - timedelta(days=1), None) is None
    assert TMSD.late_reason(now, now - timedelta(days=124), None) == (
        "no delivery for 124 days (policy: every 92 + grace 31)"
    )
    assert TMSD.late_reason(now, None, date(2026, 9, 30)) == "never landed"
    assert TMSD.late_reason(now, None, None) == "never landed"


def test_cbs_years_are_late_a_year_and_two_thirds_after_they_end() -> None:
    """2025JJ00 ends 2025-12-31; 183 + 365 + 60 = 608 days after 2026-01-01 is 2027-09-01 (365 to
    2027-01-01, then Jan–Aug 243), as the contract's comment says."""
    until = period_end("2025JJ00")

    def reason(now: str) -> str | None:
        return CBS.late_reason(at(now), at(now) - timedelta(days=30), until)

    assert reason("2027-08-31T23:00") is None
    assert reason("2027-09-01T12:00") == (
        "newest data ends 2025-12-31, 608.5 days ago (policy: every 183 + lag 365 + grace 60)"
    )


def test_a_measurement_day_is_late_two_days_after_it_ends() -> None:
    """Availability: every 1 + lag 0 + grace 1. Measured on 2026-08-14 (ended 2026-08-15 00:00): late after
    2026-08-17 00:00. Landed 2026-08-14 12:00: late on landing after 2026-08-16 12:00."""
    until = date(2026, 8, 14)
    assert AVAILABILITY.late_reason(at("2026-08-17T00:00"), at("2026-08-16T12:00"), until) is None
    assert AVAILABILITY.late_reason(at("2026-08-17T12:00"), at("2026-08-17T06:00"), until) == (
        "newest data ends 2026-08-14, 2.5 days ago (policy: every 1 + lag 0 + grace 1)"
    )
    assert AVAILABILITY.late_reason(at("2026-08-17T12:00"), at("2026-08-14T12:00"), until) == (
        "no delivery for 3 days (policy: every 1 + grace 1); "
        "newest data ends 2026-08-14, 2.5 days ago (policy: every 1 + lag 0 + grace 1)"
    )


# a small lake ------------------------------------------------------------------------------------------


class _Clock(datetime):
    """`datetime` whose `now()` is whatever the test sets: landings get a known time."""

    moment: ClassVar[datetime] = at("2025-01-01T00:00")

    @classmethod
    def now(cls, tz: Any = None) -> _Clock:
        moment = cls.moment if tz is None else cls.moment.astimezone(tz)
        return cls.fromtimestamp(moment.timestamp(), tz)


@pytest.fixture
def clock(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> type[_Clock]:
    """Freeze the landing time of deliveries and micro-batches; the development pseudonym key."""
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    monkeypatch.setenv("MONITORLINK_ALERT_NOTIFIERS", "log")
    monkeypatch.setattr(deliveries, "datetime", _Clock)
    monkeypatch.setattr(stream, "datetime", _Clock)
    return _Clock


def _land_tmsd(settings: Settings, clock: type[_Clock], when: str, name: str) -> None:
    """Land a one-row TMSD delivery at `when`; its youth differs per name, so no two are the same bytes."""
    clock.moment = at(when)
    row = tmsd_row(client_pseudo_id=hashlib.sha256(name.encode()).hexdigest())
    (outcome,) = DeliveryProcessor(Lake(settings.lake_root), tmsd).process([(name, tmsd_file(row), "test")])
    assert outcome.outcome == "validated", outcome


def _row(settings: Settings, name: str, now: str) -> Any:
    (row,) = [r for r in freshness(settings, at(now)) if r.source == name]
    return row


def test_a_relanding_of_an_old_quarter_is_fresh_on_the_landing_clock_but_late_on_the_data_clock(
    settings: Settings, clock: type[_Clock]
) -> None:
    """The bug that started this: 2024Q4 landed on time (2025-02-10), then only a revision of it
    (2025-08-01). At 2025-08-02 12:00 the landing is a day old, but the data ended 2025-01-01 00:00:
    Jan–Jul 212 days + 1.5 = 213.5 days, past 168. Before, only the landing counted and it read fresh."""
    _land_tmsd(settings, clock, "2025-02-10T12:00", "tmsd_jeugd_GM0141_2024Q4_v1.csv")
    first = _row(settings, "tmsd", "2025-02-11T12:00")
    assert (first.late, first.late_reason, first.newest_period, first.data_until) == (
        False,
        None,
        "2024Q4",
        "2024-12-31",
    )
    assert (first.age_hours, first.data_age_days) == (24.0, 41.5)  # Jan 31 + Feb 10.5

    _land_tmsd(settings, clock, "2025-08-01T12:00", "tmsd_jeugd_GM0141_2024Q4_v2.csv")
    row = _row(settings, "tmsd", "2025-08-02T12:00")
    assert (row.last_landed_at, row.age_hours) == ("2025-08-01T12:00:00+00:00", 24.0)
    assert (row.newest_period, row.data_until, row.data_age_days) == ("2024Q4", "2024-12-31", 213.5)
    assert (row.every_days, row.lag_days, row.grace_days) == (92, 45, 31)
    assert row.late
    assert row.late_reason == (
        "newest data ends 2024-12-31, 213.5 days ago (policy: every 92 + lag 45 + grace 31)"
    )

    sources = {s.source: s for s in status(settings, at("2025-08-02T12:00")).sources}
    shown = sources["tmsd"]
    assert (shown.age_hours, shown.sla_hours, shown.late) == (24.0, 123 * 24.0, True)
    assert (shown.newest_period, shown.data_until, shown.data_age_days, shown.data_sla_days) == (
        "2024Q4",
        "2024-12-31",
        213.5,
        168,
    )
    assert shown.late_reason == row.late_reason
    assert (shown.batches, shown.last_rows) == (2, 1)
    assert sources["chain"].late_reason == "never landed"
    assert sources["chain"].newest_period is None and sources["chain"].data_sla_days == 60

    # a newer quarter lands: fresh on both clocks again (2025Q2 ended 2025-07-01 00:00, 32.5 days ago)
    _land_tmsd(settings, clock, "2025-08-01T18:00", "tmsd_jeugd_GM0141_2025Q2_v1.csv")
    again = _row(settings, "tmsd", "2025-08-02T12:00")
    assert (again.late, again.late_reason, again.newest_period, again.data_age_days) == (
        False,
        None,
        "2025Q2",
        32.5,
    )


def test_the_newest_period_is_the_one_that_ends_last_not_the_one_landed_last(
    settings: Settings, clock: type[_Clock]
) -> None:
    _land_tmsd(settings, clock, "2025-05-10T12:00", "tmsd_jeugd_GM0141_2025Q1_v1.csv")
    _land_tmsd(settings, clock, "2025-05-11T12:00", "tmsd_jeugd_GM0141_2023Q4_v1.csv")  # a late backfill
    row = _row(settings, "tmsd", "2025-05-12T12:00")
    assert (row.newest_period, row.data_until, row.late) == ("2025Q1", "2025-03-31", False)


def test_a_quarantined_delivery_of_a_newer_quarter_does_not_count_as_data(
    settings: Settings, clock: type[_Clock]
) -> None:
    _land_tmsd(settings, clock, "2025-02-10T12:00", "tmsd_jeugd_GM0141_2024Q4_v1.csv")
    clock.moment = at("2025-08-01T12:00")
    bad = ("tmsd_jeugd_GM0141_2025Q2_v1.csv", tmsd_file(tmsd_row(geslacht="Q")), "test")
    (outcome,) = DeliveryProcessor(Lake(settings.lake_root), tmsd).process([bad])
    assert outcome.outcome == "quarantined"
    row = _row(settings, "tmsd", "2025-08-02T12:00")
    assert (row.age_hours, row.newest_period, row.data_age_days) == (24.0, "2024Q4", 213.5)
    assert row.late_reason == (
        "newest data ends 2024-12-31, 213.5 days ago (policy: every 92 + lag 45 + grace 31)"
    )


def _events(snapshot: Path) -> list[Message]:
    events = snapshot_events(fetch_snapshot(str(snapshot)))
    return [Message("availability.v1", 0, n, None, json.dumps(e).encode()) for n, e in enumerate(events)]


def _newest_measured(snapshot: Path) -> date:
    return max(
        datetime.fromisoformat(e["measured_at"]).date()
        for e in snapshot_events(fetch_snapshot(str(snapshot)))
    )


def test_availability_is_dated_by_its_newest_measurement_and_an_older_snapshot_does_not_renew_it(
    settings: Settings, clock: type[_Clock]
) -> None:
    """The 14 August snapshot's newest figure is of 2026-08-14 (ended 2026-08-15 00:00): late on the data
    clock after 2026-08-17 00:00 (1 + 0 + 1 days). Replaying the 6 August snapshot on 2026-08-20 resets the
    landing clock only."""
    assert _newest_measured(SNAPSHOT_AUG_14) == date(2026, 8, 14)
    assert _newest_measured(SNAPSHOT_AUG_06) < date(2026, 8, 14)
    lake = Lake(settings.lake_root)
    clock.moment = at("2026-08-14T12:00")
    Ingester(lake, feed(settings)).process(_events(SNAPSHOT_AUG_14))
    row = _row(settings, "availability", "2026-08-15T12:00")
    assert (row.newest_period, row.data_until, row.data_age_days, row.late) == (
        "2026-08-14",
        "2026-08-14",
        0.5,
        False,
    )

    clock.moment = at("2026-08-20T00:00")
    Ingester(lake, feed(settings)).process(_events(SNAPSHOT_AUG_06))
    assert len(lake_batches(lake, "availability")) == 2
    row = _row(settings, "availability", "2026-08-20T12:00")
    assert (row.age_hours, row.newest_period, row.data_age_days) == (12.0, "2026-08-14", 5.5)
    assert row.late_reason == "newest data ends 2026-08-14, 5.5 days ago (policy: every 1 + lag 0 + grace 1)"


def test_a_measurement_is_read_from_the_column_when_a_file_has_no_statistics(settings: Settings) -> None:
    """Footer statistics are the cheap path; a file written without them is read, in its own unit."""
    lake = Lake(settings.lake_root)
    item = source("availability")
    folder = lake.zone("validated", "availability") / "ingest_date=2026-08-20"
    folder.mkdir(parents=True)
    seconds = pa.array([1_786_000_000, None, 1_786_100_000], pa.timestamp("s", tz="UTC"))
    pq.write_table(pa.table({"measured_at": seconds}), folder / "a.parquet", write_statistics=False)
    newest = datetime.fromtimestamp(1_786_100_000, UTC).date()
    assert newest_data(lake, item, []) == (newest.isoformat(), newest)
    nanos = pa.array([1_786_200_000 * 10**9], pa.timestamp("ns", tz="UTC"))
    pq.write_table(pa.table({"measured_at": nanos}), folder / "b.parquet")
    later = datetime.fromtimestamp(1_786_200_000, UTC).date()
    assert newest_data(lake, item, []) == (later.isoformat(), later)
    text = pa.table({"measured_at": ["2099-01-01T00:00:00+00:00"]})  # not a timestamp: no date, no crash
    pq.write_table(text, folder / "c.parquet")
    assert newest_data(lake, item, []) == (later.isoformat(), later)


def _cbs_bundle(*periods: str) -> bytes:
    """A CBS v4 bundle with one observation per period, for one municipality."""
    observations = [
        {
            "Id": n,
            "Measure": "M1",
            "Value": 100 + n,
            "ValueAttribute": "None",
            "RegioS": "GM0153",
            "Perioden": p,
        }
        for n, p in enumerate(periods)
    ]
    properties = [{"Identifier": "M1", "Title": "Jeugdigen met jeugdhulp", "Unit": "aantal"}]
    bundle = {"table": "85098NED", "api": "v4", "properties": properties, "observations": observations}
    return json.dumps(bundle, sort_keys=True).encode()


def test_cbs_is_dated_by_the_period_codes_in_its_rows_the_one_that_ends_last(
    settings: Settings, clock: type[_Clock]
) -> None:
    """CBS's file names carry `v4`, no period: its rows do. `2025MM03` sorts after `2025JJ00` but ends nine
    months earlier. 2025 ended 2026-01-01 00:00: 182.5 days before 2026-07-02 12:00 (Jan–Jun 181 + 1.5)."""
    clock.moment = at("2026-07-01T12:00")
    delivery = (
        "cbs_85098NED_v4_v1.json",
        _cbs_bundle("2024JJ00", "2025JJ00", "2025MM03", "2025KW01"),
        "test",
    )
    (outcome,) = DeliveryProcessor(Lake(settings.lake_root), cbs).process([delivery])
    assert outcome.outcome == "validated", outcome
    row = _row(settings, "cbs", "2026-07-02T12:00")
    assert (row.newest_period, row.data_until, row.data_age_days, row.late) == (
        "2025JJ00",
        "2025-12-31",
        182.5,
        False,
    )
    # 2026-07-01 12:00 to 2027-09-01 12:00 is 365 + 62 = 427 days, past 243; the data 608.5, past 608
    late = _row(settings, "cbs", "2027-09-01T12:00")
    assert late.late_reason == (
        "no delivery for 427 days (policy: every 183 + grace 60); "
        "newest data ends 2025-12-31, 608.5 days ago (policy: every 183 + lag 365 + grace 60)"
    )


def test_the_data_clock_is_read_without_loading_pandas(settings: Settings, clock: type[_Clock]) -> None:
    """`status` is a short-lived command: dating availability and CBS rows must not load pandas or GX
    (`pq.read_table` would: it goes through `pyarrow.dataset`)."""
    clock.moment = at("2026-08-14T12:00")
    Ingester(Lake(settings.lake_root), feed(settings)).process(_events(SNAPSHOT_AUG_14))
    DeliveryProcessor(Lake(settings.lake_root), cbs).process(
        [("cbs_85098NED_v4_v1.json", _cbs_bundle("2025JJ00"), "test")]
    )
    probe = (
        "import sys, datetime\n"
        "from monitorlink.core.config import load_settings\n"
        "from monitorlink.ops.status import freshness\n"
        "now = datetime.datetime(2026, 8, 15, 12, tzinfo=datetime.UTC)\n"
        "rows = {r.source: r.newest_period for r in freshness(load_settings(), now)}\n"
        "print(rows['availability'], rows['cbs'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'great_expectations', 'dbt'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == ["2026-08-14 2025JJ00", "[]"]


# the alert --------------------------------------------------------------------------------------------


def _warehouse_from(settings: Settings, now: datetime) -> None:
    """An analysts' warehouse whose `fct_source_freshness` holds what the lake says (as dbt builds it)."""
    path = settings.analysts_warehouse_path
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        (
            r.source,
            None
            if r.last_landed_at is None
            else datetime.fromisoformat(r.last_landed_at).replace(tzinfo=None),
            r.newest_period,
            r.every_days,
            r.grace_days,
            r.lag_days,
        )
        for r in freshness(settings, now)
    ]
    with duckdb.connect(str(path)) as db:
        db.execute("create schema published")
        db.execute(
            "create table published.fct_source_freshness (source varchar, last_landed_at timestamp,"
            " newest_period varchar, expected_every_days integer, grace_days integer, lag_days integer)"
        )
        db.executemany("insert into published.fct_source_freshness values (?, ?, ?, ?, ?, ?)", rows)
        db.execute(
            "create table published.fct_offer_wait_norm (offer_key varchar, provider_name varchar,"
            " offer_name varchar, wait_weeks double, norm_weeks double, herstelplan_required boolean)"
        )
        db.execute(
            "create table published.fct_availability_provider_freshness (provider_name varchar,"
            " last_measured_at timestamp, days_behind_feed integer, is_stale boolean)"
        )


def test_the_source_late_alert_carries_the_reason_status_gives(
    settings: Settings, clock: type[_Clock]
) -> None:
    _land_tmsd(settings, clock, "2025-02-10T12:00", "tmsd_jeugd_GM0141_2024Q4_v1.csv")
    _land_tmsd(settings, clock, "2025-08-01T12:00", "tmsd_jeugd_GM0141_2024Q4_v2.csv")
    now = at("2025-08-02T12:00")
    _warehouse_from(settings, now)
    opened = {
        e["subject"]: e for e in alerts.check(load_settings(), now=now) if e["kind"] == alerts.SOURCE_LATE
    }
    reasons = {r.source: r.late_reason for r in freshness(settings, now)}
    assert {subject: e["summary"] for subject, e in opened.items()} == {
        name: f"{name} is late: {reason}" for name, reason in reasons.items() if reason
    }
    tmsd_alert = opened["tmsd"]
    assert tmsd_alert["summary"] == (
        "tmsd is late: newest data ends 2024-12-31, 213.5 days ago (policy: every 92 + lag 45 + grace 31)"
    )
    assert tmsd_alert["details"] == {
        "last_landed_at": "2025-08-01T12:00:00+00:00",
        "newest_period": "2024Q4",
        "data_until": "2024-12-31",
        "expected_every_days": 92,
        "lag_days": 45,
        "grace_days": 31,
        "reason": tmsd_alert["summary"].removeprefix("tmsd is late: "),
    }
    assert opened["chain"]["summary"] == "chain is late: never landed"
