"""Stream ingester: Kafka micro-batches → quality gate → validated or quarantine zone → commit offsets.

Exactly-once into the lake on top of an at-least-once broker, by three rules:
1. a batch is written (temp file, fsync, atomic rename) *before* its offsets are committed, so a crash
   before the commit re-delivers the batch and a crash after it loses nothing;
2. every landed row records where it came from (topic, partition, offset, message checksum), so a
   re-delivered message is recognised and skipped — the ledger is rebuilt from the lake at start-up;
   the checksum tells a re-delivery apart from a new message at a reused offset after a broker restart;
3. an `event_id` that already landed, arriving again as a *different* message, is quarantined as a
   duplicate with the place it first landed — nothing is dropped without a trace.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import pyarrow as pa

from monitorlink.core.lake import Lake, batch_time, new_batch_id
from monitorlink.core.object_store import write_atomic
from monitorlink.core.pseudonym import mask_bsns
from monitorlink.core.rules import RuleFailure
from monitorlink.ingest.delivery_log import DeliveryOutcome, append_delivery_log, delivery_log
from monitorlink.ingest.event_types import coerce, has_lone_surrogate, masked
from monitorlink.ingest.kafka_clients import MessageRef
from monitorlink.ingest.quality import Suite, validate
from monitorlink.ingest.schemas import INGEST_COLUMNS, STREAM_QUARANTINE_SCHEMA

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One Kafka record, detached from the client library so batches can be processed and tested alone."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    #: None for a tombstone (a record with a null value), which any Kafka client may produce.
    value: bytes | None

    @cached_property
    def sha256(self) -> str:
        """Checksum of the payload: tells a re-delivery from a new message at the same offset.

        Cached: the ingester asks for it several times per message (ledger, dedup, lake columns).
        """
        return hashlib.sha256(self.value if self.value is not None else b"").hexdigest()


@dataclass(frozen=True)
class Feed:
    """What the ingester needs to know about one event feed.

    `upgrade` turns an event of an older contract version it still reads (`reads_versions`) into one
    of the current version before validation, so producers can move to a new version at their pace.
    """

    dataset: str
    schema: pa.Schema
    suite: Suite
    schema_version: int
    reads_versions: tuple[int, ...] = ()
    upgrade: Callable[[dict[str, Any]], dict[str, Any]] | None = None


@dataclass
class IngestStats:
    """Running totals of an ingester, for the summary and for `stop_when` conditions."""

    consumed: int = 0
    redelivered_skipped: int = 0
    validated: int = 0
    quarantined: int = 0
    batches: int = 0
    rules: Counter[str] = field(default_factory=Counter)
    #: messages in the largest micro-batch landed: how far adaptive batching grew under backlog
    largest_batch: int = 0

    def record_batch(self, size: int) -> None:
        """Count a landed micro-batch of `size` messages."""
        self.batches += 1
        self.largest_batch = max(self.largest_batch, size)


#: A JSON escape (`\u…`) is the only way a lone surrogate or a hidden digit can enter a decoded text.
_ESCAPE = "\\u"
#: Nine digits in a row: without them in the message, no text of the event can hold a BSN.
_NINE_DIGITS = re.compile(r"\d\d{8}")


@dataclass
class _Row:
    message: Message
    event: dict[str, Any] | None
    failures: list[RuleFailure] = field(default_factory=list)


class Ingester:
    """Lands one feed's micro-batches in the lake; knows nothing of Kafka beyond `Message`."""

    def __init__(self, lake: Lake, feed: Feed) -> None:
        self.lake = lake
        self.feed = feed
        self.stats = IngestStats()
        self._landed_offsets: dict[tuple[str, int, int], str] = {}
        self._landed_ids: dict[str, str] = {}
        # checksums of landed messages that carried an event: the same bytes again are a re-delivery
        self._landed_events: set[str] = set()
        self._last_validation: dict[str, Any] | None = None
        # `process` may run in a landing thread while the consumer thread re-reads the ledger
        # (`reload_ledger`): the lock keeps a half-landed batch from being seen as one without its log line.
        self._lock = threading.RLock()
        self._subschemas: dict[tuple[str, ...], pa.Schema] = {}
        self.reload_ledger()

    def reload_ledger(self, wait: bool = True) -> bool:
        """Read what landed from the lake (at start-up, or to see what other group members landed).

        A micro-batch in the lake without its line in the delivery log (a crash between writing its
        files and logging it) gets its line now, rebuilt from its files, so it is still announced.
        Returns whether it did: with `wait=False` it gives up at once while a batch is landing (that
        batch is in the ledger when it is done), so a stop condition never stalls the consumer thread.
        """
        if not self._lock.acquire(blocking=wait):
            return False
        try:
            self._reload_ledger()
        finally:
            self._lock.release()
        return True

    def _reload_ledger(self) -> None:
        columns = [
            "event_id", "_kafka_topic", "_kafka_partition", "_kafka_offset", "_message_sha256", "_batch_id",
            "failed_rules",
        ]  # fmt: skip
        batches: dict[str, _LandedBatch] = {}
        for zone in ("validated", "quarantine"):
            for row in self.lake.read_columns(zone, self.feed.dataset, columns):
                place = (row["_kafka_topic"], row["_kafka_partition"], row["_kafka_offset"])
                self._landed_offsets[place] = row["_message_sha256"]
                if row.get("event_id"):
                    self._landed_ids.setdefault(row["event_id"], f"{zone} {place[0]}[{place[1]}]@{place[2]}")
                    self._landed_events.add(row["_message_sha256"])
                batches.setdefault(row["_batch_id"], _LandedBatch()).add(zone, row)
        logged = {outcome.batch_id for outcome in delivery_log(self.lake, self.feed.dataset)}
        for batch_id in sorted(set(batches) - logged):
            log.warning(
                "%s: batch %s was in the lake but not in its log; logged now", self.feed.dataset, batch_id
            )
            outcome = batches[batch_id].outcome(self.feed.dataset, batch_id, batch_time(batch_id))
            append_delivery_log(self.lake, self.feed.dataset, outcome)

    def has_landed(self, ref: MessageRef) -> bool:
        """Whether this produced message is in the lake (either zone): at its offset, or — for an event
        sent again byte for byte (a replay, a forced re-pull, a producer's retry) — under its first."""
        at_offset = self._landed_offsets.get((ref.topic, ref.partition, ref.offset)) == ref.sha256
        return at_offset or ref.sha256 in self._landed_events

    def process(self, messages: Sequence[Message]) -> tuple[int, int]:
        """Land one micro-batch durably; returns (validated, quarantined). Offsets are the caller's job."""
        with self._lock:
            return self._process(messages)

    def _process(self, messages: Sequence[Message]) -> tuple[int, int]:
        fresh = [
            m for m in messages if self._landed_offsets.get((m.topic, m.partition, m.offset)) != m.sha256
        ]
        self.stats.consumed += len(messages)
        self.stats.redelivered_skipped += len(messages) - len(fresh)
        if not fresh:
            return 0, 0
        self._last_validation = None
        rows = self._without_redeliveries([self._decode(message) for message in fresh])
        self.stats.redelivered_skipped += len(fresh) - len(rows)
        if not rows:
            return 0, 0
        self._mark_duplicates(rows)
        self._validate(rows)
        now = datetime.now(UTC)
        batch_id = new_batch_id(now)
        good = [row for row in rows if not row.failures]
        bad = [row for row in rows if row.failures]
        if good:
            self.lake.write_table(
                self.lake.batch_path("validated", self.feed.dataset, batch_id, now),
                self._validated_table(good, batch_id, now),
            )
        if bad:
            self._write_quarantine(bad, batch_id, now)
        landed = _LandedBatch()
        for row in rows:
            landed.add(
                "quarantine" if row.failures else "validated", _ingest_columns(row.message, batch_id, now)
            )
            landed.rules.update({failure.rule for failure in row.failures})
        append_delivery_log(self.lake, self.feed.dataset, landed.outcome(self.feed.dataset, batch_id, now))
        self._remember(rows)
        self.stats.record_batch(len(messages))
        self.stats.validated += len(good)
        self.stats.quarantined += len(bad)
        return len(good), len(bad)

    def _decode(self, message: Message) -> _Row:
        """The event in a message, or the rule it breaks: a poison message is quarantined, never raised."""
        if message.value is None:
            reason = (
                "a tombstone (null value): the contract gives deletions no meaning; send a withdrawal event"
            )
            return _Row(message, None, [RuleFailure("message_has_value", reason)])
        try:
            # decoded strictly first: json.loads on bytes would also take UTF-16/32 and a BOM, which the
            # contract (UTF-8 JSON) does not allow (docs/reliability.md)
            event = json.loads(message.value.decode("utf-8"))
            text = _plain_utf8(message.value)
            # Fast path: without a `\u` escape no decoded text can hold a lone surrogate (UTF-8 cannot).
            escaped = text is None or _ESCAPE in text
            broken_text = escaped and has_lone_surrogate(event)
        except ValueError as error:  # not UTF-8, not JSON, or an integer past Python's digit limit
            reason = f"message is not UTF-8 JSON: {str(error)[:200]}"
            return _Row(message, None, [RuleFailure("message_is_json", reason)])
        except RecursionError:
            reason = "message is JSON nested deeper than Python's parser allows"
            return _Row(message, None, [RuleFailure("message_is_json", reason)])
        if not isinstance(event, dict):
            return _Row(
                message, None, [RuleFailure("message_is_object", "message is JSON but not an object")]
            )
        if escaped or _NINE_DIGITS.search(text or ""):  # otherwise no text can hold a BSN: nothing to mask
            event = masked(event)
        if broken_text:
            reason = "a text holds a lone surrogate (\\ud800–\\udfff), which is no Unicode character"
            # the event id, where it is sound text, goes along: replay then knows the event has landed
            event_id = event.get("event_id")
            known = {"event_id": event_id} if not has_lone_surrogate(event_id) else None
            return _Row(message, known, [RuleFailure("text_is_unicode", reason)])
        version = event.get("schema_version")
        if version in self.feed.reads_versions and self.feed.upgrade is not None:
            return _Row(message, self.feed.upgrade(event))
        if version != self.feed.schema_version:
            versions = sorted({self.feed.schema_version, *self.feed.reads_versions})
            readable = ", ".join(str(v) for v in versions)
            reason = f"schema_version must be one of {readable}; upgrade the ingester or the producer"
            return _Row(
                message, event, [RuleFailure("schema_version_supported", reason, "schema_version", version)]
            )
        return _Row(message, event)

    def _without_redeliveries(self, rows: list[_Row]) -> list[_Row]:
        """The rows, less events whose exact bytes already landed (or came earlier in this batch).

        The same event id in *other* bytes is no re-delivery: `_mark_duplicates` quarantines it.
        """
        kept, seen = [], set(self._landed_events)
        for row in rows:
            if _event_id(row) is not None and not row.failures and row.message.sha256 in seen:
                log.info("skipped %s: the same bytes as an event that landed", _event_id(row))
                continue
            if _event_id(row) is not None:
                seen.add(row.message.sha256)
            kept.append(row)
        return kept

    def _mark_duplicates(self, rows: list[_Row]) -> None:
        seen_in_batch: dict[str, str] = {}
        for row in rows:
            event_id = _event_id(row)
            if event_id is None or row.failures:
                continue
            first = self._landed_ids.get(event_id) or seen_in_batch.get(event_id)
            if first is not None:
                reason = f"event_id already landed ({first}); a re-sent or duplicated event"
                row.failures.append(RuleFailure("unique_event_id", reason, "event_id", event_id))
            else:
                m = row.message
                seen_in_batch[event_id] = f"this batch {m.topic}[{m.partition}]@{m.offset}"

    def _validate(self, rows: list[_Row]) -> None:
        candidates = [row for row in rows if not row.failures]
        if not candidates:
            return
        typed, type_failures = self._coerce([row.event or {} for row in candidates])
        outcome = validate(typed, self.feed.schema.names, self.feed.suite)
        for index, row in enumerate(candidates):
            row.failures.extend(type_failures.get(index, []) + outcome.failures_for(index))
            row.event = typed[index]
        self._last_validation = outcome.result

    def _coerce(
        self, events: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[int, list[RuleFailure]]]:
        """`event_types.coerce`, without its per-value dispatch where a value already has its type.

        A text that is a `str`, a count that is an `int`, a figure that is a `float`, a flag that is a
        `bool` or a missing value comes out of `coerce` unchanged; only the other values (timestamps,
        lists, anything of another type) go through it, so their casts and failures are exactly its.
        """
        typed: list[dict[str, Any]] = []
        failures: dict[int, list[RuleFailure]] = {}
        for index, event in enumerate(events):
            row: dict[str, Any] = {}
            to_cast: list[str] = []
            for name, passes in self._passthrough:
                value = event.get(name)
                row[name] = value
                if value is not None and type(value) is not passes:
                    to_cast.append(name)
            if to_cast:
                (cast,), failed = coerce(
                    [{name: event.get(name) for name in to_cast}], self._subschema(to_cast)
                )
                row.update(cast)
                if failed:
                    failures[index] = failed[0]
            typed.append(row)
        return typed, failures

    @cached_property
    def _passthrough(self) -> list[tuple[str, type | None]]:
        """Per contract field (in order), the Python type `coerce` returns unchanged; None: always cast."""
        kinds: list[tuple[str, type | None]] = []
        for schema_field in self.feed.schema:
            kind = schema_field.type
            passes: type | None = None
            if pa.types.is_string(kind):
                passes = str
            elif pa.types.is_boolean(kind):
                passes = bool
            elif pa.types.is_integer(kind):
                passes = int
            elif pa.types.is_floating(kind):
                passes = float
            kinds.append((schema_field.name, passes))
        return kinds

    def _subschema(self, names: list[str]) -> pa.Schema:
        """The contract's fields of these names (cached: the same few fields need casting every event)."""
        key = tuple(names)
        schema = self._subschemas.get(key)
        if schema is None:
            schema = self._subschemas[key] = pa.schema([self.feed.schema.field(name) for name in names])
        return schema

    def _validated_table(self, rows: list[_Row], batch_id: str, now: datetime) -> pa.Table:
        """The events in the contract's columns, then the ingest columns, built column by column
        (a batch under backlog holds thousands of rows: no merged dict per row)."""
        table = pa.Table.from_pylist([row.event or {} for row in rows], schema=self.feed.schema)
        places = [_ingest_columns(row.message, batch_id, now) for row in rows]
        for ingest_field in INGEST_COLUMNS:
            values = [place[ingest_field.name] for place in places]
            table = table.append_column(ingest_field, pa.array(values, type=ingest_field.type))
        return table

    def _write_quarantine(self, rows: list[_Row], batch_id: str, now: datetime) -> None:
        records = [
            {
                "event_id": _event_id(row),
                "record": None
                if row.message.value is None
                else mask_bsns(row.message.value.decode("utf-8", "replace")),
                "failed_rules": sorted({failure.rule for failure in row.failures}),
                "reasons": [failure.describe() for failure in row.failures],
                **_ingest_columns(row.message, batch_id, now),
            }
            for row in rows
        ]
        path = self.lake.batch_path("quarantine", self.feed.dataset, batch_id, now)
        report = {
            "batch_id": batch_id,
            "suite": self.feed.suite.name,
            "suite_file": str(self.feed.suite.path),
            "quarantined_rows": len(rows),
            "rules": Counter(rule for record in records for rule in record["failed_rules"]),
            "validation_result": self._last_validation,
        }
        write_atomic(path.with_suffix(".validation.json"), json.dumps(report, default=str, indent=2).encode())
        self.lake.write_table(path, pa.Table.from_pylist(records, schema=STREAM_QUARANTINE_SCHEMA))
        for record in records:
            self.stats.rules.update(record["failed_rules"])
            log.warning("quarantined %s: %s", record["event_id"], "; ".join(record["reasons"]))

    def _remember(self, rows: list[_Row]) -> None:
        for row in rows:
            m = row.message
            self._landed_offsets[(m.topic, m.partition, m.offset)] = m.sha256
            event_id = _event_id(row)
            if event_id is not None:
                zone = "quarantine" if row.failures else "validated"
                self._landed_ids.setdefault(event_id, f"{zone} {m.topic}[{m.partition}]@{m.offset}")
                self._landed_events.add(m.sha256)


@dataclass
class _LandedBatch:
    """What a micro-batch put in the lake, gathered row by row: enough for its line in the delivery log."""

    rows: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    topics: set[str] = field(default_factory=set)
    checksums: list[str] = field(default_factory=list)

    def add(self, zone: str, row: dict[str, Any]) -> None:
        """One landed row (its Kafka columns, and `failed_rules` when read back from the quarantine zone)."""
        self.rows[zone] += 1
        self.topics.add(row["_kafka_topic"])
        self.checksums.append(row["_message_sha256"])
        self.rules.update(row.get("failed_rules") or ())

    def outcome(self, dataset: str, batch_id: str, landed_at: datetime) -> DeliveryOutcome:
        """The batch as the delivery log records it; the checksum is over its messages, in any order."""
        return DeliveryOutcome(
            source=dataset,
            name=batch_id,
            received_sha256=hashlib.sha256("".join(sorted(self.checksums)).encode()).hexdigest(),
            outcome="validated" if self.rows["validated"] else "quarantined",
            origin=", ".join(f"kafka:{topic}" for topic in sorted(self.topics)),
            batch_id=batch_id,
            rows={dataset: self.rows["validated"]} if self.rows["validated"] else {},
            quarantined={dataset: self.rows["quarantine"]} if self.rows["quarantine"] else {},
            critical=dict(self.rules),
            processed_at=landed_at.isoformat(),
        )


def _plain_utf8(value: bytes) -> str | None:
    """The message as text when it is plain UTF-8 JSON (no BOM, not UTF-16/32), else None.

    Only for the fast paths' checks: `json.loads` reads the bytes itself, as it always did; a message
    in another encoding takes the full checks.
    """
    if json.detect_encoding(value) != "utf-8":
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _event_id(row: _Row) -> str | None:
    event_id = (row.event or {}).get("event_id")
    return event_id if isinstance(event_id, str) else None


def _ingest_columns(message: Message, batch_id: str, now: datetime) -> dict[str, Any]:
    return {
        "_kafka_topic": message.topic,
        "_kafka_partition": message.partition,
        "_kafka_offset": message.offset,
        "_kafka_key": message.key.decode("utf-8", errors="replace") if message.key is not None else None,
        "_message_sha256": message.sha256,
        "_batch_id": batch_id,
        "_ingested_at": now,
    }
