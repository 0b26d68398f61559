"""Every KPI mart carries a complete definition, and the version in its rows is the documented one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from monitorlink.config import PROJECT_ROOT

MODELS = PROJECT_ROOT / "dbt" / "models"
FIELDS = {"name", "question", "formula", "grain", "sources", "population", "version", "valid_from", "caveats"}


def _kpi_models() -> list[tuple[dict[str, Any], Path]]:
    found = []
    for properties in MODELS.rglob("_*.yml"):
        document = yaml.safe_load(properties.read_text(encoding="utf-8")) or {}
        for model in document.get("models", []):
            if "kpi" in model.get("meta", {}):
                found.append((model, properties.parent / f"{model['name']}.sql"))
    return found


def test_there_are_kpi_marts() -> None:
    assert {model["name"] for model, _ in _kpi_models()} >= {"fct_youth_care_per_1000", "fct_trajectory_flow"}


@pytest.mark.parametrize(
    ("model", "sql"), _kpi_models(), ids=lambda item: item["name"] if isinstance(item, dict) else ""
)
def test_each_kpi_has_a_complete_definition_and_its_version_in_the_rows(
    model: dict[str, Any], sql: Path
) -> None:
    kpi = model["meta"]["kpi"]
    assert set(kpi) == FIELDS, model["name"]
    assert all(kpi[field] for field in FIELDS), model["name"]
    assert f"{kpi['version']} as definition_version" in sql.read_text(encoding="utf-8"), model["name"]
