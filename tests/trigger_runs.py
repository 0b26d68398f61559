"""Run an asset's real Airflow trigger outside Airflow, as its triggerer would (tests and `bench/`), and
load a DAG file as Airflow's parser does."""

from __future__ import annotations

import asyncio
import importlib.util
from types import ModuleType
from typing import Any

from monitorlink.core.config import PROJECT_ROOT


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


def load_dag_module(name: str) -> ModuleType:
    """Import `dags/<name>.py` as a module of its own (the DAG folder is no package)."""
    spec = importlib.util.spec_from_file_location(f"dag_{name}", PROJECT_ROOT / "dags" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
