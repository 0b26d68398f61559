"""The embedded broker manager against the real tansu binary."""

from __future__ import annotations

import dataclasses
import socket

import psutil
import pytest
from kafka import KafkaProducer

from monitorlink.core import services
from monitorlink.core.config import Settings
from monitorlink.ops import broker
from tests.conftest import free_port
from tests.waiting import read_topic

pytestmark = pytest.mark.integration


@pytest.fixture
def own_broker(settings: Settings) -> Settings:
    return dataclasses.replace(settings, broker_port=free_port())


def test_start_binds_to_loopback_only_and_stop_ends_it(own_broker: Settings) -> None:
    state = broker.start(own_broker)
    try:
        assert state.embedded and state.running and state.healthy
        assert state.pid is not None
        listening = [
            c.laddr for c in psutil.Process(state.pid).net_connections() if c.status == psutil.CONN_LISTEN
        ]
        assert listening and all(address.ip == "127.0.0.1" for address in listening)
        assert broker.start(own_broker).pid == state.pid, "a second start reuses the running broker"
    finally:
        assert broker.stop(own_broker)
    assert not psutil.pid_exists(state.pid) or psutil.Process(state.pid).status() == psutil.STATUS_ZOMBIE
    after = broker.state(own_broker)
    assert not after.running and not after.healthy
    assert not broker.stop(own_broker)


def test_messages_round_trip_through_the_embedded_broker(own_broker: Settings) -> None:
    broker.start(own_broker)
    try:
        producer = KafkaProducer(bootstrap_servers=own_broker.bootstrap_servers)
        producer.send("roundtrip", b"hallo twente").get(timeout=10)
        producer.close()
        records = read_topic(own_broker.bootstrap_servers, "roundtrip")
        assert [record.value for record in records] == [b"hallo twente"]
    finally:
        broker.stop(own_broker)


def test_configured_cluster_means_no_embedded_broker(own_broker: Settings) -> None:
    external = dataclasses.replace(own_broker, kafka_bootstrap=f"127.0.0.1:{free_port()}")
    state = broker.start(external)
    assert not state.embedded and state.pid is None and not state.healthy
    assert not services.status(external.run_dir, broker.SERVICE).running
    with pytest.raises(
        services.ServiceError, match=r"cluster in MONITORLINK_KAFKA_BOOTSTRAP at 127\.0\.0\.1:\d+"
    ):
        broker.require(external)


def test_a_port_held_by_someone_else_is_reported(own_broker: Settings) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", own_broker.broker_port))
        squatter.listen()
        with pytest.raises(services.ServiceError, match="MONITORLINK_BROKER_PORT"):
            broker.start(own_broker)
