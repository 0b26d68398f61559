"""The warehouse at national size: a full `dbt build`, and one new delivery against it.

*What does a full build cost when every municipality of the country delivers, and what does one new
delivery (one municipality, one quarter) cost on the event path against that full build?*
- Prepared once, untimed: a national home (`monitorlink simulate --scale nl --volume V`, then
  `monitorlink run --simulated --skip availability`, which lands every file source and CBS and builds
  once), or an existing one (`--home var/nl` after `make run-nl`).
- Full build: `warehouse.build` — every seed, model and test into a new file, the disclosure gate, the
  three tiers and their atomic publish — in a fresh process, whose peak resident set (dbt's DuckDB
  included: the whole process tree) is read from `wait4`; also the rows in the analysts' warehouse.
- One new delivery: each round one municipality's newest quarter is re-delivered as the next version
  (`_v<n>`, every row as before plus one late-registered trajectory), landed, and the warehouse rebuilt as
  the event path does (`transform.rebuild` for tmsd: selective `dbt build` of what TMSD feeds into a copy
  of the current warehouse, gate, tiers, publish, alert checks). Baseline: the full build, same round.
Writes `bench/results/national_build.json` (not committed) and regenerates docs/performance.md.
Usage: python bench/national_build.py [--volume 0.1] [--home DIR] [--repeats N] [--warmup N]
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import figures  # noqa: E402
from monitorlink.core.config import load_settings  # noqa: E402

PEAK_GOAL_MIB = 2048


def main() -> int:
    parser = figures.argument_parser(__doc__)
    parser.add_argument("--volume", type=float, default=1.0, help="share of the inhabitants (default 1.0)")
    parser.add_argument("--home", type=Path, help="an already landed national home (e.g. var/nl)")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="monitorlink-national-"))
    os.environ.update({"MONITORLINK_HOME": str(home.resolve()), "MONITORLINK_DEV_MODE": "1"})
    os.environ.setdefault("MONITORLINK_ALERT_NOTIFIERS", "log")
    if args.home is None:
        _prepare(args.volume)
    volume = json.loads((home / "simulation" / "manifest.json").read_text(encoding="utf-8"))["scale"][
        "volume"
    ]
    peaks: list[float] = []
    rounds = {"next version": 2}

    def full() -> float:
        seconds, peak_kib = _in_fresh_process("full")
        peaks.append(peak_kib / 1024)
        return seconds

    def one_delivery() -> float:
        _redeliver(home, rounds["next version"])
        rounds["next version"] += 1
        return _in_fresh_process("one")[0]

    samples = figures.interleave(
        {"one new delivery": one_delivery, "full build": full}, args.repeats, args.warmup
    )
    rows, tables = _warehouse_rows()
    tmsd_rows = _lake_rows("tmsd")
    comparison = figures.compare(
        samples,
        "one new delivery",
        "full build",
        question="What does one new delivery cost against a full build, at national size?",
        meaning="the event path for one municipality-quarter ÷ rebuilding everything (goal: at most 0.15)",
        measured_label="one new TMSD delivery → published (land + selective rebuild + alert checks)",
        baseline_label="full `dbt build` → published (gate, three tiers)",
    )
    peak = max(peaks)
    notes = [
        f"National simulation at volume {volume}: {tmsd_rows:,} TMSD rows in the lake; the analysts'"
        f" warehouse holds {rows:,} rows in {tables} tables. Peak resident set of a full build (dbt"
        f" and DuckDB, the whole process tree): {peak:,.0f} MiB (goal: at most {PEAK_GOAL_MIB:,} MiB,"
        f" {'met' if peak <= PEAK_GOAL_MIB else 'not met'}).",
    ]
    figures.print_comparisons("national build", [comparison])
    print("\n".join(notes))
    figures.save_results(
        "national_build",
        "Warehouse at national size (342 municipalities)",
        [comparison],
        repeats=args.repeats,
        warmup=args.warmup,
        parameters={"volume": volume, "tmsd_rows": tmsd_rows, "warehouse_rows": rows},
        memory_mib={"full build (peak resident set)": round(peak, 1)},
        notes=notes,
    )
    return 0


def _prepare(volume: float) -> None:
    """Simulate the country and run every pipeline once (lands, builds); untimed."""
    from monitorlink.cli.main import main as cli

    sink = io.StringIO()
    with redirect_stdout(sink):
        code = cli(["simulate", "--scale", "nl", "--volume", str(volume)])
        code = code or cli(["run", "--simulated", "--skip", "availability"])
    if code != 0:
        raise SystemExit(f"preparing the national home failed (exit {code}):\n{sink.getvalue()[-3000:]}")


def _in_fresh_process(what: str) -> tuple[float, int]:
    """Run `_work(what)` in a new interpreter; its seconds and the peak resident set (KiB) of its tree."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, __file__, "--work", what], cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{what} failed (exit {process.returncode})")
    return seconds, usage.ru_maxrss


def _work(what: str) -> None:
    import dataclasses

    settings = load_settings()
    settings = dataclasses.replace(settings, landing_root=settings.home / "simulation" / "landing")
    if what == "full":
        from monitorlink.warehouse.build import build

        build(settings)
        return
    from monitorlink.ingest import landing
    from monitorlink.ops import transform

    landing.land(settings, "tmsd")
    transform.rebuild(settings, ["tmsd"])


def _redeliver(home: Path, version: int) -> None:
    """The next version of the newest delivered quarter of the first municipality (by file name)."""
    folder = home / "simulation" / "landing" / "tmsd"
    newest = max(p.name[: -len("_v1.csv")] for p in folder.glob("tmsd_jeugd_*_v1.csv"))
    first = min(p for p in folder.glob(f"tmsd_jeugd_*{newest[-6:]}_v1.csv"))
    text = first.read_bytes().decode("utf-8")
    lines = text.splitlines(keepends=True)
    row = next(csv.reader([lines[1]], delimiter=";"))
    row[7] = row[7][:2] + "Z" + row[7][3:]  # another product of the same youth, registered late
    late = io.StringIO()
    csv.writer(late, delimiter=";", lineterminator="\r\n").writerow(row)
    target = first.with_name(first.name.replace("_v1.csv", f"_v{version}.csv"))
    target.write_bytes((text + late.getvalue()).encode("utf-8"))


def _warehouse_rows() -> tuple[int, int]:
    """Rows and tables of the analysts' warehouse."""
    import duckdb

    settings = load_settings()
    with duckdb.connect(str(settings.analysts_warehouse_path), read_only=True) as db:
        tables = db.sql(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall()
        total = 0
        for schema, table in tables:
            count = db.sql(f'select count(*) from "{schema}"."{table}"').fetchone()
            total += int(count[0]) if count else 0
    return total, len(tables)


def _lake_rows(source: str) -> int:
    """Rows of a source in the validated zone (Parquet footers)."""
    import pyarrow.parquet as pq

    settings = load_settings()
    files = (settings.lake_root / "validated" / source).glob("ingest_date=*/*.parquet")
    return sum(pq.ParquetFile(path).metadata.num_rows for path in files)


def _entry() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--work":
        _work(sys.argv[2])
        return 0
    return main()


if __name__ == "__main__":
    sys.exit(_entry())
