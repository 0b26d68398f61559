"""The README and docs name only what exists, and every setting the code reads is documented."""

from __future__ import annotations

import argparse
import re
import subprocess

from monitorlink.cli.main import parser
from monitorlink.core.config import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
DOCS = README + "".join(p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "docs").glob("*.md"))


def _code_text() -> str:
    folders = ("monitorlink", "connectors", "dags")
    return "".join(
        p.read_text(encoding="utf-8") for folder in folders for p in (PROJECT_ROOT / folder).rglob("*.py")
    )


def test_every_environment_variable_the_code_reads_is_in_the_readme_table_and_back() -> None:
    in_code = set(re.findall(r"MONITORLINK_[A-Z0-9_]+", _code_text())) - {"MONITORLINK_DBT_BUILD_PATH"}
    in_table = set(re.findall(r"^\| `(MONITORLINK_[A-Z0-9_]+)` \|", README, flags=re.MULTILINE))
    assert in_code == in_table


def test_every_monitorlink_command_in_the_docs_exists() -> None:
    actions = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    subcommands = set(actions[0].choices)
    mentioned = set(re.findall(r"`(?:\.venv/bin/)?monitorlink (?:-v )?([a-z][a-z-]+)", DOCS))
    mentioned |= set(re.findall(r"^\.venv/bin/monitorlink (?:-v )?([a-z][a-z-]+)", DOCS, flags=re.MULTILINE))
    assert {"run", "broker", "ingest", "pull-availability", "build"} <= mentioned
    assert mentioned <= subcommands


def test_every_make_target_in_the_docs_exists() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.MULTILINE))
    mentioned = set(re.findall(r"`make ([a-z-]+)", DOCS)) | set(
        re.findall(r"^make ([a-z-]+)", DOCS, re.MULTILINE)
    )
    assert {"run", "test", "up", "down"} <= mentioned <= targets


def test_every_table_in_the_readme_is_a_dbt_model() -> None:
    models = {p.stem for p in (PROJECT_ROOT / "dbt" / "models").rglob("*.sql")}
    listed = set(re.findall(r"^\| `((?:fct|dim)_[a-z_]+)` \|", README, flags=re.MULTILINE))
    assert listed and listed <= models


def _layout_paths() -> list[str]:
    section = README.split("## Layout\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)/` \|", section, flags=re.MULTILINE)


def test_the_readme_layout_table_matches_the_tree() -> None:
    """Every folder the table names exists, and every top-level folder and package layer is in it."""
    listed = set(_layout_paths())
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    top = {path.split("/")[0] for path in tracked if "/" in path and not path.startswith(".")}
    layers = {
        "/".join(path.split("/")[:2])
        for path in tracked
        if path.startswith("monitorlink/") and path.count("/") >= 2
    }
    assert listed, "no layout table found in the README"
    assert sorted(path for path in listed if not (PROJECT_ROOT / path).is_dir()) == []
    assert sorted((top - {"monitorlink"}) - listed) == []
    assert sorted(layers - listed) == []
