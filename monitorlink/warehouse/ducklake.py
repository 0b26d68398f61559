"""The production warehouse backend: one DuckLake per tier, catalog in PostgreSQL, data on object storage.

The default backend publishes three DuckDB files by atomic rename, which needs one shared POSIX file
system. With `MONITORLINK_WAREHOUSE_BACKEND=ducklake` each tier (published, analysts, restricted) is a
DuckLake instead: its catalog is a PostgreSQL database (`MONITORLINK_DUCKLAKE_PUBLISHED_DSN` and the
other two, each with the tier's own role and password, so one tier's credentials never open another's)
and its data files are Parquet under
`<MONITORLINK_DUCKLAKE_DATA_URI>/<tier>/`. What the file swap gave, DuckLake gives too, and more:

* a publication is ONE catalog transaction per tier: readers see the previous warehouse or the new one,
  never half of it, and no reader ever blocks the writer;
* every publication is a snapshot with a commit message, so "what did the dashboard show on 1 March?" is
  a read-only attach `AT` that time (`reader(settings, "published", at=datetime(...))`);
* a bad publication is undone by `restore`, which copies the old snapshot's tables into a NEW snapshot:
  history is never rewritten, the undone publication stays reachable for the audit.

A build still writes its three tier files first (dbt and the disclosure gate need a DuckDB file);
`publish` then copies each finished file into its tier's DuckLake.

DuckLake (format 0.3, DuckDB 1.4.4) stores no ENUM, UNION, BIT or BIGNUM columns: those are published as
VARCHAR. It keeps views, so the `live` schema's views stay views (they read the lake when queried).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from monitorlink.core.config import DUCKLAKE_DSN_VARIABLES, TIERS, ConfigError, Settings
from monitorlink.core.object_store import connect, sql_literal
from monitorlink.warehouse.disclosure import PUBLISHED_SCHEMA

log = logging.getLogger(__name__)

#: The author of every snapshot this module commits; `publications` lists only these (not maintenance).
AUTHOR = "monitorlink"
#: The schema whose views read the lake at query time (`build.LIVE_SCHEMA`; not imported from there
#: because `build` is the module that calls this one). Its views stay views in the DuckLake.
LIVE_SCHEMA = "live"
#: The catalog name a reader's queries see, as with the file backend (`monitorlink.duckdb`), so SQL
#: written as `monitorlink.published.pub_…` means the same on both backends.
READER_ALIAS = "monitorlink"
#: Publishing order: the most restricted tier first, so the public tier only moves once the others did.
PUBLISH_ORDER = ("restricted", "analysts", "published")
#: DuckLake's words for a catalog database without a DuckLake in it (a reader never creates one).
NO_CATALOG = "creating a new DuckLake is explicitly disabled"
#: Column types DuckLake cannot store; published as their text.
_UNSTORABLE = re.compile(r"\b(?:UNION\(|BIT\b|BIGNUM\b|VARINT\b)")
#: An ENUM type as DuckDB spells it in `duckdb_columns()`: ENUM('a', 'it''s', …).
_ENUM = re.compile(r"\bENUM\((?:'(?:[^']|'')*'(?:,\s*)?)*\)")
#: The start of a view's stored SQL, replaced so a republication overwrites the view.
_CREATE_VIEW = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\b", re.IGNORECASE)
#: A password in a libpq DSN, quoted or not; DuckDB quotes the DSN in its error messages.
_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


class DuckLakeError(RuntimeError):
    """A DuckLake operation failed; the message names the tier and never contains a password."""


@dataclass(frozen=True)
class Publication:
    """One snapshot this module committed (a publication or a restore), for the history and time travel."""

    snapshot_id: int
    time: datetime
    message: str | None


@dataclass(frozen=True)
class _Relation:
    """A table or view to publish: where it is, whether it stays a view, and its descriptions."""

    schema: str
    name: str
    kind: str  # "table" or "view"
    comment: str | None
    view_sql: str | None
    columns: tuple[tuple[str, str, str | None], ...]  # (name, data type, comment)

    @property
    def stored_as(self) -> str:
        """A live view stays a view (it must keep reading the lake); everything else becomes a table."""
        return "view" if self.kind == "view" and self.schema == LIVE_SCHEMA and self.view_sql else "table"


# --------------------------------------------------------------------------------------------- attaching


def data_path(settings: Settings, tier: str) -> str:
    """Where the tier's Parquet files go: `<MONITORLINK_DUCKLAKE_DATA_URI>/<tier>/`.

    Always with the trailing slash: DuckLake records the path in the catalog at the first attach and
    refuses a writer whose DATA_PATH differs, so it must be spelt the same every time.
    """
    if not settings.ducklake_data_uri:
        raise ConfigError("the DuckLake backend needs MONITORLINK_DUCKLAKE_DATA_URI")
    return f"{settings.ducklake_data_uri.rstrip('/')}/{_tier(tier)}/"


def catalog_dsn(settings: Settings, tier: str) -> str:
    """The tier's catalog as libpq keywords, with the tier's own (writer's) credentials."""
    dsn = settings.ducklake_dsns.get(_tier(tier))
    if not dsn:
        raise ConfigError(f"the DuckLake backend needs {DUCKLAKE_DSN_VARIABLES[tier]}")
    return dsn


def attach_sql(
    settings: Settings,
    tier: str,
    alias: str,
    *,
    read_only: bool = True,
    at: datetime | int | None = None,
    dsn: str | None = None,
) -> str:
    """The `ATTACH` of a tier's DuckLake as `alias`, read-only unless asked, optionally as of `at`.

    `at` is a snapshot id or a moment (a naive datetime counts as UTC): the catalog as it was then,
    i.e. the last snapshot committed at or before it. The past is read-only. `dsn` replaces the
    settings' credentials, for readers with a read-only role. A writer gives DATA_PATH (it creates the
    catalog on first use); readers take the path the catalog recorded.
    """
    if at is not None and not read_only:
        raise ValueError("a DuckLake can only be written at its newest snapshot (at=None)")
    options = [] if read_only else [f"DATA_PATH {sql_literal(data_path(settings, tier))}"]
    options += [*_snapshot_option(at), *(["READ_ONLY"] if read_only else [])]
    location = sql_literal(f"ducklake:postgres:{dsn or catalog_dsn(settings, tier)}")
    suffix = f" ({', '.join(options)})" if options else ""
    return f"ATTACH {location} AS {_identifier(alias)}{suffix}"


def _snapshot_option(at: datetime | int | None) -> list[str]:
    """ATTACH's time-travel option: SNAPSHOT_VERSION for an id, SNAPSHOT_TIME for a moment."""
    if at is None:
        return []
    if isinstance(at, datetime):
        moment = at if at.tzinfo else at.replace(tzinfo=UTC)
        return [f"SNAPSHOT_TIME {sql_literal(moment.isoformat())}"]
    if isinstance(at, bool) or not isinstance(at, int) or at < 0:
        raise ValueError(f"at must be a snapshot id (a whole number ≥ 0) or a datetime, not {at!r}")
    return [f"SNAPSHOT_VERSION {at}"]


def session(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that loads the installed extensions (never downloads) and can reach the data
    files: the S3 secret from the settings when the data lives on object storage."""
    connection = connect(":memory:")
    if (settings.ducklake_data_uri or "").startswith("s3://"):
        connection.execute("LOAD httpfs")
        connection.execute(settings.s3.duckdb_secret_sql())
    return connection


def reader(
    settings: Settings, tier: str = "published", at: datetime | int | None = None, *, dsn: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection on a tier's DuckLake, as of now or of `at` (a snapshot id or a moment).

    The catalog is attached as `monitorlink` and is the default, and unqualified names find the
    published schema first, as `build.connect_readonly` does for the files. Pass `dsn` to read with a
    read-only role instead of the writer's credentials in the settings.
    """
    connection = session(settings)
    try:
        with _errors(tier):
            connection.execute(attach_sql(settings, tier, READER_ALIAS, at=at, dsn=dsn))
        connection.execute(f"USE {_identifier(READER_ALIAS)}")
        _search_published_first(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def published_reader(settings: Settings, tier: str) -> duckdb.DuckDBPyConnection | None:
    """A reader of the tier's newest publication, or None where there is none to read: this machine
    has no DSN for the tier, or nothing was published yet. Any other failure (a wrong password, an
    unreachable server) raises, so a misconfigured host is never mistaken for an empty warehouse."""
    if _tier(tier) not in settings.ducklake_dsns:
        return None
    try:
        return reader(settings, tier)
    except DuckLakeError as error:
        if NO_CATALOG in str(error):
            return None
        raise


def _search_published_first(connection: duckdb.DuckDBPyConnection) -> None:
    """Unqualified names: the published schema, then main. DuckDB refuses a search path naming a schema
    that does not exist, and a snapshot from before the first publication has none."""
    present = {
        schema
        for (schema,) in connection.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = $db", {"db": READER_ALIAS}
        ).fetchall()
    }
    path = [schema for schema in (PUBLISHED_SCHEMA, "main") if schema in present]
    if path:
        connection.execute(f"SET search_path = {sql_literal(','.join(path))}")


# --------------------------------------------------------------------------------------------- publishing


def publish(settings: Settings, tier_files: Mapping[str, Path]) -> dict[str, int]:
    """Publish finished tier files (tier → DuckDB file) as a new snapshot of each tier's DuckLake.

    Each tier is one transaction: schemas created, every table replaced (`CREATE OR REPLACE TABLE`),
    tables and views the file no longer has dropped, a commit message set, then committed. Tiers go most
    restricted first; if one fails, the tiers before it are published and the rest untouched (a rerun
    publishes them all again). Returns tier → the snapshot id each publication committed.
    """
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    ordered = sorted(tier_files, key=lambda t: PUBLISH_ORDER.index(_tier(t)))
    snapshots: dict[str, int] = {}
    for tier in ordered:
        snapshots[tier] = _publish_tier(settings, tier, Path(tier_files[tier]), stamp)
    return snapshots


def _publish_tier(settings: Settings, tier: str, tier_file: Path, stamp: str) -> int:
    """Copy one tier file into the tier's DuckLake as one snapshot; returns its id."""
    if not tier_file.is_file():
        raise DuckLakeError(f"{tier}: no tier file at {tier_file}")
    with session(settings) as connection, _errors(tier):
        connection.execute(f"ATTACH {sql_literal(str(tier_file))} AS source (READ_ONLY)")
        connection.execute(attach_sql(settings, tier, "lake", read_only=False))
        relations, skipped = _publishable(connection, "source")
        info = {"tier": tier, "source": tier_file.name, "relations": len(relations), "skipped": skipped}
        message = f"{AUTHOR} publication {stamp}"
        snapshot = _replace_contents(connection, "source", "lake", relations, message, info)
    log.info("published %s as DuckLake snapshot %d (%d relations)", tier, snapshot, len(relations))
    return snapshot


def _publishable(connection: duckdb.DuckDBPyConnection, source: str) -> tuple[list[_Relation], list[str]]:
    """The source's tables and views, less the views that cannot be read here (listed by name).

    A view is bound before the transaction starts (DESCRIBE), because DuckDB has no savepoints: one
    failing statement would abort the whole publication. Views that fail to bind (a lake path that does
    not exist on this machine, a file the build no longer has) are skipped with a warning, the rest of
    the tier is still published; the skipped ones are named in the snapshot's extra info.
    """
    relations, skipped = [], []
    for relation in _relations(connection, source):
        if relation.kind == "view" and not _binds(connection, source, relation):
            skipped.append(f"{relation.schema}.{relation.name}")
            log.warning("not publishing view %s.%s: it cannot be read here", relation.schema, relation.name)
            continue
        relations.append(relation)
    return relations, skipped


def _relations(connection: duckdb.DuckDBPyConnection, database: str) -> list[_Relation]:
    """Every user table and view of an attached database, with table, view and column comments."""
    columns: dict[tuple[str, str], list[tuple[str, str, str | None]]] = {}
    for schema, name, column, data_type, comment in connection.execute(
        "SELECT schema_name, table_name, column_name, data_type, comment FROM duckdb_columns()"
        " WHERE database_name = $db AND NOT internal ORDER BY schema_name, table_name, column_index",
        {"db": database},
    ).fetchall():
        columns.setdefault((schema, name), []).append((column, data_type, comment))
    rows = connection.execute(
        "SELECT schema_name, table_name, 'table', comment, NULL FROM duckdb_tables()"
        " WHERE database_name = $db AND NOT internal"
        " UNION ALL SELECT schema_name, view_name, 'view', comment, sql FROM duckdb_views()"
        " WHERE database_name = $db AND NOT internal ORDER BY 1, 2",
        {"db": database},
    ).fetchall()
    return [
        _Relation(schema, name, kind, comment, sql, tuple(columns.get((schema, name), [])))
        for schema, name, kind, comment, sql in rows
    ]


def _binds(connection: duckdb.DuckDBPyConnection, source: str, relation: _Relation) -> bool:
    """True when the view's query can be planned here (its files exist and can be read)."""
    try:
        connection.execute(f"DESCRIBE SELECT * FROM {_qualified(source, relation.schema, relation.name)}")
    except duckdb.Error as error:
        log.debug("view %s.%s does not bind: %s", relation.schema, relation.name, error)
        return False
    return True


def _replace_contents(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    lake: str,
    relations: list[_Relation],
    message: str,
    info: dict[str, object],
) -> int:
    """Make the lake hold exactly `relations` (read from `source`) in one transaction; its snapshot id.

    Stale relations are dropped first, so a table that became a view (or the reverse) can be created
    under its old name. On any error the transaction is rolled back and nothing changes for readers
    (the Parquet files already written stay behind as orphans; `ducklake_delete_orphaned_files` removes
    them).
    """
    connection.execute("BEGIN TRANSACTION")
    try:
        _drop_stale(connection, lake, relations)
        for schema in sorted({r.schema for r in relations}):
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {_qualified(lake, schema)}")
        for relation in relations:
            _copy(connection, source, lake, relation)
        connection.execute(
            "CALL ducklake_set_commit_message($lake, $author, $message, extra_info => $info)",
            {"lake": lake, "author": AUTHOR, "message": message, "info": json.dumps(info)},
        )
        connection.execute("COMMIT")
    except BaseException:
        with suppress(duckdb.Error):  # a failed COMMIT has already ended the transaction
            connection.execute("ROLLBACK")
        raise
    row = connection.execute(
        "SELECT id FROM ducklake_last_committed_snapshot($lake)", {"lake": lake}
    ).fetchone()
    if row is None or row[0] is None:
        raise DuckLakeError(f"{lake}: the commit left no snapshot id")
    return int(row[0])


def _drop_stale(connection: duckdb.DuckDBPyConnection, lake: str, wanted: list[_Relation]) -> None:
    """Drop the lake's tables, views and schemas that the new contents do not have (as that kind)."""
    keep = {(r.schema, r.name, r.stored_as) for r in wanted}
    for relation in _relations(connection, lake):
        if (relation.schema, relation.name, relation.kind) not in keep:
            kind = relation.kind.upper()
            connection.execute(f"DROP {kind} {_qualified(lake, relation.schema, relation.name)}")
    schemas = {r.schema for r in wanted} | {"main"}
    for (schema,) in connection.execute(
        "SELECT schema_name FROM duckdb_schemas() WHERE database_name = $db AND NOT internal", {"db": lake}
    ).fetchall():
        if schema not in schemas:
            connection.execute(f"DROP SCHEMA {_qualified(lake, schema)}")


def _copy(connection: duckdb.DuckDBPyConnection, source: str, lake: str, relation: _Relation) -> None:
    """One relation into the lake: a table's rows (other views materialised too), a live view's SQL."""
    target = _qualified(lake, relation.schema, relation.name)
    if relation.stored_as == "view":
        _create_view(connection, lake, relation)
    else:
        select = ", ".join(_storable(name, data_type) for name, data_type, _ in relation.columns) or "*"
        origin = _qualified(source, relation.schema, relation.name)
        connection.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {select} FROM {origin}")
    _comment(connection, relation, target)


def _create_view(connection: duckdb.DuckDBPyConnection, lake: str, relation: _Relation) -> None:
    """A live view, recreated from its SQL with the lake's schema as the default (DuckDB keeps a view's
    SQL without its database), so it keeps reading the lake's files when it is queried."""
    assert relation.view_sql is not None
    statement = _CREATE_VIEW.sub("CREATE OR REPLACE VIEW", relation.view_sql, count=1)
    connection.execute(f"USE {_qualified(lake, relation.schema)}")
    try:
        connection.execute(statement)
    finally:
        connection.execute("USE memory")


def _storable(column: str, data_type: str) -> str:
    """The select item of a column, cast to a type DuckLake can store when its own one is not."""
    name = _identifier(column)
    if _UNSTORABLE.search(data_type):
        return f"CAST({name} AS VARCHAR) AS {name}"
    if _ENUM.search(data_type):
        return f"CAST({name} AS {_ENUM.sub('VARCHAR', data_type)}) AS {name}"
    return name


def _comment(connection: duckdb.DuckDBPyConnection, relation: _Relation, target: str) -> None:
    """Carry the dbt descriptions (comments in the tier file) into the lake, for SQL clients."""
    kind = relation.stored_as.upper()
    if relation.comment:
        connection.execute(f"COMMENT ON {kind} {target} IS {sql_literal(relation.comment)}")
    if kind == "VIEW":
        return  # DuckLake keeps no column comments on views ("it is not a table")
    for column, _, comment in relation.columns:
        if comment:
            connection.execute(f"COMMENT ON COLUMN {target}.{_identifier(column)} IS {sql_literal(comment)}")


# --------------------------------------------------------------------------------------------- history


def publications(settings: Settings, tier: str, *, dsn: str | None = None) -> list[Publication]:
    """The tier's publications and restores (snapshots this module committed), newest first."""
    with session(settings) as connection, _errors(tier):
        connection.execute(attach_sql(settings, tier, "lake", dsn=dsn))
        rows = connection.execute(
            "SELECT snapshot_id, snapshot_time, commit_message FROM ducklake_snapshots('lake')"
            " WHERE author = $author ORDER BY snapshot_id DESC",
            {"author": AUTHOR},
        ).fetchall()
    return [Publication(int(snapshot), moment, message) for snapshot, moment, message in rows]


def restore(settings: Settings, tier: str, at: datetime | int) -> int:
    """Make a past publication current again, as a NEW snapshot; returns its id.

    The tables and views of the snapshot at `at` (an id, or the last one at or before a moment) are
    copied over the current ones in one transaction, and what the past did not have is dropped. History
    is never rewritten: the publications in between stay in the history and reachable by time travel.
    """
    with session(settings) as connection, _errors(tier):
        connection.execute(attach_sql(settings, tier, "past", at=at))
        connection.execute(attach_sql(settings, tier, "lake", read_only=False))
        past = _past_snapshot(connection, at)
        relations = _relations(connection, "past")
        info = {"tier": tier, "restored_snapshot": past, "relations": len(relations)}
        message = f"{AUTHOR} restore of snapshot {past}"
        snapshot = _replace_contents(connection, "past", "lake", relations, message, info)
    log.info("restored %s snapshot %d as DuckLake snapshot %d", tier, past, snapshot)
    return snapshot


def _past_snapshot(connection: duckdb.DuckDBPyConnection, at: datetime | int) -> int:
    """The id of the snapshot `at` names (for a moment: the last one committed at or before it)."""
    if not isinstance(at, datetime):
        return at
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    row = connection.execute(
        "SELECT max(snapshot_id) FROM ducklake_snapshots('lake') WHERE snapshot_time <= $at", {"at": moment}
    ).fetchone()
    if row is None or row[0] is None:
        raise DuckLakeError(f"no snapshot at or before {moment.isoformat()}")
    return int(row[0])


# --------------------------------------------------------------------------------------------- helpers


@contextmanager
def _errors(tier: str) -> Iterator[None]:
    """DuckDB errors as `DuckLakeError` naming the tier, with any password in them masked.

    DuckDB quotes the whole DSN in its messages ("Unable to connect to Postgres at …"); the original
    exception is dropped (`from None`) so the password does not reach a log through the traceback.
    """
    try:
        yield
    except duckdb.Error as error:
        raise DuckLakeError(f"{tier}: {redact(str(error))}") from None


def redact(text: str) -> str:
    """`text` with every `password=…` of a DSN replaced by `password=***`."""
    return _PASSWORD.sub(r"\1***", text)


def _tier(tier: str) -> str:
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r} (tiers: {', '.join(TIERS)})")
    return tier


def _qualified(*parts: str) -> str:
    return ".".join(_identifier(part) for part in parts)


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
