"""The alert checks against the warehouse dbt built from a simulated Twente and the real snapshots.

tests/test_alerts.py switches each condition on and off in hand-written tables; here the checks read the
marts and the lake of a whole `monitorlink run --simulated` (the session's, tests/integration/conftest.py),
and every alert that must be open is worked out from the inputs, not from the alert code or the marts:

- `quality_gate`: from the simulator's manifest (`manifest.json`: each injected defect, its file and
  whether it must be quarantined) and the delivered file names read with the contracts' file patterns —
  a scope-period alerts when its newest delivery (re-deliveries ignored) is one the manifest quarantines;
- `norm_breach`: from the two snapshot JSON files, read by the KPI's written definition
  (tests/availability_truth.py);
- `source_late`: every source landed minutes ago, so none is late by when it last landed; by the age of
  its newest data, a source is late once the newest period the simulator delivered (Twente 2019–2025) or
  the newest figure of the snapshots (14 Aug 2026) ended more than every + lag + grace days (its contract's
  `freshness`) ago, worked out here by hand; a provider is late when its newest current figure lags the
  newest figure of the snapshots by more than 7 days (tests/availability_truth.py).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitorlink.core.config import PROJECT_ROOT
from monitorlink.ops import alert_store, alerts
from tests.availability_truth import stale_providers, youth_offers
from tests.conftest import SNAPSHOT_AUG_06, SNAPSHOT_AUG_14, environment
from tests.integration.conftest import UNSET, SimulatedRun

pytestmark = pytest.mark.integration

FILE_SOURCES = {"tmsd": ("tmsd",), "chain": ("chain",), "education": ("education_pupils",)}


@pytest.fixture(scope="module")
def checked(simulated_run: SimulatedRun) -> Iterator[dict[str, alert_store.Alert]]:
    """The open alerts after the run's own check and one more check (which must change nothing)."""
    with environment({**simulated_run.environment, "MONITORLINK_ALERT_NOTIFIERS": "log"}, unset=UNSET):
        again = alerts.check(simulated_run.settings)
        assert again == [], "a second check on the same warehouse opens and resolves nothing"
        yield alert_store.AlertStore(simulated_run.settings).open_alerts()


def _of_kind(open_alerts: dict[str, alert_store.Alert], kind: str) -> list[alert_store.Alert]:
    return [alert for alert in open_alerts.values() if alert.kind == kind]


def _file_pattern(contract: str) -> re.Pattern[str]:
    document: dict[str, Any] = yaml.safe_load(
        (PROJECT_ROOT / "contracts" / f"{contract}.v1.yaml").read_text()
    )
    return re.compile(document["delivery"]["file_pattern"])


def _expected_quality_gates(simulation: Path) -> dict[str, str]:
    """Subject → the quarantined file that must keep its scope-period alerting, from the manifest."""
    manifest = json.loads((simulation / "manifest.json").read_text(encoding="utf-8"))
    expected = {}
    for source, (contract,) in FILE_SOURCES.items():
        pattern = _file_pattern(contract)
        defects = [d for d in manifest["defects"] if d["source"] == source]
        quarantined = {d["file"] for d in defects if d["expect"] == "quarantine"}
        ignored = {d["file"] for d in defects if d["expect"] == "ignore"}  # copies under another name
        newest: dict[tuple[str, str], tuple[int, str]] = {}
        for path in (simulation / "landing" / source).iterdir():
            match = pattern.match(path.name)
            assert match is not None, f"{path.name} does not follow the {contract} contract's file pattern"
            if path.name in ignored:
                continue
            key, version = (match["scope"], match["period"]), int(match["version"])
            if key not in newest or version > newest[key][0]:
                newest[key] = (version, path.name)
        for (scope, period), (_, name) in newest.items():
            if name in quarantined:
                expected[f"{source}/{scope}/{period}"] = name
    return expected


def test_every_quarantined_delivery_without_a_good_successor_has_one_quality_alert(
    simulated_run: SimulatedRun, checked: dict[str, alert_store.Alert]
) -> None:
    expected = _expected_quality_gates(simulated_run.simulation_root)
    manifest = json.loads((simulated_run.simulation_root / "manifest.json").read_text(encoding="utf-8"))
    rules = {d["file"]: d["rule"] for d in manifest["defects"]}
    opened = {alert.subject: alert for alert in _of_kind(checked, alerts.QUALITY_GATE)}
    assert {subject: alert.details["file"] for subject, alert in opened.items()} == expected
    assert len(expected) >= 3, "the simulation quarantines deliveries of every file source"
    for subject, alert in opened.items():
        assert rules[alert.details["file"]] in alert.details["rules"], (subject, alert.details)


def test_every_youth_offer_owing_a_herstelplan_has_one_norm_alert(
    checked: dict[str, alert_store.Alert],
) -> None:
    owing = [o for o in youth_offers(SNAPSHOT_AUG_06, SNAPSHOT_AUG_14) if o.herstelplan]
    opened = _of_kind(checked, alerts.NORM_BREACH)
    assert Counter((a.details["provider"], a.details["offer"]) for a in opened) == Counter(
        (o.provider, o.name) for o in owing
    )
    assert len(opened) == 13, "the 14 Aug list: 13 youth offers over the norm, each with a concrete figure"
    waits = {(a.details["provider"], a.details["offer"]): a.details["wait_weeks"] for a in opened}
    assert waits == pytest.approx({(o.provider, o.name): o.wait_weeks for o in owing}, abs=1e-3)
    assert all(a.details["norm_weeks"] == pytest.approx(4 * 4.345) for a in opened)


#: The newest period of each source's data after the run, with its last day: the simulator's quarters,
#: months and years up to 2025, and the day of the newest figure in the snapshots (SNAPSHOT_AUG_14).
NEWEST_DATA = {
    "availability": ("2026-08-14", date(2026, 8, 14)),
    "tmsd": ("2025Q4", date(2025, 12, 31)),
    "chain": ("2025-12", date(2025, 12, 31)),
    "education": ("2025Q4", date(2025, 12, 31)),
    "cbs": ("2025JJ00", date(2025, 12, 31)),
}


def _policies() -> dict[str, tuple[int, int, int]]:
    """Source → (every, lag, grace) days, from the contract files' `freshness` (lag 0 when not given)."""
    policies = {}
    for path in (PROJECT_ROOT / "contracts").glob("*.yaml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        source = "education" if document["name"].startswith("education_") else document["name"]
        policy = document["freshness"]
        policies[source] = (policy["every_days"], policy.get("lag_days", 0), policy["grace_days"])
    return policies


def test_sources_with_old_data_and_providers_that_lag_the_feed_are_late(
    checked: dict[str, alert_store.Alert],
) -> None:
    late = _of_kind(checked, alerts.SOURCE_LATE)
    providers = {a.subject: a for a in late if a.subject.startswith("availability/")}
    sources = {a.subject: a for a in late if "/" not in a.subject}
    assert len(providers) + len(sources) == len(late), [a.subject for a in late]

    behind = stale_providers(SNAPSHOT_AUG_06, SNAPSHOT_AUG_14)
    assert {s: a.details["days_behind_feed"] for s, a in providers.items()} == {
        f"availability/{provider}": days for provider, days in behind.items()
    }

    policies = _policies()
    now = datetime.now(UTC)
    expected = {
        source
        for source, (_, until) in NEWEST_DATA.items()
        if now - datetime.combine(until + timedelta(days=1), time(), UTC)
        > timedelta(days=sum(policies[source]))
    }
    assert {"tmsd", "chain", "education", "availability"} <= expected, "2025 and August 2026 are long gone"
    assert set(sources) == expected
    for source, alert in sources.items():
        period, until = NEWEST_DATA[source]
        every, lag, grace = policies[source]
        assert (alert.details["newest_period"], alert.details["data_until"]) == (period, until.isoformat())
        reason = alert.details["reason"]
        assert reason.startswith(f"newest data ends {until.isoformat()}, "), reason
        assert f"(policy: every {every} + lag {lag} + grace {grace})" in reason, reason
        assert "no delivery" not in reason, "every source landed minutes ago"
        assert source in alert.summary and reason in alert.summary, alert.summary
    assert _of_kind(checked, alerts.PIPELINE_FAILURE) == [], "no pipeline ran under Airflow"
