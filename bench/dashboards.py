"""What Superset adds on top of the warehouse: dashboard load time and chart-query p95, as ratios
against the same queries run directly on DuckDB in the same run.

Needs a platform with Superset up (`make run`, `make up`, same MONITORLINK_HOME) and Debian's chromium.
- Chart queries: per dataset, the chart-data API (group by municipality, count — what a filter or a
  bar chart asks) as the admin, 20 times after 2 warm-ups; baseline: the same aggregate over the
  dataset's SQL on a read-only DuckDB connection opened per query (as Superset does).
- Dashboard load: each dashboard opened in headless Chromium until every chart has rendered (median
  of 3 after a warm-up); baseline: all of that dashboard's datasets queried once directly.

Run with `make bench`; writes `bench/results/dashboards.json` (not committed) and prints a table.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.figures import save_figures  # noqa: E402
from monitorlink.core.config import load_settings  # noqa: E402
from monitorlink.dashboards import access as dashboard_access  # noqa: E402
from monitorlink.dashboards import assets as dashboards  # noqa: E402
from monitorlink.dashboards import superset_service  # noqa: E402
from tests.dashboard_browser import DashboardBrowser  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
REPEATS = 20


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def _timed(action: Callable[[], object], repeats: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    settings = load_settings()
    if not superset_service.healthy(settings):
        print(
            f"dashboards bench skipped: no Superset at {superset_service.url(settings)} (run `make up` first)"
        )
        return
    files = dashboards.read_assets()
    datasets = {str(d["uuid"]): d for p, d in files.items() if p.startswith("datasets/")}
    charts = {str(d["uuid"]): d for p, d in files.items() if p.startswith("charts/")}
    rows: list[dict[str, object]] = []
    with superset_service.admin_client(settings) as client:
        ids = dashboard_access.dataset_ids(client)

        def via_superset(name: str) -> Callable[[], object]:
            body = {
                "datasource": {"id": ids[name], "type": "table"},
                "queries": [
                    {"metrics": [{"expressionType": "SQL", "sqlExpression": "COUNT(*)", "label": "n"}]}
                ],
                "result_format": "json",
                "result_type": "full",
            }
            return lambda: client.post("/api/v1/chart/data", body)

        def direct(sql: str) -> Callable[[], object]:
            def run() -> object:
                with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
                    return connection.sql(f"select count(*) from ({sql})").fetchall()

            return run

        for dataset in datasets.values():
            name = str(dataset["table_name"])
            superset = _p95(_timed(via_superset(name), REPEATS))
            duck = _p95(_timed(direct(dataset["sql"]), REPEATS))
            rows.append({"what": f"chart query p95: {name}", "superset_s": superset, "duckdb_s": duck})
    with sync_playwright() as playwright:
        browser = DashboardBrowser(
            playwright, CHROMIUM, superset_service.url(settings), settings.home / "bench"
        )
        browser.login(superset_service.ADMIN_USER, superset_service.admin_password(settings))
        for path, dashboard in files.items():
            if not path.startswith("dashboards/"):
                continue
            slug = str(dashboard["slug"])
            browser.open(slug)
            load = statistics.median(browser.timed_open(slug) for _ in range(3))
            used = {
                str(charts[part["meta"]["uuid"]]["dataset_uuid"])
                for part in dashboard["position"].values()
                if isinstance(part, dict) and part.get("type") == "CHART"
            }
            start = time.perf_counter()
            for uuid in used:
                direct(datasets[uuid]["sql"])()
            rows.append(
                {
                    "what": f"dashboard load: {slug}",
                    "superset_s": load,
                    "duckdb_s": time.perf_counter() - start,
                }
            )
        browser.close()
    _report(rows)


def _report(rows: list[dict[str, object]]) -> None:
    save_figures("dashboards", rows)
    table = Table(title="Superset against the same queries on DuckDB (same run)")
    for column in ("what", "Superset (s)", "DuckDB direct (s)", "ratio"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for row in rows:
        superset, duck = float(str(row["superset_s"])), float(str(row["duckdb_s"]))
        table.add_row(str(row["what"]), f"{superset:.3f}", f"{duck:.4f}", f"{superset / duck:.0f}×")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
