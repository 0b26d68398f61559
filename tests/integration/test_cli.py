"""`monitorlink run` — what `make run` does — on its own embedded broker, twice."""

from __future__ import annotations

import pytest

from monitorlink import broker
from monitorlink.cli import main
from monitorlink.config import Settings, load_settings
from tests.conftest import free_port

pytestmark = pytest.mark.integration


def test_run_twice_prints_the_summary_and_leaves_no_broker_behind(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONITORLINK_BROKER_PORT", str(free_port()))
    run_settings = load_settings()

    assert main(["run"]) == 0
    first = capsys.readouterr().out
    assert "snapshot_2026-08-14.json" in first and "152" in first
    assert "Youth offers over the waiting-time norm (4 months)" in first
    assert f"Warehouse published at {run_settings.warehouse_path}" in first
    assert run_settings.warehouse_path.exists()
    assert not broker.state(run_settings).running, "make run stops the broker it started"

    assert main(["run"]) == 0
    second = capsys.readouterr().out
    assert second.count("0 (same bytes already ingested)") == 2


def test_errors_are_one_readable_line_and_exit_1(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build"]) == 1
    assert "error: nothing to build from: no validated data" in capsys.readouterr().out
