"""The dashboards as code, checked without Superset: the bundle is whole, reads only published data,
refers only to columns its datasets have, and its import/export transformation is lossless."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from monitorlink.core.config import PROJECT_ROOT, Settings
from monitorlink.dashboards import assets as dashboards
from monitorlink.warehouse.definitions import model_properties

FILES = dashboards.read_assets()
DATASETS = {str(d["uuid"]): d for p, d in FILES.items() if p.startswith("datasets/")}
CHARTS = {str(d["uuid"]): d for p, d in FILES.items() if p.startswith("charts/")}
DASHBOARDS = {p: d for p, d in FILES.items() if p.startswith("dashboards/")}
#: SQL words a metric or filter may use besides column names.
SQL_WORDS = {
    "sum",
    "case",
    "when",
    "then",
    "else",
    "end",
    "max",
    "min",
    "avg",
    "count",
    "nullif",
    "and",
    "or",
    "not",
}


def _locked_version(lock: Path, package: str) -> str:
    (found,) = [p["version"] for p in tomllib.loads(lock.read_text())["package"] if p["name"] == package]
    return str(found)


def test_both_environments_lock_the_same_duckdb() -> None:
    platform = _locked_version(PROJECT_ROOT / "uv.lock", "duckdb")
    superset = _locked_version(PROJECT_ROOT / "infra" / "superset" / "uv.lock", "duckdb")
    assert platform == superset, "dbt writes the file Superset reads: the DuckDB versions must match"


def test_the_six_dashboards_stakeholders_asked_for() -> None:
    titles = sorted(d["dashboard_title"] for d in DASHBOARDS.values())
    assert titles == sorted(
        [
            "Wachttijden en beschikbaarheid",
            "Jeugdhulp",
            "Uithuisplaatsingen en 18-/18+",
            "Jeugdbeschermingsketen",
            "Onderwijs en jeugdhulp",
            "Datakwaliteit en versheid",
        ]
    )


def test_every_dashboard_chart_exists_and_every_chart_is_on_a_dashboard() -> None:
    placed = {
        part["meta"]["uuid"]
        for dashboard in DASHBOARDS.values()
        for part in dashboard["position"].values()
        if isinstance(part, dict) and part.get("type") == "CHART"
    }
    assert placed == set(CHARTS)
    assert {str(c["dataset_uuid"]) for c in CHARTS.values()} <= set(DATASETS)


def test_datasets_read_only_published_models_that_dbt_builds_there() -> None:
    properties = model_properties()
    for dataset in DATASETS.values():
        relations = re.findall(r"\b(?:from|join)\s+([a-z_]+)\.([a-z_0-9]+)", dataset["sql"])
        assert relations, dataset["table_name"]
        for schema, table in relations:
            assert schema == "published", f"{dataset['table_name']} reads {schema}.{table}"
            model, sql_file = properties[table]
            # pub_* models are in schema published by their folder (dbt_project.yml), the rest by config.
            assert sql_file.parent.name == "publication" or model["config"]["schema"] == "published", table
        assert {table for _, table in relations} == set(dashboards.dataset_models(dataset)), dataset[
            "table_name"
        ]


def _chart_columns(params: dict[str, Any]) -> set[str]:
    """Every column a chart's form data names: lists, axes, filters, ordering and words in SQL metrics."""
    names = (
        set(params.get("all_columns", [])) | set(params.get("groupby", [])) | set(params.get("columns", []))
    )
    if params.get("x_axis"):
        names.add(params["x_axis"])
    names |= {json.loads(order)[0] for order in params.get("order_by_cols", [])}
    for item in params.get("adhoc_filters", []):
        names |= {item["subject"]} if item["expressionType"] == "SIMPLE" else _words(item["sqlExpression"])
    for metric in [*params.get("metrics", []), params.get("metric")]:
        if isinstance(metric, dict):
            names |= _words(metric["sqlExpression"])
    return names


def _words(sql: str) -> set[str]:
    return {
        w
        for w in re.findall(r"\b[a-z_][a-z0-9_]*\b", re.sub(r"'[^']*'", "", sql.lower()))
        if w not in SQL_WORDS
    }


@pytest.mark.parametrize("chart", CHARTS.values(), ids=lambda c: str(c["slice_name"]))
def test_charts_name_only_columns_of_their_dataset(chart: dict[str, Any]) -> None:
    dataset = DATASETS[str(chart["dataset_uuid"])]
    columns = {c["column_name"] for c in dataset["columns"]}
    missing = _chart_columns(chart["params"]) - columns
    assert not missing, f"{chart['slice_name']} names {sorted(missing)}, not in {dataset['table_name']}"


def test_render_fills_in_what_the_repository_leaves_out_and_normalise_takes_it_back(
    settings: Settings,
) -> None:
    rendered = dashboards.render(FILES, settings)
    (database,) = [d for p, d in rendered.items() if p.startswith("databases/")]
    assert database["sqlalchemy_uri"] == f"duckdb:///{settings.warehouse_path}"
    per_1000 = next(d for d in rendered.values() if d.get("table_name") == "jeugdhulp_per_1000")
    described = {c["column_name"]: c["description"] for c in per_1000["columns"]}
    dbt_columns = {c["name"]: c for c in model_properties()["pub_youth_care_per_1000"][0]["columns"]}
    assert described["per_1000"] == " ".join(dbt_columns["per_1000"]["description"].split())
    trend = next(
        d for d in rendered.values() if d.get("slice_name", "").startswith("Jongeren met jeugdhulp per")
    )
    assert trend["description"].startswith(
        "KPI youth_care_per_1000, definitie versie 1 (geldig vanaf 2019-01-01)"
    )
    assert dashboards.normalise(rendered) == {p: d for p, d in FILES.items()}


def test_repository_files_are_in_the_canonical_form_export_writes() -> None:
    for path, data in FILES.items():
        if path != "metadata.yaml":
            assert (dashboards.ASSETS / path).read_text(encoding="utf-8") == dashboards.dump(data), path


def test_superset_is_connected_to_the_published_file_only(settings: Settings) -> None:
    text = dashboards.bundle(dashboards.render(FILES, settings)).decode("latin-1")
    assert str(settings.warehouse_path) in text
    assert str(settings.analysts_warehouse_path) not in text
    assert str(settings.restricted_warehouse_path) not in text
    (database,) = [d for p, d in FILES.items() if p.startswith("databases/")]
    assert database["extra"]["engine_params"]["connect_args"] == {"read_only": True}
    assert not (database["allow_dml"] or database["allow_ctas"] or database["allow_cvas"])
