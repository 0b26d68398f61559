"""A tier as it was last published, for the checks that run on any machine (alerts, the triggerer).

Kept apart from `build` (which loads the build's own machinery) so that the triggerer, which asks for
each message on the batch topic, loads DuckDB and nothing more.
"""

from __future__ import annotations

import duckdb

from monitorlink.core.config import Settings
from monitorlink.core.object_store import connect


def last_published(settings: Settings, tier: str) -> duckdb.DuckDBPyConnection | None:
    """The tier read-only (its file, or with the DuckLake backend its newest snapshot), or None before
    its first publication."""
    if settings.warehouse_backend == "ducklake":
        from monitorlink.warehouse import ducklake

        return ducklake.published_reader(settings, tier)
    path = {
        "published": settings.warehouse_path,
        "analysts": settings.analysts_warehouse_path,
        "restricted": settings.restricted_warehouse_path,
    }[tier]
    return connect(str(path), read_only=True, lake=settings.lake_root) if path.exists() else None
