"""KPI definitions as data: read from the dbt project, rendered to `docs/definitions.md`.

Every KPI mart carries `meta.kpi` in its properties file (question, formula, grain, sources, population,
version, valid-from date, caveats). dbt shows it in its docs site; this module renders the same data as
one page a policy advisor can read, so the two can never say different things (a test regenerates the
page and compares).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from monitorlink.config import PROJECT_ROOT

MODELS = PROJECT_ROOT / "dbt" / "models"
PAGE = PROJECT_ROOT / "docs" / "definitions.md"
FIELDS = ("name", "question", "formula", "grain", "sources", "population", "version", "valid_from", "caveats")


def kpi_models() -> list[tuple[dict[str, Any], Path]]:
    """(model properties, SQL file) of every model with a KPI definition, in name order."""
    found = []
    for properties in sorted(MODELS.rglob("_*.yml")):
        document = yaml.safe_load(properties.read_text(encoding="utf-8")) or {}
        for model in document.get("models", []):
            if "kpi" in model.get("meta", {}):
                found.append((model, properties.parent / f"{model['name']}.sql"))
    return sorted(found, key=lambda item: str(item[0]["meta"]["kpi"]["name"]))


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
