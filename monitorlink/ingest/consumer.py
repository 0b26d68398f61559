"""The Kafka loop around the stream ingester: poll, land, commit — in that order, so nothing is lost.

A batch is durable in the lake before its offsets are committed; a crash in between re-delivers it and the
ingester's ledger skips what already landed. The failpoints let the crash tests kill the process exactly
between those steps.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

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


def run_consumer(
    consumer: KafkaConsumer,
    ingester: Ingester,
    stop_when: Callable[[IngestStats], bool] | None = None,
    idle_seconds: float | None = 5.0,
    max_seconds: float | None = None,
    stop: threading.Event | None = None,
) -> IngestStats:
    """Poll, land, commit — until `stop_when` holds, the assigned partitions are idle, or time is up.

    `idle_seconds=None` with no `stop_when` runs until SIGTERM/SIGINT (the long-running service), or
    until `stop` is set by a caller that installed `stop_signals` earlier.
    """
    if stop is None:
        with stop_signals() as installed:
            return _poll_until(consumer, ingester, installed, stop_when, idle_seconds, max_seconds)
    return _poll_until(consumer, ingester, stop, stop_when, idle_seconds, max_seconds)


def _poll_until(
    consumer: KafkaConsumer,
    ingester: Ingester,
    stop: threading.Event,
    stop_when: Callable[[IngestStats], bool] | None,
    idle_seconds: float | None,
    max_seconds: float | None,
) -> IngestStats:
    started = last_data = time.monotonic()
    while not stop.is_set():
        polled = consumer.poll(timeout_ms=500)
        now = time.monotonic()
        if polled:
            last_data = now
            _land_and_commit(consumer, ingester, polled)
        if stop_when is not None and stop_when(ingester.stats):
            break
        if max_seconds is not None and now - started > max_seconds:
            log.warning("ingester stopped after %.0f s without reaching its stop condition", max_seconds)
            break
        if idle_seconds is not None and consumer.assignment() and now - last_data > idle_seconds:
            break
    return ingester.stats


def _land_and_commit(consumer: KafkaConsumer, ingester: Ingester, polled: dict[Any, list[Any]]) -> None:
    messages = [
        Message(record.topic, record.partition, record.offset, record.key, record.value)
        for records in polled.values()
        for record in records
    ]
    validated, quarantined = ingester.process(messages)
    _failpoint("after_write")
    offsets = {
        TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(records[-1].offset + 1, "", -1)
        for tp, records in polled.items()
    }
    try:
        consumer.commit(offsets)
    except KafkaError as error:
        # The batch is durable in the lake, whose ledger skips it when it comes again: a commit the
        # broker could not take (it restarted, the group rebalanced) costs a re-read, never an event.
        log.warning("could not commit offsets (%s); the lake's ledger skips these records if re-read", error)
        return
    _failpoint("after_commit")
    log.info("landed batch: %d validated, %d quarantined, %d messages", validated, quarantined, len(messages))
