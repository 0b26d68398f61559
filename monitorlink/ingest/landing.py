"""The file and API sources as plain functions: land a landing folder, or fetch CBS tables, into the lake.

The Airflow DAGs (`dags/tmsd.py`, `dags/chain.py`, `dags/education.py`, `dags/cbs.py`), the landing
watcher (`monitorlink watch`) and `monitorlink run` call exactly these. Each returns the outcome of every
delivery it processed this time; deliveries already in the lake are skipped, so re-running on the same
inputs changes nothing. Landing a source holds its lock, so a DAG and the watcher never land it at once;
announcing the batches on Kafka is the caller's next step (`monitorlink.ingest.events.announce`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from connectors import cbs
from monitorlink.core.config import Settings
from monitorlink.core.contracts import reference_values
from monitorlink.core.lake import Lake
from monitorlink.ingest.deliveries import DeliveryProcessor
from monitorlink.ingest.delivery_log import DeliveryOutcome
from monitorlink.ingest.events import source_lock
from monitorlink.ingest.sources import FILE_SOURCES

log = logging.getLogger(__name__)


def land_folder(settings: Settings, source: str) -> list[DeliveryOutcome]:
    """Process every new file in `<landing root>/<source>/`, in name order (so versions come in order)."""
    connector = FILE_SOURCES[source].connector
    assert connector is not None
    folder = settings.landing_root / source
    with source_lock(settings, source):
        processor = DeliveryProcessor(Lake(settings.lake_root), connector, settings.delivery_chunk)
        outcomes = processor.process(_files(folder))
    log.info("%s: %d new deliveries from %s", source, len(outcomes), folder)
    return outcomes


#: Suffixes of files still being written. Senders copy to `<name>.part` (or a name starting with `.`)
#: and rename when done, so a half-copied file is never taken (docs/operations.md, "Landing files").
IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".partial", ".filepart", ".crdownload")


def is_complete(path: Path) -> bool:
    """A file in a landing folder is ready unless its name says it is still being written."""
    return path.is_file() and not path.name.startswith(".") and not path.name.endswith(IN_PROGRESS_SUFFIXES)


def _files(folder: Path) -> Iterator[tuple[str, bytes, str]]:
    """(name, bytes, origin) of the complete files in a landing folder, read one at a time."""
    for path in sorted(p for p in folder.glob("*") if is_complete(p)):
        yield path.name, path.read_bytes(), str(path)


def pull_cbs(settings: Settings) -> list[DeliveryOutcome]:
    """Fetch each configured CBS table for the Twente municipalities and the Netherlands, and land it."""
    regions = (*sorted(reference_values("twente_gemeenten.gm_code")), "NL01")
    fetched = []
    for table, api in settings.cbs_tables:
        base = settings.cbs_v3_url if api == "v3" else settings.cbs_v4_url
        content = cbs.fetch(table, api, base, regions, settings.http_timeout_s, settings.http_retries)
        fetched.append((cbs.bundle_name(table, api), content, f"{base}/{table}"))
    with source_lock(settings, "cbs"):
        return DeliveryProcessor(Lake(settings.lake_root), cbs, settings.delivery_chunk).process(fetched)


def as_dicts(outcomes: list[DeliveryOutcome]) -> list[dict[str, Any]]:
    """XCom-friendly form (counts per rule, no row samples: those are in the delivery log)."""
    return [{k: v for k, v in asdict(o).items() if k != "samples"} for o in outcomes]
