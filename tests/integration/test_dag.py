"""Every DAG, run for real with `dag.test()`: availability against the session broker, the others on
simulated deliveries and the loopback CBS server; plus DagBag hygiene."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from monitorlink.config import PROJECT_ROOT, Settings
from monitorlink.deliveries import delivery_log
from monitorlink.lake import Lake
from monitorlink.orchestration import airflow_environment
from monitorlink.pseudonym import DEV_KEY
from monitorlink.simulator import SimulationResult, simulate
from monitorlink.simulator.cbs import CbsServer
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


@pytest.fixture(scope="module")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    """One simulated Twente, written once for the DAG tests (the DAGs only read a few of its files)."""
    return simulate(tmp_path_factory.mktemp("simulation"), DEV_KEY.encode())


def test_each_delivery_dag_lands_its_source_and_publishes_the_warehouse(
    airflow_home: Path, settings: Settings, simulation: SimulationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.utils.state import DagRunState

    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    landing = settings.home / "landing"
    for source, pattern in {
        "tmsd": "*GM0183_2023Q*",
        "chain": "*_2023-0[12]_v1*",
        "education": "*2301_2023Q1*",
    }.items():
        (landing / source).mkdir(parents=True)
        for path in sorted((simulation.landing / source).glob(pattern)):
            shutil.copy(path, landing / source / path.name)
    with CbsServer(simulation.cbs_tables) as server:
        monkeypatch.setenv("MONITORLINK_CBS_V3_URL", server.v3_url)
        monkeypatch.setenv("MONITORLINK_CBS_V4_URL", server.v4_url)
        models = {
            "tmsd": "restricted.stg_tmsd__trajectories",
            "chain": "restricted.stg_chain__milestones",
            "education": "stg_education__pupils",
            "cbs": "stg_cbs__observations",
        }
        for source, model in models.items():
            dag = getattr(_load_dag_module(source), source)
            assert [task.task_id for task in dag.tasks] == ["land_deliveries", "build_warehouse"]
            assert dag.test().state == DagRunState.SUCCESS, source
            validated = [
                o for o in delivery_log(Lake(settings.lake_root), source) if o.outcome == "validated"
            ]
            assert validated, source
            with connect_readonly(settings, restricted=True) as db:
                files = db.sql(f"select count(distinct delivery_file) from {model}").fetchone()
            assert files == (len(validated),), source
    assert {o.name for o in delivery_log(Lake(settings.lake_root), "tmsd")} == {
        p.name for p in (landing / "tmsd").iterdir()
    }
