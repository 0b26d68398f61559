"""Ingest rate of the availability feed, as ratios against baselines measured in the same run.

Baselines (same machine, same broker, same events, same moment):
- `kafka_consume`: a bare kafka-python consumer reading the topic and doing nothing — the ceiling the
  broker and client allow;
- `parquet_write`: writing the same events to Parquet once, with no Kafka and no validation.

Measured:
- `ingest_end_to_end`: the real ingester (group consumer → GX gate → Parquet → commit) draining the topic;
- `process_only`: the ingester's batch logic (dedup, coercion, GX, atomic writes) without Kafka.

Run with `make bench`; writes `bench/results/ingest_rate.json` (not committed) and prints a table.
Usage: python bench/ingest_rate.py [--events N] [--batch N]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kafka import KafkaConsumer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.figures import save_figures  # noqa: E402
from connectors.availability import EVENT_SCHEMA, fetch_snapshot, snapshot_events  # noqa: E402
from monitorlink.core.config import load_settings  # noqa: E402
from monitorlink.core.lake import Lake  # noqa: E402
from monitorlink.ingest import availability  # noqa: E402
from monitorlink.ingest.kafka_clients import publish_events  # noqa: E402
from monitorlink.ingest.stream import Ingester, Message, coerce  # noqa: E402
from monitorlink.ops import broker  # noqa: E402


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _events(count: int) -> list[dict[str, Any]]:
    """Real snapshot events, repeated with fresh ids so that every one is new to the ingester."""
    template = list(
        snapshot_events(fetch_snapshot(str(ROOT / "samples/wachttijden_twente/snapshot_2026-08-14.json")))
    )
    return [
        {**template[i % len(template)], "event_id": str(uuid.uuid4()), "offer_key": f"bench/{i}"}
        for i in range(count)
    ]


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def _bare_consume(bootstrap: str, topic: str, count: int) -> float:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-bare-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1500,
    )
    seen = 0
    started: float | None = None
    while seen < count:
        batch = consumer.poll(timeout_ms=500)
        if batch and started is None:
            started = time.perf_counter()  # group join excluded, as for the ingester below
        seen += sum(len(records) for records in batch.values())
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return elapsed


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--events", type=int, default=20_000)
    options.add_argument("--batch", type=int, default=500)
    args = options.parse_args()

    with tempfile.TemporaryDirectory(prefix="monitorlink-bench-") as home:
        settings = dataclasses.replace(
            load_settings(),
            home=Path(home),
            lake_root=Path(home) / "lake",
            broker_port=_free_port(),
            kafka_bootstrap=None,
            batch_max_records=args.batch,
            consumer_group="bench-ingester",
            availability_topic="bench.availability.v1",
        )
        broker.start(settings)
        try:
            results = _measure(settings, args.events)
        finally:
            broker.stop(settings)
    _report(results, args.events, args.batch)
    return 0


def _measure(settings: Any, count: int) -> dict[str, float]:
    events = _events(count)
    started = time.perf_counter()
    report = publish_events(settings, settings.availability_topic, events, key_field="offer_key")
    produce_s = time.perf_counter() - started

    bare_s = _bare_consume(settings.bootstrap_servers, settings.availability_topic, count)

    started = time.perf_counter()
    typed, _ = coerce(events, EVENT_SCHEMA)
    Lake(Path(settings.home) / "baseline").write_table(
        Path(settings.home) / "baseline" / "all.parquet", pa.Table.from_pylist(typed, schema=EVENT_SCHEMA)
    )
    parquet_s = time.perf_counter() - started

    started = time.perf_counter()
    stats = availability.land(settings, report.messages, max_seconds=1800)
    ingest_s = time.perf_counter() - started
    assert stats.validated == count, f"expected {count} validated, got {stats.validated}"

    messages = [
        Message("offline", 0, i, None, json.dumps(event, default=str).encode())
        for i, event in enumerate(events)
    ]
    ingester = Ingester(Lake(Path(settings.home) / "offline-lake"), availability.feed(settings))
    started = time.perf_counter()
    for first in range(0, count, settings.batch_max_records):
        ingester.process(messages[first : first + settings.batch_max_records])
    process_s = time.perf_counter() - started

    return {
        "produce": _rate(count, produce_s),
        "kafka_consume": _rate(count, bare_s),
        "parquet_write": _rate(count, parquet_s),
        "ingest_end_to_end": _rate(count, ingest_s),
        "process_only": _rate(count, process_s),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _report(results: dict[str, float], count: int, batch: int) -> None:
    table = Table(title=f"Availability ingest, {count} events, micro-batches of {batch}")
    for column in ("measure", "events/s", "× bare Kafka consume", "× Parquet write"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for name in ("produce", "kafka_consume", "parquet_write", "ingest_end_to_end", "process_only"):
        rate = results[name]
        table.add_row(
            name,
            f"{rate:,.0f}",
            f"{rate / results['kafka_consume']:.3f}",
            f"{rate / results['parquet_write']:.3f}",
        )
    console = Console(width=110)
    console.print(table)
    console.print(f"peak RSS of the benchmark process: {results['peak_rss_mib']:.0f} MiB")
    out = save_figures("ingest_rate", {"events": count, "batch": batch, **results})
    console.print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
