"""Landing rate of the file deliveries, as ratios against a baseline measured in the same run.

Baseline: reading every simulated TMSD file and splitting it with `csv.reader` — the least any reader of
these files must do. Measured: `DeliveryProcessor` landing the same files (decode, header mapping, BSN
check, typing, GX per chunk, Parquet, delivery log) with chunk sizes 1 and the default 50, so the cost of
GX per run shows. Also the process's peak resident memory after each step.

Run with `make bench`; writes `bench/results/delivery_rate.json` (not committed) and prints a table.
Usage: python bench/delivery_rate.py [--files N]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MONITORLINK_DEV_MODE", "1")

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.figures import save_figures  # noqa: E402
from connectors import tmsd  # noqa: E402
from monitorlink.core.lake import Lake  # noqa: E402
from monitorlink.core.pseudonym import pseudonym_key  # noqa: E402
from monitorlink.ingest.deliveries import DeliveryProcessor  # noqa: E402
from monitorlink.simulator import simulate  # noqa: E402


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _baseline(files: list[Path]) -> tuple[int, float]:
    started, rows = time.perf_counter(), 0
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        rows += sum(1 for _ in csv.reader(io.StringIO(text), delimiter=";")) - 1
    return rows, time.perf_counter() - started


def _land(files: list[Path], chunk: int, lake_root: Path) -> tuple[int, float]:
    processor = DeliveryProcessor(Lake(lake_root), tmsd, chunk_size=chunk)
    started = time.perf_counter()
    outcomes = processor.process((p.name, p.read_bytes(), str(p)) for p in files)
    return sum(sum(o.rows.values()) for o in outcomes), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100, help="TMSD files to land (default 100)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        simulation = simulate(work / "simulation", pseudonym_key())
        files = sorted((simulation.landing / "tmsd").glob("*.csv"))[: args.files]
        results: list[dict[str, Any]] = []
        rows, seconds = _baseline(files)
        results.append(
            {"step": "csv.reader baseline", "rows": rows, "seconds": seconds, "peak_mib": _peak_mib()}
        )
        for chunk in (1, 50):
            rows, seconds = _land(files, chunk, work / f"lake-{chunk}")
            results.append(
                {"step": f"land, chunk {chunk}", "rows": rows, "seconds": seconds, "peak_mib": _peak_mib()}
            )
    base = results[0]["rows"] / results[0]["seconds"]
    table = Table(title=f"TMSD deliveries landed ({len(files)} files)")
    for column in ("step", "rows", "rows/s", "× baseline", "peak RSS (MiB)"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for result in results:
        rate = result["rows"] / result["seconds"]
        result["ratio"] = rate / base
        table.add_row(
            result["step"],
            str(result["rows"]),
            f"{rate:,.0f}",
            f"{result['ratio']:.3f}",
            f"{result['peak_mib']:.0f}",
        )
    Console().print(table)
    save_figures("delivery_rate", results)


if __name__ == "__main__":
    main()
