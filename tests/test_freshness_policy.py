"""One freshness policy per source, from its contract: the lateness verdict follows it exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from connectors import tmsd
from monitorlink.core.config import PROJECT_ROOT, Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest.deliveries import DeliveryProcessor
from monitorlink.ingest.sources import SOURCES, source
from monitorlink.ops.status import freshness
from tests.factories import tmsd_file, tmsd_row


def _contract_policy(name: str) -> tuple[int, int, int]:
    document = yaml.safe_load((PROJECT_ROOT / "contracts" / f"{name}.v1.yaml").read_text(encoding="utf-8"))
    policy = document["freshness"]
    return policy["every_days"], policy["grace_days"], policy.get("lag_days", 0)


def test_every_source_has_the_policy_its_contract_states() -> None:
    policies = {
        s.name: (s.freshness.every_days, s.freshness.grace_days, s.freshness.lag_days) for s in SOURCES
    }
    assert policies["tmsd"] == _contract_policy("tmsd") == (92, 31, 45)
    assert policies["cbs"] == _contract_policy("cbs")
    assert (
        policies["education"] == _contract_policy("education_pupils") == _contract_policy("education_absence")
    )


@pytest.mark.parametrize(("hours_after_due", "late"), [(-1, False), (1, True)])
def test_a_source_is_late_exactly_after_its_rhythm_plus_grace(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, hours_after_due: int, late: bool
) -> None:
    """The landing clock alone: the delivery is of the current quarter, so its data is not late by then."""
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    today = datetime.now(UTC)
    quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    delivery = (f"tmsd_jeugd_GM0141_{quarter}_v1.csv", tmsd_file(tmsd_row()), "test")
    DeliveryProcessor(Lake(settings.lake_root), tmsd).process([delivery])
    (row,) = [r for r in freshness(settings) if r.source == "tmsd"]
    assert row.last_landed_at is not None and row.newest_period == quarter
    every, grace, _ = _contract_policy("tmsd")
    due = datetime.fromisoformat(row.last_landed_at) + timedelta(days=every + grace)
    (later,) = [r for r in freshness(settings, due + timedelta(hours=hours_after_due)) if r.source == "tmsd"]
    assert later.late is late
    assert later.late_reason == ("no delivery for 123 days (policy: every 92 + grace 31)" if late else None)


def test_a_source_that_never_landed_is_late(settings: Settings) -> None:
    rows = freshness(settings, datetime.now(UTC))
    assert all(r.late and r.last_landed_at is None and r.late_reason == "never landed" for r in rows)
    assert all(r.newest_period is None and r.data_age_days is None for r in rows)


def test_the_dbt_projects_default_for_hand_runs_is_the_contracts_policy() -> None:
    """The build passes each contract's policy to dbt; dbt run by hand falls back to this copy of it.

    dbt carries rhythm and grace, `[every, grace]`; once it carries the lag too, `[every, grace, lag]`.
    """
    project = yaml.safe_load((PROJECT_ROOT / "dbt" / "dbt_project.yml").read_text(encoding="utf-8"))
    default = {name: tuple(days) for name, days in project["vars"]["source_sla_days"].items()}
    assert set(default) == {s.name for s in SOURCES}
    for name, days in default.items():
        policy = source(name).freshness
        assert len(days) in (2, 3)
        assert days == (policy.every_days, policy.grace_days, policy.lag_days)[: len(days)], name
