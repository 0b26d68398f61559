"""Comparing warehouse files in tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb


def warehouse_content(path: Path) -> dict[str, str]:
    """A checksum of every table's rows (order-free), to tell whether two builds hold the same data."""
    with duckdb.connect(str(path), read_only=True) as db:
        tables = db.sql("select table_schema, table_name from information_schema.tables").fetchall()
        return {
            f"{schema}.{table}": hashlib.sha256(
                "\n".join(
                    sorted(map(repr, db.sql(f'select * from "{schema}"."{table}"').fetchall()))
                ).encode()
            ).hexdigest()
            for schema, table in tables
        }
