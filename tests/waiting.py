"""Waiting in tests for the state that is needed, never for a fixed time.

`wait_until` polls a condition until it holds or a deadline passes, and then fails naming what it waited
for. The Kafka helpers read a topic up to its end offsets as they were when the call began, and run the
availability ingester until its consumer group has consumed everything on its topic: no idle time-outs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from kafka import KafkaConsumer, TopicPartition

from monitorlink.core.config import Settings

if TYPE_CHECKING:
    from monitorlink.ingest.stream import IngestStats

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout_s: float, what: str, interval_s: float = 0.05) -> T:
    """Poll `predicate` until it returns something truthy (returned); fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(interval_s)


def _partitions(consumer: KafkaConsumer, topic: str, timeout_s: float) -> list[TopicPartition]:
    numbers = wait_until(
        lambda: consumer.partitions_for_topic(topic), timeout_s, f"the partitions of topic {topic}"
    )
    return [TopicPartition(topic, number) for number in sorted(numbers)]


def read_topic(bootstrap_servers: str, topic: str, timeout_s: float = 60.0) -> list[Any]:
    """Every record on `topic` from the start up to its end offsets as of now (no consumer group); none
    for a topic the broker does not have."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False)
    try:
        if topic not in consumer.topics():  # nothing was ever published to it
            return []
        partitions = _partitions(consumer, topic, timeout_s)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records: list[Any] = []

        def caught_up() -> bool:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
            return all(consumer.position(tp) >= end for tp, end in ends.items())

        wait_until(caught_up, timeout_s, f"every record up to the end offsets {ends} of {topic}")
        return sorted(records, key=lambda record: (record.partition, record.offset))
    finally:
        consumer.close()


def unconsumed(settings: Settings, topic: str, group: str) -> int:
    """How many records of `topic` lie beyond what `group` has committed (all of them for a new group)."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=group)
    try:
        partitions = _partitions(consumer, topic, 30)
        ends = consumer.end_offsets(partitions)
        starts = consumer.beginning_offsets(partitions)
        return sum(end - (consumer.committed(tp) or starts[tp]) for tp, end in ends.items())
    finally:
        consumer.close(autocommit=False)


def ingest_until_caught_up(settings: Settings, timeout_s: float = 120.0) -> IngestStats:
    """The ingester as `monitorlink ingest` runs it, stopped once it consumed every record its group had
    not committed yet; fails if that takes longer than `timeout_s`."""
    # Imported here: conftest imports this module, and unit tests should not pay for the ingester.
    from monitorlink.core.lake import Lake
    from monitorlink.ingest.availability import feed
    from monitorlink.ingest.consumer import run_consumer
    from monitorlink.ingest.kafka_clients import new_consumer
    from monitorlink.ingest.stream import Ingester

    topic, group = settings.availability_topic, settings.consumer_group
    consumer = new_consumer(settings, topic)
    try:
        pending = unconsumed(settings, topic, group)
        ingester = Ingester(Lake(settings.lake_root), feed(settings))
        stats = run_consumer(
            consumer,
            ingester,
            stop_when=lambda seen: seen.consumed >= pending,
            idle_seconds=None,
            max_seconds=timeout_s,
        )
    finally:
        consumer.close()
    assert stats.consumed >= pending, (
        f"the ingester consumed {stats.consumed} of {pending} within {timeout_s} s"
    )
    return stats
