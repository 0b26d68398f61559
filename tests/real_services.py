"""Real local servers for tests: Debian's PostgreSQL and moto's S3 server, on loopback, stopped afterwards.

No mocks: the DuckLake backend talks libpq to a real PostgreSQL and HTTP to a real S3 endpoint, so the
tests meet the same authentication, transactions and object listings production does. Each server runs
in its own process, listens only on 127.0.0.1 on a free port and leaves nothing behind when its context
ends (`pg_ctl stop -m fast` and the data folder removed; moto terminated).

A test module uses the session fixtures without any conftest change:

    from tests.real_services import object_store, postgres  # noqa: F401

PostgreSQL comes from Debian's `postgresql` package (`make test` installs it), never from PyPI: initdb
refuses to run as root, so as root (CI) every server command runs as the `postgres` system user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

#: Where Debian installs each PostgreSQL major version's server binaries.
POSTGRES_ROOT = Path("/usr/lib/postgresql")
#: The system user Debian's package creates; the server runs as it when the tests run as root.
POSTGRES_SYSTEM_USER = "postgres"
#: The database superuser initdb creates (reached only over the Unix socket, without a password).
SUPERUSER = "postgres"
#: Fixed test credentials: moto accepts any, and nothing else ever sees them.
S3_KEY_ID = "monitorlink-test"
S3_SECRET = "monitorlink-test-secret"
S3_REGION = "us-east-1"
#: A Unix socket path must fit in sun_path (108 bytes, the terminating zero included).
_SOCKET_PATH_LIMIT = 100


class ServiceUnavailable(RuntimeError):
    """A server the tests need cannot be started here; the message says how to get it."""


def free_port() -> int:
    """A loopback port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------- PostgreSQL


def postgres_bin_dir() -> Path:
    """The newest Debian PostgreSQL's binaries; a clear error when the package is not installed."""
    candidates = [
        p for p in POSTGRES_ROOT.glob("*/bin") if (p / "initdb").exists() and p.parent.name.isdigit()
    ]
    if not candidates:
        raise ServiceUnavailable(
            f"no PostgreSQL server binaries under {POSTGRES_ROOT}/*/bin: the DuckLake tests need Debian's"
            " `postgresql` package, which `make test` installs (apt-get install -y postgresql)"
        )
    return max(candidates, key=lambda p: int(p.parent.name))


@dataclass
class PostgresServer:
    """A running PostgreSQL: superuser over its Unix socket (trust), everyone else over TCP with a
    password (scram-sha-256), the way a DuckLake reader or writer on another machine logs in."""

    bin_dir: Path
    root: Path
    port: int
    run_as: list[str] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    def dsn(self, database: str, user: str, password: str) -> str:
        """libpq keywords over TCP (what DuckLake's `ducklake:postgres:` and psycopg2 take)."""
        return (
            f"host=127.0.0.1 port={self.port} dbname={_dsn_value(database)} user={_dsn_value(user)}"
            f" password={_dsn_value(password)}"
        )

    def sqlalchemy_uri(self, database: str, user: str, password: str) -> str:
        """The same login as a SQLAlchemy URL (Airflow, Superset)."""
        return (
            f"postgresql+psycopg2://{quote(user, safe='')}:{quote(password, safe='')}"
            f"@127.0.0.1:{self.port}/{quote(database, safe='')}"
        )

    def execute(self, sql: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        """Run one statement as the superuser (autocommit, so CREATE DATABASE works); rows if any."""
        import psycopg2

        connection = psycopg2.connect(
            host=str(self.socket_dir), port=self.port, dbname=database, user=SUPERUSER
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall()) if cursor.description else []
        finally:
            connection.close()

    def create_role(self, name: str, password: str, *, login: bool = True) -> None:
        """A role that logs in over TCP with its password (stored as a scram-sha-256 verifier)."""
        option = "LOGIN" if login else "NOLOGIN"
        self.execute(f"CREATE ROLE {_identifier(name)} {option} PASSWORD {_literal(password)}")

    def create_database(self, name: str, *, owner: str | None = None, private: bool = True) -> None:
        """A database, owned by `owner`; private (the default) means only its owner and roles granted
        CONNECT may connect, so one tier's credentials never open another tier's catalog."""
        owned = f" OWNER {_identifier(owner)}" if owner else ""
        self.execute(f"CREATE DATABASE {_identifier(name)}{owned}")
        if private:
            self.execute(f"REVOKE CONNECT, TEMPORARY ON DATABASE {_identifier(name)} FROM PUBLIC")

    def grant(self, privileges: str, target: str, role: str, *, database: str = "postgres") -> None:
        """`GRANT <privileges> ON <target> TO <role>` inside `database` (e.g. `SELECT`, `ALL TABLES IN
        SCHEMA public`)."""
        self.execute(f"GRANT {privileges} ON {target} TO {_identifier(role)}", database)

    def grant_read_only(self, database: str, role: str, *, owner: str, schema: str = "public") -> None:
        """Let `role` connect and read every table of `schema`, today's and those `owner` creates later
        (a DuckLake catalog's tables appear on its first attach, after this grant)."""
        self.grant("CONNECT", f"DATABASE {_identifier(database)}", role)
        self.grant("USAGE", f"SCHEMA {_identifier(schema)}", role, database=database)
        self.grant("SELECT", f"ALL TABLES IN SCHEMA {_identifier(schema)}", role, database=database)
        self.execute(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_identifier(owner)} IN SCHEMA {_identifier(schema)}"
            f" GRANT SELECT ON TABLES TO {_identifier(role)}",
            database,
        )

    def run(self, program: str, *arguments: str) -> subprocess.CompletedProcess[str]:
        """A server binary (initdb, pg_ctl), as the `postgres` user when the tests run as root."""
        command = [*self.run_as, str(self.bin_dir / program), *arguments]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-3000:] if self.log_file.exists() else ""
            output = completed.stdout + completed.stderr
            raise ServiceUnavailable(f"{' '.join(command)} failed ({completed.returncode}):\n{output}{log}")
        return completed


def _dsn_value(value: str) -> str:
    """A libpq keyword value, quoted only when it needs it (spaces, quotes, backslashes, empty)."""
    if value and not any(c in value for c in " '\\"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _postgres_root(tmp: Path) -> Path:
    """The server's own folder (data, socket, log), removed whole when the server stops.

    As root the server runs as `postgres`, which must traverse every folder above its data; pytest's
    base temp folder is 0700 root, so then a dedicated folder in the system temp dir is used instead.
    A too long path would not fit the Unix socket's name either.
    """
    candidate = tmp / "postgres"
    fits = len(str(candidate / "socket" / ".s.PGSQL.65535")) < _SOCKET_PATH_LIMIT
    reachable = os.geteuid() != 0 or _postgres_user_can_reach(tmp)
    if fits and reachable:
        candidate.mkdir(parents=True, exist_ok=False)
        return candidate
    return Path(tempfile.mkdtemp(prefix="monitorlink-pg-"))


def _postgres_user_can_reach(folder: Path) -> bool:
    """True when the `postgres` system user can enter `folder` (every folder above it included)."""
    command = ["runuser", "-u", POSTGRES_SYSTEM_USER, "--", "test", "-x", str(folder)]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


def _prepare_root(root: Path) -> list[str]:
    """Make the folders; as root hand them to `postgres` and return the `runuser` prefix for commands."""
    (root / "socket").mkdir()
    if os.geteuid() != 0:
        return []
    import pwd

    account = pwd.getpwnam(POSTGRES_SYSTEM_USER)
    for folder in (root, root / "socket"):
        os.chown(folder, account.pw_uid, account.pw_gid)
    root.chmod(0o755)
    return ["runuser", "-u", POSTGRES_SYSTEM_USER, "--"]


#: Test-only server settings: loopback only, and durability traded for speed (the data is thrown away).
_SERVER_SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket}'
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 50
"""


@contextlib.contextmanager
def postgres_server(tmp: Path) -> Iterator[PostgresServer]:
    """Start a fresh PostgreSQL cluster on 127.0.0.1 and a free port; stop it and remove its data after.

    Local (socket) connections are trusted for the superuser the helpers use; TCP connections need a
    password (scram-sha-256), so a wrong one is refused as in production.
    """
    bin_dir = postgres_bin_dir()
    root = _postgres_root(tmp)
    server = PostgresServer(bin_dir=bin_dir, root=root, port=free_port(), run_as=_prepare_root(root))
    started = False
    try:
        server.run(
            "initdb", "-D", str(server.data_dir), "-U", SUPERUSER, "-E", "UTF8", "--no-locale", "--no-sync",
            "--auth-local=trust", "--auth-host=scram-sha-256",
        )  # fmt: skip
        conf = _SERVER_SETTINGS.format(port=server.port, socket=server.socket_dir)
        with (server.data_dir / "postgresql.conf").open("a") as settings:
            settings.write(conf)
        server.run(
            "pg_ctl", "-D", str(server.data_dir), "-l", str(server.log_file), "-w", "-t", "60", "start"
        )
        started = True
        yield server
    finally:
        if started:
            server.run("pg_ctl", "-D", str(server.data_dir), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------------------------- S3 (moto)


@dataclass(frozen=True)
class S3Server:
    """A running moto S3 server with one bucket, reached with fixed test credentials."""

    endpoint_url: str
    bucket: str
    key_id: str = S3_KEY_ID
    secret: str = S3_SECRET
    region: str = S3_REGION

    def environment(self) -> dict[str, str]:
        """The variables `S3Endpoint.from_environment`, boto3 and s3fs read."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_REGION": self.region,
        }

    def client(self) -> Any:
        """A boto3 S3 client on this server (to create buckets, list what a test wrote)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
            region_name=self.region,
        )

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key under `prefix` in the bucket, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def _moto_command(port: int) -> list[str]:
    """moto's server next to this interpreter (the venv's script), else as a module."""
    script = Path(sys.executable).with_name("moto_server")
    if script.exists():
        return [str(script), "-H", "127.0.0.1", "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path, timeout: float) -> None:
    """Poll the port until the server accepts connections; fail with its log if it exits or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceUnavailable(f"moto_server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise ServiceUnavailable(f"moto_server did not listen on port {port} within {timeout:.0f}s")


@contextlib.contextmanager
def s3_server(tmp: Path, bucket: str = "monitorlink-test") -> Iterator[S3Server]:
    """Start moto's S3 server in its own process on 127.0.0.1, create `bucket`, terminate it after."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = tmp / f"moto-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(_moto_command(port), stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(process, port, log, timeout=60)
        server = S3Server(endpoint_url=f"http://127.0.0.1:{port}", bucket=bucket)
        server.client().create_bucket(Bucket=bucket)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session; each test creates its own databases and roles in it."""
    with postgres_server(tmp_path_factory.mktemp("postgres")) as server:
        yield server


@pytest.fixture(scope="session")
def object_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One moto S3 server with a bucket for the session; tests keep to their own prefixes."""
    with s3_server(tmp_path_factory.mktemp("s3")) as server:
        yield server
