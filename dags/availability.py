"""Availability pipeline: pull the providers' published waiting times, publish them as `availability.v1`
events on Kafka, let the ingester land them (quality gate → validated or quarantine zone), then rebuild
and publish the warehouse.

Thin by design: every task calls `monitorlink.pipelines.availability`; imports happen inside tasks so
parsing this file stays fast and touches no database, broker or network.
"""

# TaskFlow passes XComArg where the task signatures name the value it resolves to at run time.
# mypy: disable-error-code="arg-type"
from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import dag, task

from monitorlink.dag_factory import build_warehouse
from monitorlink.orchestration import default_args


@dag(
    dag_id="availability",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 8, 1, tz="Europe/Amsterdam"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["availability", "kafka", "warehouse"],
    doc_md=__doc__,
)
def availability() -> None:
    """Pull → publish → land → build."""

    @task
    def pull_snapshots() -> list[dict[str, Any]]:
        from monitorlink import broker
        from monitorlink.config import load_settings
        from monitorlink.pipelines import availability as pipeline

        settings = load_settings()
        broker.require(settings)
        return pipeline.as_dicts(pipeline.pull(settings))

    @task
    def publish_events(pulled: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from monitorlink.config import load_settings
        from monitorlink.pipelines import availability as pipeline

        snapshots = [pipeline.PulledSnapshot(**item) for item in pulled]
        published = pipeline.publish(load_settings(), snapshots)
        return pipeline.as_dicts([ref for item in published for ref in item.messages])

    @task
    def land_events(messages: list[dict[str, Any]]) -> dict[str, int]:
        from monitorlink.config import load_settings
        from monitorlink.pipelines import availability as pipeline
        from monitorlink.streams import MessageRef

        stats = pipeline.land(load_settings(), [MessageRef(**item) for item in messages])
        return {"validated": stats.validated, "quarantined": stats.quarantined, "consumed": stats.consumed}

    build_warehouse(land_events(publish_events(pull_snapshots())))


availability()
