"""Landing rate of the file deliveries, as ratios against baselines measured in the same run.

*How much slower than just loading the same files into Parquet is landing them with the gate?*
Measured: `DeliveryProcessor` landing simulated TMSD files (decode, header mapping, BSN check, typing, GX
per chunk of deliveries, Parquet, delivery log) with the configured chunk size (default 50). Baselines,
neither running monitorlink code (each file's encoding is found beforehand, untimed):
- plain pyarrow: `pyarrow.csv.read_csv` of each file (types inferred) and `parquet.write_table` per file —
  the least any reader of these files must do;
- DuckDB: `read_csv` of all files at once (`union_by_name`, one call per encoding) copied to Parquet —
  what loading the landing folder with DuckDB would cost.
Also the peak memory each path adds (one run each in a forked child).

Writes `bench/results/delivery_rate.json` (not committed) and regenerates docs/performance.md.
Usage: python bench/delivery_rate.py [--files N] [--chunk N] [--repeats N] [--warmup N]
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MONITORLINK_DEV_MODE", "1")

from bench import figures  # noqa: E402
from connectors import tmsd  # noqa: E402
from monitorlink.core.config import load_settings  # noqa: E402
from monitorlink.core.lake import Lake  # noqa: E402
from monitorlink.core.pseudonym import pseudonym_key  # noqa: E402
from monitorlink.ingest.deliveries import DeliveryProcessor  # noqa: E402
from monitorlink.simulator import simulate  # noqa: E402


def encodings(files: list[Path]) -> dict[Path, str]:
    """Each file's encoding (UTF-8, else Latin-1), found before any timing: the baselines are told it."""
    found = {}
    for path in files:
        try:
            path.read_bytes().decode("utf-8")
            found[path] = "utf-8"
        except UnicodeDecodeError:
            found[path] = "latin-1"
    return found


# --- baselines: plain pyarrow and DuckDB, nothing of monitorlink ---------------------------------------


def pyarrow_load(files: dict[Path, str], out: Path) -> int:
    """Read each file with pyarrow's CSV reader and write it to Parquet; returns the rows."""
    out.mkdir(parents=True, exist_ok=True)
    rows = 0
    for path, encoding in files.items():
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding),
            parse_options=pacsv.ParseOptions(delimiter=";"),
        )
        pq.write_table(table, out / f"{path.stem}.parquet")
        rows += table.num_rows
    return rows


def duckdb_load(files: dict[Path, str], out: Path) -> int:
    """DuckDB's `read_csv` of all files (one call per encoding) copied to Parquet; returns the rows."""
    out.mkdir(parents=True, exist_ok=True)
    rows = 0
    with duckdb.connect() as connection:
        for encoding in sorted(set(files.values())):
            group = [str(path) for path, used in files.items() if used == encoding]
            target = out / f"{encoding}.parquet"
            connection.execute(
                f"copy (select * from read_csv($files, delim=';', header=true, union_by_name=true, "
                f"encoding='{encoding}')) to '{target}' (format parquet)",
                {"files": group},
            )
            (count,) = connection.execute(f"select count(*) from '{target}'").fetchone() or (0,)
            rows += int(count)
    return rows


def main() -> int:
    parser = figures.argument_parser(__doc__)
    parser.add_argument("--files", type=int, default=100, help="TMSD files to land (default 100)")
    parser.add_argument(
        "--chunk", type=int, default=None, help="deliveries per GX run (default MONITORLINK_DELIVERY_CHUNK)"
    )
    args = parser.parse_args()
    chunk = args.chunk or load_settings().delivery_chunk

    with tempfile.TemporaryDirectory(prefix="monitorlink-bench-delivery-") as folder:
        work = Path(folder)
        print("simulating the deliveries (untimed) …", file=sys.stderr, flush=True)
        simulation = simulate(work / "simulation", pseudonym_key())
        files = sorted((simulation.landing / "tmsd").glob("*.csv"))[: args.files]
        encoded = encodings(files)
        rows: dict[str, int] = {}
        scratch = work / "round"

        def land() -> None:
            processor = DeliveryProcessor(Lake(scratch / "lake"), tmsd, chunk_size=chunk)
            outcomes = processor.process((p.name, p.read_bytes(), str(p)) for p in files)
            rows["land"] = sum(sum(o.rows.values()) for o in outcomes)

        def with_pyarrow() -> None:
            rows["pyarrow"] = pyarrow_load(encoded, scratch / "pyarrow")

        def with_duckdb() -> None:
            rows["duckdb"] = duckdb_load(encoded, scratch / "duckdb")

        def fresh(_: int) -> None:
            shutil.rmtree(scratch, ignore_errors=True)

        memory = {}
        for name, action in (("landing", land), ("pyarrow", with_pyarrow), ("DuckDB", with_duckdb)):
            fresh(0)
            memory[name] = figures.peak_rss_added_mib(action)
        samples = figures.interleave(
            {
                "land": figures.timed(land),
                "pyarrow_load": figures.timed(with_pyarrow),
                "duckdb_load": figures.timed(with_duckdb),
            },
            args.repeats,
            args.warmup,
            prepare=fresh,
        )
    if len(set(rows.values())) != 1:
        print(f"warning: the paths read different row counts: {rows}", file=sys.stderr)
    question = "How much slower than just loading the same files into Parquet is landing them with the gate?"
    landed = f"landing, GX per {chunk} deliveries"
    comparisons = [
        figures.compare(
            samples,
            "land",
            "pyarrow_load",
            question=question,
            measured_label=landed,
            baseline_label="plain pyarrow: read_csv + write_table per file",
            meaning="landing (decode, header mapping, BSN check, typing, GX, Parquet, delivery log) ÷ the "
            "least any reader must do: parse each file and write it to Parquet.",
            work=rows["land"],
            work_unit="rows",
        ),
        figures.compare(
            samples,
            "land",
            "duckdb_load",
            question=question,
            measured_label=landed,
            baseline_label="DuckDB read_csv (all files, union_by_name) → Parquet",
            meaning="landing ÷ loading the landing folder with DuckDB instead (below 1: landing is faster).",
            work=rows["land"],
            work_unit="rows",
        ),
    ]
    title = f"TMSD file deliveries ({len(files)} simulated files, {rows['land']:,} rows)"
    figures.print_comparisons(title, comparisons)
    out = figures.save_results(
        "delivery_rate",
        title,
        comparisons,
        repeats=args.repeats,
        warmup=args.warmup,
        parameters={"files": len(files), "rows": rows["land"], "chunk": chunk},
        memory_mib=memory,
        notes=[
            "DuckDB sniffs every file's dialect and types (`union_by_name` reads all headers first), which "
            "costs more per small file than pyarrow's reader; pyarrow is the floor."
        ],
    )
    print(f"written to {out.relative_to(ROOT)} and docs/performance.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
