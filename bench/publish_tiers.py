"""What disclosure control and the tier files cost, as a ratio against a plain DuckDB copy in the same run.

*How much more than copying the built warehouse does publishing it with disclosure control cost?*
Built once, untimed: `dbt build` (models, data and unit tests) of simulated Twente 2019–2025 (every TMSD,
chain and education delivery; availability and CBS left empty, so no broker or server is needed).
- measured: what `monitorlink.warehouse.build` adds to every build since issue 11 — the publish gate's
  scan of the published schema (`warehouse.disclosure`), then writing the analysts' and the published
  file from the build (tables copied fresh, views materialised, descriptions as comments);
- baseline: plain DuckDB copying the same built file into a new one (`COPY FROM DATABASE`), no
  monitorlink code.
Warm-up round, then `--repeats` rounds, alternating; the files written are removed between rounds.

Writes `bench/results/publish_tiers.json` (not committed) and regenerates docs/performance.md.
Usage: python bench/publish_tiers.py [--repeats N] [--warmup N]
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MONITORLINK_DEV_MODE", "1")

from bench import figures  # noqa: E402


def plain_copy(source: Path, target: Path) -> float:
    """The baseline: DuckDB copying every schema, table and view of `source` into a new file."""
    target.unlink(missing_ok=True)
    started = time.perf_counter()
    with duckdb.connect() as connection:
        connection.execute(f"attach '{source}' as src (read_only)")
        connection.execute(f"attach '{target}' as dst")
        connection.execute("copy from database src to dst")
        connection.execute("detach dst")
    return time.perf_counter() - started


def main() -> int:
    args = figures.argument_parser(__doc__).parse_args()

    home = Path(tempfile.mkdtemp(prefix="monitorlink-bench-tiers-"))
    os.environ["MONITORLINK_HOME"] = str(home)
    # Imported only now: settings read the environment set above.
    from monitorlink.core.config import load_settings
    from monitorlink.core.pseudonym import pseudonym_key
    from monitorlink.ingest.landing import land
    from monitorlink.simulator import simulate
    from monitorlink.warehouse import build as warehouse
    from monitorlink.warehouse import disclosure

    try:
        print("simulating, landing and building (untimed) …", file=sys.stderr, flush=True)
        simulation = simulate(home / "simulation", pseudonym_key())
        os.environ["MONITORLINK_LANDING_ROOT"] = str(simulation.landing)
        settings = load_settings()
        for source in ("tmsd", "chain", "education"):
            land(settings, source)
        build_file = home / "warehouse" / ".build" / "bench.duckdb"
        build_file.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        completed = warehouse.run_dbt(settings, ["build"], build_file, "target")
        assert completed.returncode == 0, completed.stdout[-2000:]
        warehouse._checkpoint(build_file)
        dbt_build_s = time.perf_counter() - started
        manifest = disclosure.manifest_path(settings.home)
        written: list[Path] = []

        def publish_steps() -> None:
            warehouse._disclosure_gate(settings, build_file, manifest)
            documented = disclosure.descriptions(manifest)
            written.append(
                warehouse._tier_copy(build_file, "analysts", lambda s: s != "restricted", documented)
            )
            written.append(
                warehouse._tier_copy(build_file, "published", lambda s: s == "published", documented)
            )

        copy = build_file.with_name("plain-copy.duckdb")

        def fresh(_: int) -> None:
            for path in [*written, copy]:
                path.unlink(missing_ok=True)
            written.clear()

        samples = figures.interleave(
            {
                "publish_steps": figures.timed(publish_steps),
                "duckdb_copy": lambda: plain_copy(build_file, copy),
            },
            args.repeats,
            args.warmup,
            prepare=fresh,
        )
        sizes = {path.name: path.stat().st_size for path in (build_file, *written, copy)}
    finally:
        shutil.rmtree(home, ignore_errors=True)

    comparisons = [
        figures.compare(
            samples,
            "publish_steps",
            "duckdb_copy",
            question="How much more than copying the built warehouse does publishing it with disclosure "
            "control cost?",
            measured_label="disclosure gate + analysts' file + published file",
            baseline_label="DuckDB `COPY FROM DATABASE` of the built file",
            meaning="the gate's scan and writing the two tier files ÷ one plain DuckDB copy of the whole "
            "built warehouse (which copies views as definitions; the tier files materialise them).",
        )
    ]
    publish_s = comparisons[0].measured_s.median
    title = "Publishing the tier files with disclosure control (simulated Twente 2019–2025)"
    figures.print_comparisons(title, comparisons)
    mib = {name: round(size / 1024**2, 1) for name, size in sizes.items()}
    out = figures.save_results(
        "publish_tiers",
        title,
        comparisons,
        repeats=args.repeats,
        warmup=args.warmup,
        parameters={
            "file sizes (MiB)": ", ".join(f"{name} {size}" for name, size in mib.items()),
        },
        notes=[
            f"For scale, not a figure: the one `dbt build` the rounds started from took {dbt_build_s:.1f} s "
            f"(one sample), so the publish steps ({publish_s:.2f} s median) add about "
            f"{100 * publish_s / dbt_build_s:.0f} % to a build."
        ],
    )
    print(f"written to {out.relative_to(ROOT)} and docs/performance.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
