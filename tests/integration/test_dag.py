"""Every DAG, run for real with `dag.test()`: availability against the session broker, the others on
simulated deliveries and the loopback CBS server, then the warehouse DAG; plus DAG hygiene."""

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

from connectors.availability import fetch_snapshot, snapshot_events
from monitorlink.core.config import PROJECT_ROOT, SOURCE_NAMES, Settings, load_settings
from monitorlink.core.lake import Lake
from monitorlink.core.pseudonym import DEV_KEY
from monitorlink.ingest.delivery_log import delivery_log
from monitorlink.ingest.events import announced, lake_batches
from monitorlink.ops.orchestration import airflow_environment
from monitorlink.simulator import SimulationResult, simulate
from monitorlink.simulator.cbs import CbsServer
from monitorlink.warehouse.build import connect_readonly
from tests.availability_truth import youth_offers
from tests.conftest import SNAPSHOT_AUG_06, SNAPSHOT_AUG_14

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A migrated SQLite metadata database; set before Airflow is first imported in this process."""
    home = tmp_path_factory.mktemp("airflow")
    environment = {**airflow_environment(load_settings()), "AIRFLOW_HOME": str(home)}
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


@pytest.fixture
def batch_topic(kafka_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The session broker with a batch topic of this test's own."""
    monkeypatch.setenv("MONITORLINK_BATCH_TOPIC", f"{kafka_settings.availability_topic}.batches")
    monkeypatch.setenv("MONITORLINK_ALERT_NOTIFIERS", "log")
    return load_settings()


def _warehouse_dag_builds(settings: Settings) -> None:
    """The warehouse DAG, run by hand (no asset events): a full build, published."""
    from airflow.utils.state import DagRunState

    dag = _load_dag_module("warehouse").warehouse()
    assert [task.task_id for task in dag.tasks] == ["rebuild_warehouse"]
    assert dag.test().state == DagRunState.SUCCESS
    assert settings.warehouse_path.exists() and settings.restricted_warehouse_path.exists()


def test_availability_dag_lands_and_announces_the_snapshots_and_the_warehouse_dag_builds(
    airflow_home: Path, batch_topic: Settings
) -> None:
    from airflow.utils.state import DagRunState

    dag = _load_dag_module("availability").availability()
    assert [task.task_id for task in dag.topological_sort()] == [
        "pull_snapshots",
        "publish_events",
        "land_events",
        "announce_batches",
        "check_snapshots",
    ]
    run = dag.test()
    assert run.state == DagRunState.SUCCESS
    assert (
        announced(batch_topic, "availability")
        == {b.batch_id for b in lake_batches(Lake(batch_topic.lake_root), "availability")}
        != set()
    )
    _warehouse_dag_builds(batch_topic)
    with connect_readonly(batch_topic) as db:
        aug_06 = {e["offer_key"] for e in snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_06)))}
        aug_14 = {e["offer_key"] for e in snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14)))}
        by_type = "select event_type, count(*) from fct_availability_history group by 1 order by 1"
        assert db.sql(by_type).fetchall() == [("figure", 260), ("withdrawal", len(aug_06 - aug_14))]
        owing = db.sql("select count(*) from fct_offer_wait_norm where herstelplan_required").fetchone()
        truth = youth_offers(SNAPSHOT_AUG_06, SNAPSHOT_AUG_14)
        assert owing == (sum(offer.herstelplan for offer in truth),), "as the snapshots' JSON says"

    second = dag.test()
    assert second.state == DagRunState.SUCCESS, "a re-run on the same snapshots is a no-op, not a failure"
    assert len(lake_batches(Lake(batch_topic.lake_root), "availability")) == 1


def test_every_dag_imports_cleanly_and_carries_owner_tags_retries_alerting_and_docs(
    airflow_home: Path,
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))  # examples are off: AIRFLOW__CORE__LOAD_EXAMPLES
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {path.stem for path in (PROJECT_ROOT / "dags").glob("*.py")}
    for dag in bag.dags.values():
        assert dag.tags and dag.doc_md and dag.max_active_runs == 1, dag.dag_id
        assert dag.on_success_callback is not None, dag.dag_id
        for task in dag.tasks:
            assert task.owner == "monitorlink" and (task.retries or 0) >= 1, (dag.dag_id, task.task_id)
            assert task.retry_exponential_backoff and task.on_failure_callback, (dag.dag_id, task.task_id)


def test_the_warehouse_dag_is_scheduled_on_every_source_asset_with_a_kafka_watcher(
    airflow_home: Path,
) -> None:
    dag = _load_dag_module("warehouse").warehouse()
    assets = {asset.name: asset for asset in dag.timetable.asset_condition.objects}
    assert set(assets) == {f"validated_{name}" for name in SOURCE_NAMES}
    for name in SOURCE_NAMES:
        (watcher,) = assets[f"validated_{name}"].watchers
        classpath, kwargs = watcher.trigger.serialize()
        assert classpath.endswith("AwaitMessageTrigger")
        assert kwargs["apply_function"] == "monitorlink.ops.triggers.landed_batch_of"
        assert kwargs["apply_function_kwargs"] == {"source": name}
        assert kwargs["kafka_config_id"] == f"monitorlink_batches_{name}"


# Parsing a DAG file must not reach a database, the network or the pipeline code: run in a fresh
# interpreter with those doors shut, it must still import, and none of the heavy modules may be loaded.
_PARSE_PROBE = """
import socket, sqlite3, sys, importlib.util
def refuse(*args, **kwargs):
    raise RuntimeError("top-level I/O while parsing a DAG file")
socket.socket.connect = refuse
socket.create_connection = refuse
sqlite3.connect = refuse
import duckdb
duckdb.connect = refuse
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("probe", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
heavy = (
    "great_expectations", "pandas", "dbt", "openpyxl",
    "monitorlink.ingest.deliveries", "monitorlink.warehouse.build",
)
print(",".join(sorted(name for name in heavy if name in set(sys.modules) - before)))
"""


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "dags").glob("*.py")), ids=lambda p: p.stem)
def test_parsing_a_dag_file_does_no_io_and_loads_no_pipeline_code(airflow_home: Path, path: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", _PARSE_PROBE, str(path)], capture_output=True, text=True, check=False
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    assert probe.stdout.strip() == "", f"{path.name} loaded {probe.stdout.strip()} while parsing"


@pytest.fixture(scope="module")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    """One simulated Twente, written once for the DAG tests (the DAGs only read a few of its files)."""
    return simulate(tmp_path_factory.mktemp("simulation"), DEV_KEY.encode())


def test_each_delivery_dag_lands_and_announces_its_source_and_the_warehouse_dag_builds(
    airflow_home: Path, batch_topic: Settings, simulation: SimulationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.utils.state import DagRunState

    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    settings = batch_topic
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
        for source in models:
            dag = getattr(_load_dag_module(source), source)
            assert [task.task_id for task in dag.topological_sort()] == [
                "land_deliveries",
                "announce_batches",
            ]
            assert dag.test().state == DagRunState.SUCCESS, source
            landed = {b.batch_id for b in lake_batches(Lake(settings.lake_root), source)}
            assert landed and announced(settings, source) == landed, source
    _warehouse_dag_builds(settings)
    for source, model in models.items():
        validated = [o for o in delivery_log(Lake(settings.lake_root), source) if o.outcome == "validated"]
        with connect_readonly(settings, "restricted") as db:
            files = db.sql(f"select count(distinct delivery_file) from {model}").fetchone()
        assert files == (len(validated),), source
    assert {o.name for o in delivery_log(Lake(settings.lake_root), "tmsd")} == {
        p.name for p in (landing / "tmsd").iterdir()
    }
