"""Fixtures of the fault suite: the budget (`--fault-budget`), and figures recorded per check."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from monitorlink.core.pseudonym import DEV_KEY
from monitorlink.simulator import SimulationResult, simulate


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder `faults`, so `pytest -m "not faults"` leaves the suite out."""
    for item in items:
        if "tests/faults/" in str(item.path):
            item.add_marker(pytest.mark.faults)


@dataclass(frozen=True)
class Budget:
    """How much each check tries: `small` inside `make test`, `full` in `make faults`."""

    name: str
    inputs_per_feed: int
    kills_per_process: int
    concurrent_queries: int

    @property
    def full(self) -> bool:
        return self.name == "full"


BUDGETS = {
    "small": Budget("small", inputs_per_feed=60, kills_per_process=4, concurrent_queries=1000),
    "full": Budget("full", inputs_per_feed=1000, kills_per_process=35, concurrent_queries=2000),
}


@pytest.fixture(scope="session")
def budget(request: pytest.FixtureRequest) -> Budget:
    """The budget chosen on the command line (`--fault-budget full` in `make faults`)."""
    return BUDGETS[str(request.config.getoption("fault_budget"))]


@pytest.fixture(autouse=True)
def development_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite lands simulated data only, so the public development key is the right one."""
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")


@pytest.fixture(scope="session")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    """Realistic deliveries of every source (with defects, revisions and re-deliveries), made once."""
    return simulate(tmp_path_factory.mktemp("simulation"), DEV_KEY.encode())
