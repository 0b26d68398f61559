"""The Parquet lake: raw, validated and quarantine zones under one configurable root.

- ``raw/<source>/<yyyy-mm-dd>/<sha256[:16]>-<name>``: input bytes exactly as received, plus an append-only
  ``raw/<source>/manifest.jsonl`` (checksum, size, origin, when) — the raw input is always kept.
- ``validated/<dataset>/ingest_date=<yyyy-mm-dd>/<batch>.parquet``: rows that passed the quality gate.
- ``quarantine/<dataset>/ingest_date=<yyyy-mm-dd>/<batch>.parquet`` with ``<batch>.validation.json``: rejected
  rows, the rule each failed with a readable reason, and the full validation result.

Every file is written to a temporary name, fsynced and renamed into place (and the folder fsynced), so
a reader or a restarted ingester sees a whole file or none. That is what lets the ingester commit Kafka
offsets only after its output is durable.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

ZONES = ("raw", "validated", "quarantine")


@dataclass(frozen=True)
class RawRecord:
    """One manifest line: what was received, from where, and where its bytes are kept."""

    source: str
    name: str
    origin: str
    sha256: str
    size_bytes: int
    received_at: str
    path: str
    received_sha256: str | None = None
    redacted_values: int = 0


class Lake:
    """Paths and durable writes for one lake root (a local folder; object storage is a later swap)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # per source: (bytes of the manifest read so far, checksum → first record), see _raw_index
        self._raw_indexes: dict[str, tuple[int, dict[str, RawRecord]]] = {}

    def zone(self, zone: str, dataset: str) -> Path:
        """The folder of one dataset in one zone (not created until something is written)."""
        if zone not in ZONES:
            raise ValueError(f"unknown lake zone {zone!r}; expected one of {ZONES}")
        return self.root / zone / dataset

    def parquet_files(self, zone: str, dataset: str) -> list[Path]:
        """All finished Parquet files of a dataset (temporary files are never matched)."""
        return sorted(self.zone(zone, dataset).glob("ingest_date=*/*.parquet"))

    # raw zone ---------------------------------------------------------------------------------------

    def manifest(self, source: str) -> list[RawRecord]:
        """Everything ever received for a source, oldest first."""
        path = self.zone("raw", source) / "manifest.jsonl"
        if not path.exists():
            return []
        with path.open(encoding="utf-8") as handle:
            return [RawRecord(**json.loads(line)) for line in handle if line.strip()]

    def store_raw(
        self,
        source: str,
        name: str,
        content: bytes,
        origin: str,
        received_sha256: str | None = None,
        redacted_values: int = 0,
    ) -> tuple[RawRecord, bool]:
        """Keep input bytes as received; returns the record and whether these bytes are new to the lake.

        The one exception to "as received": identifier values that were citizen service numbers are
        stored already pseudonymised (`redacted_values` of them); `received_sha256` is then the checksum
        of the bytes as delivered, so a re-delivery is still recognised.
        """
        digest = hashlib.sha256(content).hexdigest()
        known = self._raw_index(source).get(received_sha256 or digest)
        if known is not None:
            return known, False
        now = datetime.now(UTC)
        path = self.zone("raw", source) / now.date().isoformat() / f"{digest[:16]}-{name}"
        write_atomic(path, content)
        record = RawRecord(
            source=source,
            name=name,
            origin=origin,
            sha256=digest,
            size_bytes=len(content),
            received_at=now.isoformat(),
            path=str(path.relative_to(self.root)),
            received_sha256=received_sha256 if received_sha256 != digest else None,
            redacted_values=redacted_values,
        )
        self._append_manifest(source, record)
        return record, True

    def _raw_index(self, source: str) -> dict[str, RawRecord]:
        """The manifest's records by checksum as received (the first record of each), read on from where
        the last call stopped: checking every delivery against the whole manifest again made landing
        quadratic in the deliveries (a national history is tens of thousands). Lines another process
        appended since are read too; a manifest that shrank (restored, replaced) is read again whole."""
        path = self.zone("raw", source) / "manifest.jsonl"
        size = path.stat().st_size if path.exists() else 0
        offset, index = self._raw_indexes.get(source, (0, {}))
        if size < offset:
            offset, index = 0, {}
        if size > offset:
            with path.open("rb") as handle:
                handle.seek(offset)
                for line in handle:
                    if not line.endswith(b"\n"):
                        break  # a line still being written: read it next time
                    offset += len(line)
                    if line.strip():
                        record = RawRecord(**json.loads(line))
                        index.setdefault(record.received_sha256 or record.sha256, record)
        self._raw_indexes[source] = (offset, index)
        return index

    def _append_manifest(self, source: str, record: RawRecord) -> None:
        path = self.zone("raw", source) / "manifest.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    # validated and quarantine zones -----------------------------------------------------------------

    def batch_path(self, zone: str, dataset: str, batch_id: str, when: datetime) -> Path:
        """Where a micro-batch lands: partitioned by ingest date so scans can prune by day."""
        return self.zone(zone, dataset) / f"ingest_date={when.date().isoformat()}" / f"{batch_id}.parquet"

    def write_table(self, path: Path, table: pa.Table) -> None:
        """Write one Parquet file durably (temp name, fsync, atomic rename, fsync folder).

        pyarrow loads here and in `read_columns`, not with the module: the reporting commands need the
        lake's paths and locks, not Parquet.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        write_atomic(path, sink.getvalue().to_pybytes())

    def read_columns(self, zone: str, dataset: str, columns: list[str]) -> Iterator[dict[str, Any]]:
        """Rows of a few columns over all files of a dataset (used to rebuild the ingester's ledger)."""
        import pyarrow.parquet as pq

        for path in self.parquet_files(zone, dataset):
            parquet = pq.ParquetFile(path)  # not pq.read_table: its dataset layer loads pandas
            available = set(parquet.schema_arrow.names)
            yield from parquet.read(columns=[c for c in columns if c in available]).to_pylist()


def write_atomic(path: Path, content: bytes) -> None:
    """Write bytes so that `path` holds either its old content or all of the new, never a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with temporary.open("wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    fsync_directory(path.parent)


def fsync_directory(folder: Path) -> None:
    """Make a rename in `folder` durable: without this a power loss can undo a completed os.replace."""
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def new_batch_id(when: datetime) -> str:
    """Sortable, unique batch name: time first so `ls` shows arrival order."""
    return f"{when.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"


def batch_time(batch_id: str) -> datetime:
    """When a batch landed, read back from its id (UTC)."""
    return datetime.strptime(batch_id.split("-")[0], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the block; waits while another holds it.

    An OS lock, released by the kernel when its holder dies, so a crashed process never leaves one behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
