"""Warehouse: rebuild and publish what changed, whenever a source announces a landed batch.

Scheduled on the assets `validated_<source>`, each watched on the batch topic
(`MONITORLINK_BATCH_TOPIC`) by a Kafka `MessageQueueTrigger`: a `batch_landed` event of a source becomes
an asset event, and this DAG runs `dbt build --select source:<source>+ source:operations+` for the sources
that triggered it (and the operations marts, which read the delivery logs and alerts), into a copy of the
current warehouse, then publishes with an atomic swap and runs the alert checks.
A manual run with no asset events builds everything. See `docs/operations.md`.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import AssetAny, dag, get_current_context, task

from monitorlink.core.config import SOURCE_NAMES
from monitorlink.ops.dag_factory import dag_arguments, source_asset, sources_of


@dag(
    **dag_arguments(
        "warehouse",
        AssetAny(*(source_asset(name) for name in SOURCE_NAMES)),
        ["warehouse", "dbt", "assets"],
        __doc__,
    )
)
def warehouse() -> None:
    """rebuild_warehouse: selective dbt build, atomic publish, alert checks."""

    @task
    def rebuild_warehouse() -> dict[str, Any]:
        from monitorlink.core.config import load_settings
        from monitorlink.ops import transform

        sources = sources_of(get_current_context().get("triggering_asset_events"))
        result = transform.rebuild(load_settings(), sources)
        return {"sources": sources, "selected": result.selected, "seconds": round(result.seconds, 1)}

    rebuild_warehouse()


warehouse()
