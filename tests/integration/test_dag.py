"""The availability DAG, run for real with `dag.test()` against the session broker."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from monitorlink.config import PROJECT_ROOT, Settings
from monitorlink.orchestration import airflow_environment
from monitorlink.warehouse import connect_readonly

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A migrated SQLite metadata database; set before Airflow is first imported in this process."""
    home = tmp_path_factory.mktemp("airflow")
    environment = {**airflow_environment(home), "AIRFLOW_HOME": str(home)}
    previous = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)
    airflow = Path(sys.executable).parent / "airflow"
    migrated = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, check=False)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    yield home
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _load_dag_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"dag_{name}", PROJECT_ROOT / "dags" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_availability_dag_lands_the_snapshots_and_publishes_the_warehouse(
    airflow_home: Path, kafka_settings: Settings
) -> None:
    from airflow.utils.state import DagRunState

    dag = _load_dag_module("availability").availability()
    assert {task.task_id for task in dag.tasks} == {
        "pull_snapshots",
        "publish_events",
        "land_events",
        "build_warehouse",
    }
    run = dag.test()
    assert run.state == DagRunState.SUCCESS
    with connect_readonly(kafka_settings) as db:
        assert db.sql("select count(*) from fct_availability_history").fetchone() == (260,)
        assert db.sql("select count(*) from fct_offer_wait_norm where herstelplan_required").fetchone()[0] > 0  # type: ignore[index]

    second = dag.test()
    assert second.state == DagRunState.SUCCESS, "a re-run on the same snapshots is a no-op, not a failure"
    with connect_readonly(kafka_settings) as db:
        assert db.sql("select count(*) from fct_availability_history").fetchone() == (260,)


def test_every_dag_imports_cleanly_and_carries_owner_tags_retries_and_docs(airflow_home: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))  # examples are off: AIRFLOW__CORE__LOAD_EXAMPLES
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {path.stem for path in (PROJECT_ROOT / "dags").glob("*.py")}
    for dag in bag.dags.values():
        assert dag.tags and dag.doc_md, dag.dag_id
        for task in dag.tasks:
            assert task.owner == "monitorlink" and (task.retries or 0) >= 1, (dag.dag_id, task.task_id)
