"""Availability pipeline: pull the providers' published waiting times, publish them as `availability.v1`
events on Kafka, let the ingester land them (quality gate → validated or quarantine zone), then announce
the landed batches on the batch topic, which triggers the `warehouse` DAG.

Thin by design: every task calls `monitorlink.ingest.availability`; imports happen inside tasks so
parsing this file stays fast and touches no database, broker or network.
"""

# TaskFlow passes XComArg where the task signatures name the value it resolves to at run time.
# mypy: disable-error-code="arg-type"
from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from monitorlink.ops.dag_factory import announce_batches, dag_arguments


@dag(**dag_arguments("availability", "@daily", ["availability", "kafka", "ingestion"], __doc__))
def availability() -> None:
    """Pull → publish → land → announce → check that every snapshot could be pulled."""

    @task
    def pull_snapshots() -> list[dict[str, Any]]:
        from monitorlink.core.config import load_settings
        from monitorlink.ingest import availability as pipeline
        from monitorlink.ops import broker

        settings = load_settings()
        broker.require(settings)
        return pipeline.as_dicts(pipeline.pull(settings))

    @task
    def publish_events(pulled: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from monitorlink.core.config import load_settings
        from monitorlink.ingest import availability as pipeline

        snapshots = [pipeline.PulledSnapshot(**item) for item in pulled]
        published = pipeline.publish(load_settings(), snapshots)
        return pipeline.as_dicts([ref for item in published for ref in item.messages])

    @task
    def land_events(messages: list[dict[str, Any]]) -> dict[str, int]:
        from monitorlink.core.config import load_settings
        from monitorlink.ingest import availability as pipeline
        from monitorlink.ingest.kafka_clients import MessageRef

        stats = pipeline.land(load_settings(), [MessageRef(**item) for item in messages])
        return {"validated": stats.validated, "quarantined": stats.quarantined, "consumed": stats.consumed}

    @task
    def check_snapshots(pulled: list[dict[str, Any]], announced: int) -> None:
        """Fail the run, after the good snapshots have landed, when one of them could not be pulled."""
        from airflow.exceptions import AirflowFailException

        failed = [f"{item['origin']}: {item['error']}" for item in pulled if item["error"]]
        if failed:
            raise AirflowFailException("; ".join(failed))

    pulled = pull_snapshots()
    check_snapshots(pulled, announce_batches("availability", land_events(publish_events(pulled))))


availability()
