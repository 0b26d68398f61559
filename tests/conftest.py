"""Shared fixtures: isolated settings per test, and one real embedded broker per test session."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitorlink.core.config import PROJECT_ROOT, Settings, load_settings
from monitorlink.ops import broker
from tests.waiting import read_topic

SNAPSHOTS = PROJECT_ROOT / "samples" / "wachttijden_twente"
SNAPSHOT_AUG_06 = SNAPSHOTS / "snapshot_2026-08-06.json"
SNAPSHOT_AUG_14 = SNAPSHOTS / "snapshot_2026-08-14.json"


@contextlib.contextmanager
def environment(values: dict[str, str], unset: tuple[str, ...] = ()) -> Iterator[None]:
    """Set (and unset) environment variables for a module-scoped fixture and restore them afterwards;
    pytest's monkeypatch lives only as long as one test."""
    previous = {name: os.environ.get(name) for name in (*values, *unset)}
    os.environ.update(values)
    for name in unset:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--fault-budget full` makes the fault suite (tests/faults) try as much as `make faults` reports."""
    parser.addoption(
        "--fault-budget",
        choices=("small", "full"),
        default="small",
        help="how much the fault suite tries: small (inside make test) or full (make faults)",
    )


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose every path lies in this test's tmp folder; no broker configured."""
    monkeypatch.setenv("MONITORLINK_HOME", str(tmp_path / "home"))
    for name in (
        "MONITORLINK_LAKE_ROOT",
        "MONITORLINK_WAREHOUSE_PATH",
        "MONITORLINK_ANALYSTS_WAREHOUSE_PATH",
        "MONITORLINK_RESTRICTED_WAREHOUSE_PATH",
        "MONITORLINK_SUPPRESSION_THRESHOLD",
        "MONITORLINK_KAFKA_BOOTSTRAP",
    ):
        monkeypatch.delenv(name, raising=False)
    return load_settings()


@pytest.fixture(scope="session")
def session_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real tansu broker on a free loopback port for the whole session; yields its bootstrap address."""
    home = tmp_path_factory.mktemp("broker-home")
    broker_settings = dataclasses.replace(
        load_settings(), home=home, broker_port=free_port(), kafka_bootstrap=None
    )
    state = broker.start(broker_settings)
    assert state.healthy, f"embedded broker did not come up; see {state.log_file}"
    yield state.bootstrap
    broker.stop(broker_settings)


@pytest.fixture
def kafka_settings(settings: Settings, session_broker: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on the session broker with a topic and consumer group of this test's own."""
    suffix = uuid.uuid4().hex[:8]
    monkeypatch.setenv("MONITORLINK_KAFKA_BOOTSTRAP", session_broker)
    monkeypatch.setenv("MONITORLINK_AVAILABILITY_TOPIC", f"availability.v1.test-{suffix}")
    monkeypatch.setenv("MONITORLINK_CONSUMER_GROUP", f"monitorlink-test-{suffix}")
    return load_settings()


def topic_messages(settings: Settings, topic: str) -> list[dict[str, Any]]:
    """Every JSON message on a topic, read from the start up to its end offsets as of the call."""
    return [json.loads(record.value) for record in read_topic(settings.bootstrap_servers, topic)]
