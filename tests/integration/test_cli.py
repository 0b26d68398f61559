"""The command line: one-line errors, and `run` going on when sources fail (the whole run is in
test_simulated_run.py)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import duckdb
import pytest

from monitorlink.cli.main import main
from monitorlink.core.config import Settings, load_settings
from monitorlink.ops.alert_store import AlertStore
from tests.conftest import SNAPSHOT_AUG_14, environment, free_port
from tests.integration.conftest import UNSET, SimulatedRun

pytestmark = pytest.mark.integration

FILE_SOURCES = ("tmsd", "chain", "education")


def test_errors_are_one_readable_line_and_exit_1(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build"]) == 1
    assert "error: nothing to build from: no validated data" in capsys.readouterr().out


def test_a_threshold_that_switches_protection_off_is_one_line_naming_the_variable(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITORLINK_SUPPRESSION_THRESHOLD", "1")
    assert main(["build"]) == 1
    printed = capsys.readouterr().out.strip()
    assert printed.startswith(
        "error: MONITORLINK_SUPPRESSION_THRESHOLD=1 would switch disclosure control off"
    )
    assert "Traceback" not in printed


@pytest.fixture(scope="module")
def partial_run(
    simulated_run: SimulatedRun, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, str, Path]:
    """`monitorlink run` with CBS unreachable and one snapshot path missing, on the simulator's files."""
    home = tmp_path_factory.mktemp("partial-run")
    missing = home / "no-such-snapshot.json"
    values = {
        "MONITORLINK_HOME": str(home),
        "MONITORLINK_DEV_MODE": "1",
        "MONITORLINK_BROKER_PORT": str(free_port()),
        "MONITORLINK_LANDING_ROOT": str(simulated_run.simulation_root / "landing"),
        "MONITORLINK_CBS_V3_URL": f"http://127.0.0.1:{free_port()}/v3",  # nothing listens there
        "MONITORLINK_CBS_V4_URL": f"http://127.0.0.1:{free_port()}/v4",
        "MONITORLINK_HTTP_RETRIES": "0",
        "MONITORLINK_AVAILABILITY_SNAPSHOTS": f"{SNAPSHOT_AUG_14},{missing}",
        "MONITORLINK_ALERT_NOTIFIERS": "log",
    }
    sink = io.StringIO()
    with environment(values, unset=UNSET), redirect_stdout(sink):
        code = main(["run"])
    return code, sink.getvalue(), home


def test_run_goes_on_when_cbs_is_unreachable_and_a_snapshot_is_missing(
    partial_run: tuple[int, str, Path], simulated_run: SimulatedRun
) -> None:
    code, output, home = partial_run
    assert code == 3, output[-3000:]
    assert "cbs failed:" in output and "availability failed:" in output
    assert "no-such-snapshot.json" in output
    assert "monitorlink run --skip cbs" in output  # the next step is named
    assert "Traceback" not in output
    landing = simulated_run.simulation_root / "landing"
    for source in FILE_SOURCES:
        delivered = {path.name for path in (landing / source).iterdir() if path.is_file()}
        log = home / "lake" / "raw" / source / "deliveries.jsonl"
        logged = {json.loads(line)["name"] for line in log.read_text(encoding="utf-8").splitlines()}
        assert logged == delivered, f"{source}: every delivered file is in its log"
    assert not (home / "lake" / "raw" / "cbs" / "deliveries.jsonl").exists()


def test_what_landed_was_built_and_each_failure_opened_an_alert(partial_run: tuple[int, str, Path]) -> None:
    _, _, home = partial_run
    with duckdb.connect(str(home / "warehouse" / "analysts" / "monitorlink.duckdb"), read_only=True) as db:
        trajectories = db.sql("select count(*) from main.fct_trajectory_flow").fetchone()
        offers = db.sql("select count(*) from published.fct_availability_current").fetchone()
    assert trajectories is not None and trajectories[0] > 0, "the file sources were built"
    assert offers is not None and offers[0] > 0, "the snapshot that could be read was built"
    with environment({"MONITORLINK_HOME": str(home)}):
        open_alerts = AlertStore(load_settings()).open_alerts().values()
    failures = {alert.subject for alert in open_alerts if alert.kind == "pipeline_failure"}
    assert failures == {"cbs/run", "availability/run"}


def test_without_a_broker_file_sources_still_land_and_every_failure_is_named(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No broker, CBS unreachable, and nothing valid to build: each says so, and the exit code is 1."""
    delivery = settings.landing_root / "tmsd" / "tmsd_jeugd_GM0153_2024Q1_v1.csv"
    delivery.parent.mkdir(parents=True)
    delivery.write_text("not a TMSD delivery\n", encoding="utf-8")
    for name, value in {
        "MONITORLINK_DEV_MODE": "1",
        "MONITORLINK_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",  # a cluster nobody runs
        "MONITORLINK_CBS_V3_URL": f"http://127.0.0.1:{free_port()}/v3",
        "MONITORLINK_CBS_V4_URL": f"http://127.0.0.1:{free_port()}/v4",
        "MONITORLINK_HTTP_RETRIES": "0",
        "MONITORLINK_ALERT_NOTIFIERS": "log",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["run", "--only", "tmsd", "--only", "cbs"]) == 1
    output = capsys.readouterr().out
    assert "tmsd: landing: 1 new deliveries, 1 quarantined" in output, "the file source needs no broker"
    log = settings.lake_root / "raw" / "tmsd" / "deliveries.jsonl"
    assert [json.loads(line)["name"] for line in log.read_text(encoding="utf-8").splitlines()] == [
        delivery.name
    ]
    assert "cbs failed:" in output and "monitorlink run --skip cbs" in output
    assert "announce failed: broker unavailable" in output
    assert "build failed: nothing to build from" in output
    assert "Exit code 1" in output and "were built" not in output
    assert "Traceback" not in output
