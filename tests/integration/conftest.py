"""One `monitorlink run --simulated` per test session, shared by the modules that read what it built.

The run costs a dbt build and every simulated delivery (a minute or two on 2 cores), so it is done once.
Its environment (MONITORLINK_HOME and friends) is set only while the run goes and again inside each module
that uses it (`with environment(simulated_run.environment)`), never for the rest of the session.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitorlink.cli.main import main
from monitorlink.core.config import Settings, load_settings
from tests.conftest import environment, free_port

#: Unset while the simulated run goes: it runs in development mode, on the public development key.
UNSET = ("MONITORLINK_PSEUDONYM_KEY",)


@dataclass(frozen=True)
class SimulatedRun:
    """What a finished `monitorlink run --simulated` left: its environment, settings, output and log."""

    environment: dict[str, str]
    settings: Settings
    output: str
    log_file: Path

    @property
    def simulation_root(self) -> Path:
        return self.settings.home / "simulation"


def run_simulated(log_file: Path) -> str:
    """`monitorlink -v run --simulated` in this process, logging to `log_file`; returns what it printed."""
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    sink = io.StringIO()
    try:
        with redirect_stdout(sink):
            code = main(["-v", "run", "--simulated"])
        assert code == 0, f"`monitorlink run --simulated` failed:\n{sink.getvalue()[-3000:]}"
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    return sink.getvalue()


@pytest.fixture(scope="session")
def simulated_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatedRun]:
    home = tmp_path_factory.mktemp("simulated-run")
    values = {
        "MONITORLINK_HOME": str(home),
        "MONITORLINK_DEV_MODE": "1",
        "MONITORLINK_BROKER_PORT": str(free_port()),
    }
    with environment(values, unset=UNSET):
        settings = load_settings()
        log_file = home / "test-run.log"
        output = run_simulated(log_file)
    yield SimulatedRun(values, settings, output, log_file)
