"""What the lake on object storage costs, as ratios against baselines measured in the same run.

*How much slower is landing file deliveries into a lake on S3-compatible object storage
(`MONITORLINK_LAKE_URI=s3://…`) than into the embedded default, a local lake folder?* The lake's code is
the same on both (`monitorlink.core.lake`, `monitorlink.core.journal`), but object storage has no rename
and no append: every file is one PUT, every manifest and delivery-log record an object of its own, and
reading a journal lists its objects. Measured, in the same rounds (figures.interleave), each into a
fresh lake:

- local: `DeliveryProcessor` landing simulated TMSD files into a local lake folder (temporary name, fsync,
  rename; journals appended to `.jsonl` files) — the embedded default;
- S3: the same processor and files into a lake on S3 (`Lake(lake_location("s3://bucket/round-N"))`),
  served by moto's S3 server on 127.0.0.1, started by this benchmark (`tests.real_services.s3_server`);
- plain pyarrow: `read_csv` + `write_table` per file (`bench/delivery_rate.py`'s baseline, imported), the
  least any reader of these files must do, to place the local lake against the floor.

moto is a local stand-in, not a production object store: it is a Python server on the same machine
(its CPU time is taken from the lander's), reached over loopback (no network round trip), and its
cost per request differs from MinIO's or AWS's. So the S3 ÷ local ratio says what the object-store code
path costs here, not what a remote bucket would; the requests per delivery (counted from moto's request
log, by kind) are what carries over: on a real store each is a round trip.

Writes `bench/results/object_store.json` (not committed) and regenerates docs/performance.md.
Usage: python bench/object_store.py [--files N] [--periods 2024Q1:2025Q4] [--chunk N] [--repeats N]
       [--warmup N]
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MONITORLINK_DEV_MODE", "1")

from bench import figures  # noqa: E402
from bench.delivery_rate import encodings, pyarrow_load  # noqa: E402
from connectors import tmsd  # noqa: E402
from monitorlink.core.config import load_settings  # noqa: E402
from monitorlink.core.lake import Lake  # noqa: E402
from monitorlink.core.object_store import S3Endpoint, lake_location  # noqa: E402
from monitorlink.core.pseudonym import pseudonym_key  # noqa: E402
from monitorlink.ingest.deliveries import DeliveryProcessor  # noqa: E402
from monitorlink.simulator import Scale, simulate  # noqa: E402
from tests.real_services import s3_server  # noqa: E402

if TYPE_CHECKING:
    from monitorlink.core.object_store import LakePath

#: Defaults that keep the whole run (simulation, moto, warm-up and 3 rounds) well under 3 minutes.
DEFAULT_FILES = 40
DEFAULT_PERIODS = "2024Q1:2025Q4"
DEFAULT_REPEATS = 3
#: A request line of moto's log (werkzeug): `"PUT /bucket/key HTTP/1.1" 200`.
REQUEST = re.compile(r'"(GET|PUT|HEAD|POST|DELETE) (\S+) HTTP/[\d.]+" (\d{3})')


class RequestLog:
    """The requests moto served, read from its log: how many of each kind since the last `take`."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.offset = folder, 0

    def _lines(self) -> list[str]:
        logs = sorted(self.folder.glob("moto-*.log"))
        return logs[0].read_text(encoding="utf-8", errors="replace").splitlines() if logs else []

    def skip(self) -> None:
        """Forget what is in the log so far (the requests of set-up and clean-up)."""
        self.offset = len(self._lines())

    def take(self) -> Counter[str]:
        """The requests since the last `skip` or `take`, by kind: LIST, GET, HEAD, PUT, DELETE, …"""
        lines = self._lines()
        kinds: Counter[str] = Counter()
        for line in lines[self.offset :]:
            found = REQUEST.search(line)
            if found:
                method, target = found.group(1), found.group(2)
                kinds["LIST" if method == "GET" and "list-type=" in target else method] += 1
        self.offset = len(lines)
        return kinds


def main() -> int:
    parser = figures.argument_parser(__doc__)
    parser.set_defaults(repeats=int(os.environ.get("BENCH_REPEATS", DEFAULT_REPEATS)))
    parser.add_argument(
        "--files", type=int, default=DEFAULT_FILES, help=f"TMSD files to land (default {DEFAULT_FILES})"
    )
    parser.add_argument(
        "--periods", default=DEFAULT_PERIODS, help=f"quarters to simulate (default {DEFAULT_PERIODS})"
    )
    parser.add_argument(
        "--chunk", type=int, default=None, help="deliveries per GX run (default MONITORLINK_DELIVERY_CHUNK)"
    )
    args = parser.parse_args()
    chunk = args.chunk or load_settings().delivery_chunk
    first, _, last = args.periods.partition(":")

    with tempfile.TemporaryDirectory(prefix="monitorlink-bench-object-store-") as folder:
        work = Path(folder)
        print(f"simulating Twente {args.periods} (untimed) …", file=sys.stderr, flush=True)
        scale = Scale(first_period=first, last_period=last or first)
        simulation = simulate(work / "simulation", pseudonym_key(), scale=scale)
        files = sorted((simulation.landing / "tmsd").glob("*.csv"))[: args.files]
        encoded = encodings(files)
        rows: dict[str, int] = {}
        scratch = work / "round"
        print("starting moto's S3 server on 127.0.0.1 (a local stand-in for MinIO/AWS) …", file=sys.stderr)
        with s3_server(work / "s3", bucket="monitorlink-bench") as server:
            os.environ.update(server.environment())  # read by S3Endpoint (s3fs) and DuckDB's secret
            endpoint = S3Endpoint.from_environment()
            requests = RequestLog(work / "s3")
            per_round: list[Counter[str]] = []
            s3_lake: list[LakePath] = []

            def land(root: LakePath, path: str) -> None:
                processor = DeliveryProcessor(Lake(root), tmsd, chunk_size=chunk)
                outcomes = processor.process((p.name, p.read_bytes(), str(p)) for p in files)
                rows[path] = sum(sum(o.rows.values()) for o in outcomes)

            def land_s3() -> float:
                requests.skip()
                seconds = figures.timed(lambda: land(s3_lake[-1], "s3"))()
                per_round.append(requests.take())
                return seconds

            def with_pyarrow() -> None:
                rows["pyarrow"] = pyarrow_load(encoded, scratch / "pyarrow")

            def fresh(number: int) -> None:
                """A new local folder and a new prefix; the last round's objects deleted (moto lists a
                bucket by going through all of its keys, so leftovers would slow later rounds)."""
                shutil.rmtree(scratch, ignore_errors=True)
                if s3_lake:
                    s3_lake[-1].fs.rm(s3_lake[-1].path, recursive=True)  # type: ignore[union-attr]
                s3_lake.append(lake_location(f"s3://{server.bucket}/round{number + 1}", endpoint))

            samples = figures.interleave(
                {
                    "local": figures.timed(lambda: land(scratch / "lake", "local")),
                    "s3": land_s3,
                    "pyarrow": figures.timed(with_pyarrow),
                },
                args.repeats,
                args.warmup,
                prepare=fresh,
            )
    if rows["local"] != rows["s3"]:
        print(f"warning: the two lakes landed different row counts: {rows}", file=sys.stderr)
    skipped = (
        [
            f"plain pyarrow parses every file ({rows['pyarrow']:,} rows); landing ignores a file whose bytes "
            f"were landed already (a re-sent delivery), so it lands {rows['local']:,}."
        ]
        if rows["pyarrow"] != rows["local"]
        else []
    )
    measured_requests = per_round[args.warmup :]
    requests_per_delivery = {
        kind: round(sum(c[kind] for c in measured_requests) / (len(measured_requests) * len(files)), 2)
        for kind in sorted({k for c in measured_requests for k in c})
    }
    per_delivery = {
        path: round(figures.Summary.of(seconds).median / len(files), 4) for path, seconds in samples.items()
    }
    question = "What does the lake on object storage cost, against the embedded local lake folder?"
    local_label = "landing, local lake folder (embedded default)"
    comparisons = [
        figures.compare(
            samples,
            "s3",
            "local",
            question=question,
            measured_label="landing, lake on S3 (moto on 127.0.0.1)",
            baseline_label=local_label,
            meaning="the same DeliveryProcessor into a lake on object storage (one PUT per file, one object "
            "per journal record, journals read by listing) ÷ into a local folder (fsync and rename, "
            "appended .jsonl); moto is a local stand-in, a remote store adds a round trip per request.",
            details={"seconds_per_delivery": per_delivery, "requests_per_delivery": requests_per_delivery},
            work=len(files),
            work_unit="deliveries",
        ),
        figures.compare(
            samples,
            "local",
            "pyarrow",
            question=question,
            measured_label=local_label,
            baseline_label="plain pyarrow: read_csv + write_table per file",
            meaning="landing into the local lake (decode, header mapping, BSN check, typing, GX, Parquet, "
            "raw zone, delivery log) ÷ the least any reader must do: parse each file, write it to Parquet.",
            work=len(files),
            work_unit="deliveries",
        ),
    ]
    title = f"The lake on object storage ({len(files)} simulated TMSD deliveries, {rows['local']:,} rows)"
    figures.print_comparisons(title, comparisons)
    seconds_line = ", ".join(f"{path} {seconds * 1000:,.0f} ms" for path, seconds in per_delivery.items())
    requests_line = ", ".join(f"{kind} {count:g}" for kind, count in requests_per_delivery.items())
    print(f"seconds per delivery (median): {seconds_line}")
    print(f"S3 requests per delivery (moto's log): {requests_line}")
    out = figures.save_results(
        "object_store",
        title,
        comparisons,
        repeats=args.repeats,
        warmup=args.warmup,
        parameters={
            "files": len(files),
            "rows": rows["local"],
            "periods": args.periods,
            "chunk": chunk,
        },
        notes=[
            f"Per delivery (median round ÷ deliveries): {seconds_line}.",
            f"S3 requests per delivery (counted in moto's request log, measured rounds): {requests_line}. "
            "LIST is a listing of a journal's objects (the raw manifest, read on before each delivery); "
            "on a remote store each request is a network round trip that moto on loopback does not pay.",
            "moto is a local stand-in for MinIO or AWS: a Python server on the same machine, sharing its "
            f"{os.cpu_count()} CPUs with the lander, so its cost per request is not a production store's. "
            "The ratio is the object-store code path's cost here, not a forecast for a remote bucket.",
            *skipped,
        ],
    )
    print(f"written to {out.relative_to(ROOT)} and docs/performance.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
