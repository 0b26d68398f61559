"""Airflow around the pipelines: shared DAG defaults, Airflow's environment, and `make up` / `make down`.

DAG files only wire package functions together; what they share (owner, retries, tags) comes from here
so no DAG repeats it. `up` starts the services people use on 127.0.0.1 — the broker, the ingester
service and Airflow standalone (SQLite, LocalExecutor) — and `down` stops them by PID, whole process trees.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from monitorlink import broker, services
from monitorlink.config import PROJECT_ROOT, Settings

AIRFLOW_HOST = "127.0.0.1"
INGESTER = "ingester"
AIRFLOW = "airflow"


def default_args() -> dict[str, Any]:
    """Default task arguments every monitorlink DAG uses."""
    return {
        "owner": "monitorlink",
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
    }


def airflow_port() -> int:
    """The port of Airflow's API server and UI (MONITORLINK_AIRFLOW_PORT, default 8080)."""
    return int(os.environ.get("MONITORLINK_AIRFLOW_PORT", "8080"))


def airflow_environment(airflow_home: Path) -> dict[str, str]:
    """Airflow settings for the embedded default; any AIRFLOW__* variable already set wins."""
    defaults = {
        "AIRFLOW_HOME": str(airflow_home),
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


def up(settings: Settings) -> list[services.ServiceStatus]:
    """Start broker, ingester service and Airflow; returns their status once each answers."""
    broker.require(settings)
    bin_dir = Path(sys.executable).parent
    ingester = services.start(
        settings.run_dir,
        INGESTER,
        [str(bin_dir / "monitorlink"), "-v", "ingest", "--follow"],
        ready=lambda: True,
        timeout_s=5,
    )
    # `airflow standalone` says "ready" before its API listens, so readiness is the health endpoint.
    airflow = services.start(
        settings.run_dir,
        AIRFLOW,
        [str(bin_dir / "airflow"), "standalone"],
        ready=_airflow_healthy,
        timeout_s=300,
        env=airflow_environment(settings.home / "airflow"),
    )
    return [services.status(settings.run_dir, broker.SERVICE), ingester, airflow]


def down(settings: Settings) -> list[str]:
    """Stop everything `up` started (Airflow first, the broker last); returns what was running."""
    stopped = [name for name in (AIRFLOW, INGESTER) if services.stop(settings.run_dir, name)]
    if broker.stop(settings):
        stopped.append(broker.SERVICE)
    return stopped


def admin_password_file(settings: Settings) -> Path:
    """Where Airflow's simple auth manager writes the generated admin password."""
    home = Path(airflow_environment(settings.home / "airflow")["AIRFLOW_HOME"])
    return home / "simple_auth_manager_passwords.json.generated"
