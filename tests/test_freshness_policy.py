"""One freshness policy per source, from its contract: the lateness verdict follows it exactly."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import jinja2
import pytest
import yaml

from connectors import tmsd
from monitorlink.core.config import PROJECT_ROOT, Settings
from monitorlink.core.contracts import period_end
from monitorlink.core.lake import Lake
from monitorlink.ingest.deliveries import DeliveryProcessor
from monitorlink.ingest.sources import SOURCES, source
from monitorlink.ops.status import freshness
from monitorlink.warehouse import build
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

    dbt carries the whole policy, `[every, grace, lag]`: `fct_source_freshness` judges both clocks.
    """
    project = yaml.safe_load((PROJECT_ROOT / "dbt" / "dbt_project.yml").read_text(encoding="utf-8"))
    default = {name: tuple(days) for name, days in project["vars"]["source_sla_days"].items()}
    assert set(default) == {s.name for s in SOURCES}
    for name, days in default.items():
        policy = source(name).freshness
        assert days == (policy.every_days, policy.grace_days, policy.lag_days), name
    assert default["tmsd"] == (92, 31, 45) and default["cbs"] == (183, 60, 365)
    assert default["availability"] == (1, 1, 0)


def test_the_build_passes_dbt_every_sources_whole_policy(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []

    def run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", run)
    build.run_dbt(settings, ["compile"], settings.home / "scratch.duckdb", "target")
    (command,) = commands
    variables = json.loads(command[command.index("--vars") + 1])
    assert variables["source_sla_days"] == {
        "tmsd": [92, 31, 45],
        "chain": [31, 14, 15],
        "education": [92, 31, 45],
        "cbs": [183, 60, 365],
        "availability": [1, 1, 0],
    }


# The last day of each period, by hand: quarters, months, half years and years end on their last day (a
# leap February on the 29th); a day is itself; what is not a period, or names a month, quarter or day that
# does not exist, is None.
PERIOD_ENDS = [
    ("2024Q1", date(2024, 3, 31)),
    ("2024Q3", date(2024, 9, 30)),
    ("2024KW04", date(2024, 12, 31)),
    ("2024-02", date(2024, 2, 29)),
    ("2025MM02", date(2025, 2, 28)),
    ("2025MM03", date(2025, 3, 31)),
    ("2024HJ01", date(2024, 6, 30)),
    ("2024HJ02", date(2024, 12, 31)),
    ("2025JJ00", date(2025, 12, 31)),
    ("2025", date(2025, 12, 31)),
    ("2026-08-14", date(2026, 8, 14)),
    (" 2024Q4\n", date(2024, 12, 31)),
    ("2024-02-30", None),
    ("2024MM13", None),
    ("2024MM00", None),
    ("2024KW05", None),
    ("2024Q0", None),
    ("2024HJ03", None),
    ("0000JJ00", None),
    ("2024-7", None),
    ("v4", None),
    ("", None),
]


@pytest.mark.parametrize(("period", "end"), PERIOD_ENDS)
def test_a_period_ends_on_the_same_day_in_python_and_in_dbt(period: str, end: date | None) -> None:
    """dbt's macro `period_end` (fct_source_freshness) dates a period as `contracts.period_end` does."""
    assert period_end(period) == end
    assert duckdb.execute(
        f"select {_dbt_period_end('p')} from (select ?::varchar as p)", [period]
    ).fetchone() == (end,)


def _dbt_period_end(column: str) -> str:
    """The SQL dbt's `period_end` macro makes of `column` (plain Jinja: it needs nothing of dbt's)."""
    template = (PROJECT_ROOT / "dbt" / "macros" / "period_end.sql").read_text(encoding="utf-8")
    return str(jinja2.Environment().from_string(template).module.period_end(column))  # type: ignore[attr-defined]
