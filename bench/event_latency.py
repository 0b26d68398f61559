"""Latency of the event-driven path, as ratios against a full warehouse build measured in the same run.

Baseline: a full `dbt build` and publish of a small simulated Twente (one municipality's TMSD files, CBS
and availability). Measured, each from the moment a new TMSD file is in the landing folder: landing and
announcing it (`watch_once`), Airflow's own Kafka trigger handing over its batch event, and the selective
rebuild (`source:tmsd+`) with publish — the same steps the `warehouse` DAG runs under `make up`, minus
Airflow's scheduling (about 2 s there) and the watcher's polling interval.

Needs nothing running: it starts an embedded broker on a free port and stops it again.
Run with `make bench`; writes `bench/results/event_latency.json` (not committed) and prints a table.
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
from tests.conftest import free_port  # noqa: E402
from tests.trigger_runs import first_trigger_event  # noqa: E402


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="monitorlink-bench-latency-"))
    os.environ.update(
        {
            "MONITORLINK_HOME": str(home),
            "MONITORLINK_BROKER_PORT": str(free_port()),
            "MONITORLINK_ALERT_NOTIFIERS": "log",
        }
    )
    from monitorlink.core.config import load_settings
    from monitorlink.core.pseudonym import pseudonym_key
    from monitorlink.ops import broker, transform
    from monitorlink.ops.orchestration import batch_connections
    from monitorlink.ops.watch import watch_once
    from monitorlink.simulator import simulate

    settings = load_settings()
    os.environ.update(batch_connections(settings))
    simulation = simulate(home / "simulation", pseudonym_key())
    files = sorted((simulation.landing / "tmsd").glob("tmsd_jeugd_GM0183_*_v1.csv"))
    (settings.landing_root / "tmsd").mkdir(parents=True)
    for path in files[:-1]:
        shutil.copy(path, settings.landing_root / "tmsd" / path.name)
    broker.require(settings)
    try:
        watch_once(settings)
        started = time.perf_counter()
        full = transform.rebuild(settings, [])
        full_s = time.perf_counter() - started

        dropped = time.perf_counter()
        shutil.copy(files[-1], settings.landing_root / "tmsd" / files[-1].name)
        watch_once(settings)
        announced = time.perf_counter()
        payload = first_trigger_event("tmsd", timeout_s=300)
        triggered = time.perf_counter()
        selective = transform.rebuild(settings, transform.changed_sources([payload]))
        published = time.perf_counter()
    finally:
        broker.stop(settings)
        shutil.rmtree(home, ignore_errors=True)

    steps = {
        "full build + publish (baseline)": full_s,
        "land + announce the new file": announced - dropped,
        "batch event through Airflow's Kafka trigger": triggered - announced,
        f"selective build ({selective.selected}) + publish": published - triggered,
        "file in landing folder → published warehouse": published - dropped,
    }
    table = Table(
        title=f"Event-driven latency ({len(files)} TMSD files; full build {full.nodes_passed} nodes)"
    )
    for column in ("step", "seconds", "× full build"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for step, seconds in steps.items():
        table.add_row(step, f"{seconds:.1f}", f"{seconds / full_s:.2f}")
    Console().print(table)
    report = {
        "seconds": steps,
        "full_build_nodes": full.nodes_passed,
        "selective_nodes": selective.nodes_passed,
    }
    save_figures("event_latency", report)


if __name__ == "__main__":
    main()
