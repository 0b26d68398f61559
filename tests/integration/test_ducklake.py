"""The DuckLake warehouse backend on a real PostgreSQL (one catalog database per tier) and a real S3 (moto).

Tier files are built by hand with known values; each test checks what a reader gets against those inputs:
publications are snapshots with growing ids, a reader sees the newest, time travel and `restore` bring
the first back without losing the second, a read-only role reads but cannot write nor open another
tier's catalog, and the data files land on the object store under `<data uri>/<tier>/`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from monitorlink.core.config import TIERS, Settings, load_settings
from monitorlink.core.object_store import connect
from monitorlink.warehouse import ducklake
from tests.conftest import environment
from tests.real_services import PostgresServer, S3Server, object_store, postgres  # noqa: F401

pytestmark = pytest.mark.integration

#: Waiting weeks per municipality in the first and the second build (the published table `pub_wait`).
FIRST = {"0153": 4, "0164": 6}
SECOND = {"0153": 5, "0164": 7, "0183": 3}
#: A table only the first build has: the second publication must drop it, a restore bring it back.
GONE = "pub_gone"
#: The live view's rows, read from a lake file when it is queried (never copied).
LIVE_ROWS = [("0153", 2), ("0164", 1)]
#: Person-level rows only the restricted tier holds.
PERSONS = [("p-1", 3), ("p-2", 5)]


@dataclass(frozen=True)
class Lake:
    """Three tier catalogs with their own roles, a read-only role for published, and their settings."""

    settings: Settings
    server: PostgresServer
    store: S3Server
    prefix: str  # the data URI's key prefix in the bucket
    databases: dict[str, str]
    reader_role: tuple[str, str]  # (user, password), may read `published` only
    folder: Path

    def reader_dsn(self, tier: str = "published", password: str | None = None) -> str:
        user, secret = self.reader_role
        return self.server.dsn(self.databases[tier], user, password or secret)

    def publish(self, version: int, tiers: tuple[str, ...] = TIERS) -> dict[str, int]:
        files = {tier: write_tier_file(self.folder / f"v{version}", tier, version) for tier in tiers}
        return ducklake.publish(self.settings, files)


def new_lake(server: PostgresServer, store: S3Server, folder: Path) -> Lake:
    """Fresh catalogs (each owned by its own role with its own password) and a fresh data prefix."""
    suffix = uuid.uuid4().hex[:8]
    prefix = f"ducklake-{suffix}"
    databases, variables = {}, {}
    for tier in TIERS:
        role, password, database = f"{tier}_writer_{suffix}", f"{tier}-{suffix}-secret", f"{tier}_{suffix}"
        server.create_role(role, password)
        server.create_database(database, owner=role)
        databases[tier] = database
        variables[f"MONITORLINK_DUCKLAKE_{tier.upper()}_DSN"] = server.dsn(database, role, password)
    reader_role = (f"published_reader_{suffix}", f"reader-{suffix}-secret")
    server.create_role(*reader_role)
    server.grant_read_only(databases["published"], reader_role[0], owner=f"published_writer_{suffix}")
    variables |= {
        **store.environment(),
        "MONITORLINK_HOME": str(folder / "home"),
        "MONITORLINK_WAREHOUSE_BACKEND": "ducklake",
        "MONITORLINK_DUCKLAKE_DATA_URI": f"s3://{store.bucket}/{prefix}",
    }
    with environment(variables, unset=("AWS_ENDPOINT_URL_S3",)):
        settings = load_settings()
    return Lake(settings, server, store, prefix, databases, reader_role, folder)


def write_tier_file(folder: Path, tier: str, version: int) -> Path:
    """A finished tier file as a build leaves it: `published` tables in every tier, a live view and a
    staging view in the analysts' and restricted ones, person-level rows in the restricted one only."""
    folder = folder / tier  # named as the build names them: a catalog called `published` would be ambiguous
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "monitorlink.duckdb"
    waits = FIRST if version == 1 else SECOND
    with connect(str(path)) as connection:
        connection.execute("CREATE SCHEMA published")
        connection.execute("CREATE TYPE wait_kind AS ENUM ('intake', 'treatment')")
        connection.execute(
            "CREATE TABLE published.pub_wait (gemeente VARCHAR, weeks INTEGER, kind wait_kind)"
        )
        connection.executemany(
            "INSERT INTO published.pub_wait VALUES (?, ?, 'intake')", sorted(waits.items())
        )
        connection.execute("COMMENT ON TABLE published.pub_wait IS 'waiting weeks per municipality'")
        connection.execute("COMMENT ON COLUMN published.pub_wait.weeks IS 'weeks until intake'")
        if version == 1:
            connection.execute(f"CREATE TABLE published.{GONE} AS SELECT 1 AS x")
        if tier != "published":
            _lake_views(connection, folder)
        if tier == "restricted":
            connection.execute("CREATE SCHEMA restricted")
            connection.execute("CREATE TABLE restricted.persons (pseudonym VARCHAR, contacts INTEGER)")
            connection.executemany("INSERT INTO restricted.persons VALUES (?, ?)", PERSONS)
    return path


def _lake_views(connection: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Views that read lake files: a live one, a staging one, and one whose file is gone (unreadable)."""
    lake_file, gone_file = folder / "live.parquet", folder / "gone.parquet"
    rows = ", ".join(f"('{gemeente}', {places})" for gemeente, places in LIVE_ROWS)
    connection.execute(f"COPY (FROM (VALUES {rows}) v(gemeente, free_places)) TO '{lake_file}'")
    connection.execute(f"COPY (SELECT 1 AS x) TO '{gone_file}'")
    connection.execute("CREATE SCHEMA live")
    connection.execute(f"CREATE VIEW live.live_current AS SELECT * FROM read_parquet('{lake_file}')")
    connection.execute(f"CREATE VIEW main.stg_places AS SELECT * FROM read_parquet('{lake_file}')")
    connection.execute(f"CREATE VIEW main.stg_broken AS SELECT * FROM read_parquet('{gone_file}')")
    gone_file.unlink()


@dataclass(frozen=True)
class TwoPublications:
    lake: Lake
    first: dict[str, int]
    second: dict[str, int]


@pytest.fixture(scope="module")
def make_lake(
    postgres: PostgresServer,  # noqa: F811
    object_store: S3Server,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[], Lake]:
    return lambda: new_lake(postgres, object_store, tmp_path_factory.mktemp("ducklake"))


@pytest.fixture(scope="module")
def published(make_lake: Callable[[], Lake]) -> Iterator[TwoPublications]:
    lake = make_lake()
    first = lake.publish(1)
    second = lake.publish(2)
    yield TwoPublications(lake, first, second)


def waits(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """`pub_wait` by its unqualified name: the reader's search path finds the published schema."""
    return dict(connection.execute("SELECT gemeente, weeks FROM pub_wait").fetchall())


def has_table(connection: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = connection.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = $db AND schema_name = $s"
        " AND table_name = $t",
        {"db": ducklake.READER_ALIAS, "s": schema, "t": name},
    ).fetchone()
    return row is not None and row[0] == 1


def test_each_publication_is_a_new_snapshot_with_a_message(published: TwoPublications) -> None:
    for tier in TIERS:
        assert published.second[tier] > published.first[tier]
        history = ducklake.publications(published.lake.settings, tier)
        assert [p.snapshot_id for p in history] == [published.second[tier], published.first[tier]]
        assert all((p.message or "").startswith("monitorlink publication ") for p in history)
        assert history[0].time > history[1].time


def test_a_reader_sees_the_newest_publication(published: TwoPublications) -> None:
    for tier in TIERS:
        with ducklake.reader(published.lake.settings, tier) as connection:
            assert waits(connection) == SECOND
            assert not has_table(connection, "published", GONE), "the second build dropped it"
    with ducklake.reader(published.lake.settings, "restricted") as connection:
        assert connection.execute("FROM restricted.persons ORDER BY 1").fetchall() == PERSONS


def test_time_travel_by_snapshot_and_by_moment(published: TwoPublications) -> None:
    settings = published.lake.settings
    with ducklake.reader(settings, "published", at=published.first["published"]) as connection:
        assert waits(connection) == FIRST
        assert has_table(connection, "published", GONE)
    second, first = ducklake.publications(settings, "published")
    between = first.time + (second.time - first.time) / 2
    with ducklake.reader(settings, "published", at=between) as connection:
        assert waits(connection) == FIRST
    with ducklake.reader(settings, "published", at=second.time + timedelta(seconds=1)) as connection:
        assert waits(connection) == SECOND
    with pytest.raises(ducklake.DuckLakeError, match="No snapshot"):
        ducklake.reader(settings, "published", at=first.time - timedelta(days=1))


def test_types_comments_and_views_as_published(published: TwoPublications) -> None:
    with ducklake.reader(published.lake.settings, "analysts") as connection:
        columns = dict(
            connection.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = $db"
                " AND table_name = 'pub_wait'",
                {"db": ducklake.READER_ALIAS},
            ).fetchall()
        )
        assert columns["weeks"] == "weeks until intake"
        kind = connection.execute("SELECT typeof(kind) FROM pub_wait LIMIT 1").fetchone()
        assert kind == ("VARCHAR",), "DuckLake stores no ENUM: published as text"
        views = connection.execute(
            "SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE database_name = $db",
            {"db": ducklake.READER_ALIAS},
        ).fetchall()
        assert views == [("live.live_current",)], "the live view stays a view; nothing else does"
        assert connection.execute("FROM live.live_current ORDER BY 1").fetchall() == LIVE_ROWS
        assert connection.execute("FROM main.stg_places ORDER BY 1").fetchall() == LIVE_ROWS
        assert has_table(connection, "main", "stg_places"), "a staging view is published as a table"
        assert not has_table(connection, "main", "stg_broken"), "an unreadable view is skipped"
        (extra,) = connection.execute(
            "SELECT commit_extra_info FROM ducklake_snapshots($db) ORDER BY snapshot_id DESC LIMIT 1",
            {"db": ducklake.READER_ALIAS},
        ).fetchone() or (None,)
    assert '"skipped": ["main.stg_broken"]' in str(extra)


def test_restore_makes_the_first_publication_current_as_a_new_snapshot(make_lake: Callable[[], Lake]) -> None:
    lake = make_lake()
    first = lake.publish(1, ("published",))["published"]
    second = lake.publish(2, ("published",))["published"]
    restored = ducklake.restore(lake.settings, "published", first)
    assert restored > second
    with ducklake.reader(lake.settings, "published") as connection:
        assert waits(connection) == FIRST
        assert has_table(connection, "published", GONE)
    with ducklake.reader(lake.settings, "published", at=second) as connection:
        assert waits(connection) == SECOND, "the undone publication stays reachable"
    history = ducklake.publications(lake.settings, "published")
    assert [p.snapshot_id for p in history] == [restored, second, first]
    assert history[0].message == f"monitorlink restore of snapshot {first}"


def test_the_read_only_role_reads_published_and_nothing_more(published: TwoPublications) -> None:
    lake = published.lake
    with ducklake.reader(lake.settings, "published", dsn=lake.reader_dsn()) as connection:
        assert waits(connection) == SECOND
    with ducklake.session(lake.settings) as connection:
        writable = ducklake.attach_sql(
            lake.settings, "published", "lake", read_only=False, dsn=lake.reader_dsn()
        )
        connection.execute(writable)
        with pytest.raises(duckdb.Error, match="permission denied"):
            connection.execute("INSERT INTO lake.published.pub_wait VALUES ('0193', 1, 'intake')")
    with ducklake.reader(lake.settings, "published") as connection:
        assert waits(connection) == SECOND, "the refused write changed nothing"
    with pytest.raises(ducklake.DuckLakeError, match="permission denied for database") as refused:
        ducklake.reader(lake.settings, "restricted", dsn=lake.reader_dsn("restricted"))
    with pytest.raises(ducklake.DuckLakeError, match="password authentication failed") as wrong:
        ducklake.reader(lake.settings, "restricted", dsn=lake.reader_dsn("restricted", "guessed-password"))
    assert "guessed-password" not in str(wrong.value) and lake.reader_role[1] not in str(refused.value)


def test_data_files_land_on_the_object_store_per_tier(published: TwoPublications) -> None:
    lake = published.lake
    keys = lake.store.keys(f"{lake.prefix}/")
    for tier in TIERS:
        assert any(k.startswith(f"{lake.prefix}/{tier}/") and k.endswith(".parquet") for k in keys), tier
    assert all(k.split("/")[1] in TIERS for k in keys), "nothing outside <data uri>/<tier>/"
    restricted = [k for k in keys if k.startswith(f"{lake.prefix}/restricted/restricted/persons/")]
    assert restricted and not any(
        "/persons/" in k for k in keys if not k.startswith(f"{lake.prefix}/restricted/")
    )
