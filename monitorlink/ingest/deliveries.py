"""Delivery landing: keep raw → parse, pseudonymise, type (`delivery_prepare`) → quality gate → land.

A delivery (one file, or one CBS fetch) is the unit of quality: a municipality-quarter must be complete or
not there at all, because half a quarter steers worse than none. So a critical failure anywhere quarantines
the whole delivery (every row, each with its own reasons or "rejected with the delivery"); warnings let it
pass with `_quality_flags` on the rows they concern. Every decision is appended to the delivery log
`raw/<source>/deliveries.jsonl` with counts and a sample of rows per rule.

Idempotent by content: a file whose bytes were processed before is skipped when it has the same name and
logged as an ignored re-delivery under another name. What counts as processed is read from the lake's
Parquet files, so a crash between writing data and writing the log never processes a delivery twice.
A higher `_v<n>` of the same scope and period is a revision; every version stays in the lake and the
warehouse takes the latest (`int_<source>__*_current`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from connectors.base import Connector
from monitorlink.core.config import PROJECT_ROOT
from monitorlink.core.contracts import Contract
from monitorlink.core.lake import Lake, new_batch_id
from monitorlink.core.object_store import write_atomic
from monitorlink.ingest.delivery_log import (
    DeliveryOutcome,
    append_delivery_log,
    delivery_log,
)
from monitorlink.ingest.delivery_prepare import (
    Column,
    PreparedDelivery,
    PreparedTable,
    mask_bsns_outside_rows,
    prepare,
)
from monitorlink.ingest.quality import Suite, load_suite, validate
from monitorlink.ingest.schemas import DELIVERY_QUARANTINE_SCHEMA, dataset_schema

log = logging.getLogger(__name__)

#: Delivery-level rules (volume against the previous delivery, not empty), shared by every file feed.
DELIVERY_SUITE_PATH = PROJECT_ROOT / "expectations" / "deliveries.v1.json"
SAMPLE_ROWS = 5
VOLUME_BASELINE = 4


class DeliveryProcessor:
    """Lands the deliveries of one file source; `process` takes (name, bytes, origin) and is idempotent."""

    def __init__(
        self, lake: Lake, connector: Connector, chunk_size: int = 50, *, quality_gate: bool = True
    ) -> None:
        """`quality_gate=False` exists for one caller only, `bench/national_landing.py`, which measures
        the gate's share of landing time by landing the same files without it. No command, setting or
        DAG passes it (`landing.land` never does), so a production landing always runs the gate."""
        self.lake, self.connector, self.chunk_size = lake, connector, chunk_size
        self.quality_gate = quality_gate
        self.suites = {c.name: load_suite(c.suite) for c in connector.contracts} if quality_gate else {}
        self.delivery_suite: Suite | None = load_suite(DELIVERY_SUITE_PATH) if quality_gate else None
        logged = delivery_log(lake, connector.source)
        self._roll_back_unlogged(logged)
        self._seen, self._landed = self._processed(logged)
        self._previous_rows = self._validated_volumes()
        # Backfill: the batch id and landing time a re-processed delivery keeps (by received checksum).
        self._stamps: dict[str, tuple[str, datetime]] = {}

    def process(self, deliveries: Iterable[tuple[str, bytes, str]]) -> list[DeliveryOutcome]:
        """Land every new delivery; returns one outcome per delivery that was not already processed.

        A copy of a delivery (same bytes, another name) is logged as ignored only once its original has
        landed as validated: until then, or when the original was quarantined, the copy is a delivery of
        its own (a corrected name, a re-send after a fix), so a crash can never leave a copy pointing at
        an original that is not in the lake.
        """
        outcomes: list[DeliveryOutcome] = []
        chunk: list[PreparedDelivery] = []
        copies: list[tuple[str, bytes, str, str]] = []
        for name, content, origin in deliveries:
            digest = hashlib.sha256(content).hexdigest()
            if (digest, name) in self._seen:
                continue  # exactly this file was processed before: nothing to do
            self._seen.add((digest, name))
            if digest in self._landed:
                outcomes.append(self._redelivery(name, digest, origin, self._landed[digest]))
                continue
            if any(prepared.sha256 == digest for prepared in chunk):
                copies.append((name, content, origin, digest))  # decided once its original has landed
                continue
            chunk.append(prepare(self.connector, name, content, origin, digest))
            if len(chunk) >= self.chunk_size:
                outcomes.extend(self._land_chunk(chunk))
                chunk = []
        if chunk:
            outcomes.extend(self._land_chunk(chunk))
        return outcomes + self._copies(copies)

    def _copies(self, copies: list[tuple[str, bytes, str, str]]) -> list[DeliveryOutcome]:
        """Copies whose original landed validated are ignored; the others are landed in their own right."""
        outcomes = [
            self._redelivery(name, digest, origin, self._landed[digest])
            for name, _, origin, digest in copies
            if digest in self._landed
        ]
        again = [copy for copy in copies if copy[3] not in self._landed]
        for name, _, _, digest in again:
            self._seen.discard((digest, name))
        return outcomes + (self.process([copy[:3] for copy in again]) if again else [])

    def reprocess(self, deliveries: list[tuple[DeliveryOutcome, bytes]]) -> list[DeliveryOutcome]:
        """Land logged deliveries again from their raw-zone bytes, under their first batch id and time.

        For backfills: the caller has removed the deliveries' Parquet files and rewrites their log lines
        with the outcomes returned here (nothing is appended). Keeping the id and time makes a second
        backfill of the same range write exactly the same files.
        """
        chunk = []
        for logged, content in deliveries:
            assert logged.batch_id is not None, f"{logged.name} never landed; there is nothing to re-process"
            self._stamps[logged.received_sha256] = (
                logged.batch_id,
                datetime.fromisoformat(logged.processed_at),
            )
            chunk.append(prepare(self.connector, logged.name, content, logged.origin, logged.received_sha256))
        outcomes = []
        for start in range(0, len(chunk), self.chunk_size):
            outcomes.extend(self._land_chunk(chunk[start : start + self.chunk_size]))
        return outcomes

    # reading what is already there -------------------------------------------------------------------

    def _files(self, zone: str) -> list[str]:
        return [str(p) for c in self.connector.contracts for p in self.lake.parquet_files(zone, c.name)]

    @staticmethod
    def _processed(logged: list[DeliveryOutcome]) -> tuple[set[tuple[str, str]], dict[str, str]]:
        """From the delivery log alone, which is written last: every (checksum, name) decided on, and the
        name each checksum first landed validated under."""
        seen = {(outcome.received_sha256, outcome.name) for outcome in logged}
        landed: dict[str, str] = {}
        for outcome in logged:
            if outcome.outcome == "validated":
                landed.setdefault(outcome.received_sha256, outcome.name)
        return seen, landed

    def _roll_back_unlogged(self, logged_outcomes: list[DeliveryOutcome]) -> None:
        """Remove Parquet files of deliveries whose log line was never written (a crash in between), so
        the delivery is landed again whole: its log line is the commit, and no partial delivery stays.
        Callers hold the source's lock (`events.source_lock`), so no other process is mid-delivery."""
        logged = {outcome.batch_id for outcome in logged_outcomes if outcome.batch_id}
        for zone in ("validated", "quarantine"):
            for contract in self.connector.contracts:
                for path in self.lake.parquet_files(zone, contract.name):
                    if path.stem not in logged:
                        log.warning("rolling back %s: its delivery was never logged (interrupted)", path)
                        path.unlink()
                        path.with_suffix(".validation.json").unlink(missing_ok=True)
        # a delivery quarantined without rows (empty, unreadable) wrote its report and no Parquet
        for contract in self.connector.contracts:
            for report in self.lake.zone("quarantine", contract.name).glob("ingest_date=*/*.validation.json"):
                if report.name.removesuffix(".validation.json") not in logged:
                    log.warning("rolling back %s: its delivery was never logged (interrupted)", report)
                    report.unlink(missing_ok=True)

    def _validated_volumes(self) -> dict[str, list[tuple[str, int]]]:
        """Per scope, (period, rows) of its validated deliveries (latest version; first contract's table)."""
        files = [str(p) for p in self.lake.parquet_files("validated", self.connector.contracts[0].name)]
        if not files:
            return {}
        rows = self.lake.rows(
            "select _delivery_scope, _delivery_period, count(*) from read_parquet($files) group by 1, 2, "
            "_delivery_version qualify row_number() over (partition by _delivery_scope, _delivery_period "
            "order by _delivery_version desc) = 1",
            params={"files": files},
        )
        volumes: dict[str, list[tuple[str, int]]] = {}
        for scope, period, count in sorted(rows, key=lambda r: (r[0], r[1])):
            volumes.setdefault(scope, []).append((period, count))
        return volumes

    # one delivery -------------------------------------------------------------------------------------

    def _redelivery(self, name: str, digest: str, origin: str, first_name: str) -> DeliveryOutcome:
        outcome = DeliveryOutcome(
            self.connector.source,
            name,
            digest,
            "redelivery_ignored",
            origin,
            duplicate_of=first_name,
            warnings={"redelivery_ignored": 1},
            processed_at=datetime.now(UTC).isoformat(),
        )
        self._append_log(outcome)
        log.info("%s: same bytes as %s; re-delivery ignored", name, first_name)
        return outcome

    # a chunk of deliveries ----------------------------------------------------------------------------

    def _land_chunk(self, chunk: list[PreparedDelivery]) -> list[DeliveryOutcome]:
        if self.quality_gate:
            for contract in self.connector.contracts:
                self._validate_rows(contract, chunk)
            self._validate_volumes(chunk)
        return [self._land(prepared) for prepared in chunk]

    def _validate_rows(self, contract: Contract, chunk: list[PreparedDelivery]) -> None:
        """One GX run over this contract's rows of the whole chunk: GX has a fixed cost per run."""
        places = [
            (prepared, table, index)
            for prepared in chunk
            for table in prepared.tables
            if table.contract.name == contract.name
            for index in range(table.num_rows)
        ]
        if not places:
            return
        rows = [
            {**row, "_delivery_sha256": prepared.sha256}
            for prepared in chunk
            for table in prepared.tables
            if table.contract.name == contract.name
            for row in table.records()
        ]
        outcome = validate(
            rows, [*(f.name for f in contract.fields), "_delivery_sha256"], self.suites[contract.name]
        )
        for position, (_, table, index) in enumerate(places):
            table.row_failures[index].extend(outcome.row_failures.get(position, []))
        if outcome.batch_failures:
            for prepared in chunk:
                for table in prepared.tables:
                    if table.contract.name == contract.name:
                        table.batch_failures.extend(outcome.batch_failures)

    def _validate_volumes(self, chunk: list[PreparedDelivery]) -> None:
        """Rows against the median of the same scope's last validated deliveries, in period order.

        The median of up to `VOLUME_BASELINE` earlier deliveries, not just the previous one, so one
        truncated file is flagged without also flagging the good delivery after it.
        """
        ordered = sorted(
            (p for p in chunk if p.delivery is not None),
            key=lambda p: (p.delivery.period, p.delivery.version),  # type: ignore[union-attr]
        )
        records = []
        for prepared in ordered:
            assert prepared.delivery is not None
            rows = prepared.tables[0].num_rows if prepared.tables else 0
            history = self._previous_rows.setdefault(prepared.delivery.scope, [])
            earlier = [count for period, count in history if period < prepared.delivery.period]
            baseline = statistics.median(earlier[-VOLUME_BASELINE:]) if earlier else None
            records.append(
                {"rows": rows, "previous_rows": baseline, "ratio": rows / baseline if baseline else None}
            )
            if not prepared.is_rejected:
                history.append((prepared.delivery.period, rows))
        if not records or self.delivery_suite is None:
            return
        outcome = validate(records, ["rows", "previous_rows", "ratio"], self.delivery_suite)
        for position, prepared in enumerate(ordered):
            prepared.delivery_failures.extend(outcome.failures_for(position))

    def _land(self, prepared: PreparedDelivery) -> DeliveryOutcome:
        stamp = self._stamps.get(prepared.sha256)
        now = stamp[1] if stamp else datetime.now(UTC)
        batch_id = stamp[0] if stamp else new_batch_id(now)
        mask_bsns_outside_rows(prepared)
        stored = self.connector.redact(prepared.content, prepared.replacements)
        record, _ = self.lake.store_raw(
            self.connector.source,
            prepared.name,
            stored,
            prepared.origin,
            received_sha256=prepared.sha256,
            redacted_values=len(prepared.replacements),
        )
        rejected = prepared.is_rejected
        zone = "quarantine" if rejected else "validated"
        for table in prepared.tables:
            if table.num_rows:
                path = self.lake.batch_path(zone, table.contract.name, batch_id, now)
                builder = self._quarantine_table if rejected else self._validated_table
                self.lake.write_table(path, builder(prepared, table, batch_id, now))
        outcome = self._outcome(
            prepared, "quarantined" if rejected else "validated", batch_id, record.path, now
        )
        if rejected:
            first = prepared.tables[0].contract.name if prepared.tables else self.connector.contracts[0].name
            report = self.lake.batch_path("quarantine", first, batch_id, now).with_suffix(".validation.json")
            write_atomic(report, json.dumps(asdict(outcome), indent=2, ensure_ascii=False).encode())
            log.info("quarantined %s: %s", prepared.name, ", ".join(outcome.critical))
        if stamp is None:
            self._append_log(outcome)
        if not rejected:
            self._landed.setdefault(prepared.sha256, prepared.name)
        return outcome

    def _columns(self, prepared: PreparedDelivery, batch_id: str, now: datetime) -> dict[str, Any]:
        delivery = prepared.delivery
        return {
            "_delivery_file": prepared.name,
            "_delivery_sha256": prepared.sha256,
            "_delivery_scope": delivery.scope if delivery else None,
            "_delivery_period": delivery.period if delivery else None,
            "_delivery_version": delivery.version if delivery else None,
            "_batch_id": batch_id,
            "_ingested_at": now,
        }

    def _validated_table(
        self, prepared: PreparedDelivery, table: PreparedTable, batch_id: str, now: datetime
    ) -> pa.Table:
        """The rows column by column in the dataset schema: the typed columns, then the delivery's
        bookkeeping (one value repeated) and each row's number and quality flags."""
        schema = dataset_schema(table.contract)
        count = table.num_rows
        shared = self._columns(prepared, batch_id, now)
        flags = {f.rule for f in prepared.delivery_failures + table.batch_failures}
        everywhere = sorted(flags)
        per_row = [
            sorted(flags | {f.rule for f in failures}) if failures else everywhere
            for failures in table.row_failures
        ]
        arrays: list[pa.Array] = []
        for target in schema:
            if target.name in table.columns:
                arrays.append(_as_type(table.columns[target.name], target.type))
            elif target.name in shared:
                arrays.append(pa.array([shared[target.name]] * count, target.type))
            elif target.name == "_source_row":
                arrays.append(pa.array(table.row_numbers, target.type))
            else:  # _quality_flags
                arrays.append(pa.array(per_row, target.type))
        return pa.Table.from_arrays(arrays, schema=schema)

    def _quarantine_table(
        self, prepared: PreparedDelivery, table: PreparedTable, batch_id: str, now: datetime
    ) -> pa.Table:
        shared = self._columns(prepared, batch_id, now)
        critical = [f for f in prepared.delivery_failures + table.batch_failures if f.is_critical]
        summary = Counter(f.rule for _, _, f in prepared.failures() if f.is_critical)
        because = ", ".join(f"{rule} ({count}×)" for rule, count in sorted(summary.items()))
        # described once: a delivery-level failure repeats on every row of a large file
        shared_reasons = [f.describe() for f in critical]
        records = []
        for row, number, failures in zip(table.records(), table.row_numbers, table.row_failures, strict=True):
            own = [f for f in failures if f.is_critical]
            records.append(
                {
                    "record": json.dumps(row, default=str, ensure_ascii=False),
                    "failed_rules": sorted({f.rule for f in critical + own}) or ["delivery_rejected"],
                    "reasons": shared_reasons + [f.describe() for f in own]
                    or [f"delivery_rejected: the delivery was rejected as a whole because of {because}"],
                    **shared,
                    "_source_row": number,
                    "_quality_flags": sorted({f.rule for f in failures if not f.is_critical}),
                }
            )
        return pa.Table.from_pylist(records, schema=DELIVERY_QUARANTINE_SCHEMA)

    def _outcome(
        self, prepared: PreparedDelivery, verdict: str, batch_id: str, raw_path: str, now: datetime
    ) -> DeliveryOutcome:
        critical: Counter[str] = Counter()
        warnings: Counter[str] = Counter()
        samples: dict[str, list[str]] = {}
        for dataset, number, failure in prepared.failures():
            (critical if failure.is_critical else warnings)[failure.rule] += 1
            examples = samples.setdefault(failure.rule, [])
            if len(examples) < SAMPLE_ROWS:
                where = f"{dataset} row {number}" if number is not None else (dataset or "delivery")
                examples.append(f"{prepared.name}, {where}: {failure.describe()}")
        delivery = prepared.delivery
        return DeliveryOutcome(
            source=self.connector.source,
            name=prepared.name,
            received_sha256=prepared.sha256,
            outcome=verdict,
            origin=prepared.origin,
            scope=delivery.scope if delivery else None,
            period=delivery.period if delivery else None,
            version=delivery.version if delivery else None,
            batch_id=batch_id,
            raw_path=raw_path,
            rows={table.contract.name: table.num_rows for table in prepared.tables},
            critical=dict(critical),
            warnings=dict(warnings),
            samples=samples,
            pseudonymised=len(prepared.replacements),
            processed_at=now.isoformat(),
        )

    def _append_log(self, outcome: DeliveryOutcome) -> None:
        append_delivery_log(self.lake, self.connector.source, outcome)


def _as_type(column: Column, target: pa.DataType) -> pa.Array:
    """A typed column in its lake type (int64 narrowed to int32 where the contract says so); a value that
    does not fit raises, as writing it always did."""
    if isinstance(column, list):
        return pa.array(column, target)
    return column if column.type == target else column.cast(target)
