"""Airflow's environment and the services people use: `make up` / `make down`.

`up` starts the services people use on 127.0.0.1 — the broker, the ingester service, the landing
watcher, Airflow standalone (SQLite, LocalExecutor) and Superset with the dashboards of the repository —
and `down` stops them by PID, whole process trees.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from monitorlink.core import services
from monitorlink.core.config import PROJECT_ROOT, SOURCE_NAMES, Settings, batch_connection_id, load_settings
from monitorlink.dashboards import access as dashboard_access
from monitorlink.dashboards import assets as dashboards
from monitorlink.dashboards import superset_service
from monitorlink.ops import broker

AIRFLOW_HOST = "127.0.0.1"
INGESTER = "ingester"
WATCHER = "watcher"
AIRFLOW = "airflow"


def batch_connections(settings: Settings) -> dict[str, str]:
    """`AIRFLOW_CONN_*` variables for every source's watcher: Airflow reads them without a database.

    Offsets start at the earliest event a group has not committed, so a watcher that starts after a
    batch was announced still sees it; each group commits only what its trigger handled.
    """
    connections = {}
    for source in SOURCE_NAMES:
        extra = {
            "bootstrap.servers": settings.bootstrap_servers,
            "group.id": f"monitorlink-airflow-{source}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            # librdkafka's 45 s default stalls every group join on the embedded broker (see streams.py).
            "session.timeout.ms": settings.session_timeout_ms,
        }
        variable = f"AIRFLOW_CONN_{batch_connection_id(source).upper()}"
        connections[variable] = json.dumps({"conn_type": "kafka", "extra": extra})
    return connections


def airflow_port() -> int:
    """The port of Airflow's API server and UI (MONITORLINK_AIRFLOW_PORT, default 8080, checked)."""
    return load_settings().airflow_port


def airflow_environment(settings: Settings) -> dict[str, str]:
    """Airflow settings for the embedded default; any AIRFLOW_* variable already set wins."""
    defaults = {
        **batch_connections(settings),
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__HOST": AIRFLOW_HOST,
        "AIRFLOW__API__PORT": str(airflow_port()),
        "AIRFLOW__API__BASE_URL": f"http://{AIRFLOW_HOST}:{airflow_port()}",
    }
    return {key: os.environ.get(key, value) for key, value in defaults.items()}


def _airflow_healthy() -> bool:
    try:
        response = httpx.get(f"http://{AIRFLOW_HOST}:{airflow_port()}/api/v2/monitor/health", timeout=2)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def up(
    settings: Settings, on_step: Callable[[str], None] = lambda step: None
) -> list[services.ServiceStatus]:
    """Start broker, ingester, watcher, Airflow and Superset; returns their status once each answers.

    Superset needs the published warehouse (its roles come from the municipality dimension), so `up`
    refuses before starting anything when `make run` has not built it yet. `on_step` hears of each
    service as it is started (the command line's progress: Airflow alone can take a minute).
    """
    if not settings.warehouse_path.exists():
        raise services.ServiceError(
            f"no published warehouse at {settings.warehouse_path}: run `make run` once before `make up`"
        )
    on_step("broker")
    broker.require(settings)
    bin_dir = Path(sys.executable).parent
    on_step("ingester")
    ingester = services.start(
        settings.run_dir,
        INGESTER,
        [str(bin_dir / "monitorlink"), "-v", "ingest", "--follow"],
        ready=lambda: True,
        timeout_s=5,
    )
    on_step("landing watcher")
    watch = [str(bin_dir / "monitorlink"), "-v", "watch"]
    watcher = services.start(settings.run_dir, WATCHER, watch, ready=lambda: True, timeout_s=5)
    on_step("Airflow (waiting for its health endpoint)")
    # `airflow standalone` says "ready" before its API listens, so readiness is the health endpoint.
    airflow = services.start(
        settings.run_dir,
        AIRFLOW,
        [str(bin_dir / "airflow"), "standalone"],
        ready=_airflow_healthy,
        timeout_s=300,
        env=airflow_environment(settings),
    )
    on_step("Superset")
    superset = superset_service.start(settings)
    on_step("dashboards and roles")
    with superset_service.admin_client(settings) as client:
        dashboards.import_assets(client, settings)
        dashboard_access.apply(client, settings)
    return [services.status(settings.run_dir, broker.SERVICE), ingester, watcher, airflow, superset]


def down(settings: Settings) -> list[str]:
    """Stop everything `up` started (Airflow first, the broker last); returns what was running."""
    names = (superset_service.SERVICE, AIRFLOW, WATCHER, INGESTER)
    stopped = [name for name in names if services.stop(settings.run_dir, name)]
    if broker.stop(settings):
        stopped.append(broker.SERVICE)
    return stopped


def admin_password_file(settings: Settings) -> Path:
    """Where Airflow's simple auth manager writes the generated admin password."""
    return settings.airflow_home / "simple_auth_manager_passwords.json.generated"
