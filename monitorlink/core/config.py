"""All configuration in one place: environment variables with safe local defaults.

Every setting the platform reads is a field here, so `docs/configuration.md` can list them from one
file and nothing reads ``os.environ`` behind the operator's back. Defaults give a working single-machine
platform (embedded broker, local lake, local DuckDB file); production swaps each by setting a variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Every source by name; `monitorlink.ingest.sources.SOURCES` describes each (a test keeps the two in step).
#: Named here too because DAG files must not import the pipeline code just to learn the names.
SOURCE_NAMES = ("availability", "tmsd", "chain", "education", "cbs")


def batch_connection_id(source: str) -> str:
    """The Airflow connection a source's asset watcher reads the batch topic with (own consumer group)."""
    return f"monitorlink_batches_{source}"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_path(name: str, default: Path) -> Path:
    return Path(_env(name, str(default))).expanduser().resolve()


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment; take a fresh one with `load_settings()` after changing variables."""

    home: Path
    lake_root: Path
    warehouse_path: Path
    analysts_warehouse_path: Path
    restricted_warehouse_path: Path
    kafka_bootstrap: str | None
    broker_port: int
    availability_topic: str
    availability_feed: str
    topic_partitions: int
    consumer_group: str
    session_timeout_ms: int
    batch_max_records: int
    snapshot_sources: tuple[str, ...]
    wait_norm_months: float
    suppression_threshold: int
    dbt_project_dir: Path
    landing_root: Path
    delivery_chunk: int
    cbs_v3_url: str
    cbs_v4_url: str
    cbs_tables: tuple[tuple[str, str], ...]
    http_timeout_s: float
    http_retries: int
    batch_topic: str
    alert_topic: str
    alert_notifiers: tuple[str, ...]
    alert_webhook_url: str | None
    watch_interval_s: float
    airflow_home: Path
    superset_home: Path
    superset_port: int
    superset_venv: Path
    superset_metadata_uri: str | None

    @property
    def embedded_broker(self) -> bool:
        """True when no external cluster is configured and monitorlink runs its own broker."""
        return self.kafka_bootstrap is None

    @property
    def bootstrap_servers(self) -> str:
        """Where clients connect: the configured cluster, or the embedded broker on loopback."""
        return self.kafka_bootstrap or f"127.0.0.1:{self.broker_port}"

    @property
    def run_dir(self) -> Path:
        """PID files and logs of the services monitorlink starts itself."""
        return self.home / "run"


def _default_snapshots() -> tuple[str, ...]:
    folder = PROJECT_ROOT / "samples" / "wachttijden_twente"
    return tuple(str(p) for p in sorted(folder.glob("snapshot_*.json")))


def load_settings() -> Settings:
    """Read the environment now (call again in tests after monkeypatching variables)."""
    home = _env_path("MONITORLINK_HOME", PROJECT_ROOT / "var")
    snapshots = _env("MONITORLINK_AVAILABILITY_SNAPSHOTS", "")
    return Settings(
        home=home,
        lake_root=_env_path("MONITORLINK_LAKE_ROOT", home / "lake"),
        warehouse_path=_env_path("MONITORLINK_WAREHOUSE_PATH", home / "warehouse" / "monitorlink.duckdb"),
        analysts_warehouse_path=_env_path(
            "MONITORLINK_ANALYSTS_WAREHOUSE_PATH", home / "warehouse" / "analysts" / "monitorlink.duckdb"
        ),
        restricted_warehouse_path=_env_path(
            "MONITORLINK_RESTRICTED_WAREHOUSE_PATH", home / "warehouse" / "restricted" / "monitorlink.duckdb"
        ),
        kafka_bootstrap=os.environ.get("MONITORLINK_KAFKA_BOOTSTRAP", "").strip() or None,
        broker_port=int(_env("MONITORLINK_BROKER_PORT", "19092")),
        availability_topic=_env("MONITORLINK_AVAILABILITY_TOPIC", "availability.v1"),
        availability_feed=_env("MONITORLINK_AVAILABILITY_FEED", "wachttijden-twente"),
        topic_partitions=int(_env("MONITORLINK_TOPIC_PARTITIONS", "3")),
        consumer_group=_env("MONITORLINK_CONSUMER_GROUP", "monitorlink-ingester"),
        session_timeout_ms=int(_env("MONITORLINK_SESSION_TIMEOUT_MS", "6000")),
        batch_max_records=int(_env("MONITORLINK_BATCH_MAX_RECORDS", "500")),
        snapshot_sources=tuple(s for s in snapshots.split(",") if s.strip()) or _default_snapshots(),
        wait_norm_months=float(_env("MONITORLINK_WAIT_NORM_MONTHS", "4")),
        suppression_threshold=_suppression_threshold(_env("MONITORLINK_SUPPRESSION_THRESHOLD", "10")),
        dbt_project_dir=PROJECT_ROOT / "dbt",
        landing_root=_env_path("MONITORLINK_LANDING_ROOT", home / "landing"),
        delivery_chunk=int(_env("MONITORLINK_DELIVERY_CHUNK", "50")),
        cbs_v3_url=_env("MONITORLINK_CBS_V3_URL", "https://opendata.cbs.nl/ODataApi/OData"),
        cbs_v4_url=_env("MONITORLINK_CBS_V4_URL", "https://datasets.cbs.nl/odata/v1/CBS"),
        cbs_tables=_cbs_tables(_env("MONITORLINK_CBS_TABLES", "03759ned:v3,85098NED:v4")),
        http_timeout_s=float(_env("MONITORLINK_HTTP_TIMEOUT_S", "30")),
        http_retries=int(_env("MONITORLINK_HTTP_RETRIES", "3")),
        batch_topic=_env("MONITORLINK_BATCH_TOPIC", "monitorlink.batches.v1"),
        alert_topic=_env("MONITORLINK_ALERT_TOPIC", "monitorlink.alerts.v1"),
        alert_notifiers=tuple(
            n.strip() for n in _env("MONITORLINK_ALERT_NOTIFIERS", "log,kafka").split(",") if n.strip()
        ),
        alert_webhook_url=os.environ.get("MONITORLINK_ALERT_WEBHOOK_URL", "").strip() or None,
        watch_interval_s=float(_env("MONITORLINK_WATCH_INTERVAL_S", "10")),
        airflow_home=_env_path("AIRFLOW_HOME", home / "airflow"),
        superset_home=_env_path("MONITORLINK_SUPERSET_HOME", home / "superset"),
        superset_port=int(_env("MONITORLINK_SUPERSET_PORT", "8088")),
        superset_venv=_env_path("MONITORLINK_SUPERSET_VENV", PROJECT_ROOT / ".venv-superset"),
        superset_metadata_uri=os.environ.get("MONITORLINK_SUPERSET_METADATA_URI", "").strip() or None,
    )


def _suppression_threshold(text: str) -> int:
    """Counts of 1 up to this (exclusive) are hidden; below 2 nothing would be, so that is refused."""
    try:
        threshold = int(text)
    except ValueError:
        raise ValueError(f"MONITORLINK_SUPPRESSION_THRESHOLD must be a whole number, not {text!r}") from None
    if threshold < 2:
        raise ValueError(
            f"MONITORLINK_SUPPRESSION_THRESHOLD={threshold} would switch disclosure control off;"
            " use 2 or more (TMSD and CBS hide counts under 10)"
        )
    return threshold


def _cbs_tables(text: str) -> tuple[tuple[str, str], ...]:
    """`03759ned:v3,85098NED:v4` → ((table, api), …); the API version must be v3 or v4."""
    tables = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        table, _, api = item.partition(":")
        if api not in ("v3", "v4"):
            raise ValueError(f"MONITORLINK_CBS_TABLES: {item!r} needs :v3 or :v4 after the table id")
        tables.append((table, api))
    return tuple(tables)
