"""Landing a delivery source as one plain function: its landing folder's new files, or its API's tables.

The Airflow DAGs (`dags/tmsd.py`, `dags/chain.py`, `dags/education.py`, `dags/cbs.py`), the landing
watcher (`monitorlink watch`) and `monitorlink run` call exactly this. It returns the outcome of every
delivery it processed this time; deliveries already in the lake are skipped, so re-running on the same
inputs changes nothing. Landing a source holds its lock, so a DAG and the watcher never land it at once;
announcing the batches on Kafka is the caller's next step (`monitorlink.ingest.events.announce`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast

from connectors.base import PulledConnector
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest.deliveries import DeliveryProcessor
from monitorlink.ingest.delivery_log import DeliveryOutcome
from monitorlink.ingest.events import source_lock
from monitorlink.ingest.sources import DELIVERY_SOURCES, Arrival

log = logging.getLogger(__name__)


#: Told each delivery as it is read: how many so far, and the delivery's name (for progress output).
OnDelivery = Callable[[int, str], None]


def land(settings: Settings, source: str, on_delivery: OnDelivery | None = None) -> list[DeliveryOutcome]:
    """Land what is new of a delivery source, the same way whatever its arrival.

    Files: every complete file in `<landing root>/<source>/`, in name order (so versions come in order).
    API: what the connector fetches now (all of it before landing starts, so a source that fails to
    answer lands nothing half). Either way the deliveries go through the same processor and log.
    `on_delivery` hears of each delivery as it is read, for progress on long landings.
    """
    if source not in DELIVERY_SOURCES:
        raise ValueError(
            f"{source!r} is not landed delivery by delivery; those are: {', '.join(DELIVERY_SOURCES)}"
        )
    item = DELIVERY_SOURCES[source]
    connector = item.connector
    assert connector is not None, f"{source} has no connector"
    if item.arrival is Arrival.FILES:
        deliveries: Iterable[tuple[str, bytes, str]] = _files(settings.landing_root / source)
        where = str(settings.landing_root / source)
    else:
        deliveries = list(cast(PulledConnector, connector).pull(settings))
        where = "its API"
    with source_lock(settings, source):
        processor = DeliveryProcessor(Lake(settings.lake_root), connector, settings.delivery_chunk)
        outcomes = processor.process(_counted(deliveries, on_delivery))
    log.info("%s: %d new deliveries from %s", source, len(outcomes), where)
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


def _counted(
    deliveries: Iterable[tuple[str, bytes, str]], on_delivery: OnDelivery | None
) -> Iterator[tuple[str, bytes, str]]:
    """The deliveries unchanged, telling `on_delivery` of each as it passes."""
    for count, delivery in enumerate(deliveries, start=1):
        if on_delivery is not None:
            on_delivery(count, delivery[0])
        yield delivery


def as_dicts(outcomes: list[DeliveryOutcome]) -> list[dict[str, Any]]:
    """XCom-friendly form (counts per rule, no row samples: those are in the delivery log)."""
    return [{k: v for k, v in asdict(o).items() if k != "samples"} for o in outcomes]
