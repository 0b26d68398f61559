"""The Kafka loop around the stream ingester: poll, land, commit — in that order, so nothing is lost.

A batch is durable in the lake before its offsets are committed; a crash in between re-delivers it and the
ingester's ledger skips what already landed. The failpoints let the crash tests kill the process exactly
between those steps.

Micro-batches adapt to the load (`Batching`). The quality gate costs a fixed few tenths of a second per
batch, so a batch of one event costs almost as much as one of thousands. When the topic is quiet a poll
comes back short and its records land at once, so an event is in the lake within a poll and a gate run.
Under backlog (polls come back full, or the previous batch is still landing) records gather, up to
`MONITORLINK_BATCH_MAX_RECORDS_BACKLOG` or `MONITORLINK_BATCH_MAX_WAIT_S`, and land as one batch. One
batch lands in a landing thread while the consumer thread goes on fetching the next, so the gate's work
and the broker's overlap; offsets are still committed batch by batch, in order, and only after the
lake write, from the consumer thread (the Kafka client is not thread-safe).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from monitorlink.core.config import Settings
from monitorlink.ingest.stream import Ingester, IngestStats, Message

log = logging.getLogger(__name__)

#: Set to `after_write` or `after_commit` to have the ingester SIGKILL itself there (crash tests only).
FAILPOINT_VARIABLE = "MONITORLINK_FAILPOINT"


def _failpoint(name: str) -> None:
    """Crash hard at a named point when the crash tests ask for it; a no-op otherwise."""
    if os.environ.get(FAILPOINT_VARIABLE) == name:
        log.error("failpoint %s reached: killing the ingester", name)
        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """An event that SIGTERM and SIGINT set instead of ending the process, for as long as the block runs.

    The ingester service installs it before it connects, so a `monitorlink down` that arrives while the
    consumer is still joining its group stops it cleanly (exit 0) instead of killing it half-started.
    Only the main thread may install handlers; elsewhere (some executors) the caller owns shutdown.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def _stop(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass(frozen=True)
class Batching:
    """How large micro-batches grow: `poll_records` per poll (and per batch while the ingester keeps up),
    up to `backlog_records` under backlog, gathering for at most `max_wait_s` once the gate is free."""

    poll_records: int = 500
    backlog_records: int = 10_000
    max_wait_s: float = 1.0

    @classmethod
    def of(cls, settings: Settings) -> Batching:
        """The settings' batching; a backlog cap below the poll size is taken as the poll size."""
        return cls(
            poll_records=settings.batch_max_records,
            backlog_records=max(settings.batch_max_records_backlog, settings.batch_max_records),
            max_wait_s=settings.batch_max_wait_s,
        )


#: How long a poll waits when there is nothing to do (ms), and when a batch is landing or gathering:
#: short, so a landed batch is committed and the next one started without waiting for new records.
IDLE_POLL_MS, BUSY_POLL_MS = 500, 50


def run_consumer(
    consumer: KafkaConsumer,
    ingester: Ingester,
    stop_when: Callable[[IngestStats], bool] | None = None,
    idle_seconds: float | None = 5.0,
    max_seconds: float | None = None,
    stop: threading.Event | None = None,
    batching: Batching | None = None,
) -> IngestStats:
    """Poll, land, commit — until `stop_when` holds, the assigned partitions are idle, or time is up.

    `idle_seconds=None` with no `stop_when` runs until SIGTERM/SIGINT (the long-running service), or
    until `stop` is set by a caller that installed `stop_signals` earlier. Without `batching`, batches
    follow the consumer's own `max_poll_records` and do not grow under backlog (the old behaviour).
    """
    if batching is None:
        poll_records = int(consumer.config.get("max_poll_records", 500))
        batching = Batching(poll_records, poll_records)
    loop = _Loop(consumer, ingester, batching)
    if stop is None:
        with stop_signals() as installed:
            return loop.run(installed, stop_when, idle_seconds, max_seconds)
    return loop.run(stop, stop_when, idle_seconds, max_seconds)


@dataclass
class _Gathering:
    """Records polled but not yet handed to the landing thread, per partition in offset order."""

    records: dict[Any, list[Any]] = field(default_factory=dict)
    count: int = 0
    since: float = 0.0

    def add(self, polled: dict[Any, list[Any]], now: float) -> None:
        """Append a poll's records (a partition's records arrive in offset order, poll after poll)."""
        if not self.count:
            self.since = now
        for tp, records in polled.items():
            self.records.setdefault(tp, []).extend(records)
            self.count += len(records)

    def drop(self, partitions: set[Any]) -> None:
        """Forget the records of partitions this member lost: their new owner reads them again."""
        for tp in partitions & set(self.records):
            self.count -= len(self.records.pop(tp))

    def take(self) -> dict[Any, list[Any]]:
        """Everything gathered, leaving the gathering empty."""
        taken, self.records, self.count = self.records, {}, 0
        return taken


@dataclass
class _Landing:
    """A batch handed to the landing thread, with the offsets to commit once it is in the lake."""

    future: Future[tuple[int, int]]
    offsets: dict[TopicPartition, OffsetAndMetadata]
    size: int


class _Loop(ConsumerRebalanceListener):  # type: ignore[misc]
    """The consumer thread's loop: gather polled records, hand batches to the landing thread, commit."""

    def __init__(self, consumer: KafkaConsumer, ingester: Ingester, batching: Batching) -> None:
        self.consumer, self.ingester, self.batching = consumer, ingester, batching
        self.gathering = _Gathering()
        self.landing: _Landing | None = None
        #: whether the last poll came back short (the partitions nearly drained): gathered records land now
        self.caught_up = True
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitorlink-landing")
        # The listener drops what was gathered for partitions that go to another member (see below).
        topics = consumer.subscription()
        if topics:
            # the same topics again, now with the listener: kafka-python warns of an "unchanged" subscription
            quiet = logging.getLogger("kafka.consumer.subscription_state")
            level = quiet.level
            quiet.setLevel(logging.ERROR)
            try:
                consumer.subscribe(topics=sorted(topics), listener=self)
            finally:
                quiet.setLevel(level)

    def on_partitions_revoked(self, revoked: Any) -> None:
        """Before partitions go to another member: drop what was gathered for them (never committed, it
        comes again to the new owner). kafka-python runs this on its IO thread, where a blocking consumer
        call (a commit) is refused, so the batch in flight is committed by the loop as usual; when the
        broker no longer takes that commit, the lake's ledger skips the records the new owner re-reads."""
        self.gathering.drop(set(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        """Nothing to do: the ledger already knows what landed, whoever landed it."""

    def run(
        self,
        stop: threading.Event,
        stop_when: Callable[[IngestStats], bool] | None,
        idle_seconds: float | None,
        max_seconds: float | None,
    ) -> IngestStats:
        """Until a stop condition: the batch in flight is finished either way; gathered records are not
        committed and come again to whoever reads the partition next."""
        started = last_data = time.monotonic()
        try:
            while not stop.is_set():
                polled = self._poll()
                now = time.monotonic()
                if polled:
                    last_data = now
                self._step(now)
                if stop_when is not None and stop_when(self.ingester.stats):
                    break
                if max_seconds is not None and now - started > max_seconds:
                    log.warning(
                        "ingester stopped after %.0f s without reaching its stop condition", max_seconds
                    )
                    break
                quiet = self.landing is None and not self.gathering.count
                idle = idle_seconds is not None and now - last_data > idle_seconds
                if idle and quiet and self.consumer.assignment():
                    break
        finally:
            try:
                self._finish()
            finally:
                self.pool.shutdown(wait=True)
        return self.ingester.stats

    def _poll(self) -> dict[Any, list[Any]]:
        """One poll for as many records as the gathering has room for; remembers whether it came back full."""
        room = self.batching.backlog_records - self.gathering.count
        if room <= 0:
            self.caught_up = False
            return {}
        wanted = min(self.batching.poll_records, room)
        busy = self.landing is not None or self.gathering.count > 0
        polled: dict[Any, list[Any]] = self.consumer.poll(
            timeout_ms=BUSY_POLL_MS if busy else IDLE_POLL_MS, max_records=wanted
        )
        got = sum(len(records) for records in polled.values())
        # A short poll means the partitions are (nearly) drained: what is gathered lands now.
        self.caught_up = got < wanted
        if got:
            self.gathering.add(polled, time.monotonic())
        return polled

    def _step(self, now: float) -> None:
        """Commit a landed batch; hand the gathering over when the landing thread is free and it is due."""
        full = self.gathering.count >= self.batching.backlog_records
        if self.landing is not None and (self.landing.future.done() or full):
            self._finish()
        if self.landing is None and self.gathering.count:
            overdue = now - self.gathering.since >= self.batching.max_wait_s
            if self.caught_up or full or overdue:
                self._start(self.gathering.take())

    def _start(self, polled: dict[Any, list[Any]]) -> None:
        messages = [
            Message(record.topic, record.partition, record.offset, record.key, record.value)
            for records in polled.values()
            for record in records
        ]
        offsets = {
            TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(records[-1].offset + 1, "", -1)
            for tp, records in polled.items()
            if records
        }
        future = self.pool.submit(_land, self.ingester, messages)
        self.landing = _Landing(future, offsets, len(messages))

    def _finish(self) -> None:
        """Wait for the batch in flight (its error, if any, is raised here) and commit its offsets."""
        landing, self.landing = self.landing, None
        if landing is None:
            return
        validated, quarantined = landing.future.result()
        try:
            self.consumer.commit(landing.offsets)
        except KafkaError as error:
            # The batch is durable in the lake, whose ledger skips it when it comes again: a commit the
            # broker could not take (it restarted, the group rebalanced) costs a re-read, never an event.
            log.warning(
                "could not commit offsets (%s); the lake's ledger skips these records if re-read", error
            )
            return
        _failpoint("after_commit")
        log.info(
            "landed batch: %d validated, %d quarantined, %d messages", validated, quarantined, landing.size
        )


def _land(ingester: Ingester, messages: list[Message]) -> tuple[int, int]:
    """The landing thread's work: one batch into the lake (offsets are the consumer thread's job)."""
    landed = ingester.process(messages)
    _failpoint("after_write")
    return landed
