"""The Parquet lake: raw, validated and quarantine zones under one configurable root.

- ``raw/<source>/<yyyy-mm-dd>/<sha256[:16]>-<name>``: input bytes exactly as received, plus an append-only
  ``raw/<source>/manifest.jsonl`` (checksum, size, origin, when) — the raw input is always kept.
- ``validated/<dataset>/ingest_date=<yyyy-mm-dd>/<batch>.parquet``: rows that passed the quality gate.
- ``quarantine/<dataset>/ingest_date=<yyyy-mm-dd>/<batch>.parquet`` with ``<batch>.validation.json``: rejected
  rows, the rule each failed with a readable reason, and the full validation result.

Every file is written to a temporary name, fsynced and renamed into place (and the folder fsynced), so
a reader or a restarted ingester sees a whole file or none. That is what lets the ingester commit Kafka
offsets only after its output is durable.

On object storage (`MONITORLINK_LAKE_URI=s3://…`) there is no rename: every object is written whole by
one PUT, which a reader sees entirely or not at all, and the manifest and logs are journals of one object
per append (`monitorlink.core.journal`). What makes a delivery part of the lake is the same on both: its
line in the delivery log, written after its data (docs/operations.md, "Running on several machines").
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitorlink.core.journal import Cursor, Journal
from monitorlink.core.object_store import connect, is_object_store, write_atomic

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from monitorlink.core.object_store import LakePath

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
    """Paths and durable writes for one lake root: a local folder or a prefix on object storage."""

    def __init__(self, root: LakePath) -> None:
        self.root = root
        # per source: (how far the manifest was read, checksum → first record), see _raw_index
        self._raw_indexes: dict[str, tuple[Cursor, dict[str, RawRecord]]] = {}
        self._duckdb: duckdb.DuckDBPyConnection | None = None

    def zone(self, zone: str, dataset: str) -> LakePath:
        """The folder of one dataset in one zone (not created until something is written)."""
        if zone not in ZONES:
            raise ValueError(f"unknown lake zone {zone!r}; expected one of {ZONES}")
        return self.root / zone / dataset

    def parquet_files(self, zone: str, dataset: str) -> list[LakePath]:
        """All finished Parquet files of a dataset (temporary files are never matched), oldest first."""
        return sorted(self.zone(zone, dataset).glob("ingest_date=*/*.parquet"), key=str)

    def rows(self, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of a DuckDB query over lake files (`read_parquet($files)`), wherever the lake is.

        A local lake uses DuckDB's default connection, as it always did; object storage needs httpfs and
        the S3 secret, in a connection this lake keeps (one cursor per query, closed once the rows are
        read: threads may share a lake).
        """
        if not is_object_store(self.root):
            import duckdb

            return duckdb.sql(query, params=params).fetchall()
        if self._duckdb is None:
            self._duckdb = connect(lake=self.root)
        with self._duckdb.cursor() as cursor:
            return cursor.execute(query, params).fetchall()

    def journal(self, zone: str, dataset: str, name: str) -> Journal:
        """An append-only log in a dataset's folder (`raw/<source>/deliveries.jsonl`)."""
        return Journal(self.zone(zone, dataset) / name)

    # raw zone ---------------------------------------------------------------------------------------

    def manifest(self, source: str) -> list[RawRecord]:
        """Everything ever received for a source, oldest first."""
        return [RawRecord(**record) for record in self.journal("raw", source, "manifest.jsonl").records()]

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
            path=str(path).removeprefix(f"{self.root}/"),
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
        cursor, index = self._raw_indexes.get(source, (Cursor(), {}))
        records, after = self.journal("raw", source, "manifest.jsonl").read_new(cursor)
        if after.offset < cursor.offset:  # the manifest shrank (restored, replaced): read whole again
            index = {}
        for line in records:
            record = RawRecord(**line)
            index.setdefault(record.received_sha256 or record.sha256, record)
        self._raw_indexes[source] = (after, index)
        return index

    def _append_manifest(self, source: str, record: RawRecord) -> None:
        self.journal("raw", source, "manifest.jsonl").append([asdict(record)], durable=True)

    # validated and quarantine zones -----------------------------------------------------------------

    def batch_path(self, zone: str, dataset: str, batch_id: str, when: datetime) -> LakePath:
        """Where a micro-batch lands: partitioned by ingest date so scans can prune by day."""
        return self.zone(zone, dataset) / f"ingest_date={when.date().isoformat()}" / f"{batch_id}.parquet"

    def write_table(self, path: LakePath, table: pa.Table) -> None:
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
        for path in self.parquet_files(zone, dataset):
            parquet = open_parquet(path)  # not pq.read_table: its dataset layer loads pandas
            available = set(parquet.schema_arrow.names)
            yield from parquet.read(columns=[c for c in columns if c in available]).to_pylist()


def open_parquet(path: LakePath) -> pq.ParquetFile:
    """A Parquet file's footer and row groups, from a folder or object storage (read on demand)."""
    import pyarrow.parquet as pq

    if is_object_store(path):
        return pq.ParquetFile(path.path, filesystem=path.fs)  # type: ignore[union-attr]
    return pq.ParquetFile(path)


def new_batch_id(when: datetime) -> str:
    """Sortable, unique batch name: time first so `ls` shows arrival order."""
    return f"{when.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"


def batch_time(batch_id: str) -> datetime:
    """When a batch landed, read back from its id (UTC)."""
    return datetime.strptime(batch_id.split("-")[0], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
