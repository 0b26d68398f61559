"""Run an asset's real Airflow trigger outside Airflow, as its triggerer would (tests and `bench/`)."""

from __future__ import annotations

import asyncio
from typing import Any


def first_trigger_event(source: str, timeout_s: float) -> dict[str, Any]:
    """Run the source asset's Kafka `MessageQueueTrigger` until it fires; returns the event's payload."""
    # Imported here: Airflow reads AIRFLOW_HOME once, at first import, and test_dag.py sets its own.
    from monitorlink.ops.dag_factory import source_asset

    (watcher,) = source_asset(source).watchers

    async def first() -> dict[str, Any]:
        async for event in watcher.trigger.run():
            payload: dict[str, Any] = event.payload
            return payload
        raise AssertionError("the trigger stopped without an event")

    return asyncio.run(asyncio.wait_for(first(), timeout_s))
