"""All configuration in one place: environment variables with safe local defaults.

Every setting the platform reads is a field here, so the README's "Configuration" section can document
them from one file and nothing reads ``os.environ`` behind the operator's back. Defaults give a working
single-machine platform (embedded broker, local lake, local DuckDB file); production swaps each by setting
a variable.

Every value is checked when it is read: a wrong one raises `ConfigError` with one line naming the
variable, the value and what is allowed, at start-up instead of as a traceback deep inside a run.
Reading the settings creates nothing on disk; `require_lake` is the check for commands that only read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from monitorlink.core.object_store import S3Endpoint, lake_location

if TYPE_CHECKING:
    from monitorlink.core.object_store import LakePath

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Every source by name; `monitorlink.ingest.sources.SOURCES` describes each (a test keeps the two in step).
#: Named here too because DAG files must not import the pipeline code just to learn the names.
SOURCE_NAMES = ("availability", "tmsd", "chain", "education", "cbs")
#: The notifiers `monitorlink.ops.alert_store.notifiers` knows; `webhook` only sends when a URL is set.
ALERT_NOTIFIERS = ("log", "kafka", "webhook")
#: CBS tables fetched when `MONITORLINK_CBS_TABLES` is unset (set but empty switches CBS off).
DEFAULT_CBS_TABLES = "03759ned:v3,85098NED:v4"
CBS_REGIONS = ("twente", "all")
#: Where the warehouse is published: three DuckDB files (embedded default) or three DuckLake catalogs.
WAREHOUSE_BACKENDS = ("file", "ducklake")
#: The warehouse's tiers, most to least open; each is its own file or DuckLake catalog with its own access.
TIERS = ("published", "analysts", "restricted")
#: The variable naming each tier's DuckLake catalog (spelt out, so the README's table can be checked).
DUCKLAKE_DSN_VARIABLES = {
    "published": "MONITORLINK_DUCKLAKE_PUBLISHED_DSN",
    "analysts": "MONITORLINK_DUCKLAKE_ANALYSTS_DSN",
    "restricted": "MONITORLINK_DUCKLAKE_RESTRICTED_DSN",
}


class ConfigError(ValueError):
    """A variable with a value the platform cannot run with; the message is one line naming it.

    A `ValueError`, so the command line's existing error handling prints it as one line and exits 1.
    """


def batch_connection_id(source: str) -> str:
    """The Airflow connection a source's asset watcher reads the batch topic with (own consumer group)."""
    return f"monitorlink_batches_{source}"


def _env(name: str, default: str) -> str:
    """The variable's value, stripped; empty counts as unset, so `VAR=` in a shell means the default."""
    value = os.environ.get(name, "").strip()
    return value or default


def _env_path(name: str, default: Path) -> Path:
    """Resolve only: reading the settings must never create a folder (that is `make run`'s job)."""
    return Path(_env(name, str(default))).expanduser().resolve()


def _env_int(name: str, default: int, minimum: int, maximum: int) -> int:
    """A whole number within [minimum, maximum], so a typo stops start-up with the variable's name."""
    text = _env(name, str(default))
    allowed = f"{minimum}–{maximum}"
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a whole number (allowed: {allowed})") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name}={text} is out of range (allowed: {allowed})")
    return value


#: Spellings of a switched-on and a switched-off flag (an empty or unset variable is off).
_ON, _OFF = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def env_flag(name: str) -> bool:
    """An on/off variable; anything else stops start-up, so `MONITORLINK_DEV_MODE=ja` is not silently off."""
    text = os.environ.get(name, "").strip().lower()
    if text not in (*_ON, *_OFF):
        raise ConfigError(f"{name}={text!r} is not a flag (allowed: 1, true, yes, on or 0, false, no, off)")
    return text in _ON


def _env_float(name: str, default: float, above: float, maximum: float) -> float:
    """A number greater than `above` and at most `maximum` (durations and norms, where 0 means nothing).

    The comparison also refuses `nan` and `inf`, which `float()` accepts.
    """
    text = _env(name, f"{default:g}")
    allowed = f">{above:g}–{maximum:g}"
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a number (allowed: {allowed})") from None
    if not above < value <= maximum:
        raise ConfigError(f"{name}={text} is out of range (allowed: {allowed})")
    return value


def _env_names(name: str, default: str, kind: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list whose every item is one of `allowed`: a misspelt name is refused, never
    silently ignored (a source still running or a notifier that never fires would go unnoticed)."""
    names = tuple(dict.fromkeys(n.strip() for n in _env(name, default).split(",") if n.strip()))
    for item in names:
        if item not in allowed:
            raise ConfigError(f"{name}: unknown {kind} {item!r} (allowed: {', '.join(allowed)})")
    return names


def _env_choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed`; anything else is refused with the choices."""
    value = _env(name, default).strip()
    if value not in allowed:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment; take a fresh one with `load_settings()` after changing variables."""

    home: Path
    #: A local folder (`MONITORLINK_LAKE_ROOT`) or a prefix on object storage (`MONITORLINK_LAKE_URI`).
    lake_root: LakePath
    s3: S3Endpoint
    #: Where locks live when the lake is on object storage and no lock database is set (one machine).
    lock_root: Path
    #: PostgreSQL (libpq keywords) whose advisory locks serialise landers on several machines; None:
    #: OS file locks (a local lake, or `MONITORLINK_LOCK_DSN=local` for a lake on S3 used from one machine).
    lock_dsn: str | None
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
    #: Largest micro-batch under backlog (adaptive batching); never below `batch_max_records`.
    batch_max_records_backlog: int
    batch_max_wait_s: float
    snapshot_sources: tuple[str, ...]
    wait_norm_months: float
    suppression_threshold: int
    dbt_project_dir: Path
    landing_root: Path
    delivery_chunk: int
    cbs_v3_url: str
    cbs_v4_url: str
    cbs_tables: tuple[tuple[str, str], ...]
    #: `twente`: CBS figures for the region's municipalities and NL01; `all`: every region (national scale).
    cbs_regions: str
    http_timeout_s: float
    http_retries: int
    batch_topic: str
    alert_topic: str
    alert_notifiers: tuple[str, ...]
    alert_webhook_url: str | None
    #: Sources `monitorlink run` and the watcher leave out (`MONITORLINK_SKIP_SOURCES`), by name.
    skip_sources: tuple[str, ...]
    watch_interval_s: float
    airflow_home: Path
    superset_home: Path
    superset_port: int
    airflow_port: int
    dev_mode: bool
    superset_venv: Path
    superset_metadata_uri: str | None
    warehouse_backend: str
    #: DuckLake: per tier, the PostgreSQL catalog (libpq keywords, the tier's own credentials).
    ducklake_dsns: dict[str, str]
    #: DuckLake: the object-storage prefix under which each tier keeps its data files (`<uri>/<tier>/`).
    ducklake_data_uri: str | None

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
    s3 = S3Endpoint.from_environment()
    return Settings(
        home=home,
        lake_root=_lake_root(home, s3),
        s3=s3,
        lock_root=home / "run" / "locks",
        lock_dsn=_lock_dsn(_env("MONITORLINK_LAKE_URI", "")),
        warehouse_path=_env_path("MONITORLINK_WAREHOUSE_PATH", home / "warehouse" / "monitorlink.duckdb"),
        analysts_warehouse_path=_env_path(
            "MONITORLINK_ANALYSTS_WAREHOUSE_PATH", home / "warehouse" / "analysts" / "monitorlink.duckdb"
        ),
        restricted_warehouse_path=_env_path(
            "MONITORLINK_RESTRICTED_WAREHOUSE_PATH", home / "warehouse" / "restricted" / "monitorlink.duckdb"
        ),
        kafka_bootstrap=os.environ.get("MONITORLINK_KAFKA_BOOTSTRAP", "").strip() or None,
        broker_port=_env_int("MONITORLINK_BROKER_PORT", 19092, 1, 65535),
        availability_topic=_env("MONITORLINK_AVAILABILITY_TOPIC", "availability.v1"),
        availability_feed=_env("MONITORLINK_AVAILABILITY_FEED", "wachttijden-twente"),
        topic_partitions=_env_int("MONITORLINK_TOPIC_PARTITIONS", 3, 1, 1000),
        consumer_group=_env("MONITORLINK_CONSUMER_GROUP", "monitorlink-ingester"),
        session_timeout_ms=_env_int("MONITORLINK_SESSION_TIMEOUT_MS", 6000, 1000, 300_000),
        batch_max_records=_env_int("MONITORLINK_BATCH_MAX_RECORDS", 500, 1, 1_000_000),
        batch_max_records_backlog=_env_int("MONITORLINK_BATCH_MAX_RECORDS_BACKLOG", 10_000, 1, 1_000_000),
        batch_max_wait_s=_env_float("MONITORLINK_BATCH_MAX_WAIT_S", 1, 0, 600),
        snapshot_sources=tuple(s for s in snapshots.split(",") if s.strip()) or _default_snapshots(),
        wait_norm_months=_env_float("MONITORLINK_WAIT_NORM_MONTHS", 4, 0, 60),
        suppression_threshold=_suppression_threshold(_env("MONITORLINK_SUPPRESSION_THRESHOLD", "10")),
        dbt_project_dir=PROJECT_ROOT / "dbt",
        landing_root=_env_path("MONITORLINK_LANDING_ROOT", home / "landing"),
        delivery_chunk=_env_int("MONITORLINK_DELIVERY_CHUNK", 50, 1, 10_000),
        cbs_v3_url=_env("MONITORLINK_CBS_V3_URL", "https://opendata.cbs.nl/ODataApi/OData"),
        cbs_v4_url=_env("MONITORLINK_CBS_V4_URL", "https://datasets.cbs.nl/odata/v1/CBS"),
        cbs_tables=_cbs_tables(os.environ.get("MONITORLINK_CBS_TABLES", DEFAULT_CBS_TABLES)),
        cbs_regions=_env_choice("MONITORLINK_CBS_REGIONS", "twente", CBS_REGIONS),
        http_timeout_s=_env_float("MONITORLINK_HTTP_TIMEOUT_S", 30, 0, 3600),
        http_retries=_env_int("MONITORLINK_HTTP_RETRIES", 3, 0, 20),
        batch_topic=_env("MONITORLINK_BATCH_TOPIC", "monitorlink.batches.v1"),
        alert_topic=_env("MONITORLINK_ALERT_TOPIC", "monitorlink.alerts.v1"),
        alert_notifiers=_env_names("MONITORLINK_ALERT_NOTIFIERS", "log,kafka", "notifier", ALERT_NOTIFIERS),
        alert_webhook_url=os.environ.get("MONITORLINK_ALERT_WEBHOOK_URL", "").strip() or None,
        skip_sources=_env_names("MONITORLINK_SKIP_SOURCES", "", "source", SOURCE_NAMES),
        watch_interval_s=_env_float("MONITORLINK_WATCH_INTERVAL_S", 10, 0, 86_400),
        airflow_home=_env_path("AIRFLOW_HOME", home / "airflow"),
        superset_home=_env_path("MONITORLINK_SUPERSET_HOME", home / "superset"),
        superset_port=_env_int("MONITORLINK_SUPERSET_PORT", 8088, 1, 65535),
        airflow_port=_env_int("MONITORLINK_AIRFLOW_PORT", 8080, 1, 65535),
        dev_mode=env_flag("MONITORLINK_DEV_MODE"),
        superset_venv=_env_path("MONITORLINK_SUPERSET_VENV", PROJECT_ROOT / ".venv-superset"),
        superset_metadata_uri=os.environ.get("MONITORLINK_SUPERSET_METADATA_URI", "").strip() or None,
        warehouse_backend=_env_choice("MONITORLINK_WAREHOUSE_BACKEND", "file", WAREHOUSE_BACKENDS),
        ducklake_dsns=_ducklake_dsns(),
        ducklake_data_uri=_ducklake_data_uri(),
    )


def _lock_dsn(lake_uri: str) -> str | None:
    """The lock database. A lake on object storage is shared by design, and two landers of one source
    at once would roll back each other's uncommitted deliveries: it needs the database, or `local`
    saying that only this machine lands (file locks)."""
    value = _env("MONITORLINK_LOCK_DSN", "")
    if value == "local":
        return None
    if lake_uri and not value:
        raise ConfigError(
            "MONITORLINK_LAKE_URI needs MONITORLINK_LOCK_DSN: a PostgreSQL database whose locks keep"
            " landers on several machines apart, or `local` when only this machine lands"
        )
    return value or None


def _lake_root(home: Path, s3: S3Endpoint) -> LakePath:
    """`MONITORLINK_LAKE_URI` (object storage) when set, else the folder `MONITORLINK_LAKE_ROOT`."""
    uri = _env("MONITORLINK_LAKE_URI", "")
    if not uri:
        return _env_path("MONITORLINK_LAKE_ROOT", home / "lake")
    bucket, _, prefix = uri.removeprefix("s3://").strip("/").partition("/")
    if not uri.startswith("s3://") or not bucket or not prefix:
        raise ConfigError(
            f"MONITORLINK_LAKE_URI={uri!r} is not an s3://bucket/prefix address (with a prefix)"
        )
    return lake_location(uri, s3)


def _ducklake_dsns() -> dict[str, str]:
    """Each tier's catalog (`DUCKLAKE_DSN_VARIABLES`). A machine gets only the tiers it may
    open (a dashboard host: the published one), so only that one is required here; a build names the
    missing one when it publishes."""
    dsns = {tier: _env(variable, "") for tier, variable in DUCKLAKE_DSN_VARIABLES.items()}
    chosen = _env_choice("MONITORLINK_WAREHOUSE_BACKEND", "file", WAREHOUSE_BACKENDS)
    if chosen == "ducklake" and not dsns["published"]:
        raise ConfigError(
            f"MONITORLINK_WAREHOUSE_BACKEND=ducklake needs {DUCKLAKE_DSN_VARIABLES['published']}"
        )
    return {tier: dsn for tier, dsn in dsns.items() if dsn}


def _ducklake_data_uri() -> str | None:
    """Where DuckLake keeps the tiers' data files; required with the DuckLake backend."""
    uri = _env("MONITORLINK_DUCKLAKE_DATA_URI", "").rstrip("/")
    chosen = _env_choice("MONITORLINK_WAREHOUSE_BACKEND", "file", WAREHOUSE_BACKENDS)
    if chosen == "ducklake" and not uri:
        raise ConfigError("MONITORLINK_WAREHOUSE_BACKEND=ducklake needs MONITORLINK_DUCKLAKE_DATA_URI")
    return uri or None


def _suppression_threshold(text: str) -> int:
    """Counts of 1 up to this (exclusive) are hidden; below 2 nothing would be, so that is refused."""
    try:
        threshold = int(text)
    except ValueError:
        raise ConfigError(
            f"MONITORLINK_SUPPRESSION_THRESHOLD must be a whole number, not {text!r} (allowed: 2 or more)"
        ) from None
    if threshold < 2:
        raise ConfigError(
            f"MONITORLINK_SUPPRESSION_THRESHOLD={threshold} would switch disclosure control off;"
            " use 2 or more (TMSD and CBS hide counts under 10)"
        )
    return threshold


def _cbs_tables(text: str) -> tuple[tuple[str, str], ...]:
    """`03759ned:v3,85098NED:v4` → ((table, api), …); the API version must be v3 or v4.

    An empty text gives no tables: setting the variable to nothing is how CBS is switched off, so only
    an unset variable falls back to the default (the caller decides that).
    """
    tables = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        table, _, api = item.partition(":")
        if api not in ("v3", "v4"):
            raise ConfigError(f"MONITORLINK_CBS_TABLES: {item!r} needs :v3 or :v4 after the table id")
        if not table.strip():
            raise ConfigError(f"MONITORLINK_CBS_TABLES: {item!r} needs a table id before the :{api}")
        tables.append((table.strip(), api))
    return tuple(tables)


def require_lake(settings: Settings) -> None:
    """Refuse, in one line, to work without a lake; for commands that only read.

    Without it a read-only command on a wrong `MONITORLINK_HOME` would report an empty platform (or
    create an empty one) instead of saying that the platform is somewhere else. Creates nothing.
    """
    if not settings.lake_root.is_dir():
        raise ConfigError(
            f"no lake at {settings.lake_root} (MONITORLINK_HOME={settings.home}): run `make run` first, or"
            " point MONITORLINK_HOME, MONITORLINK_LAKE_ROOT or MONITORLINK_LAKE_URI at an existing platform"
        )
