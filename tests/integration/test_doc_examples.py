"""Every example of README.md and docs/*.md runs, or resolves, against a platform `make run` built.

Examples are written for a user in the repository after `make run`: paths like
`var/warehouse/monitorlink.duckdb` are relative to the repository root, `.venv/bin/…` is the project's
environment. They run here in a *checkout*: a temporary folder holding a symlink to every top-level entry
of the repository except `var`, and a `var` that links to the home of this session's simulated run
(tests/integration/conftest.py). MONITORLINK_HOME points there too, so code that reads the settings and
paths written in the example find the same platform, and nothing writes into the repository's own var/.

How each block and command line is classified is in tests/doc_examples.py; tests/test_docs.py fails on
anything unclassified without needing a platform. One test per block, named `<file>:<line>`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitorlink.core.config import PROJECT_ROOT
from tests.doc_examples import (
    SHELL_LANGUAGES,
    TEXT_LANGUAGES,
    Block,
    Command,
    Kind,
    blocks,
    commands,
    fill_placeholders,
    help_argv,
    missing_make_targets,
    options_missing_from_help,
    parse_problem,
    skip_reason,
)
from tests.integration.conftest import UNSET, SimulatedRun

pytestmark = pytest.mark.integration

#: The blocks this test runs; `text` and `yaml` blocks are checked by tests/test_docs.py.
EXAMPLES = [block for block in blocks() if block.language not in TEXT_LANGUAGES | {"yaml"}]
TIMEOUT_S = 600
#: Help and errors without colours or narrow wrapping, whatever the command line library.
PLAIN = {"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}


@dataclass(frozen=True)
class Checkout:
    """A folder that looks like the repository after `make run`, and the environment to run in it."""

    root: Path
    environment: dict[str, str]
    placeholders: dict[str, str]


def _environment(values: dict[str, str]) -> dict[str, str]:
    """This process's environment without any MONITORLINK_* setting of its own, plus `values`."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("MONITORLINK_")}
    path = f"{PROJECT_ROOT / '.venv' / 'bin'}{os.pathsep}{kept.get('PATH', '')}"
    return {**kept, "PATH": path, **PLAIN, **values}


def _quarantined_batch(home: Path) -> str:
    """A batch the quality gate quarantined in the simulated run (the simulator always injects some)."""
    log = home / "lake" / "raw" / "tmsd" / "deliveries.jsonl"
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    return str(next(line["batch_id"] for line in lines if line["outcome"] == "quarantined"))


@pytest.fixture(scope="module")
def checkout(simulated_run: SimulatedRun, tmp_path_factory: pytest.TempPathFactory) -> Checkout:
    root = tmp_path_factory.mktemp("checkout")
    for entry in PROJECT_ROOT.iterdir():
        if entry.name not in {"var", ".git"}:
            (root / entry.name).symlink_to(entry)
    home = simulated_run.settings.home
    (root / "var").symlink_to(home, target_is_directory=True)
    values = {name: value for name, value in simulated_run.environment.items() if name not in UNSET}
    return Checkout(root, _environment(values), {"<batch>": _quarantined_batch(home)})


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr)[-3000:]


def _execute(argv: list[str], cwd: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one example's process without input, capturing its output, within the time limit."""
    return subprocess.run(
        argv,
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def _run_command(command: Command, checkout: Checkout) -> str | None:
    """Run a command line with bash in the checkout; a failure's description, or None."""
    text = fill_placeholders(command.text, checkout.placeholders)
    result = _execute(["bash", "-c", text], checkout.root, checkout.environment)
    if result.returncode == 0:
        return None
    return f"{command.where}: `{text}` exited {result.returncode}:\n{_output(result)}"


def _resolve(command: Command) -> str | None:
    """`<command> --help` must exit 0 and its help name every option the example uses."""
    result = _execute(help_argv(command), PROJECT_ROOT, _environment({}))
    if result.returncode != 0:
        shown = " ".join(help_argv(command))
        return f"{command.where}: `{shown}` exited {result.returncode}:\n{_output(result)}"
    problem = parse_problem(command)
    if problem:
        return f"{command.where}: {problem}"
    missing = options_missing_from_help(command, result.stdout)
    if missing:
        return f"{command.where}: the help of `{' '.join(command.words[:3])}` has no {', '.join(missing)}"
    return None


def _run_python(block: Block, checkout: Checkout, scripts: Path) -> str | None:
    """Run a python block as a script in the checkout; a failure's description, or None."""
    # Named after the page and padded so that a traceback's line numbers are the page's.
    script = scripts / f"{block.file.replace('/', '_')}.py"
    script.write_text("\n" * (block.line - 1) + block.text + "\n", encoding="utf-8")
    result = _execute(
        [str(checkout.root / ".venv" / "bin" / "python"), str(script)], checkout.root, checkout.environment
    )
    if result.returncode == 0:
        return None
    return f"{block.id}: the example exited {result.returncode}:\n{_output(result)}"


@pytest.mark.parametrize("block", EXAMPLES, ids=lambda block: block.id)
def test_the_example_runs(block: Block, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if block.language == "python":
        reason = skip_reason(block.file, block.text)
        if reason is not None:
            pytest.skip(reason)
        failure = _run_python(block, request.getfixturevalue("checkout"), tmp_path)
        assert failure is None, failure
        return
    assert block.language in SHELL_LANGUAGES, f"{block.id}: a ```{block.language} block is not classified"
    failures, skipped, checked = [], [], 0
    for command in commands(block):
        if command.kind is None:
            failures.append(f"{command.where}: not classified: {command.why}")
            continue
        if command.kind is Kind.SKIP or (command.kind is Kind.DUCKDB and shutil.which("duckdb") is None):
            skipped.append(f"{command.where}: {command.why}")
            continue
        checked += 1
        if command.kind is Kind.MAKE:
            missing = missing_make_targets(command)
            failure = f"{command.where}: no Makefile target {', '.join(missing)}" if missing else None
        elif command.kind is Kind.RESOLVE:
            failure = _resolve(command)
        else:  # Kind.RUN, Kind.DUCKDB
            failure = _run_command(command, request.getfixturevalue("checkout"))
        if failure is not None:
            failures.append(failure)
    assert not failures, "\n\n".join(failures)
    if not checked and skipped:
        pytest.skip("; ".join(skipped))
