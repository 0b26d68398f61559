"""What Superset adds on top of the warehouse, as ratios against the same SQL run directly on DuckDB.

Needs a platform with Superset up (`make run`, `make up`, same MONITORLINK_HOME) and, for the dashboard
loads, Debian's chromium (`make browser`); without Superset it prints one line and exits 0.
- *How much slower is a chart query through Superset than the same SQL on DuckDB?* Per dataset:
  measured, the chart-data API (a `COUNT(*)` over the dataset, as a big-number chart asks) as the admin;
  baseline, the same aggregate over the dataset's SQL on a read-only DuckDB connection opened per query
  (as Superset does), with plain `duckdb`.
- *How much longer does a dashboard take to show than its queries take on DuckDB?* Per dashboard:
  measured, opening it in headless Chromium until every chart has rendered; baseline, every dataset its
  charts use queried once, directly on DuckDB.
Warm-up round, then `--repeats` rounds, alternating measured and baseline.

Writes `bench/results/dashboards.json` (not committed) and regenerates docs/performance.md.
Usage: python bench/dashboards.py [--repeats N] [--warmup N]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import figures  # noqa: E402
from monitorlink.core.config import Settings, load_settings  # noqa: E402
from monitorlink.dashboards import access as dashboard_access  # noqa: E402
from monitorlink.dashboards import assets as dashboards  # noqa: E402
from monitorlink.dashboards import superset_service  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
COUNT = {"expressionType": "SQL", "sqlExpression": "COUNT(*)", "label": "n"}


def direct(warehouse: Path, sql: str) -> Callable[[], object]:
    """The baseline: the dataset's SQL, aggregated as the chart asks, on plain DuckDB (read-only)."""

    def run() -> object:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            return connection.sql(f"select count(*) from ({sql})").fetchall()

    return run


def _run_all(queries: list[Callable[[], object]]) -> None:
    for query in queries:
        query()


def main() -> int:
    parser = figures.argument_parser(__doc__)
    args = parser.parse_args()
    settings = load_settings()
    if not superset_service.healthy(settings):
        where = superset_service.url(settings)
        print(f"dashboards bench skipped: no Superset at {where} (run `make up` first)")
        return 0
    files = dashboards.read_assets()
    datasets = {str(d["uuid"]): d for p, d in files.items() if p.startswith("datasets/")}
    charts = {str(d["uuid"]): d for p, d in files.items() if p.startswith("charts/")}
    warehouse = settings.warehouse_path
    comparisons: list[figures.Comparison] = []
    with superset_service.admin_client(settings) as client:
        ids = dashboard_access.dataset_ids(client)
        for dataset in datasets.values():
            name = str(dataset["table_name"])
            body = {
                "datasource": {"id": ids[name], "type": "table"},
                "queries": [{"metrics": [COUNT]}],
                "result_format": "json",
                "result_type": "full",
            }
            print(f"chart query: {name}", file=sys.stderr)
            samples = figures.interleave(
                {
                    "superset": figures.timed(partial(client.post, "/api/v1/chart/data", body)),
                    "duckdb": figures.timed(direct(warehouse, str(dataset["sql"]))),
                },
                args.repeats,
                args.warmup,
            )
            comparisons.append(
                figures.compare(
                    samples,
                    "superset",
                    "duckdb",
                    question="How much slower is a chart query through Superset than the same SQL on DuckDB?",
                    measured_label=f"chart query via Superset: {name}",
                    baseline_label="same SQL, DuckDB read-only",
                    meaning=f"Superset's chart-data API for `{name}` ÷ the same aggregate on DuckDB "
                    "directly.",
                )
            )
    if not CHROMIUM.exists():
        print(f"dashboard loads skipped: no {CHROMIUM} (run `make browser`)")
    else:
        comparisons += _dashboard_loads(settings, files, datasets, charts, args.repeats, args.warmup)
    title = "Superset against the same SQL on DuckDB"
    figures.print_comparisons(title, comparisons)
    out = figures.save_results("dashboards", title, comparisons, repeats=args.repeats, warmup=args.warmup)
    print(f"written to {out.relative_to(ROOT)} and docs/performance.md")
    return 0


def _dashboard_loads(
    config: Settings,
    files: dict[str, dict[str, object]],
    datasets: dict[str, dict[str, object]],
    charts: dict[str, dict[str, object]],
    repeats: int,
    warmup: int,
) -> list[figures.Comparison]:
    from playwright.sync_api import sync_playwright

    from tests.dashboard_browser import DashboardBrowser

    comparisons = []
    with sync_playwright() as playwright:
        browser = DashboardBrowser(playwright, CHROMIUM, superset_service.url(config), config.home / "bench")
        browser.login(superset_service.ADMIN_USER, superset_service.admin_password(config))
        for path, dashboard in files.items():
            if not path.startswith("dashboards/"):
                continue
            slug = str(dashboard["slug"])
            position = dashboard["position"]
            assert isinstance(position, dict)
            used = {
                str(charts[part["meta"]["uuid"]]["dataset_uuid"])
                for part in position.values()
                if isinstance(part, dict) and part.get("type") == "CHART"
            }
            queries = [direct(config.warehouse_path, str(datasets[uuid]["sql"])) for uuid in sorted(used)]

            print(f"dashboard load: {slug}", file=sys.stderr)
            samples = figures.interleave(
                {
                    "superset": partial(browser.timed_open, slug),
                    "duckdb": figures.timed(partial(_run_all, queries)),
                },
                repeats,
                warmup,
            )
            comparisons.append(
                figures.compare(
                    samples,
                    "superset",
                    "duckdb",
                    question="How much longer does a dashboard take to show than its queries take on DuckDB?",
                    measured_label=f"dashboard load in Chromium: {slug}",
                    baseline_label=f"its {len(used)} datasets' SQL once each, DuckDB",
                    meaning=f"opening `{slug}` until every chart has rendered ÷ running the SQL of the "
                    "datasets its charts use once each on DuckDB directly.",
                )
            )
        browser.close()
    return comparisons


if __name__ == "__main__":
    sys.exit(main())
