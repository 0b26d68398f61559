"""Landing the whole history of the file feeds, against what a data engineer would use instead.

*How does checked landing (parse, pseudonyms, quality gate, Parquet, delivery log) compare with loading the
same files with dlt or DuckDB, which check nothing?* All paths read the same TMSD csv, chain json and
education xlsx files, in the same rounds (figures.interleave), each into a fresh folder:

- measured: `monitorlink.ingest.landing.land` for tmsd, chain and education — the code path of
  `monitorlink land` and the DAGs (decode, header mapping, BSN pseudonyms, typing, Great Expectations per
  chunk of deliveries, Parquet, raw zone, delivery log);
- without the gate: the same processor with `quality_gate=False` (a benchmark-only switch no command or
  setting reaches), so the gate's share of landing time is measured, not guessed;
- dlt row-wise: a `@dlt.resource` per feed yielding dicts — `csv.DictReader`, `json.load`, openpyxl rows —
  into DuckDB, the way dlt's getting-started pages write it; no checks;
- dlt Arrow: the same resources yielding pyarrow tables (`pyarrow.csv.read_csv` per file, `from_pylist`
  per json document and per sheet);
- floor: DuckDB alone into a DuckDB file: `read_csv` (union_by_name, one call per encoding and delimiter)
  and `read_json` (unnest of `records`); workbooks through openpyxl → Arrow → DuckDB, because DuckDB's
  excel extension is not available offline here.

Each file's encoding, delimiter and each sheet's header row are found before any timing and told to the
baselines, so they are not charged for what monitorlink detects. dlt runs offline and quietly: telemetry
off (RUNTIME__DLTHUB_TELEMETRY=false) and its pipelines folder in the round's temporary folder.

Goals (issue 17): checked landing ≤ 0.2× the time of dlt row-wise, ≤ 1.0× dlt's Arrow path, the gate's
share of landing time ≤ 25 %; the distance to the DuckDB floor is reported.

Writes `bench/results/national_landing.json` (not committed) and regenerates docs/performance.md.
Usage: python bench/national_landing.py [--simulation DIR | --scale nl] [--files N] [--chunk N]
       [--repeats N] [--warmup N] [--memory] [--no-docs]
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("MONITORLINK_DEV_MODE", "1")
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
# Files differ in their columns (a renamed or re-spelled header): let dlt merge Arrow schemas losslessly.
os.environ.setdefault("DATA_WRITER__ARROW_CONCAT_PROMOTE_OPTIONS", "default")

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import figures  # noqa: E402
from connectors import chain, education, tmsd  # noqa: E402
from monitorlink.core.config import load_settings  # noqa: E402
from monitorlink.core.lake import Lake  # noqa: E402
from monitorlink.ingest.deliveries import DeliveryProcessor  # noqa: E402
from monitorlink.ingest.landing import land  # noqa: E402

FEEDS = {"tmsd": tmsd, "chain": chain, "education": education}
SUFFIXES = {"tmsd": ".csv", "chain": ".json", "education": ".xlsx"}
#: Sheets of an education workbook and a header each must contain (how a user finds the header row).
SHEETS = {"leerlingen": "Peildatum", "verzuim": "Aantal leerlingen", "arrangementen": "Startdatum"}


@dataclasses.dataclass(frozen=True)
class CsvFile:
    """A TMSD file and how to read it (found before timing, told to every baseline)."""

    path: Path
    encoding: str
    delimiter: str
    header: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Workbook:
    """An education workbook and, per sheet, the row index of its header (before timing)."""

    path: Path
    headers: dict[str, int]


@dataclasses.dataclass(frozen=True)
class Inputs:
    """The files of one benchmark, per feed, and what the baselines are told about them."""

    landing: Path
    csvs: list[CsvFile]
    jsons: list[Path]
    workbooks: list[Workbook]

    @property
    def files(self) -> int:
        return len(self.csvs) + len(self.jsons) + len(self.workbooks)


# --- inputs ------------------------------------------------------------------------------------------


def simulation_landing(args: Any, work: Path) -> Path:
    """The landing folder to read: `--simulation DIR` (its `landing/` or itself), else a fresh simulation
    by the command line (`--scale` passed through when `monitorlink simulate` has it)."""
    if args.simulation:
        folder = Path(args.simulation)
        return folder / "landing" if (folder / "landing").is_dir() else folder
    command = [str(ROOT / ".venv" / "bin" / "monitorlink"), "simulate", "--out", str(work / "simulation")]
    if args.scale:
        helptext = subprocess.run([*command[:2], "--help"], capture_output=True, text=True).stdout
        if "--scale" not in helptext:
            raise SystemExit("this monitorlink simulate has no --scale yet; pass --simulation DIR")
        command += ["--scale", args.scale]
    print(f"simulating (untimed): {' '.join(command[1:])}", file=sys.stderr, flush=True)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return work / "simulation" / "landing"


def select_inputs(landing: Path, limit: int | None, work: Path) -> Inputs:
    """The first `limit` files of each feed (name order keeps versions in order), linked into a landing
    folder of their own, with what the baselines are told about each."""
    own = work / "landing"
    chosen: dict[str, list[Path]] = {}
    for feed, suffix in SUFFIXES.items():
        files = sorted(p for p in (landing / feed).glob(f"*{suffix}") if not p.name.startswith("."))
        chosen[feed] = files[:limit] if limit else files
        (own / feed).mkdir(parents=True, exist_ok=True)
        for path in chosen[feed]:
            (own / feed / path.name).symlink_to(path.resolve())
    csvs = [CsvFile(p, *_csv_dialect(p)) for p in chosen["tmsd"]]
    workbooks = [Workbook(p, _header_rows(p)) for p in chosen["education"]]
    return Inputs(own, csvs, chosen["chain"], workbooks)


def _csv_dialect(path: Path) -> tuple[str, str, tuple[str, ...]]:
    """UTF-8 else cp1252, the delimiter most frequent in the header line, and the header's names."""
    content = path.read_bytes()
    try:
        text, encoding = content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = content.decode("cp1252", "replace"), "cp1252"
    header = text.split("\n", 1)[0].strip("\r\ufeff")
    delimiter = max(";,\t", key=header.count)
    return encoding, delimiter, tuple(header.split(delimiter))


def _header_rows(path: Path) -> dict[str, int]:
    """Per sheet, the index of the first row holding the sheet's known header."""
    from openpyxl import load_workbook

    found = {}
    workbook = load_workbook(path, read_only=True, data_only=True)
    for sheet, marker in SHEETS.items():
        if sheet not in workbook.sheetnames:
            continue
        for index, row in enumerate(workbook[sheet].iter_rows(values_only=True, max_row=20)):
            if any(isinstance(cell, str) and cell.strip() == marker for cell in row):
                found[sheet] = index
                break
    workbook.close()
    return found


# --- readers the baselines share (plain Python, openpyxl, pyarrow; nothing of monitorlink) -----------


def csv_dicts(item: CsvFile) -> Iterator[dict[str, str]]:
    """A csv file's rows as dicts, as `csv.DictReader` gives them."""
    with item.path.open(encoding=item.encoding, newline="") as handle:
        yield from csv.DictReader(handle, delimiter=item.delimiter)


def json_records(path: Path) -> list[dict[str, Any]]:
    """The `records` of one chain document."""
    document = json.loads(path.read_bytes())
    return list(document.get("records", []))


def sheet_dicts(item: Workbook) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Per sheet, the rows under its header row until the first empty or totals row, as dicts."""
    from openpyxl import load_workbook

    workbook = load_workbook(item.path, read_only=True, data_only=True)
    for sheet, start in item.headers.items():
        rows = workbook[sheet].iter_rows(values_only=True, min_row=start + 1)
        header = [str(cell) if cell is not None else f"column_{i}" for i, cell in enumerate(next(rows))]
        records = []
        for row in rows:
            first = row[0] if row else None
            if first is None or (isinstance(first, str) and first.lower().startswith("totaal")):
                break
            records.append(dict(zip(header, row, strict=False)))
        yield sheet, records
    workbook.close()


def arrow_of(records: list[dict[str, Any]]) -> pa.Table:
    """Rows as an Arrow table of text columns: inferred types differ between files (a '.' among
    numbers, a date written two ways) and dlt cannot merge such tables into one column."""
    return pa.Table.from_pylist(
        [{k: None if v is None else str(v) for k, v in row.items()} for row in records]
    )


def csv_arrow(item: CsvFile) -> pa.Table:
    """A csv file through pyarrow's reader, every column as text (for the reason in `arrow_of`)."""
    return pacsv.read_csv(
        item.path,
        read_options=pacsv.ReadOptions(encoding=item.encoding),
        parse_options=pacsv.ParseOptions(delimiter=item.delimiter),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(item.header, pa.string())),
    )


# --- the paths ---------------------------------------------------------------------------------------


def checked_landing(inputs: Inputs, lake: Path, chunk: int) -> int:
    """monitorlink's own landing of every file feed; returns the rows landed (both zones)."""
    settings = dataclasses.replace(
        load_settings(), landing_root=inputs.landing, lake_root=lake, delivery_chunk=chunk
    )
    return sum(sum(o.rows.values()) for feed in FEEDS for o in land(settings, feed))


def landing_without_gate(inputs: Inputs, lake: Path, chunk: int) -> int:
    """The same processor and files with the quality gate switched off (benchmark only)."""
    rows = 0
    for feed, connector in FEEDS.items():
        files = sorted((inputs.landing / feed).iterdir())
        processor = DeliveryProcessor(Lake(lake), connector, chunk, quality_gate=False)
        outcomes = processor.process((p.name, p.read_bytes(), str(p)) for p in files)
        rows += sum(sum(o.rows.values()) for o in outcomes)
    return rows


def dlt_load(inputs: Inputs, folder: Path, arrow: bool) -> int:
    """dlt into DuckDB, no checks: dicts per row, or Arrow tables per file; returns the rows loaded."""
    import dlt

    @dlt.resource(name="tmsd", write_disposition="append")
    def tmsd_rows() -> Iterator[Any]:
        for item in inputs.csvs:
            if arrow:
                yield csv_arrow(item)
            else:
                yield from csv_dicts(item)

    @dlt.resource(name="chain", write_disposition="append")
    def chain_rows() -> Iterator[Any]:
        for path in inputs.jsons:
            records = json_records(path)
            yield arrow_of(records) if arrow else records

    def sheet_resource(sheet: str) -> Any:
        @dlt.resource(name=f"education_{sheet}", write_disposition="append")
        def rows() -> Iterator[Any]:
            for item in inputs.workbooks:
                for name, records in sheet_dicts(item):
                    if name == sheet and records:
                        yield arrow_of(records) if arrow else records

        return rows

    pipeline = dlt.pipeline(
        pipeline_name="national_arrow" if arrow else "national_rows",
        destination=dlt.destinations.duckdb(str(folder / "dlt.duckdb")),
        dataset_name="landing",
        pipelines_dir=str(folder / "pipelines"),
    )
    pipeline.run([tmsd_rows(), chain_rows(), *(sheet_resource(sheet) for sheet in SHEETS)])
    counts = pipeline.last_trace.last_normalize_info.row_counts  # type: ignore[union-attr]
    return sum(count for table, count in counts.items() if not table.startswith("_dlt"))


def duckdb_floor(inputs: Inputs, folder: Path) -> int:
    """DuckDB alone into a DuckDB file; returns the rows loaded."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = 0
    with duckdb.connect(str(folder / "floor.duckdb")) as connection:
        groups: dict[tuple[str, str], list[str]] = {}
        for item in inputs.csvs:
            groups.setdefault((item.encoding, item.delimiter), []).append(str(item.path))
        for number, ((encoding, delimiter), files) in enumerate(sorted(groups.items())):
            codec = "latin-1" if encoding == "cp1252" else encoding
            connection.execute(
                f"create table tmsd_{number} as select * from read_csv($files, delim=$delim, header=true, "
                f"union_by_name=true, encoding='{codec}')",
                {"files": files, "delim": delimiter},
            )
            rows += _count(connection, f"tmsd_{number}")
        if inputs.jsons:
            connection.execute(
                "create table chain as select unnest(records, recursive := true) "
                "from read_json($files, union_by_name=true, maximum_object_size=268435456)",
                {"files": [str(p) for p in inputs.jsons]},
            )
            rows += _count(connection, "chain")
        sheets: dict[str, list[pa.Table]] = {}
        for workbook in inputs.workbooks:
            for sheet, records in sheet_dicts(workbook):
                if records:
                    sheets.setdefault(sheet, []).append(arrow_of(records))
        for sheet, tables in sheets.items():
            combined = pa.concat_tables(tables, promote_options="permissive")
            connection.register("incoming", combined)
            connection.execute(f"create table education_{sheet} as select * from incoming")
            connection.unregister("incoming")
            rows += combined.num_rows
    return rows


def _count(connection: duckdb.DuckDBPyConnection, table: str) -> int:
    (count,) = connection.execute(f"select count(*) from {table}").fetchone() or (0,)
    return int(count)


# --- the run -----------------------------------------------------------------------------------------


def main() -> int:
    parser = figures.argument_parser(__doc__)
    parser.add_argument("--simulation", help="an existing simulation folder (or its landing folder)")
    parser.add_argument("--scale", help="simulate at this scale (`monitorlink simulate --scale`), e.g. nl")
    parser.add_argument("--files", type=int, default=None, help="at most N files per feed (default all)")
    parser.add_argument(
        "--chunk", type=int, default=None, help="deliveries per GX run (default MONITORLINK_DELIVERY_CHUNK)"
    )
    parser.add_argument("--memory", action="store_true", help="also measure each path's peak memory")
    parser.add_argument(
        "--no-docs", action="store_true", help="write the results file only, not docs/performance.md"
    )
    args = parser.parse_args()
    chunk = args.chunk or load_settings().delivery_chunk

    with tempfile.TemporaryDirectory(prefix="monitorlink-bench-national-") as folder:
        work = Path(folder)
        inputs = select_inputs(simulation_landing(args, work), args.files, work)
        print(
            f"{len(inputs.csvs)} csv, {len(inputs.jsons)} json, {len(inputs.workbooks)} xlsx files",
            file=sys.stderr,
            flush=True,
        )
        scratch = work / "round"
        rows: dict[str, int] = {}
        actions: dict[str, Callable[[], None]] = {
            "checked": lambda: rows.__setitem__("checked", checked_landing(inputs, scratch / "lake", chunk)),
            "no_gate": lambda: rows.__setitem__(
                "no_gate", landing_without_gate(inputs, scratch / "lake-no-gate", chunk)
            ),
            "dlt_rows": lambda: rows.__setitem__("dlt_rows", dlt_load(inputs, scratch / "dlt-rows", False)),
            "dlt_arrow": lambda: rows.__setitem__("dlt_arrow", dlt_load(inputs, scratch / "dlt-arrow", True)),
            "duckdb_floor": lambda: rows.__setitem__("duckdb_floor", duckdb_floor(inputs, scratch / "floor")),
        }

        def fresh(_: int) -> None:
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)

        memory: dict[str, float | None] = {}
        if args.memory:
            for name, action in actions.items():
                fresh(0)
                memory[name] = figures.peak_rss_added_mib(action)
        samples = figures.interleave(
            {name: figures.timed(action) for name, action in actions.items()},
            args.repeats,
            args.warmup,
            prepare=fresh,
        )
        shutil.rmtree(scratch, ignore_errors=True)
    comparisons = compare(samples, rows["checked"])
    ratio = {c.baseline: c.ratio.median for c in comparisons}
    gate_share = 1 - 1 / ratio[GATE_BASELINE]
    notes = [
        *goals(ratio, gate_share),
        f"Rows each path loaded: {', '.join(f'{k} {v:,}' for k, v in rows.items())}. monitorlink counts "
        "the rows it landed in either zone and logs a re-delivered copy (same bytes, another name) without "
        "landing it again; dlt and DuckDB load every file, copies included.",
        "Workbooks in the floor: openpyxl → Arrow → DuckDB (DuckDB's excel extension is not available "
        "offline here), the same reader the dlt paths use.",
    ]
    title = (
        f"National landing of the file feeds ({len(inputs.csvs)} csv, {len(inputs.jsons)} json, "
        f"{len(inputs.workbooks)} xlsx files; {rows['checked']:,} rows)"
    )
    figures.print_comparisons(title, comparisons)
    for note in notes:
        print(f"- {note}")
    out = figures.save_results(
        "national_landing",
        title,
        comparisons,
        repeats=args.repeats,
        warmup=args.warmup,
        parameters={
            "files": inputs.files,
            "csv": len(inputs.csvs),
            "json": len(inputs.jsons),
            "xlsx": len(inputs.workbooks),
            "rows": rows["checked"],
            "chunk": chunk,
            "simulation": args.simulation or f"simulated here (scale {args.scale or 'default'})",
            "gate_share": round(gate_share, 3),
        },
        memory_mib=memory,
        notes=notes,
        regenerate_docs=not args.no_docs,
    )
    print(f"written to {out.relative_to(ROOT)}" + ("" if args.no_docs else " and docs/performance.md"))
    return 0


GATE_BASELINE = "the same landing without the quality gate (benchmark-only switch)"


def compare(samples: dict[str, list[float]], landed_rows: int) -> list[figures.Comparison]:
    """The four figures: checked landing against each baseline of the same rounds."""
    question = "How does checked landing compare with loading the same files unchecked with dlt or DuckDB?"
    checked = "checked landing: parse, pseudonyms, GX gate, Parquet, delivery log (`landing.land`)"
    shared: dict[str, Any] = {"question": question, "measured_label": checked, "work": landed_rows}
    return [
        figures.compare(
            samples,
            "checked",
            "dlt_rows",
            baseline_label="dlt row-wise: dicts from csv.DictReader / json.load / openpyxl → DuckDB",
            meaning="checked landing ÷ dlt loading the same files row by row without checks (goal ≤ 0.2).",
            work_unit="rows",
            details={"goal": 0.2},
            **shared,
        ),
        figures.compare(
            samples,
            "checked",
            "dlt_arrow",
            baseline_label="dlt Arrow path: pyarrow tables per file → DuckDB",
            meaning="checked landing ÷ dlt loading Arrow tables of the same files (goal ≤ 1.0).",
            work_unit="rows",
            details={"goal": 1.0},
            **shared,
        ),
        figures.compare(
            samples,
            "checked",
            "duckdb_floor",
            baseline_label="floor: DuckDB read_csv / read_json (+ openpyxl for xlsx) → DuckDB file",
            meaning="checked landing ÷ the least a loader does: DuckDB reading the files into its own file.",
            work_unit="rows",
            **shared,
        ),
        figures.compare(
            samples,
            "checked",
            "no_gate",
            baseline_label=GATE_BASELINE,
            meaning="checked landing ÷ landing without the gate; the gate's share is 1 − 1/ratio "
            "(goal: share ≤ 25 %, ratio ≤ 1.33).",
            work_unit="rows",
            details={"goal": 1 / 0.75},
            **shared,
        ),
    ]


def goals(ratio: dict[str, float], gate_share: float) -> list[str]:
    """The issue's goals, each with the figure and whether it is met."""

    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    rows_ratio = next(v for k, v in ratio.items() if k.startswith("dlt row-wise"))
    arrow_ratio = next(v for k, v in ratio.items() if k.startswith("dlt Arrow"))
    floor_ratio = next(v for k, v in ratio.items() if k.startswith("floor"))
    return [
        f"Goal ≥ 5× faster than dlt row-wise (ratio ≤ 0.20): {rows_ratio:.2f}, "
        f"{1 / rows_ratio:.1f}× faster — {verdict(rows_ratio <= 0.2)}.",
        f"Goal at least as fast as dlt's Arrow path (ratio ≤ 1.00): {arrow_ratio:.2f} — "
        f"{verdict(arrow_ratio <= 1.0)}.",
        f"Distance to the floor (DuckDB alone): checked landing takes {floor_ratio:.1f}× its time.",
        f"Goal quality gate ≤ 25 % of landing time: {gate_share:.0%} — {verdict(gate_share <= 0.25)}.",
    ]


if __name__ == "__main__":
    sys.exit(main())
