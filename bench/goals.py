"""The goals of the national-scale work, checked against the benchmarks' results of the same runs.

Each goal names the benchmark and the comparison that measures it and how it is judged: the ratio
against the baseline of the same run, a 95th percentile of the measured times, or a peak of memory. A
goal whose benchmark has not run (or whose comparison is missing) says so instead of passing.
`bench/report.py` puts this table at the top of docs/performance.md and prints it after `make bench`.
"""

from __future__ import annotations

import math
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
)


def render(results: dict[str, Document]) -> list[str]:
    """The goals table (markdown lines), each goal judged on the results that exist."""
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
    return [*lines, ""]
