"""What each process loads at start-up: readers of the lake, the alerting and Airflow's triggerer stay cheap.

Airflow's triggerer runs `ops.triggers.landed_batch_of` for every message on the batch topic, and `status`,
`alerts` and the connectors are imported by short-lived commands: none of them may pull in Great
Expectations, pandas or dbt (seconds each), which only validating and building need. Each module is
imported in a fresh interpreter, so what another test imported earlier cannot hide a heavy import.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


#: What the command line may not load before a command runs: `monitorlink --help` answers at once.
CLI_HEAVY = (*HEAVY, "pyarrow", "kafka", "httpx", "duckdb", "numpy")
CLI_COMMAND_PROBE = """
import sys
from monitorlink.cli.main import main
main(sys.argv[3:])
heavy = sys.argv[2].split(",")
print("loaded:" + ",".join(sorted({name.split(".")[0] for name in sys.modules} & set(heavy))))
"""


def _cli_loads(arguments: list[str], home: str) -> str:
    """The heavy libraries a CLI invocation loaded, in a fresh interpreter (its output goes first)."""
    result = subprocess.run(
        [sys.executable, "-c", CLI_COMMAND_PROBE, "-", ",".join(CLI_HEAVY), *arguments],
        capture_output=True,
        text=True,
        check=True,
        env={"MONITORLINK_HOME": home, "PATH": "/usr/bin:/bin"},
    )
    return result.stdout.rsplit("loaded:", 1)[1].strip()


@pytest.mark.parametrize(
    "arguments", [["--help"], ["--version"], ["run", "--help"], ["status", "--help"], ["alerts", "list"]]
)
def test_the_command_line_answers_without_heavy_libraries(arguments: list[str], tmp_path: Path) -> None:
    (tmp_path / "lake").mkdir()
    loaded = _cli_loads(arguments, str(tmp_path))
    assert loaded == "", f"monitorlink {' '.join(arguments)} loads {loaded}"


def test_the_command_line_probe_sees_a_heavy_import(tmp_path: Path) -> None:
    """The check above can fail: `status` reads Parquet footers, so it loads pyarrow."""
    (tmp_path / "lake").mkdir()
    assert "pyarrow" in _cli_loads(["status"], str(tmp_path))
