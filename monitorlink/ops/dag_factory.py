"""The shapes the DAGs share: landing DAGs that announce batches, and assets that trigger the warehouse.

Ingestion and transformation meet only through batch events on Kafka (`monitorlink.ingest.events`):
- one landing DAG per file/API source (`dags/tmsd.py`, …) lands new deliveries and announces them;
- one Airflow asset per source (`validated_<source>`) carries an `AssetWatcher` whose Kafka
  `MessageQueueTrigger` turns a `batch_landed` event of that source into an asset event;
- the warehouse DAG (`dags/warehouse.py`) is scheduled on any of those assets and rebuilds only what the
  triggering sources feed.

Imports of the pipeline code happen inside the tasks and callbacks: parsing a DAG file touches no lake,
database or network (the hygiene tests check this).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger
from airflow.sdk import DAG, Asset, AssetWatcher, dag, task

from monitorlink.core.config import batch_connection_id, load_settings

START = pendulum.datetime(2026, 8, 1, tz="Europe/Amsterdam")
ASSET_PREFIX = "validated_"


def source_asset(source: str) -> Asset:
    """A source's validated data in the lake, watched on the batch topic for its `batch_landed` events.

    Each source's trigger consumes the topic in its own consumer group (its own Airflow connection), so
    no watcher takes another source's events away. A trigger hands over one event per cycle: fine for
    batch notifications, which is all this topic carries.
    """
    trigger = MessageQueueTrigger(
        scheme="kafka",
        topics=[load_settings().batch_topic],
        apply_function="monitorlink.ops.triggers.landed_batch_of",
        apply_function_kwargs={"source": source},
        kafka_config_id=batch_connection_id(source),
        poll_interval=0.01,  # the pause after a message for another source: none needed
    )
    return Asset(
        name=f"{ASSET_PREFIX}{source}",
        uri=f"monitorlink://lake/validated/{source}",
        group="lake",
        watchers=[AssetWatcher(name=f"batches_{source}", trigger=trigger)],
    )


def sources_of(triggering_asset_events: Any) -> list[str]:
    """The sources whose assets triggered this run (empty for a manual or test run)."""
    names = (getattr(asset, "name", "") for asset in triggering_asset_events or ())
    return sorted(name.removeprefix(ASSET_PREFIX) for name in names if name.startswith(ASSET_PREFIX))


def pipeline_failed(context: Any) -> None:
    """Task failure callback (after the last retry): open the pipeline's failure alert."""
    from monitorlink.ops import alerts

    ti = context["ti"]
    # A task the scheduler fails (killed, timed out) carries no exception; the task log has the story.
    error = context.get("exception") or "no exception was passed; see the task's log in Airflow"
    alerts.pipeline_failed(load_settings(), ti.dag_id, ti.task_id, str(error))


def pipeline_succeeded(context: Any) -> None:
    """DAG success callback: resolve the pipeline's failure alert, if one is open."""
    from monitorlink.ops import alerts

    alerts.pipeline_succeeded(load_settings(), context["dag"].dag_id)


def default_args() -> dict[str, Any]:
    """Task defaults: retries with exponential back-off, and a failure alert after the last retry."""
    return {
        "owner": "monitorlink",
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "on_failure_callback": pipeline_failed,
    }


def dag_arguments(dag_id: str, schedule: Any, tags: list[str], doc_md: str | None) -> dict[str, Any]:
    """What every monitorlink DAG sets: owner, retries with back-off, alerting callbacks, docs, tags."""
    return {
        "dag_id": dag_id,
        "schedule": schedule,
        "start_date": START,
        "catchup": False,
        "max_active_runs": 1,
        "default_args": default_args(),
        "on_success_callback": pipeline_succeeded,
        "tags": tags,
        "doc_md": doc_md,
    }


@task
def announce_batches(source: str, landed: Any) -> int:
    """Publish the batch events of what landed (`landed` only orders this after landing)."""
    from monitorlink.ingest import events

    return len(events.announce(load_settings(), source))


def delivery_dag(source: str, schedule: str, doc_md: str | None) -> DAG:
    """land_deliveries → announce_batches for one delivery source (from its landing folder or its API)."""

    @dag(**dag_arguments(source, schedule, [source, "deliveries", "ingestion"], doc_md))
    def pipeline() -> None:
        @task
        def land_deliveries() -> list[dict[str, Any]]:
            from monitorlink.ingest import landing as deliveries

            return deliveries.as_dicts(deliveries.land(load_settings(), source))

        announce_batches(source, land_deliveries())

    built: DAG = pipeline()
    return built
