"""KPI definitions as data: read from the dbt project, rendered to `docs/definitions.md`.

Every KPI mart carries `meta.kpi` in its properties file (question, formula, grain, sources, population,
version, valid-from date, caveats). dbt shows it in its docs site; this module renders the same data as
one page a policy advisor can read, so the two can never say different things (a test regenerates the
page and compares).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from monitorlink.core.config import PROJECT_ROOT

MODELS = PROJECT_ROOT / "dbt" / "models"
PAGE = PROJECT_ROOT / "docs" / "definitions.md"
FIELDS = ("name", "question", "formula", "grain", "sources", "population", "version", "valid_from", "caveats")


@functools.cache
def model_properties() -> dict[str, tuple[dict[str, Any], Path]]:
    """Every model's properties as written in its yml (descriptions, meta), with its SQL file, by name.

    Read once per process (callers must not change what it returns): the yml does not change while
    the platform runs, and the dashboard bundle asks for it per dataset and chart."""
    found = {}
    for properties in sorted(MODELS.rglob("_*.yml")):
        document = yaml.safe_load(properties.read_text(encoding="utf-8")) or {}
        for model in document.get("models", []):
            found[str(model["name"])] = (model, properties.parent / f"{model['name']}.sql")
    return found


def kpi_models() -> list[tuple[dict[str, Any], Path]]:
    """(model properties, SQL file) of every model with a KPI definition, in name order."""
    found = [item for item in model_properties().values() if "kpi" in item[0].get("meta", {})]
    return sorted(found, key=lambda item: str(item[0]["meta"]["kpi"]["name"]))


def kpi_of(model: str) -> dict[str, Any] | None:
    """The KPI definition a model answers: its own, or for a `pub_` model that of the mart it suppresses."""
    properties = model_properties()
    for name in (model, "fct_" + model.removeprefix("pub_")):
        if name in properties and "kpi" in properties[name][0].get("meta", {}):
            return dict(properties[name][0]["meta"]["kpi"])
    return None


def render() -> str:
    """The definitions page."""
    lines = [
        "# KPI definitions",
        "",
        "Generated from the dbt project (`meta.kpi` of each mart) by `monitorlink definitions`; do not edit",
        "by hand. Each mart's rows carry `definition_version`; a changed definition gets a new version and",
        "valid-from date, and trend breaks are listed in the table `dim_trend_break`. Dashboards and other",
        "municipalities read only the published warehouse file: a mart's `published.pub_*` version, where",
        "small counts are hidden (docs/disclosure.md), or the mart itself where it counts no persons.",
        "",
        "| KPI | mart | version | valid from |",
        "|---|---|---|---|",
    ]
    models = kpi_models()
    for model, _ in models:
        kpi = model["meta"]["kpi"]
        link = f"[{kpi['name']}](#{kpi['name'].replace('_', '-')})"
        lines.append(f"| {link} | `{model['name']}` | {kpi['version']} | {kpi['valid_from']} |")
    for model, _ in models:
        kpi = model["meta"]["kpi"]
        lines += [
            "",
            f"## {kpi['name']}",
            "",
            f"**Question.** {kpi['question']}",
            "",
            f"- **Mart:** `{model['name']}`; {_published(model)}",
            f"- **Formula:** {kpi['formula']}",
            f"- **Grain:** {kpi['grain']}",
            f"- **Population:** {kpi['population']}",
            f"- **Sources:** {', '.join(kpi['sources'])}",
            f"- **Version:** {kpi['version']}, valid from {kpi['valid_from']}",
            f"- **Caveats:** {' '.join(str(kpi['caveats']).split())}",
        ]
    return "\n".join(lines) + "\n"


def _published(model: dict[str, Any]) -> str:
    """Where dashboards read a mart: its suppressed `pub_` version, or the mart itself (no person counts)."""
    mart = str(model["name"])
    name = "pub_" + mart.removeprefix("fct_")
    if (MODELS / "publication" / f"{name}.sql").exists():
        return f"published as `published.{name}` (small counts hidden)"
    if model.get("config", {}).get("schema") == "published":
        return f"published as `published.{mart}` (it counts no persons)"
    return "analysts' file only"


def write() -> Path:
    """Regenerate `docs/definitions.md`."""
    PAGE.write_text(render(), encoding="utf-8")
    return PAGE
