"""The goals of the national-scale work, checked against the benchmarks' results of the same runs.

Each goal names the benchmark and the comparison that measures it and how it is judged: the ratio
against the baseline of the same run, a 95th percentile of the measured times, or a peak of memory. A
goal whose benchmark has not run (or whose comparison is missing) says so instead of passing.
`bench/report.py` puts this table at the top of docs/performance.md and prints it after `make bench`.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Comparison = dict[str, Any]
Document = dict[str, Any]


@dataclass(frozen=True)
class Goal:
    """One row of the goals table."""

    what: str
    benchmark: str
    picks: Callable[[Comparison], bool]
    baseline: str
    goal: str
    judge: Callable[[Document, list[Comparison]], tuple[str, bool | None]]


def _labelled(*words: str) -> Callable[[Comparison], bool]:
    """A comparison whose measured and baseline labels contain every word (case-insensitive)."""

    def picks(comparison: Comparison) -> bool:
        text = f"{comparison['measured']} | {comparison['baseline']}".lower()
        return all(word.lower() in text for word in words)

    return picks


def _ratio_at_most(
    limit: float, as_speed: bool = False
) -> Callable[[Document, list[Comparison]], tuple[str, bool | None]]:
    """Judged on the median per-round ratio (time ÷ baseline time); `as_speed` prints it as a speed."""

    def judge(_: Document, picked: list[Comparison]) -> tuple[str, bool | None]:
        ratio = picked[0]["ratio"]["median"]
        shown = f"{1 / ratio:.2f}× the baseline's rate" if as_speed else f"time ratio {ratio:.2f}"
        return shown, ratio <= limit

    return judge


def _share_at_most(limit: float) -> Callable[[Document, list[Comparison]], tuple[str, bool | None]]:
    """The measured path's extra time as a share of it: 1 − baseline ÷ measured (the gate's share)."""

    def judge(_: Document, picked: list[Comparison]) -> tuple[str, bool | None]:
        share = 1 - 1 / picked[0]["ratio"]["median"]
        return f"{share:.0%} of landing time", share <= limit

    return judge


def _p95_at_most(limit_s: float) -> Callable[[Document, list[Comparison]], tuple[str, bool | None]]:
    """The 95th percentile of every measured sample of the picked comparisons (nearest rank)."""

    def judge(_: Document, picked: list[Comparison]) -> tuple[str, bool | None]:
        measured = sorted(s for c in picked for s in c["measured_s"]["samples"])
        baseline = sorted(s for c in picked for s in c["baseline_s"]["samples"])
        p95, base = _p95(measured), _p95(baseline)
        return (
            f"p95 {p95 * 1000:,.0f} ms (baseline p95 {base * 1000:,.0f} ms, n={len(measured)})",
            p95 <= limit_s,
        )

    return judge


def _p95(values: list[float]) -> float:
    return values[max(0, math.ceil(0.95 * len(values)) - 1)] if values else math.nan


def _peak_at_most(limit_mib: float) -> Callable[[Document, list[Comparison]], tuple[str, bool | None]]:
    """The peak resident set the benchmark recorded (its `memory_mib`), and the time of the path."""

    def judge(document: Document, picked: list[Comparison]) -> tuple[str, bool | None]:
        peaks = [v for v in (document.get("memory_mib") or {}).values() if v is not None]
        if not peaks:
            return "no memory figure", None
        seconds = picked[0]["baseline_s"]["median"]
        return f"peak {max(peaks):,.0f} MiB, {seconds:,.0f} s", max(peaks) <= limit_mib

    return judge


GOALS = (
    Goal(
        "land the national history (all feeds)",
        "national_landing",
        _labelled("dlt", "row"),
        "dlt, rows from a csv reader, no checks",
        "≥ 5× dlt row-wise (time ratio ≤ 0.20)",
        _ratio_at_most(0.20),
    ),
    Goal(
        "land the national history (all feeds)",
        "national_landing",
        _labelled("dlt", "arrow"),
        "dlt's Arrow path, no checks",
        "≥ 1× dlt Arrow (time ratio ≤ 1.00)",
        _ratio_at_most(1.00),
    ),
    Goal(
        "land the national history (all feeds)",
        "national_landing",
        _labelled("floor"),
        "DuckDB read_csv/read_json (the floor)",
        "distance to the floor (no goal)",
        lambda _, picked: (f"time ratio {picked[0]['ratio']['median']:.2f}", None),
    ),
    Goal(
        "full dbt build at national size",
        "national_build",
        _labelled("full"),
        "— (time, rows, peak RSS)",
        "peak RSS ≤ 2 GB",
        _peak_at_most(2048),
    ),
    Goal(
        "one new delivery (one municipality, one quarter)",
        "national_build",
        _labelled("one new"),
        "full build",
        "≤ 15% of the full build",
        _ratio_at_most(0.15),
    ),
    Goal(
        "stream ingest",
        "ingest_rate",
        _labelled("end to end", "bare"),
        "bare consume of the same topic, same client",
        "≥ 0.8× its rate (time ratio ≤ 1.25)",
        _ratio_at_most(1.25, as_speed=True),
    ),
    Goal(
        "event → queryable",
        "event_queryable",
        lambda c: True,
        "—",
        "p95 ≤ 2 s",
        _p95_at_most(2.0),
    ),
    Goal(
        "dashboard chart queries",
        "dashboards",
        _labelled("chart query"),
        "the same SQL straight on DuckDB",
        "p95 ≤ 300 ms",
        _p95_at_most(0.300),
    ),
    Goal(
        "quality gate share of landing time",
        "national_landing",
        _labelled("without", "gate"),
        "landing without the gate",
        "≤ 25%",
        _share_at_most(0.25),
    ),
    Goal(
        "landing into a lake on object storage",
        "object_store",
        _labelled("s3", "local lake"),
        "the same landing into a local lake folder",
        "its cost on moto, a local stand-in (no goal)",
        lambda _, picked: (f"time ratio {picked[0]['ratio']['median']:.2f}", None),
    ),
)


#: Why a goal is not reached, by benchmark: printed under the table only while one of its goals is unmet.
WHY_NOT = {
    "national_landing": (
        "**Landing.** Nationally the history is about 10,000 small files (one per municipality-quarter), and"
        " checked landing pays per file what dlt and DuckDB do not: a Great Expectations run per chunk of 50"
        " deliveries (about 0.7 s fixed plus a per-row part, the gate's share above), the raw copy with two"
        " fsyncs, the delivery log, and a Parquet file each. Parsing and typing are columnar now (in a"
        " profile of the regional history typing fell from 24 s to 9 s, encoding detection from 7 s to"
        " 0.3 s); what is left is mostly the gate. GX is the platform's"
        " quality engine by design; checking the six expectation types the suites use with Arrow or DuckDB"
        " (GX kept as the reference in an equivalence test) is the change that would reach these goals."
    ),
    "national_build": (
        "**Builds.** Every dbt read of the lake opens each of its files, so the TMSD staging model is a table"
        " read once per build and a selective build leaves the sources' own tests to the full build. A"
        " selective build still rebuilds every model TMSD feeds (most of the project) from whole tables,"
        " copies the restricted warehouse and writes both tier files, and dbt's start-up is a fixed cost: the"
        " ratio stays far above 0.15. Incremental models keyed on the delivery were tried and taken out"
        " again: an append-only staging table kept stale rows after a backfill (which re-lands a batch"
        " under the same id). DuckDB's memory in dbt is capped (MONITORLINK_DUCKDB_MEMORY_LIMIT, 1GB); the"
        " peak counts dbt's own Python process as well. At full national volume the build needs a 4GB cap"
        " (at 1GB a window over all trajectories runs out of memory) and peaked at 4.9 GB (171 s)."
    ),
    "ingest_rate": (
        "**Stream.** Adaptive micro-batches took the ingester from 0.17–0.33x to about 0.5x of a bare"
        " consumer's rate. The bare kafka-python consumer spends about 90 % of its time checking record CRCs"
        " in Python; the ingester's own work per event (decoding, typing, GX, Parquet) costs about as much"
        " CPU again, and its landing thread shares one interpreter lock with the consumer thread. A landing"
        " process beside the consumer (crash-safe offsets across two processes) is the next step."
    ),
    "dashboards": (
        "**Dashboards.** Not measured in this run: `bench/dashboards.py` needs Superset up (`make up`)."
    ),
}


def render(results: dict[str, Document]) -> list[str]:
    """The goals table (markdown lines), each goal judged on the results that exist."""
    unmet: set[str] = set()
    lines = [
        "## Goals at national scale",
        "",
        "| what | baseline in the same run | figure | goal | met |",
        "|---|---|---|---|---|",
    ]
    for goal in GOALS:
        document = results.get(goal.benchmark)
        picked = [c for c in (document or {}).get("comparisons", []) if goal.picks(c)]
        if document is None or not picked:
            figure, met = f"not measured (`bench/{goal.benchmark}.py`)", None
        else:
            figure, met = goal.judge(document, picked)
        verdict = "—" if met is None else "yes" if met else "**no**"
        lines.append(f"| {goal.what} | {goal.baseline} | {figure} | {goal.goal} | {verdict} |")
        if met is False or (document is None and goal.benchmark in WHY_NOT):
            unmet.add(goal.benchmark)
    lines.append("")
    for benchmark, why in WHY_NOT.items():
        if benchmark in unmet:
            lines += [*textwrap.wrap(why, width=105), ""]
    return lines
