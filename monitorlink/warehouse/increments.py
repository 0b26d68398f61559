"""What an incremental staging table of a selective build still has to read from the lake.

A selective build starts from a copy of the current restricted warehouse, whose incremental staging
tables (`stg_tmsd__trajectories`) already hold the batches of earlier builds. For each such table this
lists the validated batch files the copy does not hold yet, so dbt reads only those (nationally the lake
holds one file per municipality-quarter, and opening all of them costs more than the work itself). A
batch the copy holds but the lake no longer has (a backfill or recheck landed its delivery again, as a
new batch) would stay behind in an append-only table: then the table is dropped from the copy, and dbt
builds it whole from the lake this once.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from monitorlink.core.lake import Lake

log = logging.getLogger(__name__)

#: Incremental staging tables by dataset: (schema, table) in the restricted warehouse.
INCREMENTAL_STAGING = {"tmsd": ("restricted", "stg_tmsd__trajectories")}


def increments(database: Path, lake_root: Path, inputs: dict[str, str]) -> dict[str, list[str]]:
    """Per dataset with an incremental staging table in `database`: the lake files it lacks, after the
    dataset's empty schema file from `inputs` (`lake_inputs`), so the list is never empty and every
    column of the contract is there.

    A dataset whose table is not in `database` (a full build, a first build) or had to be dropped is
    left out: dbt reads it whole.
    """
    if not database.exists():
        return {}
    lake = Lake(lake_root)
    out: dict[str, list[str]] = {}
    with duckdb.connect(str(database)) as connection:
        for dataset, (schema, table) in INCREMENTAL_STAGING.items():
            held = _batches(connection, schema, table)
            if held is None:
                continue
            files = {path.stem: path for path in lake.parquet_files("validated", dataset)}
            gone = held - files.keys()
            if gone:
                log.info("%s: %d batch(es) left the lake; %s is built whole", dataset, len(gone), table)
                connection.execute(f'drop table "{schema}"."{table}"')
                continue
            new = sorted(str(files[batch]) for batch in files.keys() - held)
            out[dataset] = [inputs[f"{dataset}_schema"], *new]
    return out


def _batches(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str] | None:
    """The batch ids a staging table holds, or None when it is not there (or not a table)."""
    found = connection.execute(
        "select count(*) from duckdb_tables() where schema_name = $schema and table_name = $table",
        {"schema": schema, "table": table},
    ).fetchone()
    if not found or not found[0]:
        return None
    rows = connection.execute(f'select distinct batch_id from "{schema}"."{table}"').fetchall()
    return {str(batch) for (batch,) in rows}
