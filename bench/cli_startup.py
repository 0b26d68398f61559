"""How long the command line takes to answer, as a ratio against starting Python itself in the same run.

*How much longer than `python -c pass` does a monitorlink command take to answer?* Each path is a fresh
process, as a user starts it:
- measured: `monitorlink --help`, `monitorlink status --help`, `monitorlink status` and
  `monitorlink alerts list` (on a platform with an empty lake, so the figure is start-up and imports,
  not reading data), and the imports alone (`python -c "import monitorlink.cli.main"`);
- baseline: `python -c pass` with the same interpreter, no monitorlink code.
Warm-up round, then `--repeats` rounds, alternating.

Writes `bench/results/cli_startup.json` (not committed) and regenerates docs/performance.md.
Usage: python bench/cli_startup.py [--repeats N] [--warmup N]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import figures  # noqa: E402

SCRIPT = str(Path(sys.executable).with_name("monitorlink"))
COMMANDS = {
    "help": [SCRIPT, "--help"],
    "status_help": [SCRIPT, "status", "--help"],
    "status": [SCRIPT, "status"],
    "alerts_list": [SCRIPT, "alerts", "list"],
    "import_cli": [sys.executable, "-c", "import monitorlink.cli.main"],
    "python_pass": [sys.executable, "-c", "pass"],
}
LABELS = {
    "help": "`monitorlink --help`",
    "status_help": "`monitorlink status --help`",
    "status": "`monitorlink status` (empty lake)",
    "alerts_list": "`monitorlink alerts list` (no alerts)",
    "import_cli": "importing `monitorlink.cli.main`",
}


def process(command: Sequence[str], environment: dict[str, str]) -> float:
    """Seconds from starting the process to its exit; a failing command fails the benchmark."""
    started = time.perf_counter()
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} exited {completed.returncode}: {completed.stdout}{completed.stderr}"
        )
    return took


def _runner(command: Sequence[str], environment: dict[str, str]) -> figures.Sample:
    """One command as a path of the benchmark."""
    return lambda: process(command, environment)


def main() -> int:
    args = figures.argument_parser(__doc__).parse_args()
    home = Path(tempfile.mkdtemp(prefix="monitorlink-bench-cli-"))
    (home / "lake").mkdir()
    environment = {**os.environ, "MONITORLINK_HOME": str(home), "COLUMNS": "120"}
    try:
        paths = {name: _runner(command, environment) for name, command in COMMANDS.items()}
        samples = figures.interleave(paths, args.repeats, args.warmup)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    comparisons = [
        figures.compare(
            samples,
            name,
            "python_pass",
            question="How much longer than starting Python does a monitorlink command take to answer?",
            measured_label=label,
            baseline_label="`python -c pass`",
            meaning="what monitorlink adds, in a fresh process, to a bare interpreter's start.",
        )
        for name, label in LABELS.items()
    ]
    title = "Start-up of the command line"
    figures.print_comparisons(title, comparisons)
    out = figures.save_results("cli_startup", title, comparisons, repeats=args.repeats, warmup=args.warmup)
    print(f"written to {out.relative_to(ROOT)} and docs/performance.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
