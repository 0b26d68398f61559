"""The shape every file/API source's Airflow DAG shares: land new deliveries, then rebuild the warehouse.

One DAG file per source (`dags/tmsd.py`, `dags/chain.py`, `dags/education.py`, `dags/cbs.py`) calls
`delivery_dag` with its own schedule and docs, so the files stay thin and identical in shape. Imports of
the pipeline code happen inside the tasks: parsing a DAG file touches no lake, database or network.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, dag, task

from monitorlink.orchestration import default_args


@task
def build_warehouse(landed: Any) -> str:
    """Rebuild and publish the warehouse; `landed` only orders it after landing (the build reads the lake)."""
    from monitorlink.config import load_settings
    from monitorlink.warehouse import build

    return str(build(load_settings()).published_path)


def delivery_dag(source: str, schedule: str, doc_md: str | None) -> DAG:
    """land_deliveries → build_warehouse for one source (cbs fetches; others read their landing folder)."""

    @dag(
        dag_id=source,
        schedule=schedule,
        start_date=pendulum.datetime(2026, 8, 1, tz="Europe/Amsterdam"),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=[source, "deliveries", "warehouse"],
        doc_md=doc_md,
    )
    def pipeline() -> None:
        @task
        def land_deliveries() -> list[dict[str, Any]]:
            from monitorlink.config import load_settings
            from monitorlink.pipelines import deliveries

            settings = load_settings()
            if source == "cbs":
                return deliveries.as_dicts(deliveries.pull_cbs(settings))
            return deliveries.as_dicts(deliveries.land_folder(settings, source))

        build_warehouse(land_deliveries())

    built: DAG = pipeline()
    return built
