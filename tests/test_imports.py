"""What each process loads at start-up: readers of the lake, the alerting and Airflow's triggerer stay cheap.

Airflow's triggerer runs `ops.triggers.landed_batch_of` for every message on the batch topic, and `status`,
`alerts` and the connectors are imported by short-lived commands: none of them may pull in Great
Expectations, pandas or dbt (seconds each), which only validating and building need. Each module is
imported in a fresh interpreter, so what another test imported earlier cannot hide a heavy import.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("great_expectations", "pandas", "dbt")
CHEAP_MODULES = (
    "monitorlink.ops.triggers",
    "monitorlink.ops.status",
    "monitorlink.ops.alerts",
    "monitorlink.ingest.events",
    "monitorlink.ingest.sources",
    "monitorlink.ingest.delivery_log",
    "monitorlink.core.rules",
    "connectors.tmsd",
    "connectors.chain",
    "connectors.education",
    "connectors.cbs",
    "connectors.availability",
)
PROBE = """
import importlib, sys
importlib.import_module(sys.argv[1])
heavy = sys.argv[2].split(",")
print(",".join(sorted({name.split(".")[0] for name in sys.modules} & set(heavy))))
"""


def _heavy_imports(module: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module, ",".join(HEAVY)], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.mark.parametrize("module", CHEAP_MODULES)
def test_module_loads_no_heavy_library(module: str) -> None:
    assert _heavy_imports(module) == "", f"importing {module} loads {_heavy_imports(module)}"


def test_the_probe_sees_a_heavy_import() -> None:
    """The check above can fail: a module that loads pandas is reported."""
    assert _heavy_imports("pandas") == "pandas"
