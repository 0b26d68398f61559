"""Every KPI mart carries a complete definition, its rows carry its version, and the docs page is current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitorlink.warehouse.definitions import FIELDS, PAGE, kpi_models, render


def test_there_are_kpi_marts_for_the_brief() -> None:
    names = {model["meta"]["kpi"]["name"] for model, _ in kpi_models()}
    assert names >= {
        "youth_care_per_1000",
        "trajectory_flow",
        "reentry_12_months",
        "out_of_home_placements",
        "chain_lead_time",
        "waiting_for_guardian",
        "education_youth_care",
        "transition_18",
        "referral_routes",
        "normalising",
        "costs_per_inhabitant",
        "wait_norm",
    }


@pytest.mark.parametrize(
    ("model", "sql"), kpi_models(), ids=lambda item: item["name"] if isinstance(item, dict) else ""
)
def test_each_kpi_has_a_complete_definition_and_its_version_in_the_rows(
    model: dict[str, Any], sql: Path
) -> None:
    kpi = model["meta"]["kpi"]
    assert set(kpi) == set(FIELDS), model["name"]
    assert all(kpi[field] for field in FIELDS), model["name"]
    assert f"{kpi['version']} as definition_version" in sql.read_text(encoding="utf-8"), model["name"]


def test_the_definitions_page_is_generated_from_the_dbt_project() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "run `monitorlink definitions` and commit docs/definitions.md"
    )
