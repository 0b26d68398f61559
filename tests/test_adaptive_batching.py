"""Adaptive micro-batches without a broker: a scripted consumer stands in for Kafka.

Under backlog (polls come back full) records gather up to the backlog cap and land as one batch; when the
topic is quiet a short poll lands at once. Either way every record lands once, in offset order, and a
batch's offsets are committed only after it is in the lake.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from kafka import TopicPartition

from monitorlink.core.config import ConfigError, load_settings
from monitorlink.ingest.consumer import Batching, run_consumer
from monitorlink.ingest.stream import IngestStats, Message

TOPIC = "availability.v1"


@dataclass(frozen=True)
class _Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass
class _Consumer:
    """Hands out a partition's records as Kafka does: in offset order, at most `max_records` a poll."""

    backlog: dict[int, int]
    #: records that arrive later, after this many polls: (poll number, partition, count)
    arrivals: list[tuple[int, int, int]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=lambda: {"max_poll_records": 100})
    positions: dict[int, int] = field(default_factory=dict)
    ends: dict[int, int] = field(default_factory=dict)
    commits: list[dict[TopicPartition, int]] = field(default_factory=list)
    polls: int = 0
    listener: Any = None
    #: what the ingester had landed (messages) when each commit came
    landed_at_commit: list[int] = field(default_factory=list)
    ingester: _Ingester | None = None

    def __post_init__(self) -> None:
        self.ends = dict(self.backlog)
        self.positions = dict.fromkeys(self.backlog, 0)

    def subscription(self) -> set[str]:
        return {TOPIC}

    def subscribe(self, topics: Sequence[str], listener: Any = None) -> None:
        self.listener = listener

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(TOPIC, p) for p in self.backlog}

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[_Record]]:
        self.polls += 1
        for number, partition, count in self.arrivals:
            if number == self.polls:
                self.ends[partition] += count
        polled: dict[TopicPartition, list[_Record]] = {}
        room = max_records
        for partition in sorted(self.backlog):
            take = min(room, self.ends[partition] - self.positions[partition])
            if take <= 0:
                continue
            first = self.positions[partition]
            polled[TopicPartition(TOPIC, partition)] = [
                _Record(TOPIC, partition, o, None, f'{{"n": {o}}}'.encode())
                for o in range(first, first + take)
            ]
            self.positions[partition] += take
            room -= take
        return polled

    def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        self.commits.append({tp: meta.offset for tp, meta in offsets.items()})
        assert self.ingester is not None
        self.landed_at_commit.append(sum(len(batch) for batch in self.ingester.batches))


@dataclass
class _Ingester:
    """Records the batches it is handed (as `Ingester.process` would land them)."""

    stats: IngestStats = field(default_factory=IngestStats)
    batches: list[list[Message]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def process(self, messages: Sequence[Message]) -> tuple[int, int]:
        with self.lock:
            self.batches.append(list(messages))
            self.stats.record_batch(len(messages))
            self.stats.validated += len(messages)
            self.stats.consumed += len(messages)
        return len(messages), 0


def _run(consumer: _Consumer, batching: Batching, total: int) -> _Ingester:
    ingester = _Ingester()
    consumer.ingester = ingester
    run_consumer(
        consumer,
        ingester,  # type: ignore[arg-type]
        stop_when=lambda stats: stats.consumed >= total,
        idle_seconds=None,
        max_seconds=60,
        stop=threading.Event(),
        batching=batching,
    )
    return ingester


def _places(ingester: _Ingester) -> list[tuple[int, int]]:
    return [(m.partition, m.offset) for batch in ingester.batches for m in batch]


def test_under_backlog_the_first_batch_grows_to_the_cap_and_every_record_lands_once_in_order() -> None:
    consumer = _Consumer(backlog={0: 1500, 1: 800})
    ingester = _run(consumer, Batching(poll_records=100, backlog_records=1000, max_wait_s=600), 2300)

    # every poll came back full until 1,000 had gathered: one batch of the cap, not ten of 100
    assert len(ingester.batches[0]) == 1000
    assert all(len(batch) <= 1000 for batch in ingester.batches)
    places = _places(ingester)
    assert sorted(places) == [(0, o) for o in range(1500)] + [(1, o) for o in range(800)]
    assert len(places) == len(set(places)) == 2300
    for partition in (0, 1):
        offsets = [o for p, o in places if p == partition]
        assert offsets == sorted(offsets), "a partition's records land in offset order"
    assert ingester.stats.largest_batch == 1000


def test_offsets_are_committed_batch_by_batch_after_each_batch_landed() -> None:
    consumer = _Consumer(backlog={0: 2500})
    ingester = _run(consumer, Batching(poll_records=100, backlog_records=1000, max_wait_s=600), 2500)

    ends = [sum(len(batch) for batch in ingester.batches[: i + 1]) for i in range(len(ingester.batches))]
    assert [commit[TopicPartition(TOPIC, 0)] for commit in consumer.commits] == ends
    # when each commit came, the batch it commits (and every one before) had landed
    assert all(landed >= end for landed, end in zip(consumer.landed_at_commit, ends, strict=True))
    assert ends[-1] == 2500


def test_a_quiet_topic_lands_a_short_poll_at_once() -> None:
    # 3 records, then (poll 4) 2 more: each short poll is its own small batch, nothing waits for more
    consumer = _Consumer(backlog={0: 3}, arrivals=[(4, 0, 2)])
    ingester = _run(consumer, Batching(poll_records=100, backlog_records=10_000, max_wait_s=600), 5)

    assert [len(batch) for batch in ingester.batches] == [3, 2]
    assert [commit[TopicPartition(TOPIC, 0)] for commit in consumer.commits] == [3, 5]


def test_a_revoked_partition_loses_its_gathered_records_and_keeps_its_landed_ones() -> None:
    consumer = _Consumer(backlog={0: 300, 1: 300})
    loop_ingester = _Ingester()
    consumer.ingester = loop_ingester
    from monitorlink.ingest.consumer import _Loop

    loop = _Loop(consumer, loop_ingester, Batching(100, 10_000, 600))  # type: ignore[arg-type]
    try:
        assert consumer.listener is loop, "the loop listens for rebalances"
        loop._poll()  # 100 of partition 0
        loop._start(loop.gathering.take())  # in flight
        loop._poll()  # 100 more of partition 0, gathered
        loop.on_partitions_revoked([TopicPartition(TOPIC, 0)])  # on kafka-python's IO thread
        assert consumer.commits == [], "no blocking consumer call from the rebalance listener"
        assert loop.gathering.count == 0, "the gathered 100 are dropped, uncommitted"
        loop._finish()  # the loop goes on: the batch in flight lands and is committed as usual
    finally:
        loop.pool.shutdown(wait=True)

    assert [len(batch) for batch in loop_ingester.batches] == [100]
    assert consumer.commits == [{TopicPartition(TOPIC, 0): 100}]


def test_batching_from_settings_never_caps_below_the_poll_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORLINK_BATCH_MAX_RECORDS", "800")
    monkeypatch.setenv("MONITORLINK_BATCH_MAX_RECORDS_BACKLOG", "200")
    monkeypatch.setenv("MONITORLINK_BATCH_MAX_WAIT_S", "2.5")
    assert Batching.of(load_settings()) == Batching(poll_records=800, backlog_records=800, max_wait_s=2.5)


def test_batching_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "MONITORLINK_BATCH_MAX_RECORDS",
        "MONITORLINK_BATCH_MAX_RECORDS_BACKLOG",
        "MONITORLINK_BATCH_MAX_WAIT_S",
    ):
        monkeypatch.delenv(name, raising=False)
    assert Batching.of(load_settings()) == Batching(poll_records=500, backlog_records=10_000, max_wait_s=1.0)


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("MONITORLINK_BATCH_MAX_RECORDS_BACKLOG", "0", "1–1000000"),
        ("MONITORLINK_BATCH_MAX_RECORDS_BACKLOG", "1000001", "1–1000000"),
        ("MONITORLINK_BATCH_MAX_RECORDS_BACKLOG", "lots", "1–1000000"),
        ("MONITORLINK_BATCH_MAX_WAIT_S", "0", ">0–600"),
        ("MONITORLINK_BATCH_MAX_WAIT_S", "601", ">0–600"),
        ("MONITORLINK_BATCH_MAX_WAIT_S", "nan", ">0–600"),
    ],
)
def test_batching_settings_out_of_range_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, allowed: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert name in str(raised.value) and allowed in str(raised.value)
