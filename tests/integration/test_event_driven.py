"""The event-driven path without the Airflow UI, on a real broker: a new TMSD file in the landing folder →
the landing watcher lands and announces it → Airflow's own Kafka `MessageQueueTrigger` (as the asset
watcher runs it) hands over the batch event → its asset event triggers the warehouse DAG (`dag.test()`),
whose task reads the sources from `triggering_asset_events` → a selective dbt build (`source:tmsd+`) →
publish. Then backfills (twice the same warehouse), replay after a broker restart, and `monitorlink
status`."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from kafka import KafkaAdminClient

from monitorlink.cli.main import main
from monitorlink.core.config import Settings, load_settings
from monitorlink.core.lake import Lake
from monitorlink.core.pseudonym import DEV_KEY
from monitorlink.ingest import availability, events
from monitorlink.ingest.delivery_log import delivery_log
from monitorlink.ingest.landing import land
from monitorlink.ops import alert_store, broker, transform, watch
from monitorlink.ops.orchestration import airflow_environment, batch_connections
from monitorlink.ops.recovery import backfill, replay
from monitorlink.ops.watch import watch_once
from monitorlink.simulator import SimulationResult, simulate
from monitorlink.warehouse.build import connect_readonly, exclude_sources, run_dbt
from tests.conftest import free_port
from tests.trigger_runs import first_trigger_event, load_dag_module
from tests.warehouse_checks import warehouse_content

pytestmark = pytest.mark.integration

FIRST = ("2023Q1", "2023Q2", "2023Q3")
NEW = "2023Q4"


@pytest.fixture(scope="module")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(tmp_path_factory.mktemp("simulation"), DEV_KEY.encode())


def _drop(simulation: SimulationResult, settings: Settings, period: str) -> str:
    """Copy one municipality-quarter of the simulated TMSD files into the landing folder."""
    (source,) = sorted((simulation.landing / "tmsd").glob(f"tmsd_jeugd_GM0183_{period}_v1.csv"))
    target = settings.landing_root / "tmsd" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    return source.name


@pytest.fixture
def platform(
    kafka_settings: Settings, simulation: SimulationResult, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Three TMSD quarters landed, announced and built; the Airflow watchers' connections in the env."""
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    monkeypatch.setenv("MONITORLINK_ALERT_NOTIFIERS", "log")
    monkeypatch.setenv("MONITORLINK_BATCH_TOPIC", f"{kafka_settings.availability_topic}.batches")
    settings = load_settings()
    for variable, value in batch_connections(settings).items():
        monkeypatch.setenv(variable, value.replace("monitorlink-airflow-", f"{settings.consumer_group}-"))
    for period in FIRST:
        _drop(simulation, settings, period)
    assert watch_once(settings)["tmsd"] == len(FIRST)
    assert transform.rebuild(settings, []).selected is None, "no warehouse yet: a full build"
    yield settings


def _delivery_files(settings: Settings) -> set[str]:
    with connect_readonly(settings, "restricted") as db:
        rows = db.sql("select distinct delivery_file from restricted.stg_tmsd__trajectories").fetchall()
    return {name for (name,) in rows}


#: What the warehouse DAG builds for a TMSD batch (dags/warehouse.py, README): the nodes downstream of the
#: TMSD source and of the operations marts (delivery logs, alerts), which every landing changes.
TMSD_SELECTION = "source:tmsd+ source:operations+"


@pytest.fixture
def airflow_db(tmp_path: Path, platform: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated Airflow metadata database for this test (Airflow reads AIRFLOW_HOME once per process:
    where an earlier test configured it already, that database is used)."""
    home = tmp_path / "airflow"
    environment = {**airflow_environment(platform), "AIRFLOW_HOME": str(home)}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if "airflow.settings" not in sys.modules:
        airflow = Path(sys.executable).parent / "airflow"
        migrated = subprocess.run(
            [str(airflow), "db", "migrate"], capture_output=True, text=True, check=False
        )
        assert migrated.returncode == 0, migrated.stderr[-2000:]
    return home


def _run_on_asset_events(dag: Any, payloads: dict[str, dict[str, Any]]) -> Any:
    """`dag.test()` as an asset-triggered run: for each source, the asset event its Kafka watcher's trigger
    raises (what the triggerer records: `AssetManager.register_asset_change` with the trigger's payload),
    consumed by the run as the scheduler attaches them (`dag_run.consumed_asset_events`). Airflow then
    hands them to the task as `triggering_asset_events`, exactly as in production."""
    from airflow.assets.manager import AssetManager
    from airflow.models import dagrun
    from airflow.models.asset import AssetModel
    from sqlalchemy import select

    create = dagrun.get_or_create_dagrun

    def with_asset_events(*, session: Any, **arguments: Any) -> Any:
        consumed = []
        for source, payload in payloads.items():
            asset = session.scalar(select(AssetModel).where(AssetModel.name == f"validated_{source}"))
            assert asset is not None, f"the asset validated_{source} was not registered by parsing the DAG"
            event = AssetManager.register_asset_change(
                asset=asset.to_serialized(), extra={"from_trigger": True, "payload": payload}, session=session
            )
            consumed.append(event)
        run = create(session=session, **arguments)
        run.consumed_asset_events.extend(consumed)
        session.commit()
        return run

    with mock.patch.object(dagrun, "get_or_create_dagrun", with_asset_events):
        return dag.test()


def _dbt_selects(settings: Settings, selection: str, resource_types: set[str]) -> set[str]:
    """The unique ids dbt itself selects for `selection` (`dbt ls`), of the given resource types, without
    the sources' own tests, which a selective build leaves to the full build (build.exclude_sources)."""
    scratch = settings.home / "dbt-ls.duckdb"
    arguments = ["ls", "--select", selection, *exclude_sources(selection)]
    arguments += ["--output", "json", "--output-keys", "unique_id"]
    for resource_type in sorted(resource_types):
        arguments += ["--resource-type", resource_type]
    listed = run_dbt(settings, arguments, scratch, "ls-target")
    assert listed.returncode == 0, listed.stdout[-2000:] + listed.stderr[-2000:]
    lines = [line for line in listed.stdout.splitlines() if line.startswith("{")]
    return {json.loads(line)["unique_id"] for line in lines}


def test_a_new_file_flows_from_landing_folder_to_published_warehouse_by_events(
    platform: Settings, simulation: SimulationResult, airflow_db: Path
) -> None:
    from airflow.utils.state import DagRunState

    name = _drop(simulation, platform, NEW)
    assert watch_once(platform) == {"availability": 0, "tmsd": 1, "chain": 0, "education": 0, "cbs": 0}

    # The three batches announced before the build are in the warehouse already: the trigger skips them.
    payload = first_trigger_event("tmsd", timeout_s=120)
    assert (payload["event_type"], payload["delivery"]["file"]) == ("batch_landed", name)

    dag = load_dag_module("warehouse").warehouse()
    run = _run_on_asset_events(dag, {"tmsd": payload})
    assert run.state == DagRunState.SUCCESS, f"see {platform.home / 'dbt' / 'logs' / 'dbt.log'}"
    (instance,) = run.get_task_instances()
    returned = instance.xcom_pull(task_ids="rebuild_warehouse", key="return_value")
    assert (returned["sources"], returned["selected"]) == (["tmsd"], TMSD_SELECTION), (
        "sources_of read the triggering asset events"
    )
    assert _delivery_files(platform) == {f"tmsd_jeugd_GM0183_{p}_v1.csv" for p in (*FIRST, NEW)}

    run_results = json.loads((platform.home / "dbt" / "target" / "run_results.json").read_text())
    built = {node["unique_id"] for node in run_results["results"]}
    kinds = {node.split(".")[0] for node in built}
    assert "model" in kinds and "seed" not in kinds
    assert built == _dbt_selects(platform, TMSD_SELECTION, kinds), "exactly what dbt selects, nothing else"
    assert {"model.monitorlink.fct_trajectory_flow", "model.monitorlink.fct_delivery_quality"} <= built
    assert "model.monitorlink.stg_availability__events" not in built, "what TMSD does not feed stays"
    with connect_readonly(platform) as published:
        quarters = published.sql(
            "select count(distinct period_key) from published.pub_trajectory_flow"
        ).fetchone()
    assert quarters is not None and quarters[0] >= len(FIRST) + 1


def test_a_source_that_fails_to_land_stops_no_other(
    kafka_settings: Settings, simulation: SimulationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    monkeypatch.setenv("MONITORLINK_BATCH_TOPIC", f"{kafka_settings.availability_topic}.batches")
    monkeypatch.setenv("MONITORLINK_ALERT_NOTIFIERS", "log")
    settings = load_settings()
    _drop(simulation, settings, NEW)
    chain = min((simulation.landing / "chain").glob("keten_*_v1.json"))
    (settings.landing_root / "chain").mkdir(parents=True)
    shutil.copy(chain, settings.landing_root / "chain" / chain.name)

    def land_but_tmsd(settings: Settings, source: str) -> object:
        if source == "tmsd":
            raise OSError("the TMSD share is not mounted")  # injected: a fault of one source only
        return land(settings, source)

    monkeypatch.setattr(watch, "land", land_but_tmsd)
    assert watch_once(settings) == {"availability": 0, "tmsd": 0, "chain": 1, "education": 0, "cbs": 0}
    assert watch_once(settings)["chain"] == 0
    (failure,) = alert_store.AlertStore(settings).open_alerts().values()
    assert (failure.kind, failure.subject) == ("pipeline_failure", "tmsd/watch"), "opened once, not per round"
    assert "the TMSD share is not mounted" in failure.summary
    monkeypatch.setattr(watch, "land", land)
    assert watch_once(settings)["tmsd"] == 1, "the next round lands what the failed one left"
    assert alert_store.AlertStore(settings).open_alerts() == {}, "landing again resolves the alert"


def test_a_backfill_twice_gives_the_same_warehouse(platform: Settings) -> None:
    lake = Lake(platform.lake_root)
    logged = [o.batch_id for o in delivery_log(lake, "tmsd")]
    first = backfill(platform, "tmsd", "2023Q1", "2023Q2")
    assert [o.name for o in first] == [f"tmsd_jeugd_GM0183_{p}_v1.csv" for p in ("2023Q1", "2023Q2")]
    transform.rebuild(platform, ["tmsd"])
    after_first = warehouse_content(platform.restricted_warehouse_path)

    backfill(platform, "tmsd", "2023Q1", "2023Q2")
    transform.rebuild(platform, ["tmsd"])
    assert warehouse_content(platform.restricted_warehouse_path) == after_first
    assert [o.batch_id for o in delivery_log(lake, "tmsd")] == logged, "same batches, one log line each"
    assert _delivery_files(platform) == {f"tmsd_jeugd_GM0183_{p}_v1.csv" for p in FIRST}
    with pytest.raises(ValueError, match="no landed tmsd deliveries in 2030Q1–2030Q4"):
        backfill(platform, "tmsd", "2030Q1", "2030Q4")


def test_status_reports_every_source_for_machines(platform: Settings) -> None:
    sink = io.StringIO()
    with redirect_stdout(sink):
        assert main(["status", "--json"]) == 0
    report = json.loads(sink.getvalue())
    rows = {row["source"]: row for row in report["sources"]}
    assert set(rows) == {"availability", "tmsd", "chain", "education", "cbs"}
    tmsd = rows["tmsd"]
    assert (tmsd["batches"], tmsd["unannounced"]) == (len(FIRST), 0)
    # landed just now, so on time by the landing clock (tmsd.v1.yaml: every 92 days + grace 31) ...
    assert tmsd["sla_hours"] == (92 + 31) * 24 and tmsd["age_hours"] < 1
    # ... but its newest quarter, 2023Q3, ended years ago: late by the data clock (+ lag 45 days)
    assert (tmsd["newest_period"], tmsd["data_until"], tmsd["data_sla_days"]) == (
        "2023Q3",
        "2023-09-30",
        92 + 45 + 31,
    )
    ended = datetime(2023, 10, 1, tzinfo=UTC)
    assert tmsd["data_age_days"] == pytest.approx(
        (datetime.now(UTC) - ended).total_seconds() / 86_400, abs=0.1
    )
    assert tmsd["late"] and tmsd["late_reason"].startswith("newest data ends 2023-09-30, ")
    assert "(policy: every 92 + lag 45 + grace 31)" in tmsd["late_reason"]
    assert "no delivery" not in tmsd["late_reason"], "the landing clock is not what makes it late"
    chain = rows["chain"]
    assert chain["late"] and chain["last_batch"] is None, "never landed is late"
    assert chain["data_sla_days"] == 31 + 15 + 14, "chain.v1.yaml: every 31 + lag 15 + grace 14"
    assert (chain["late_reason"], chain["newest_period"], chain["data_until"]) == ("never landed", None, None)
    assert report["ingester_pending_events"] == 0 and report["dag_runs"] == []


@pytest.fixture
def own_broker(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """An embedded broker of this test's own, so restarting it disturbs nobody else."""
    monkeypatch.setenv("MONITORLINK_BROKER_PORT", str(free_port()))
    monkeypatch.setenv("MONITORLINK_ALERT_NOTIFIERS", "log")
    own = load_settings()
    broker.require(own)
    yield own
    broker.stop(own)


def test_replay_after_a_broker_restart_loses_nothing(own_broker: Settings) -> None:
    settings = own_broker
    pulled = availability.pull(settings)
    published = availability.publish(settings, pulled)
    expected = sum(len(item.messages) for item in published)
    broker.stop(settings)  # the in-memory broker forgets every event before the ingester saw one
    broker.require(settings)

    report = replay(settings)
    assert report.availability_events == expected
    stats = availability.ingest(settings)
    assert (stats.validated + stats.quarantined, stats.quarantined) == (expected, 0)
    assert replay(settings).availability_events == 0, "everything landed: nothing left to replay"

    events.announce(settings, "availability")
    broker.stop(settings)
    broker.require(settings)
    (batch,) = events.lake_batches(Lake(settings.lake_root), "availability")
    assert replay(settings).batch_events["availability"] == 1, "no warehouse yet: every batch is unbuilt"
    replayed = events.lake_batches(Lake(settings.lake_root), "availability")
    assert [dataclasses.asdict(b) for b in replayed] == [dataclasses.asdict(batch)]

    broker.stop(settings)
    broker.require(settings)
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        topics = admin.list_topics()
    finally:
        admin.close()
    assert settings.batch_topic in topics, "a restarted broker has the topic the asset watchers subscribe to"
