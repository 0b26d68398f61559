"""Superset as a service of the platform: its own environment, its home, first start, and the server.

Superset's dependencies conflict with Airflow's, so it runs from its own virtual environment
(`.venv-superset`, created from `infra/superset/uv.lock` by `make up`/`make test`) and monitorlink only
talks to it as a program and over HTTP. Its home (`$MONITORLINK_HOME/superset`) holds the SQLite metadata,
the secret key and the generated admin password; none of it is ever committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from monitorlink.core import services
from monitorlink.core.config import PROJECT_ROOT, Settings
from monitorlink.dashboards.superset_api import SupersetClient

SERVICE = "superset"
HOST = "127.0.0.1"
ADMIN_USER = "admin"
CONFIG_FILE = PROJECT_ROOT / "infra" / "superset" / "superset_config.py"
LOCK_FILE = PROJECT_ROOT / "infra" / "superset" / "uv.lock"


class SupersetError(RuntimeError):
    """Superset could not be prepared or started; the message says what to do."""


def url(settings: Settings) -> str:
    """Where Superset answers (always loopback in the embedded default)."""
    return f"http://{HOST}:{settings.superset_port}"


def executable(settings: Settings, name: str) -> Path:
    """A program of Superset's own environment; a clear error when that environment is missing."""
    program = settings.superset_venv / "bin" / name
    if not program.exists():
        raise SupersetError(
            f"Superset's environment is missing ({settings.superset_venv}); create it with `make superset`"
        )
    return program


def admin_password_file(settings: Settings) -> Path:
    """The generated admin password, like Airflow's: readable by the operator, never committed."""
    return settings.superset_home / "admin_password"


def admin_password(settings: Settings) -> str:
    """The admin password, generated on first use."""
    return _secret_file(admin_password_file(settings), lambda: secrets.token_urlsafe(18))


def _secret_file(path: Path, make: Callable[[], str]) -> str:
    """Read a secret kept in the home, creating it (mode 600) the first time."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make() + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def environment(settings: Settings) -> dict[str, str]:
    """What Superset's processes need: its config file and home, and the platform's settings it reads."""
    env = {
        "SUPERSET_CONFIG_PATH": str(CONFIG_FILE),
        "MONITORLINK_SUPERSET_HOME": str(settings.superset_home),
        "SUPERSET_HOME": str(settings.superset_home),
        "FLASK_APP": "superset.app:create_app()",
    }
    if settings.superset_metadata_uri:
        env["MONITORLINK_SUPERSET_METADATA_URI"] = settings.superset_metadata_uri
    if settings.warehouse_backend == "ducklake":
        env |= ducklake_environment(settings)
    return env


def ducklake_environment(settings: Settings) -> dict[str, str]:
    """What each of Superset's DuckDB connections runs as it opens (`superset_config.py`): the S3 secret
    for the data files, the published tier's DuckLake attached READ_ONLY with this machine's published
    DSN (on a dashboard host a read-only role), and that catalog as the default, so the datasets'
    `published.<table>` resolve as on the file.

    The DSN's password goes to libpq as PGPASSWORD, never into the ATTACH: DuckDB quotes the attached
    address in its errors and in `duckdb_databases()`, which Superset would show to its users.
    """
    from psycopg2.extensions import make_dsn, parse_dsn

    from monitorlink.warehouse import ducklake

    keywords = parse_dsn(ducklake.catalog_dsn(settings, "published"))
    password = keywords.pop("password", None)
    statements = []
    if (settings.ducklake_data_uri or "").startswith("s3://"):
        statements += ["LOAD httpfs", settings.s3.duckdb_secret_sql()]
    alias = ducklake.READER_ALIAS
    attach = ducklake.attach_sql(settings, "published", alias, dsn=make_dsn(**keywords))
    environment = {"MONITORLINK_SUPERSET_DUCKLAKE_SQL": json.dumps([*statements, attach, f"USE {alias}"])}
    return environment | ({"PGPASSWORD": password} if password else {})


def prepare(settings: Settings) -> None:
    """First start (and after an upgrade of the lock): secret key, metadata schema, admin user, roles.

    A stamp holding the lock file's hash makes later starts skip the ~30 s of migrations.
    """
    home = settings.superset_home
    _secret_file(home / "secret_key", lambda: secrets.token_urlsafe(48))
    password = admin_password(settings)
    stamp = home / "initialised"
    wanted = hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == wanted:
        return
    superset = str(executable(settings, "superset"))
    _run_superset(settings, [superset, "db", "upgrade"])
    _run_superset(
        settings,
        [
            superset,
            "fab",
            "create-admin",
            "--username",
            ADMIN_USER,
            "--firstname",
            "monitorlink",
            "--lastname",
            "admin",
            "--email",
            "admin@monitorlink.invalid",
            "--password",
            password,
        ],
    )
    _run_superset(settings, [superset, "init"])
    stamp.write_text(wanted + "\n")


def _run_superset(settings: Settings, argv: list[str]) -> None:
    log = services.log_file(settings.run_dir, SERVICE)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        done = subprocess.run(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **environment(settings)},
            check=False,
        )
    if done.returncode != 0:
        raise SupersetError(f"`superset {' '.join(argv[1:3])}` failed (exit {done.returncode}); see {log}")


def healthy(settings: Settings) -> bool:
    """Superset answers its health endpoint."""
    try:
        return httpx.get(f"{url(settings)}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start(settings: Settings) -> services.ServiceStatus:
    """Prepare the home and start Superset's web server (gunicorn) on 127.0.0.1."""
    prepare(settings)
    argv = [
        str(executable(settings, "gunicorn")),
        "--bind",
        f"{HOST}:{settings.superset_port}",
        "--workers",
        "2",
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--timeout",
        "120",
        "superset.app:create_app()",
    ]
    return services.start(
        settings.run_dir,
        SERVICE,
        argv,
        ready=lambda: healthy(settings),
        timeout_s=180,
        env=environment(settings),
    )


def stop(settings: Settings) -> bool:
    """Stop the web server and every worker it forked."""
    return services.stop(settings.run_dir, SERVICE)


def admin_client(settings: Settings) -> SupersetClient:
    """A session as the generated admin, for importing assets and managing roles."""
    if not healthy(settings):
        raise SupersetError(f"Superset does not answer at {url(settings)}; start it with `make up`")
    return SupersetClient(url(settings), ADMIN_USER, admin_password(settings))
