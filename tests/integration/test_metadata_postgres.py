"""Airflow's metadata on a real PostgreSQL, as the production profile (infra/production/) configures it,
plus the profile's own PostgreSQL set-up (postgres-init.sql and production.env.example). Superset runs on
PostgreSQL metadata in tests/integration/test_object_store.py, serving the dashboards from the DuckLake.

Every server is real: Debian's PostgreSQL from `tests.real_services`, Airflow 3 from this environment and
Superset 6.1 from `.venv-superset`, each run as the program an operator runs. What a test expects comes
from PostgreSQL's catalog (the tables, the rows, the logins), never from the code that wrote them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest
import yaml
from sqlalchemy.engine import make_url

from monitorlink.core.config import PROJECT_ROOT, load_settings
from monitorlink.ops.orchestration import airflow_environment
from tests.real_services import PostgresServer, postgres, postgres_server  # noqa: F401

pytestmark = pytest.mark.integration

PROFILE = PROJECT_ROOT / "infra" / "production"
INIT_SQL = PROFILE / "postgres-init.sql"
AIRFLOW = Path(sys.executable).parent / "airflow"
#: Variables of the outer process that would change what the programs under test do.
_FOREIGN = ("MONITORLINK_", "AIRFLOW", "SUPERSET_", "AWS_", "FLASK_")


def _clean_environment(**values: str) -> dict[str, str]:
    """This process's environment without monitorlink, Airflow, Superset or S3 settings, plus `values`."""
    kept = {key: value for key, value in os.environ.items() if not key.startswith(_FOREIGN)}
    return {**kept, **values}


def _fresh_database(server: PostgresServer, name: str) -> str:
    """A database owned by its own login role, as postgres-init.sql makes them; its SQLAlchemy URI."""
    password = secrets.token_urlsafe(12)
    server.create_role(name, password)
    server.create_database(name, owner=name)
    return server.sqlalchemy_uri(name, name, password)


def _tables(server: PostgresServer, database: str) -> set[str]:
    rows = server.execute(
        "select table_name from information_schema.tables where table_schema = 'public'", database
    )
    return {str(name) for (name,) in rows}


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def _quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


# A cheap DAG run: tmsd on an empty landing folder lands nothing and announces nothing (no broker needed),
# but Airflow still records the run and both task instances in its metadata database.
_DAG_TEST = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("dag_tmsd", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(module.tmsd.test().run_id)
"""


def test_airflow_migrates_its_metadata_into_postgresql_and_records_a_dag_run_there(
    postgres: PostgresServer,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if importlib.util.find_spec("asyncpg") is None:
        pytest.fail(
            "Airflow 3 also opens PostgreSQL with an async driver (postgresql+asyncpg, derived from"
            " AIRFLOW__DATABASE__SQL_ALCHEMY_CONN), and asyncpg is not installed: add it to pyproject.toml"
        )
    uri = _fresh_database(postgres, "airflow_metadata")
    for key in [key for key in os.environ if key.startswith(_FOREIGN)]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("MONITORLINK_HOME", str(tmp_path))
    env = _clean_environment(
        **airflow_environment(load_settings()),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=uri,
        MONITORLINK_HOME=str(tmp_path),
    )
    home = Path(env["AIRFLOW_HOME"])
    assert home == tmp_path / "airflow"

    migrated = _run([str(AIRFLOW), "db", "migrate"], env, tmp_path)
    assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-3000:]
    assert {"alembic_version", "dag", "dag_run", "task_instance", "serialized_dag"} <= _tables(
        postgres, "airflow_metadata"
    )
    assert len(postgres.execute("select version_num from alembic_version", "airflow_metadata")) == 1
    assert [p for p in tmp_path.rglob("*") if p.suffix in (".db", ".sqlite")] == [], "no SQLite metadata"

    (tmp_path / "landing" / "tmsd").mkdir(parents=True)
    dag_env = {**env, "MONITORLINK_ALERT_NOTIFIERS": "log"}
    ran = _run([sys.executable, "-c", _DAG_TEST, str(PROJECT_ROOT / "dags" / "tmsd.py")], dag_env, tmp_path)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-3000:]
    run_id = ran.stdout.strip().splitlines()[-1]
    runs = postgres.execute("select dag_id, run_id, state from dag_run", "airflow_metadata")
    assert runs == [("tmsd", run_id, "success")]
    states = postgres.execute(
        f"select state, count(*) from task_instance where run_id = {_quote(run_id)} group by state",
        "airflow_metadata",
    )
    assert states == [("success", 2)], "land_deliveries and announce_batches, both succeeded"
    assert [p for p in tmp_path.rglob("*") if p.suffix in (".db", ".sqlite")] == [], "no SQLite metadata"


# --------------------------------------------------------------------------------------------- the profile


def _profile_environment() -> dict[str, str]:
    """production.env.example loaded the documented way (`set -a; . file`), in an empty environment."""
    script = f"set -a; . {PROFILE / 'production.env.example'}; set +a; env -0"
    loaded = subprocess.run(["env", "-i", "bash", "-c", script], capture_output=True, check=True).stdout
    values = dict(item.split("=", 1) for item in loaded.decode().split("\0") if "=" in item)
    return {key: value for key, value in values.items() if key not in ("PWD", "SHLVL", "_")}


def _interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}` for the values of the env file."""
    return re.sub(r"\$\{(\w+)(?::[-?][^}]*)?\}", lambda match: values[match.group(1)], text)


def test_the_profiles_init_sql_creates_every_login_its_env_file_and_compose_file_use(tmp_path: Path) -> None:
    values = _profile_environment()
    compose = yaml.safe_load((PROFILE / "compose.yaml").read_text())
    superset = {
        name: _interpolate(str(value), values)
        for name, value in compose["services"]["superset"]["environment"].items()
    }
    reader_dsn = superset["MONITORLINK_DUCKLAKE_PUBLISHED_DSN"]
    with postgres_server(tmp_path) as server:
        psql = [
            str(server.bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(INIT_SQL),
            "-h", str(server.socket_dir), "-p", str(server.port), "-U", "postgres", "-d", "postgres",
        ]  # fmt: skip
        incomplete = {k: v for k, v in values.items() if k != "POSTGRES_INIT_LOCKS_PASSWORD"}
        refused = subprocess.run(psql, env=incomplete, capture_output=True, text=True, check=False)
        assert refused.returncode != 0 and "POSTGRES_INIT_" in refused.stderr
        roles = server.execute("select count(*) from pg_roles where rolname !~ '^pg_'")
        assert roles == [(1,)], "a missing password creates nothing (the superuser is the only role)"
        for attempt in range(2):  # a second run (an existing server) changes nothing and fails on nothing
            done = subprocess.run(psql, env=values, capture_output=True, text=True, check=False)
            assert done.returncode == 0, (attempt, done.stderr)

        def login(dsn: str) -> psycopg2.extensions.connection:
            """Log in over TCP with the profile's DSN, on this test server instead of host `postgres`."""
            connection = psycopg2.connect(dsn, host="127.0.0.1", port=server.port)
            connection.autocommit = True
            return connection

        dsns = {
            name: values[name]
            for name in (
                "MONITORLINK_LOCK_DSN",
                "MONITORLINK_DUCKLAKE_PUBLISHED_DSN",
                "MONITORLINK_DUCKLAKE_ANALYSTS_DSN",
                "MONITORLINK_DUCKLAKE_RESTRICTED_DSN",
            )
        }
        for name in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "MONITORLINK_SUPERSET_METADATA_URI"):
            url = make_url(values[name])
            dsns[name] = f"dbname={url.database} user={url.username} password={url.password}"
        dsns["compose: superset's published reader"] = reader_dsn
        owners = dict(server.execute("select datname, pg_get_userbyid(datdba) from pg_database"))
        for name, dsn in dsns.items():
            with closing(login(dsn)) as connection, connection.cursor() as cursor:
                cursor.execute("select current_user, current_database()")
                user, database = cursor.fetchone() or ("", "")
            # Each login owns its database; the reader's database is the published catalog.
            expected_owner = "ducklake_published" if user == "ducklake_published_reader" else user
            assert owners.get(database) == expected_owner, (name, user, database)

        # The published tier's owner writes, its reader only reads; no tier's login opens another tier.
        with closing(login(dsns["MONITORLINK_DUCKLAKE_PUBLISHED_DSN"])) as owner, owner.cursor() as cursor:
            cursor.execute(
                "create table ducklake_snapshot (id int); insert into ducklake_snapshot values (1)"
            )
        with closing(login(reader_dsn)) as reader, reader.cursor() as cursor:
            cursor.execute("select id from ducklake_snapshot")
            assert cursor.fetchall() == [(1,)]
            for statement in ("insert into ducklake_snapshot values (2)", "create table own (i int)"):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cursor.execute(statement)
        for dsn, other in (
            (dsns["MONITORLINK_DUCKLAKE_PUBLISHED_DSN"], "ducklake_restricted"),
            (dsns["MONITORLINK_DUCKLAKE_ANALYSTS_DSN"], "ducklake_restricted"),
            (dsns["MONITORLINK_SUPERSET_METADATA_URI"], "airflow"),
            (reader_dsn, "ducklake_analysts"),  # Superset's login opens no other tier
            (reader_dsn, "ducklake_restricted"),
        ):
            with pytest.raises(psycopg2.OperationalError, match="CONNECT privilege"):
                psycopg2.connect(
                    dsn, host="127.0.0.1", port=server.port, **({"dbname": other} if other else {})
                )
