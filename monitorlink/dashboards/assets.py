"""Dashboards as code: Superset's asset bundle in `infra/superset/assets`, imported and exported.

The repository holds every database, dataset, chart and dashboard as Superset's own asset-bundle YAML,
minus what belongs to one installation or is owned elsewhere:

- the warehouse path (`sqlalchemy_uri`) is a placeholder, filled in from MONITORLINK_WAREHOUSE_PATH;
- column descriptions are empty where dbt documents the column: the import takes them from the dbt
  model yml of the models a dataset names in `extra.dbt_models`, so the two can never disagree;
- a KPI chart's description starts with the definition and its version from the model's `meta.kpi`;
- ids of one installation (chart ids, datasource ids) are dropped, dataset columns sorted by name;
  uuids tie everything together;
- a chart that marks trend breaks names the annotation layer `Trendbreuken`, which the import fills
  from `published.dim_trend_break`.

`export` applies the same rules backwards, so exporting right after an import reproduces the repository
byte for byte, and a change made in the UI shows as a clean diff.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import yaml

from monitorlink.core.config import PROJECT_ROOT, Settings
from monitorlink.dashboards.superset_api import SupersetClient
from monitorlink.warehouse.build import connect_readonly
from monitorlink.warehouse.definitions import kpi_of, model_properties

ASSETS = PROJECT_ROOT / "infra" / "superset" / "assets"
DATABASE_URI_PLACEHOLDER = "duckdb:///published-warehouse-path"
BUNDLE_ROOT = "monitorlink_assets"
KPI_PREFIX = "KPI "
#: Keys of chart params that hold ids of one installation; import resolves charts by uuid.
CHART_INSTANCE_KEYS = ("datasource", "slice_id", "dashboards")
#: The annotation layer of trend breaks (from `dim_trend_break`); charts name it by this name, the import
#: puts in this installation's id.
TREND_BREAKS = "Trendbreuken"
#: Suffix of the text columns that show a count, or — where it is hidden.
SHOWN = "_shown"


def database_uri(settings: Settings) -> str:
    """The published warehouse, and only it: the restricted and analysts' files are never connected.

    With the DuckLake backend an in-memory DuckDB, on which Superset attaches the published tier's
    DuckLake read-only as each connection opens (`superset_service.ducklake_statements`).
    """
    if settings.warehouse_backend == "ducklake":
        return "duckdb:///:memory:"
    return f"duckdb:///{settings.warehouse_path}"


def _render_database(data: dict[str, Any], settings: Settings) -> None:
    """The connection: the warehouse's address, read-only (DuckDB refuses an in-memory database opened
    read-only; there the DuckLake is attached read-only instead)."""
    data["sqlalchemy_uri"] = database_uri(settings)
    if settings.warehouse_backend == "ducklake":
        data["extra"]["engine_params"]["connect_args"].pop("read_only", None)


def read_assets(folder: Path = ASSETS) -> dict[str, dict[str, Any]]:
    """The bundle in the repository: relative path → parsed YAML."""
    return {
        str(path.relative_to(folder)): yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(folder.rglob("*.yaml"))
    }


def dataset_models(dataset: dict[str, Any]) -> list[str]:
    """The dbt models a dataset reads, in the order their column descriptions take precedence."""
    extra = dataset.get("extra") or {}
    return list((json.loads(extra) if isinstance(extra, str) else extra).get("dbt_models", []))


def column_descriptions(models: list[str]) -> dict[str, str]:
    """Column → dbt description, the first model that documents a column winning."""
    properties = model_properties()
    found: dict[str, str] = {}
    for model in reversed(models):
        for column in properties[model][0].get("columns", []) if model in properties else []:
            if column.get("description"):
                found[str(column["name"])] = " ".join(str(column["description"]).split())
    return found


def _dbt_description(column: str, described: dict[str, str]) -> str | None:
    """dbt's description of a column; a `<count>_shown` column is the count as text, with — where hidden."""
    if column in described:
        return described[column]
    base = column.removesuffix(SHOWN)
    if column.endswith(SHOWN) and base in described:
        return f"{described[base]} — as shown on dashboards: text, with — where disclosure control hid it"
    return None


def kpi_line(models: list[str]) -> str | None:
    """'KPI <name>, definitie versie <n> (geldig vanaf <date>): <formula>' for the dataset's main model."""
    kpi = kpi_of(models[0]) if models else None
    if kpi is None:
        return None
    formula = " ".join(str(kpi["formula"]).split())
    version = f"definitie versie {kpi['version']} (geldig vanaf {kpi['valid_from']})"
    return f"{KPI_PREFIX}{kpi['name']}, {version}: {formula}"


def _datasets_by_uuid(files: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(data["uuid"]): data for path, data in files.items() if path.startswith("datasets/")}


def _trend_break_layers(chart: dict[str, Any]) -> list[dict[str, Any]]:
    layers = chart["params"].get("annotation_layers") or []
    return [
        layer for layer in layers if layer.get("name") == TREND_BREAKS and layer.get("sourceType") == "NATIVE"
    ]


def render(
    files: dict[str, dict[str, Any]], settings: Settings, trend_break_layer: int | None = None
) -> dict[str, dict[str, Any]]:
    """The bundle as Superset imports it: warehouse path, dbt descriptions, KPI lines and the id of the
    trend-break annotation layer filled in."""
    rendered = copy.deepcopy(files)
    datasets = _datasets_by_uuid(rendered)
    for path, data in rendered.items():
        if path.startswith("databases/"):
            _render_database(data, settings)
        elif path.startswith("datasets/"):
            described = column_descriptions(dataset_models(data))
            for column in data["columns"]:
                column["description"] = column["description"] or _dbt_description(
                    column["column_name"], described
                )
        elif path.startswith("charts/"):
            line = kpi_line(dataset_models(datasets[str(data["dataset_uuid"])]))
            if line:
                data["description"] = "\n\n".join(filter(None, [line, data.get("description")]))
            for layer in _trend_break_layers(data) if trend_break_layer is not None else []:
                layer["value"] = trend_break_layer
    return rendered


def normalise(files: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The inverse of `render` plus dropping installation ids: what the repository keeps."""
    normal = copy.deepcopy(files)
    datasets = _datasets_by_uuid(normal)
    for path, data in normal.items():
        if path.startswith("databases/"):
            data["sqlalchemy_uri"] = DATABASE_URI_PLACEHOLDER
            data["extra"]["engine_params"]["connect_args"]["read_only"] = True
        elif path.startswith("datasets/"):
            described = column_descriptions(dataset_models(data))
            for column in data["columns"]:
                if column["description"] == _dbt_description(column["column_name"], described):
                    column["description"] = None
            # Superset exports columns in the order of its own row ids, which an update can change.
            data["columns"].sort(key=lambda column: str(column["column_name"]))
            data["metrics"].sort(key=lambda metric: str(metric["metric_name"]))
        elif path.startswith("charts/"):
            _normalise_chart(data, datasets)
        elif path.startswith("dashboards/"):
            _normalise_dashboard(data)
    return normal


def _normalise_chart(chart: dict[str, Any], datasets: dict[str, dict[str, Any]]) -> None:
    for key in CHART_INSTANCE_KEYS:
        chart["params"].pop(key, None)
    for layer in _trend_break_layers(chart):
        layer["value"] = TREND_BREAKS
    chart["query_context"] = None
    dataset = datasets.get(str(chart["dataset_uuid"]))
    line = kpi_line(dataset_models(dataset)) if dataset else None
    description = chart.get("description") or ""
    if line and description.startswith(line):
        chart["description"] = description[len(line) :].strip() or None


def _normalise_dashboard(dashboard: dict[str, Any]) -> None:
    """Chart ids in the layout become 1..n in layout-key order: the importer needs some id per chart
    (it maps them to this installation's by uuid), and stable ones keep the diff clean."""
    position = dashboard["position"]
    charts = sorted(
        key for key, part in position.items() if isinstance(part, dict) and part.get("type") == "CHART"
    )
    for number, key in enumerate(charts, start=1):
        position[key]["meta"]["chartId"] = number
    metadata = dashboard["metadata"]
    metadata.pop("chart_configuration", None)
    metadata.pop("global_chart_configuration", None)
    metadata.pop("positions", None)
    for native in metadata.get("native_filter_configuration", []):
        native.pop("chartsInScope", None)
        native.pop("tabsInScope", None)


class _Dumper(yaml.SafeDumper):
    """YAML with SQL and Markdown as readable block text."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump(data: dict[str, Any]) -> str:
    """One asset file as the repository keeps it (stable key order, block text, wide lines)."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=110)


def bundle(rendered: dict[str, dict[str, Any]]) -> bytes:
    """The ZIP that Superset's import API takes, of a bundle `render` has filled in."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in rendered.items():
            archive.writestr(f"{BUNDLE_ROOT}/{path}", dump(data))
    return buffer.getvalue()


def trend_break_layer(client: SupersetClient, settings: Settings) -> int:
    """Create or refresh the annotation layer of trend breaks from `published.dim_trend_break`."""
    layers = client.get(
        "/api/v1/annotation_layer/", q=f"(filters:!((col:name,opr:eq,value:'{TREND_BREAKS}')))"
    )
    if layers["result"]:
        layer = int(layers["result"][0]["id"])
    else:
        body = {"name": TREND_BREAKS, "descr": "Trendbreuken in de bronnen (dim_trend_break), op tijdassen"}
        layer = int(client.post("/api/v1/annotation_layer/", body)["id"])
    for old in client.get(f"/api/v1/annotation_layer/{layer}/annotation/", q="(page_size:100)")["result"]:
        client.delete(f"/api/v1/annotation_layer/{layer}/annotation/{old['id']}")
    with connect_readonly(settings) as connection:
        breaks = connection.execute("select kpi, break_date, description from dim_trend_break").fetchall()
    for kpi, day, description in breaks:
        moment = f"{day.isoformat()}T00:00:00"
        client.post(
            f"/api/v1/annotation_layer/{layer}/annotation/",
            {
                "short_descr": f"Trendbreuk {kpi}",
                "long_descr": description,
                "start_dttm": moment,
                "end_dttm": moment,
            },
        )
    return layer


def import_assets(client: SupersetClient, settings: Settings) -> int:
    """Import (create or overwrite, by uuid) every asset of the repository; returns how many files."""
    files = read_assets()
    rendered = render(files, settings, trend_break_layer(client, settings))
    client.upload(
        "/api/v1/assets/import/",
        files={"bundle": ("monitorlink_assets.zip", bundle(rendered), "application/zip")},
        data={"passwords": "{}"},
    )
    _restore_trend_breaks(client, rendered)
    return len(files)


def _restore_trend_breaks(client: SupersetClient, rendered: dict[str, dict[str, Any]]) -> None:
    """Superset's importer keeps only formula annotations, so charts that mark trend breaks get their
    params (with this installation's layer id) written back over the chart API."""
    marked = {
        str(d["uuid"]): d for p, d in rendered.items() if p.startswith("charts/") and _trend_break_layers(d)
    }
    if not marked:
        return
    charts = client.get("/api/v1/chart/", q="(columns:!(id,uuid),page_size:100)")["result"]
    for chart in charts:
        if str(chart["uuid"]) in marked:
            client.put(
                f"/api/v1/chart/{chart['id']}", {"params": json.dumps(marked[str(chart["uuid"])]["params"])}
            )


def exported_assets(client: SupersetClient) -> dict[str, dict[str, Any]]:
    """Everything Superset holds, normalised to the repository's form (paths without the zip's root)."""
    with zipfile.ZipFile(io.BytesIO(client.download("/api/v1/assets/export/"))) as archive:
        files = {
            name.split("/", 1)[1]: yaml.safe_load(archive.read(name))
            for name in archive.namelist()
            if name.endswith(".yaml") and not name.endswith("metadata.yaml")
        }
    return normalise(files)


def _repository_path(exported_path: str, data: dict[str, Any], known: dict[str, str]) -> str:
    """Where an exported asset lives in the repository: beside its uuid's file, or a name from its title.

    Superset names exported files after titles and ids of one installation; the repository keeps its
    own names so that a re-export only diffs where content changed.
    """
    if str(data["uuid"]) in known:
        return known[str(data["uuid"])]
    kind, _, rest = exported_path.partition("/")
    title = next(
        data[key] for key in ("slice_name", "dashboard_title", "table_name", "database_name") if key in data
    )
    slug = "".join(ch if ch.isalnum() else "_" for ch in str(title).lower()).strip("_")
    folder = f"{kind}/{rest.rsplit('/', 1)[0]}" if kind == "datasets" else kind
    return f"{folder}/{slug}.yaml"


def export_assets(client: SupersetClient, folder: Path = ASSETS) -> list[str]:
    """Write Superset's current assets into the repository's bundle; returns the files that changed."""
    known = {str(data["uuid"]): path for path, data in read_assets(folder).items() if "uuid" in data}
    changed = []
    for exported_path, data in exported_assets(client).items():
        path = _repository_path(exported_path, data, known)
        target = folder / path
        text = dump(data)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed
