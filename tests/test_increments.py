"""What a selective build's incremental staging table still reads: new batches only, or all of them
again when one left the lake (monitorlink/warehouse/increments.py), on a real DuckDB file and lake."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from monitorlink.warehouse.increments import increments

SCHEMA_FILE = "/empty/tmsd.parquet"


def _lake_batch(lake: Path, batch_id: str) -> Path:
    path = lake / "validated" / "tmsd" / "ingest_date=2026-12-02" / f"{batch_id}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"_batch_id": [batch_id]}), path)
    return path


def _warehouse(path: Path, batches: list[str]) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema restricted")
        connection.execute("create table restricted.stg_tmsd__trajectories (batch_id varchar)")
        for batch in batches:
            connection.execute("insert into restricted.stg_tmsd__trajectories values (?)", [batch])
    return path


def test_a_full_build_reads_everything(tmp_path: Path) -> None:
    _lake_batch(tmp_path / "lake", "20261202T000000000000-aaaa")
    assert increments(tmp_path / "no-such.duckdb", tmp_path / "lake", {"tmsd_schema": SCHEMA_FILE}) == {}


def test_a_selective_build_reads_only_the_batches_the_copy_lacks(tmp_path: Path) -> None:
    held = ["20261202T000000000000-aaaa", "20261202T000000000001-bbbb"]
    for batch in held:
        _lake_batch(tmp_path / "lake", batch)
    new = _lake_batch(tmp_path / "lake", "20261202T000000000002-cccc")
    database = _warehouse(tmp_path / "copy.duckdb", [held[0], held[0], held[1]])  # rows, not batches
    found = increments(database, tmp_path / "lake", {"tmsd_schema": SCHEMA_FILE})
    assert found == {"tmsd": [SCHEMA_FILE, str(new)]}
    nothing_new = _warehouse(tmp_path / "copy2.duckdb", [*held, "20261202T000000000002-cccc"])
    assert increments(nothing_new, tmp_path / "lake", {"tmsd_schema": SCHEMA_FILE}) == {"tmsd": [SCHEMA_FILE]}


def test_a_batch_that_left_the_lake_makes_the_table_build_whole(tmp_path: Path) -> None:
    _lake_batch(tmp_path / "lake", "20261202T000000000001-bbbb")
    database = _warehouse(tmp_path / "copy.duckdb", ["20261202T000000000000-aaaa"])  # relanded elsewhere
    assert increments(database, tmp_path / "lake", {"tmsd_schema": SCHEMA_FILE}) == {}
    with duckdb.connect(str(database)) as connection:
        tables = connection.execute("select table_name from duckdb_tables()").fetchall()
    assert tables == [], "the stale table is gone from the copy, so dbt builds it from every file"
