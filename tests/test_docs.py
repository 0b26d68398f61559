"""The README and docs name only what exists, and every setting the code reads is documented.

The fenced examples are classified here (tests/doc_examples.py), without a platform; they are run in
tests/integration/test_doc_examples.py.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
from pathlib import Path

import pytest

from monitorlink.cli import output as cli_output
from monitorlink.cli.main import main
from monitorlink.core.config import PROJECT_ROOT
from tests.doc_examples import (
    DOC_FILES,
    KNOWN_LANGUAGES,
    SHELL_LANGUAGES,
    SKIPS,
    Command,
    blocks,
    commands,
    missing_make_targets,
    parse_problem,
    yaml_entries_not_in_the_repository,
)

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
DOCS = README + "".join(p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "docs").glob("*.md"))


def _code_text() -> str:
    folders = ("monitorlink", "connectors", "dags")
    python = "".join(
        p.read_text(encoding="utf-8") for folder in folders for p in (PROJECT_ROOT / folder).rglob("*.py")
    )
    return python + (PROJECT_ROOT / "dbt" / "profiles.yml").read_text(encoding="utf-8")  # dbt reads some


def test_every_environment_variable_the_code_reads_is_in_the_readme_table_and_back() -> None:
    # set by `monitorlink.warehouse.build` for dbt's profile on every run, never by a user
    internal = {"MONITORLINK_DBT_BUILD_PATH", "MONITORLINK_DUCKDB_EXTENSION_DIRECTORY"}
    internal.add("MONITORLINK_SUPERSET_DUCKLAKE_SQL")  # set by `superset_service` for superset_config.py
    internal |= {f"MONITORLINK_S3_{name}" for name in ("ENDPOINT", "URL_STYLE", "USE_SSL", "REGION")}
    in_code = set(re.findall(r"MONITORLINK_[A-Z0-9_]+", _code_text())) - internal
    in_table = set(re.findall(r"^\| `(MONITORLINK_[A-Z0-9_]+)` \|", README, flags=re.MULTILINE))
    assert in_code == in_table


def _help_exit_code(argv: list[str]) -> int:
    """What `monitorlink <argv>` exits with; its help and errors are swallowed."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            return main(argv)
        except SystemExit as leaving:  # help and usage errors end the parse with SystemExit
            return leaving.code if isinstance(leaving.code, int) else 1


def test_every_monitorlink_command_in_the_docs_exists() -> None:
    mentioned = set(re.findall(r"`(?:\.venv/bin/)?monitorlink (?:-v )?([a-z][a-z-]+)", DOCS))
    mentioned |= set(re.findall(r"^\.venv/bin/monitorlink (?:-v )?([a-z][a-z-]+)", DOCS, flags=re.MULTILINE))
    assert {"run", "broker", "ingest", "pull-availability", "build"} <= mentioned
    unknown = sorted(command for command in mentioned if _help_exit_code([command, "--help"]) != 0)
    assert unknown == [], f"`monitorlink <command> --help` fails for {unknown}"


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


def _pages_named(text: str) -> set[str]:
    """The `.md` files a page names: in links, and in code spans."""
    return set(re.findall(r"\]\(([\w./-]+\.md)(?:#[\w-]*)?\)", text)) | set(
        re.findall(r"`([\w./-]+\.md)`", text)
    )


@pytest.mark.parametrize("page", DOC_FILES, ids=lambda page: page.relative_to(PROJECT_ROOT).as_posix())
def test_the_docs_name_only_pages_a_user_of_the_repository_has(page: Path) -> None:
    """A page named by path must exist (relative to the page or the repository root); one named without
    a folder must be a tracked file somewhere. Notes that live outside the repository are no reference."""
    tracked = subprocess.run(
        ["git", "ls-files", "*.md"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    names = {path.rsplit("/", 1)[-1] for path in tracked}
    missing = sorted(
        named
        for named in _pages_named(page.read_text(encoding="utf-8"))
        if not (
            (page.parent / named).exists()
            or (PROJECT_ROOT / named).exists()
            or ("/" not in named and named in names)
        )
    )
    assert missing == []


def test_every_fenced_block_has_a_language_the_docs_test_knows() -> None:
    unknown = [
        f"{block.id}: ```{block.language}" for block in blocks() if block.language not in KNOWN_LANGUAGES
    ]
    assert unknown == [], "give each block a language: python, bash, console, yaml or text"


def test_every_command_line_of_the_docs_is_classified() -> None:
    """Each line of a shell block is run, resolved or checked by the integration test: nothing slips by."""
    unclassified = [
        f"{command.where}: {command.why}"
        for block in blocks()
        if block.language in SHELL_LANGUAGES
        for command in commands(block)
        if command.kind is None
    ]
    assert unclassified == []


def test_every_make_target_of_the_examples_exists() -> None:
    missing = [
        f"{command.where}: {', '.join(missing_make_targets(command))}"
        for block in blocks()
        if block.language in SHELL_LANGUAGES
        for command in commands(block)
        if command.words[:1] == ["make"] and missing_make_targets(command)
    ]
    assert missing == []


def test_every_monitorlink_line_of_the_examples_parses() -> None:
    """Options, subcommands and typed values as the command line parses them (`--help` would hide them)."""
    wrong = [
        f"{command.where}: {problem}"
        for block in blocks()
        if block.language in SHELL_LANGUAGES
        for command in commands(block)
        if command.words[:1] and command.words[0].endswith("monitorlink")
        if (problem := parse_problem(command))
    ]
    assert wrong == []


def test_the_parse_check_catches_a_wrong_option_and_value() -> None:
    block = next(block for block in blocks() if block.language in SHELL_LANGUAGES)
    for text in (
        "monitorlink run --bogus",
        "monitorlink quality report --limit many",
        "monitorlink broker restart",
    ):
        command = Command(block, 1, text, None, "")
        assert parse_problem(command), text
    assert parse_problem(Command(block, 1, "monitorlink quality report --limit 5", None, "")) is None


def test_every_skip_entry_still_excuses_an_example() -> None:
    texts = {
        (block.file, text)
        for block in blocks()
        for text in (
            [command.text for command in commands(block)]
            if block.language in SHELL_LANGUAGES
            else [block.text]
        )
    }
    stale = [key for key in SKIPS if not any(f == key[0] and key[1] in t for f, t in texts)]
    assert stale == [], "remove these from tests/doc_examples.py SKIPS: they match no example any more"


def test_every_yaml_example_is_an_excerpt_of_the_repository() -> None:
    """A YAML example shows entries exactly as a YAML file of the repository has them."""
    invented = {
        block.id: missing
        for block in blocks()
        if block.language == "yaml" and (missing := yaml_entries_not_in_the_repository(block))
    }
    assert invented == {}


def test_the_readme_lists_every_exit_code_the_command_line_uses() -> None:
    section = README.split("## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    listed = {int(code) for code in re.findall(r"^\| `(\d+)` \|", section, flags=re.MULTILINE)}
    used = {value for name, value in vars(cli_output).items() if name.startswith("EXIT_")}
    assert listed == used
