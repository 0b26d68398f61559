"""What each dbt source reads from the lake, passed to dbt as the var `lake_inputs` on every run.

A dataset that has delivered nothing yet still builds: its input is then an empty file with its schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from monitorlink.core.journal import Journal
from monitorlink.ingest.sources import lake_datasets

if TYPE_CHECKING:
    from monitorlink.core.object_store import LakePath


def lake_inputs(lake_root: LakePath, build_dir: Path) -> dict[str, str]:
    """What each dbt source reads: the dataset's Parquet files, or an empty file with its schema.

    A source that has delivered nothing yet still has a contract, so its models build (empty, typed)
    instead of failing the whole warehouse on DuckDB's "no files found". Each dataset's empty file is
    also offered as `<dataset>_schema`, so a source can read it beside its files and have every column
    of the current contract even while the lake holds only files of an older version. The operations
    models' inputs (delivery logs, open alerts) follow: `_operations_inputs`.
    """
    inputs = {}
    for dataset, schema in lake_datasets().items():
        empty = build_dir / "empty" / f"{dataset}.parquet"
        empty.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(schema.empty_table(), empty)
        inputs[f"{dataset}_schema"] = str(empty)
        folder = lake_root / "validated" / dataset
        has_files = any(folder.glob("ingest_date=*/*.parquet"))
        inputs[dataset] = f"{folder}/ingest_date=*/*.parquet" if has_files else str(empty)
    return inputs | _operations_inputs(lake_root, build_dir / "empty")


def _operations_inputs(lake_root: LakePath, empty_dir: Path) -> dict[str, str]:
    """What the operations models read: the delivery logs and the open alerts.

    Like the datasets, each falls back to an empty file of its kind when the lake has none yet (a fresh
    lake, a source that never delivered, no alert ever opened), so the models build empty.
    """
    empty_dir.mkdir(parents=True, exist_ok=True)
    no_deliveries = empty_dir / "deliveries.jsonl"
    no_deliveries.write_text("", encoding="utf-8")
    no_alerts = empty_dir / "alerts_open.json"
    no_alerts.write_text("{}", encoding="utf-8")
    open_alerts = lake_root / "ops" / "alerts" / "open.json"
    # every source's delivery log: a file each in a folder, one object per line on object storage
    logs = Journal(lake_root / "raw" / "*" / "deliveries.jsonl").glob()
    return {
        "deliveries": logs if any(lake_root.glob(logs.removeprefix(f"{lake_root}/"))) else str(no_deliveries),
        "alerts_open": str(open_alerts) if open_alerts.exists() else str(no_alerts),
    }
