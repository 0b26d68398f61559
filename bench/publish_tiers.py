"""What disclosure control and the three warehouse files cost, as ratios against the same run's dbt build.

Baseline: `dbt build` (models, data and unit tests) of simulated Twente 2019–2025 (every TMSD, chain and
education delivery; availability and CBS left empty, so no broker or server is needed) into a new file.
Measured on that build: the publish gate's scan of the published schema (`warehouse.disclosure`), and
writing the analysts' and the published file from it (tables copied fresh, descriptions as comments) —
what `monitorlink.warehouse.build.build` adds to every build since issue 11.

Run with `make bench`; writes `bench/results/publish_tiers.json` (not committed) and prints a table.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MONITORLINK_DEV_MODE", "1")

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.figures import save_figures  # noqa: E402


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="monitorlink-bench-tiers-"))
    os.environ["MONITORLINK_HOME"] = str(home)
    from monitorlink.core.config import load_settings
    from monitorlink.core.pseudonym import pseudonym_key
    from monitorlink.ingest.landing import land_folder
    from monitorlink.simulator import simulate
    from monitorlink.warehouse import build as warehouse
    from monitorlink.warehouse import disclosure

    simulation = simulate(home / "simulation", pseudonym_key())
    os.environ["MONITORLINK_LANDING_ROOT"] = str(simulation.landing)
    settings = load_settings()
    try:
        for source in ("tmsd", "chain", "education"):
            land_folder(settings, source)
        build_file = home / "warehouse" / ".build" / "bench.duckdb"
        build_file.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        completed = warehouse.run_dbt(settings, ["build"], build_file, "target")
        assert completed.returncode == 0, completed.stdout[-2000:]
        warehouse._checkpoint(build_file)
        built = time.perf_counter()
        manifest = disclosure.manifest_path(settings.home)
        warehouse._disclosure_gate(settings, build_file, manifest)
        scanned = time.perf_counter()
        analysts = warehouse._tier_copy(build_file, "analysts", lambda s: s != "restricted", manifest)
        copied_analysts = time.perf_counter()
        published = warehouse._tier_copy(build_file, "published", lambda s: s == "published", manifest)
        copied_published = time.perf_counter()
        sizes = {path.name: path.stat().st_size for path in (build_file, analysts, published)}
    finally:
        shutil.rmtree(home, ignore_errors=True)

    steps = {
        "dbt build (baseline)": built - started,
        "disclosure gate: scan the published schema": scanned - built,
        "write the analysts' file": copied_analysts - scanned,
        "write the published file": copied_published - copied_analysts,
    }
    table = Table(title="Publishing three files, against the dbt build of the same run")
    for column in ("step", "seconds", "× dbt build"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for step, seconds in steps.items():
        table.add_row(step, f"{seconds:.2f}", f"{seconds / steps['dbt build (baseline)']:.3f}")
    Console().print(table)
    save_figures("publish_tiers", {"seconds": steps, "bytes": sizes})


if __name__ == "__main__":
    main()
