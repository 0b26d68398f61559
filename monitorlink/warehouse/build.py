"""Build the DuckDB warehouse with dbt into a fresh file, then publish it as three files by atomic renames.

One build, three tiers (docs/disclosure.md): the restricted file holds everything, person level included;
the analysts' file every aggregate, unsuppressed; the published file only the `published` schema, after
the disclosure gate has scanned it. Readers (analysts, Superset) open their file read-only. Because a
build never touches those files, they never see a half-built warehouse and never meet DuckDB's
single-writer lock: a query that is running keeps the old file (its inode stays alive until closed), the
next connection opens the new one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb

from monitorlink.core.config import Settings
from monitorlink.core.locks import named_lock
from monitorlink.core.object_store import (
    S3Endpoint,
    connect,
    extension_directory,
    fsync_directory,
    is_object_store,
    sql_literal,
)
from monitorlink.ingest.sources import SOURCES
from monitorlink.warehouse import disclosure, ducklake
from monitorlink.warehouse.lake_inputs import lake_inputs

if TYPE_CHECKING:
    from monitorlink.core.object_store import LakePath

RESTRICTED_SCHEMA = "restricted"
PUBLISHED_SCHEMA = disclosure.PUBLISHED_SCHEMA
#: Views an analyst queries for the state of the moment (`live_availability_current`): they read the
#: lake's validated zone when queried, so a landed event shows without a rebuild. The only views a tier
#: file keeps as views; the published file never holds this schema.
LIVE_SCHEMA = "live"
#: Who reads which file: everyone (dashboards, other municipalities), the region's authorised analysts,
#: or those who may see person-level (pseudonymised) data.
Tier = Literal["published", "analysts", "restricted"]


class BuildError(RuntimeError):
    """dbt failed; the message lists each failing node and dbt's message. Nothing was published."""


@dataclass(frozen=True)
class BuildResult:
    """A successful build: where it was published, what dbt did, and the selection (None: everything)."""

    published_path: Path
    nodes_passed: int
    nodes_skipped: int
    seconds: float
    selected: str | None = None


#: Told as dbt finishes each node: nodes done and nodes in the build (for progress output).
OnNode = Callable[[int, int], None]


def build(settings: Settings, select: str | None = None, on_node: OnNode | None = None) -> BuildResult:
    """Run `dbt build` (seeds, models, data and unit tests) into a new file; publish it only if all pass.

    With `select` (e.g. `source:tmsd+`) only those nodes are rebuilt, into a copy of the current
    restricted warehouse so everything else (and what unit tests read) is already there; without a
    warehouse yet (or with the DuckLake backend), the build is full whatever `select` says. One build runs
    at a time (`named_lock`: a file lock, or PostgreSQL's with several machines), so
    two rebuilds never both start from the same copy and publish over each other.

    dbt runs in its own process: dbt-duckdb keeps its connection open for the life of the process, and
    only a closed (checkpointed) DuckDB file is safe to rename into place.
    """
    validated = settings.lake_root / "validated"
    if not any(validated.glob("*/ingest_date=*/*.parquet")):
        raise BuildError(
            f"nothing to build from: no validated data under {validated} yet; run `make run` first"
        )
    with named_lock(settings, "build"):
        return _build_locked(settings, select, on_node)


def _build_locked(settings: Settings, select: str | None, on_node: OnNode | None) -> BuildResult:
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    build_file = _build_dir(settings) / f"{settings.warehouse_path.stem}-{stamp}.duckdb"
    base = settings.restricted_warehouse_path
    # With DuckLake another machine may have published since this one's restricted file: build whole.
    selective = select is not None and base.exists() and settings.warehouse_backend == "file"
    if selective:
        shutil.copyfile(base, build_file)
    dbt_dir = settings.home / "dbt"
    arguments = ["build", *(["--select", select, *exclude_sources(select)] if selective and select else [])]
    completed = run_dbt(settings, arguments, build_file, "target", on_node)
    results = _run_results(dbt_dir / "target" / "run_results.json")
    if completed.returncode != 0:
        build_file.unlink(missing_ok=True)
        raise BuildError(_failure_report(results, completed, dbt_dir / "logs" / "dbt.log"))
    _checkpoint(build_file)
    manifest = disclosure.manifest_path(settings.home)
    try:
        _disclosure_gate(settings, build_file, manifest)
        documented = disclosure.descriptions(manifest)
        lake = settings.lake_root
        analysts = _tier_copy(build_file, "analysts", lambda s: s != RESTRICTED_SCHEMA, documented, lake)
        published = _tier_copy(build_file, "published", lambda s: s == PUBLISHED_SCHEMA, documented, lake)
        if settings.warehouse_backend == "ducklake":
            # the tiers' catalogs first: should this fail, the files below still hold the previous
            # build, and the next build publishes both again
            tiers = {"restricted": build_file, "analysts": analysts, "published": published}
            ducklake.publish(settings, tiers)
    except BaseException:
        for leftover in build_file.parent.glob(f"{build_file.stem}*.duckdb"):
            leftover.unlink(missing_ok=True)
        raise
    # the files stay on with DuckLake too: a selective build starts from a copy of the restricted one
    publish(build_file, settings.restricted_warehouse_path)
    publish(analysts, settings.analysts_warehouse_path)
    publish(published, settings.warehouse_path)
    statuses = [str(node.get("status")) for node in results]
    return BuildResult(
        published_path=settings.warehouse_path,
        nodes_passed=sum(status in ("success", "pass") for status in statuses),
        nodes_skipped=sum(status == "skipped" for status in statuses),
        seconds=time.monotonic() - started,
        selected=select if selective else None,
    )


def exclude_sources(select: str) -> list[str]:
    """`--exclude` of the sources a selective build selects: their own tests re-read every lake file
    (nationally thousands), while the quality gate checked each batch on the same rules before it
    landed and the staging table's tests check the rows again; a full build still runs them."""
    sources = [token.rstrip("+") for token in select.split() if token.startswith("source:")]
    return ["--exclude", *sources] if sources else []


def _build_dir(settings: Settings) -> Path:
    """Where builds, scratch databases and empty source files go, next to the published warehouse."""
    folder = settings.warehouse_path.parent / ".build"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def _scratch_database(settings: Settings, name: str, copy_of: Path | None = None) -> Iterator[Path]:
    """A throw-away DuckDB file for dbt commands that need a connection but must not touch a warehouse."""
    scratch = _build_dir(settings) / f"{name}.duckdb"
    if copy_of is not None:
        shutil.copyfile(copy_of, scratch)
    try:
        yield scratch
    finally:
        scratch.unlink(missing_ok=True)


def run_dbt(
    settings: Settings, arguments: list[str], database: Path, target: str, on_node: OnNode | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one dbt command against `database`, with the project's variables and the lake's inputs.

    With `on_node`, dbt reports each node as it ends ("12 of 318 OK …"), read line by line for progress;
    without it dbt runs quietly.
    """
    dbt_dir = settings.home / "dbt"
    variables = {
        "wait_norm_months": settings.wait_norm_months,
        "suppression_threshold": settings.suppression_threshold,
        # each source's freshness policy, from its contract: [expected every N days, grace days, lag days]
        "source_sla_days": {
            s.name: [s.freshness.every_days, s.freshness.grace_days, s.freshness.lag_days] for s in SOURCES
        },
        "lake_inputs": lake_inputs(settings.lake_root, _build_dir(settings)),
    }
    command = [
        _dbt_executable(),
        *arguments,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
        "--target-path",
        str(dbt_dir / target),
        "--log-path",
        str(dbt_dir / "logs"),
        "--vars",
        json.dumps(variables),
        "--no-use-colors",
        *(["--quiet"] if on_node is None else []),
    ]
    environment = {
        **os.environ,
        "MONITORLINK_LAKE_ROOT": str(settings.lake_root),
        "MONITORLINK_DBT_BUILD_PATH": str(database),
        "MONITORLINK_DUCKDB_EXTENSION_DIRECTORY": extension_directory(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if is_object_store(settings.lake_root):
        command += ["--target", "object_store"]
        environment |= dbt_s3_environment(settings.s3)
    if on_node is None:
        return subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    return _run_reporting(command, environment, on_node)


def dbt_s3_environment(endpoint: S3Endpoint) -> dict[str, str]:
    """The variables `dbt/profiles.yml`'s `object_store` target builds its S3 secret from: without an
    endpoint, AWS itself (virtual-host style, TLS); with one (MinIO, moto), that host in path style."""
    own = endpoint.own_endpoint()
    if own is None:
        return {"MONITORLINK_S3_REGION": endpoint.region}
    host, tls = own
    return {
        "MONITORLINK_S3_REGION": endpoint.region,
        "MONITORLINK_S3_ENDPOINT": host,
        "MONITORLINK_S3_URL_STYLE": "path",
        "MONITORLINK_S3_USE_SSL": str(tls).lower(),
    }


#: dbt's line for a node that ended: "  12 of 318 OK created sql table model …" (also PASS, ERROR, …).
_NODE_ENDED = re.compile(r"\b(\d+) of (\d+) (?:OK|PASS|WARN|ERROR|FAIL|SKIP)\b")


def _run_reporting(
    command: list[str], environment: dict[str, str], on_node: OnNode
) -> subprocess.CompletedProcess[str]:
    """Run dbt, telling `on_node` of every node that ends; the output is kept for the failure report."""
    lines: list[str] = []
    done = 0
    with subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            ended = _NODE_ENDED.search(line)
            if ended:
                done += 1
                on_node(done, int(ended.group(2)))
    return subprocess.CompletedProcess(command, process.returncode, "".join(lines), "")


def docs(settings: Settings) -> Path:
    """Generate the dbt docs site (lineage, model and KPI definitions) from the warehouse; returns its folder.

    The catalog is read from a scratch copy of the restricted warehouse, so column types of every model
    appear, and the published files are never opened for writing.
    """
    if not settings.restricted_warehouse_path.exists():
        raise BuildError("no warehouse to document yet; run `make run` first")
    with _scratch_database(settings, "docs-catalog", copy_of=settings.restricted_warehouse_path) as scratch:
        completed = run_dbt(settings, ["docs", "generate"], scratch, "docs")
    site = settings.home / "dbt" / "docs"
    if completed.returncode != 0 or not (site / "index.html").exists():
        raise BuildError(f"dbt docs generate failed:\n{(completed.stdout + completed.stderr)[-2000:]}")
    return site


def _dbt_executable() -> str:
    """The dbt installed next to this interpreter (Airflow workers may not have the venv on PATH)."""
    return shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"


def _run_results(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    results: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8")).get("results", [])
    return results


def _failure_report(
    results: list[dict[str, Any]], completed: subprocess.CompletedProcess[str], log: Path
) -> str:
    lines = ["dbt build failed; the published warehouse was left unchanged."]
    lines += [
        f"  {node['unique_id']} [{node['status']}]: {node.get('message')}"
        for node in results
        if node.get("status") in ("error", "fail", "runtime error")
    ]
    if len(lines) == 1:
        lines.append((completed.stdout + completed.stderr).strip()[-2000:])
    lines.append(f"Full log: {log}")
    return "\n".join(lines)


def _disclosure_gate(settings: Settings, build_file: Path, manifest: Path) -> None:
    """Refuse to publish a build whose published schema breaks a disclosure rule (see `disclosure`)."""
    with connect(str(build_file), read_only=True, lake=settings.lake_root) as connection:
        declared = disclosure.declarations(manifest)
        findings = disclosure.scan(connection, declared, settings.suppression_threshold)
    if findings:
        shown = [f"  {finding}" for finding in findings[:20]]
        more = [f"  … and {len(findings) - 20} more"] if len(findings) > 20 else []
        raise BuildError(
            "disclosure control refused to publish; the published warehouse was left unchanged:\n"
            + "\n".join(shown + more)
            + "\nThe rules and how to declare a column: docs/disclosure.md"
        )


def _tier_copy(
    build_file: Path,
    tier: str,
    schemas: Callable[[str], bool],
    documented: dict[str, tuple[str, dict[str, str]]],
    lake: LakePath,
) -> Path:
    """A new file with the build's tables of the chosen schemas, each with its dbt descriptions as comments.

    Views (staging models read the lake by absolute path) are written as tables, so the file stands
    alone on another machine or after the lake moved. Written fresh rather than pruned from a copy:
    dropping a schema in a copy would leave its data in the file's free blocks.
    """
    target = build_file.with_name(f"{build_file.stem}-{tier}.duckdb")
    target.unlink(missing_ok=True)
    with connect(str(build_file), lake=lake) as connection:
        (source,) = connection.execute("select current_database()").fetchone() or ("",)
        relations = [
            (schema, name)
            for schema, name in connection.execute(
                "select table_schema, table_name from information_schema.tables"
                " where table_catalog = $db order by all",
                {"db": source},
            ).fetchall()
            if schemas(schema)
        ]
        live = _live_views(connection, source) if any(s == LIVE_SCHEMA for s, _ in relations) else {}
        connection.execute(f"attach '{target}' as tier_copy")
        for schema in sorted({schema for schema, _ in relations}):
            connection.execute(f'create schema if not exists tier_copy."{schema}"')
        for schema, name in relations:
            if (schema, name) in live:
                continue
            qualified = f'tier_copy."{schema}"."{name}"'
            connection.execute(f'create table {qualified} as from "{source}"."{schema}"."{name}"')
            _comment(connection, qualified, *documented.get(name, ("", {})))
        connection.execute("detach tier_copy")
    if live:
        with connect(str(target), lake=lake) as connection:
            for (schema, name), definition in sorted(live.items()):
                connection.execute(definition)
                _comment(connection, f'"{schema}"."{name}"', *documented.get(name, ("", {})), kind="view")
    _checkpoint(target)
    return target


def _live_views(connection: duckdb.DuckDBPyConnection, source: str) -> dict[tuple[str, str], str]:
    """The live schema's views by (schema, name), as the statements that create them again elsewhere.

    DuckDB keeps a view's SQL without its database, and a live model reads only the lake (a dbt source,
    never a ref), so the statement means the same in the tier file as in the build.
    """
    rows = connection.execute(
        "select schema_name, view_name, sql from duckdb_views()"
        " where database_name = $db and schema_name = $s",
        {"db": source, "s": LIVE_SCHEMA},
    ).fetchall()
    return {(schema, name): sql for schema, name, sql in rows}


def _comment(
    connection: duckdb.DuckDBPyConnection,
    qualified: str,
    description: str,
    columns: dict[str, str],
    kind: Literal["table", "view"] = "table",
) -> None:
    """Carry dbt's descriptions into the file, so an analyst's SQL client shows what a table holds."""
    if description:
        connection.execute(f"comment on {kind} {qualified} is {sql_literal(description)}")
    info = connection.execute(f"select name from pragma_table_info('{qualified}')").fetchall()
    present = {name for (name,) in info}
    for column, text in columns.items():
        if text and column in present:
            connection.execute(f'comment on column {qualified}."{column}" is {sql_literal(text)}')


def _checkpoint(build_file: Path) -> None:
    """Fold any write-ahead log into the file, so the renamed file is complete on its own."""
    with connect(str(build_file)) as connection:
        connection.execute("CHECKPOINT")
    wal = build_file.with_name(build_file.name + ".wal")
    if wal.exists():
        raise BuildError(f"{wal} still exists after CHECKPOINT; refusing to publish an incomplete warehouse")


def publish(build_file: Path, published: Path) -> None:
    """Atomically replace the published warehouse with a finished build (same file system)."""
    published.parent.mkdir(parents=True, exist_ok=True)
    os.replace(build_file, published)
    fsync_directory(published.parent)


def tier_path(settings: Settings, tier: Tier) -> Path:
    """The file of a tier (each configurable: MONITORLINK_WAREHOUSE_PATH, …_ANALYSTS_…, …_RESTRICTED_…)."""
    return {
        "published": settings.warehouse_path,
        "analysts": settings.analysts_warehouse_path,
        "restricted": settings.restricted_warehouse_path,
    }[tier]


def connect_readonly(settings: Settings, tier: Tier = "published") -> duckdb.DuckDBPyConnection:
    """The documented way to query the warehouse: read-only, one tier's file (the published one by default),
    or with the DuckLake backend the tier's newest publication.

    Unqualified names find the published schema first, so `select * from pub_reentry` works in every
    tier. The analysts' and restricted files are for the region's authorised analysts only and never
    what dashboards or other municipalities read.
    """
    if settings.warehouse_backend == "ducklake":
        return ducklake.reader(settings, tier)
    path = tier_path(settings, tier)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist yet: run `make run` first")
    connection = connect(str(path), read_only=True, lake=settings.lake_root)
    connection.execute(f"set search_path = '{PUBLISHED_SCHEMA},main'")
    return connection
