"""What every benchmark shares: warm-up and interleaved repeats, summaries, machine facts, results JSON.

A figure is always a ratio against a baseline measured in the same run: the machine has 2 cores and other
work runs beside a benchmark, so absolute times drift. `interleave` runs one warm-up round (discarded) and
then N rounds of every path in turn (measured, baseline, measured, baseline, …), so a change in load hits
both; `compare` reports the median and min–max of each path and the median of the per-round ratios.

A ratio is always *measured time / baseline time* for the same work in the same round: 3.0 means the
measured path took three times as long as its baseline, 0.5 half as long.

Repeats: `--repeats N` or `BENCH_REPEATS` (default 5); warm-up rounds: `--warmup N` or `BENCH_WARMUP`
(default 1). Results go to `bench/results/<name>.json` (generated, not committed: see .gitignore), and
`bench/report.py` turns all of them into `docs/performance.md` (each benchmark runs it when it is done).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_REPEATS = 5
DEFAULT_WARMUP = 1

#: One run of a path: does the work once and returns the seconds it took (the path may leave its own
#: set-up out of the figure, e.g. a consumer that must be created first).
Sample = Callable[[], float]


def argument_parser(description: str | None) -> argparse.ArgumentParser:
    """A benchmark's command line, with `--repeats` and `--warmup` already on it."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=description, formatter_class=raw)
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--repeats` and `--warmup`, defaulting to BENCH_REPEATS / BENCH_WARMUP, then 5 and 1."""
    parser.add_argument(
        "--repeats",
        type=int,
        default=int(os.environ.get("BENCH_REPEATS", DEFAULT_REPEATS)),
        help=f"measured rounds after the warm-up (env BENCH_REPEATS, default {DEFAULT_REPEATS})",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=int(os.environ.get("BENCH_WARMUP", DEFAULT_WARMUP)),
        help=f"warm-up rounds, not reported (env BENCH_WARMUP, default {DEFAULT_WARMUP})",
    )


def free_port() -> int:
    """A loopback port nobody listens on right now (for an embedded broker)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def timed(action: Callable[[], object]) -> Sample:
    """A path whose whole call is the figure."""

    def sample() -> float:
        started = time.perf_counter()
        action()
        return time.perf_counter() - started

    return sample


def interleave(
    paths: Mapping[str, Sample],
    repeats: int,
    warmup: int = DEFAULT_WARMUP,
    prepare: Callable[[int], None] | None = None,
) -> dict[str, list[float]]:
    """Warm-up rounds, then `repeats` rounds of every path in turn; the seconds of each measured round.

    `prepare(round)` runs before each round, untimed (round < 0 for warm-ups): fresh topics, folders, …
    """
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for number in range(-warmup, repeats):
        if prepare is not None:
            prepare(number)
        took = {name: path() for name, path in paths.items()}
        label = "warm-up" if number < 0 else f"round {number + 1}/{repeats}"
        print(
            f"  {label}: " + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in took.items()),
            file=sys.stderr,
            flush=True,
        )
        if number >= 0:
            for name, seconds in took.items():
                samples[name].append(seconds)
    return samples


@dataclass(frozen=True)
class Summary:
    """Median and spread of a set of samples (seconds, or a ratio)."""

    median: float
    min: float
    max: float
    q1: float
    q3: float
    n: int
    samples: list[float]

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        ordered = sorted(values)
        if len(ordered) >= 2:
            q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            q1 = q3 = ordered[0]
        return cls(statistics.median(ordered), ordered[0], ordered[-1], q1, q3, len(ordered), list(values))


@dataclass(frozen=True)
class Comparison:
    """One figure: a measured path against its baseline, in the same rounds."""

    name: str
    question: str
    measured: str
    baseline: str
    meaning: str
    measured_s: Summary
    baseline_s: Summary
    ratio: Summary
    #: the work each round did (e.g. 5,000 events), so rates can be shown: work / median seconds
    work: float | None = None
    work_unit: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def compare(
    samples: Mapping[str, Sequence[float]],
    measured: str,
    baseline: str,
    *,
    question: str,
    meaning: str,
    measured_label: str | None = None,
    baseline_label: str | None = None,
    work: float | None = None,
    work_unit: str | None = None,
    details: dict[str, Any] | None = None,
) -> Comparison:
    """The figure of `measured` against `baseline`: per-round ratios, then their median and spread."""
    ratios = [m / b for m, b in zip(samples[measured], samples[baseline], strict=True) if b > 0]
    return Comparison(
        name=measured,
        question=question,
        measured=measured_label or measured,
        baseline=baseline_label or baseline,
        meaning=meaning,
        measured_s=Summary.of(samples[measured]),
        baseline_s=Summary.of(samples[baseline]),
        ratio=Summary.of(ratios),
        work=work,
        work_unit=work_unit,
        details=details or {},
    )


def machine() -> dict[str, Any]:
    """What the figures were measured on (ratios travel between machines better than times)."""
    facts: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpu_model": platform.processor() or platform.machine(),
        "ram_gib": None,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                facts["cpu_model"] = line.split(":", 1)[1].strip()
                break
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                facts["ram_gib"] = round(int(line.split()[1]) / 1024**2, 1)
    for package in ("duckdb", "pyarrow", "dbt-core", "kafka-python"):
        facts[package] = _version(package)
    return facts


def _version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def peak_rss_added_mib(action: Callable[[], object], timeout_s: float = 600.0) -> float | None:
    """Peak resident memory `action` adds, in MiB: run once in a forked child (Linux; None elsewhere).

    The child resets its peak (`/proc/self/clear_refs`), runs the action and reports its peak resident
    set minus the resident set it started with, so every path starts from the same state and no memory
    kept by an earlier path (allocators rarely give it back) hides or inflates a figure.
    """
    if not hasattr(os, "fork") or not Path("/proc/self/clear_refs").exists():
        return None
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        os.close(read_end)
        code = 1
        try:
            Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
            start = _status_kib("VmRSS")
            action()
            os.write(write_end, str(_status_kib("VmHWM") - start).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(child, 9)
        os.waitpid(child, 0)
        os.close(read_end)
        return None
    with os.fdopen(read_end, "rb") as pipe:
        reported = pipe.read().decode()
    if os.waitstatus_to_exitcode(status) != 0 or not reported:
        return None
    return round(int(reported) / 1024, 1)


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise KeyError(key)


def save_results(
    name: str,
    title: str,
    comparisons: Sequence[Comparison],
    *,
    repeats: int,
    warmup: int,
    parameters: Mapping[str, Any] | None = None,
    memory_mib: Mapping[str, float | None] | None = None,
    notes: Sequence[str] = (),
    regenerate_docs: bool = True,
) -> Path:
    """Write `bench/results/<name>.json` and regenerate docs/performance.md from every result there."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "title": title,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "repeats": repeats,
        "warmup": warmup,
        "parameters": dict(parameters or {}),
        "comparisons": [asdict(comparison) for comparison in comparisons],
        "memory_mib": dict(memory_mib or {}),
        "notes": list(notes),
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    if regenerate_docs:
        from bench import report

        report.write()
    return path


def print_comparisons(title: str, comparisons: Sequence[Comparison]) -> None:
    """One table: per figure the ratio median [min–max] and the absolute medians."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ("measured", "baseline", "ratio median [min–max]", "measured s", "baseline s", "n"):
        table.add_column(column, justify="left" if column in ("measured", "baseline") else "right")
    for c in comparisons:
        table.add_row(
            c.measured,
            c.baseline,
            f"{c.ratio.median:.2f} [{c.ratio.min:.2f}–{c.ratio.max:.2f}]",
            f"{c.measured_s.median:.3f}",
            f"{c.baseline_s.median:.3f}",
            str(c.ratio.n),
        )
    console = Console(width=140)
    console.print(table)
    for c in comparisons:
        console.print(f"- {c.measured}: {c.meaning}")
