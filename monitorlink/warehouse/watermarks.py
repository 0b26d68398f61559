"""How far the built warehouse reaches, per source: read by Airflow's triggerer for every batch event.

Kept apart from the build so that the triggerer, which calls this for each message on the batch topic,
loads DuckDB and nothing of dbt, pyarrow or the quality gate.
"""

from __future__ import annotations

from datetime import UTC, datetime

from monitorlink.core.config import Settings
from monitorlink.warehouse.disclosure import PUBLISHED_SCHEMA
from monitorlink.warehouse.tiers import last_published


def warehouse_watermarks(settings: Settings) -> dict[str, datetime]:
    """Per source, the newest landing the restricted warehouse was built from (empty: no warehouse)."""
    opened = last_published(settings, "restricted")
    if opened is None:
        return {}
    with opened as connection:
        query = f"select source, last_landed_at from {PUBLISHED_SCHEMA}.fct_source_freshness"
        rows = connection.execute(query).fetchall()
    return {
        name: (landed.replace(tzinfo=UTC) if landed.tzinfo is None else landed.astimezone(UTC))
        for name, landed in rows
        if landed is not None
    }
