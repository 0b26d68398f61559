"""Ingest rate of the availability feed, as ratios against baselines measured in the same run.

Two questions, each with a baseline that runs no monitorlink code:
- *How much slower than just reading the topic is landing it with the gate?* Measured: the real ingester
  (`availability.land`: group consumer → dedup, typing, GX gate → Parquet → commit, with adaptive
  micro-batches: `--batch` records a poll, growing up to `--backlog` under backlog) draining a topic of
  fresh events. Baseline: a bare kafka-python group consumer (same client, same poll size) reading the
  same topic, doing nothing. Both include joining the group and stop when every event was seen; the
  default of 20,000 events a round keeps the join (about 3–5 s, paid once by a long-running ingester)
  from dominating. The goal (issue 17) is a rate of at least 0.8× the bare consumer's: a time ratio of
  at most 1.25. The batch sizes the ingester reached are reported with the figure.
- *How much does the ingester's batch logic cost over writing the same rows to Parquet?* Measured:
  `Ingester.process` on the same messages in micro-batches, without Kafka. Baseline: plain pyarrow
  (`json.loads`, `Table.from_pylist` with inferred types, `parquet.write_table`), one file per micro-batch.

Each round publishes fresh events (new ids) to a new topic and uses new lake folders, untimed; then the
paths run in turn (warm-up round, then `--repeats` rounds). Also: the peak memory each offline path adds.
Needs nothing running: it starts an embedded broker on a free port and stops it again.
Writes `bench/results/ingest_rate.json` (not committed) and regenerates docs/performance.md.
Usage: python bench/ingest_rate.py [--events N] [--batch N] [--backlog N] [--repeats N] [--warmup N]
       [--no-docs]
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from kafka import KafkaConsumer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import figures  # noqa: E402
from connectors.availability import fetch_snapshot, snapshot_events  # noqa: E402
from monitorlink.core.config import Settings, load_settings  # noqa: E402
from monitorlink.core.lake import Lake  # noqa: E402
from monitorlink.ingest import availability  # noqa: E402
from monitorlink.ingest.kafka_clients import publish_events  # noqa: E402
from monitorlink.ingest.stream import Ingester, Message  # noqa: E402
from monitorlink.ops import broker  # noqa: E402

SNAPSHOT = ROOT / "samples/wachttijden_twente/snapshot_2026-08-14.json"


def _events(count: int) -> list[dict[str, Any]]:
    """Real snapshot events, repeated with fresh ids so that every one is new to the ingester."""
    template = list(snapshot_events(fetch_snapshot(str(SNAPSHOT))))
    return [
        {**template[i % len(template)], "event_id": str(uuid.uuid4()), "offer_key": f"bench/{i}"}
        for i in range(count)
    ]


# --- baselines: plain kafka-python and plain pyarrow, nothing of monitorlink ---------------------------


def bare_consume(
    bootstrap: str, topic: str, count: int, session_timeout_ms: int, max_poll: int
) -> tuple[float, float]:
    """Seconds for a new group consumer (as the ingester's, but doing nothing) to see `count` records,
    and of those the seconds until its first record (joining the group, mostly)."""
    started = time.perf_counter()
    first: float | None = None
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-bare-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=max(500, session_timeout_ms // 4),
        max_poll_records=max_poll,
    )
    seen = 0
    try:
        while seen < count:
            seen += sum(len(records) for records in consumer.poll(timeout_ms=500).values())
            if seen and first is None:
                first = time.perf_counter()
    finally:
        consumer.close()
    ended = time.perf_counter()
    return ended - started, (first or ended) - started


def pyarrow_write(values: list[bytes], batch: int, folder: Path) -> float:
    """Seconds to parse the same messages and write them to Parquet, one file per micro-batch."""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for number, first in enumerate(range(0, len(values), batch)):
        rows = [json.loads(value) for value in values[first : first + batch]]
        pq.write_table(pa.Table.from_pylist(rows), folder / f"batch-{number:05d}.parquet")
    return time.perf_counter() - started


# --- measured: the ingester ----------------------------------------------------------------------------


class Rounds:
    """Per round: fresh events on a new topic and new lake folders, so every round does the same work."""

    def __init__(self, settings: Settings, count: int, work: Path) -> None:
        self.base, self.count, self.work = settings, count, work
        self.settings = settings
        self.expected: list[Any] = []
        self.messages: list[Message] = []
        self.values: list[bytes] = []
        self.joins: list[float] = []
        #: per measured end-to-end round: micro-batches landed and the largest of them
        self.batches: list[int] = []
        self.largest: list[int] = []

    def prepare(self, number: int) -> None:
        tag = f"r{number + 10}"
        shutil.rmtree(self.work / "rounds", ignore_errors=True)
        folder = self.work / "rounds" / tag
        self.settings = dataclasses.replace(
            self.base,
            lake_root=folder / "lake",
            consumer_group=f"bench-ingester-{tag}",
            availability_topic=f"bench.availability.{tag}",
        )
        events = _events(self.count)
        report = publish_events(
            self.settings, self.settings.availability_topic, events, key_field="offer_key"
        )
        self.expected = report.messages
        self.values = [json.dumps(event, default=str).encode() for event in events]
        self.messages = [Message("offline", 0, i, None, value) for i, value in enumerate(self.values)]

    def ingest_end_to_end(self) -> float:
        started = time.perf_counter()
        stats = availability.land(self.settings, self.expected, max_seconds=1800)
        took = time.perf_counter() - started
        assert stats.validated == self.count, f"expected {self.count} validated, got {stats.validated}"
        self.batches.append(stats.batches)
        self.largest.append(stats.largest_batch)
        return took

    def bare_consume(self) -> float:
        s = self.settings
        took, join = bare_consume(
            s.bootstrap_servers, s.availability_topic, self.count, s.session_timeout_ms, s.batch_max_records
        )
        self.joins.append(join)
        return took

    def process_only(self) -> float:
        lake = Lake(self.settings.lake_root.parent / "offline-lake")
        started = time.perf_counter()
        ingester = Ingester(lake, availability.feed(self.settings))
        batch = self.settings.batch_max_records
        for first in range(0, self.count, batch):
            ingester.process(self.messages[first : first + batch])
        took = time.perf_counter() - started
        assert ingester.stats.validated == self.count, ingester.stats
        return took

    def pyarrow_write(self) -> float:
        folder = self.settings.lake_root.parent / f"pyarrow-{uuid.uuid4().hex[:6]}"
        return pyarrow_write(self.values, self.settings.batch_max_records, folder)


def main() -> int:
    parser = figures.argument_parser(__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="events per round (default 20,000)")
    parser.add_argument("--batch", type=int, default=500, help="records per poll, idle batch (default 500)")
    parser.add_argument(
        "--backlog", type=int, default=10_000, help="largest micro-batch under backlog (default 10,000)"
    )
    parser.add_argument("--no-docs", action="store_true", help="write the results, leave the docs alone")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="monitorlink-bench-ingest-") as home:
        settings = dataclasses.replace(
            load_settings(),
            home=Path(home),
            lake_root=Path(home) / "lake",
            broker_port=figures.free_port(),
            kafka_bootstrap=None,
            batch_max_records=args.batch,
            batch_max_records_backlog=args.backlog,
        )
        rounds = Rounds(settings, args.events, Path(home))
        broker.start(settings)
        try:
            rounds.prepare(-100)  # the memory figures: offline paths only, before any timing
            memory = {
                "ingester batch logic": figures.peak_rss_added_mib(rounds.process_only),
                "pyarrow write": figures.peak_rss_added_mib(rounds.pyarrow_write),
            }
            samples = figures.interleave(
                {
                    "ingest_end_to_end": rounds.ingest_end_to_end,
                    "bare_consume": rounds.bare_consume,
                    "process_only": rounds.process_only,
                    "pyarrow_write": rounds.pyarrow_write,
                },
                args.repeats,
                args.warmup,
                prepare=rounds.prepare,
            )
        finally:
            broker.stop(settings)

    join_s = rounds.joins[-args.repeats :]
    batches, largest = rounds.batches[-args.repeats :], rounds.largest[-args.repeats :]
    comparisons = [
        figures.compare(
            samples,
            "ingest_end_to_end",
            "bare_consume",
            question="How much slower than just reading the topic is landing it with the gate?",
            measured_label="ingester end to end (consume → gate → Parquet → commit, adaptive batches)",
            baseline_label="bare kafka-python consumer, same topic",
            meaning="time to land every event of the topic ÷ time for a bare consumer just to read them "
            "(both from joining the group to the last event); the goal is at most 1.25 (a rate of at "
            "least 0.8× the bare consumer's).",
            work=args.events,
            work_unit="events",
            details={
                "bare consumer: seconds to its first record": figures.Summary.of(join_s),
                "ingester: micro-batches a round": figures.Summary.of(batches),
                "ingester: largest micro-batch (events)": figures.Summary.of(largest),
            },
        ),
        figures.compare(
            samples,
            "process_only",
            "pyarrow_write",
            question="How much does the ingester's batch logic cost over writing the same rows to Parquet?",
            measured_label=f"ingester batch logic, no Kafka (batches of {args.batch})",
            baseline_label="plain pyarrow: JSON → Parquet, one file per batch",
            meaning="dedup, typing, GX validation and atomic writes ÷ parsing the same messages and "
            "writing them to Parquet with plain pyarrow, batch for batch.",
            work=args.events,
            work_unit="events",
        ),
    ]
    title = (
        f"Availability ingest ({args.events:,} events a round, polls of {args.batch}, "
        f"micro-batches up to {args.backlog:,} under backlog)"
    )
    figures.print_comparisons(title, comparisons)
    out = figures.save_results(
        "ingest_rate",
        title,
        comparisons,
        repeats=args.repeats,
        warmup=args.warmup,
        parameters={"events": args.events, "batch": args.batch, "backlog": args.backlog},
        memory_mib=memory,
        notes=[
            "Both end-to-end paths include joining a consumer group: the bare consumer's first record came "
            f"{statistics.median(join_s):.1f} s (median) after it was created, a fixed cost that a "
            "long-running ingester pays once; the more events a round (`--events`), the less it weighs.",
            "Great Expectations costs a few tenths of a second per micro-batch whatever its size, so "
            "micro-batches grow under backlog (adaptive batching): a poll that comes back full, or a "
            "batch still landing, lets records gather up to `MONITORLINK_BATCH_MAX_RECORDS_BACKLOG` "
            f"(`--backlog`); the ingester landed each round in {statistics.median(batches):.0f} "
            f"micro-batches (median), the largest {statistics.median(largest):,.0f} events. When the "
            "topic is quiet a short poll lands at once, so latency stays low "
            "(`bench/event_queryable.py`).",
        ],
        regenerate_docs=not args.no_docs,
    )
    print(f"written to {out.relative_to(ROOT)}" + ("" if args.no_docs else " and docs/performance.md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
