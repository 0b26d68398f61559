"""The fenced examples of README.md and docs/*.md: found, classified, and checked or run.

Every fenced block has a language, and the language says what is done with it:

- ``python``: run as a script against a built platform (tests/integration/test_doc_examples.py).
- ``bash``, ``sh``, ``shell``, ``console``: split into command lines (a trailing ``\\`` continues a line;
  in ``console`` only ``$ `` lines are commands), and each line is classified by `classify`:
  `Kind.MAKE` (the targets must exist in the Makefile), `Kind.RUN` (run for real, must exit 0),
  `Kind.RESOLVE` (only resolved: ``<command> --help`` must exit 0 and name every ``--option`` used),
  `Kind.DUCKDB` (run when the ``duckdb`` binary is installed) or `Kind.SKIP` (in `SKIPS`, with a reason).
  A line none of these fits is unclassified, and tests/test_docs.py fails naming its file and line.
- ``yaml``: an excerpt of one of the repository's YAML files; every entry must be in one of them.
- ``text``: sample output and diagrams, read by people only.

Anything else, including a block without a language, fails tests/test_docs.py.
"""

from __future__ import annotations

import enum
import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from monitorlink.core.config import PROJECT_ROOT

DOC_FILES = (PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md")))
SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "console"})
#: Blocks nobody runs: what a command prints, and diagrams.
TEXT_LANGUAGES = frozenset({"text"})
KNOWN_LANGUAGES = SHELL_LANGUAGES | TEXT_LANGUAGES | {"python", "yaml"}

#: Examples that cannot run here, keyed by (file, a snippet of the command line or python block), each
#: with its reason. tests/test_docs.py fails when an entry no longer matches any example, so the list
#: never outlives what it excuses. Empty for now: everything documented runs or resolves (see `classify`).
SKIPS: dict[tuple[str, str], str] = {}

#: Placeholders a command may use for a value only a running platform has. The integration test puts the
#: simulated run's own value in (its `Checkout.placeholders`); classifying and resolving use this example.
PLACEHOLDERS = {
    "<batch>": "20261122T084108633057-9e85c683",  # a quarantined batch id, as `quality report` lists them
}

#: `monitorlink` sub-commands that only read the platform, run for real against a built one: each with
#: the first positional arguments it is read-only with (None: without one).
READS: dict[str, tuple[str | None, ...]] = {
    "status": (None,),
    "alerts": (None, "list"),
    "quality": ("report",),
    "freshness": (None,),
    "disclosure": (None,),
    "services": (None, "broker", "ingester", "watcher", "airflow", "superset"),
    "broker": ("status",),
}
#: Sub-commands that start a long-running service: resolved, never run here.
SERVICES = frozenset({"up", "watch"})
#: Options that turn a sub-command into a long-running service.
SERVICE_OPTIONS = {"ingest": "--follow", "docs": "--serve"}
#: Sub-commands that change the platform (land, build, publish, write files, talk to Superset), with the
#: first positional arguments that do (None: any): resolved, not run, because they would change the
#: simulated run other integration tests read, or need Superset up. What they do is tested where they are
#: built: test_simulated_run.py, test_event_driven.py, test_dashboards.py, ….
CHANGES: dict[str, tuple[str | None, ...]] = {
    "run": (None,),
    "pull-availability": (None,),
    "ingest": (None,),
    "simulate": (None,),
    "land": ("tmsd", "chain", "education", "cbs"),
    "transform": (None,),
    "alerts": ("check", "resolve"),
    "backfill": (None,),
    # needs the DuckLake backend (PostgreSQL, object storage): only resolved with --help here
    "publications": (None,),
    "recheck": (None,),
    "replay": (None,),
    "build": (None,),
    "definitions": (None,),
    "docs": (None,),
    "down": (None,),
    "dashboards": ("import", "export", "add-user"),
    "broker": ("start", "stop"),
}
MONITORLINK = frozenset({"monitorlink", ".venv/bin/monitorlink"})
SHELL_OPERATORS = frozenset({"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "2>&1", "&>"})


class Kind(enum.Enum):
    """What is done with a command line of a shell block."""

    MAKE = "make targets checked against the Makefile"
    RUN = "run against a built platform, must exit 0"
    RESOLVE = "resolved with `--help` (starts a service or changes the platform)"
    DUCKDB = "run with the DuckDB command-line client, if it is installed"
    SKIP = "skipped (SKIPS)"


@dataclass(frozen=True)
class Block:
    """One fenced block: its file (relative to the repository), the line of its first code line."""

    file: str
    line: int
    language: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Command:
    """One command line of a shell block (continuation lines joined), as bash will read it."""

    block: Block
    line: int
    text: str
    kind: Kind | None
    why: str

    @property
    def where(self) -> str:
        return f"{self.block.file}:{self.line}"

    @property
    def words(self) -> list[str]:
        """The command's words without leading variable assignments; placeholders hold example values."""
        return _words(fill_placeholders(self.text, PLACEHOLDERS))


def blocks() -> list[Block]:
    """Every fenced block of README.md and docs/*.md, in file order."""
    found = []
    for path in DOC_FILES:
        opened: tuple[int, str, list[str]] | None = None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.lstrip().startswith("```"):
                if opened is None:
                    opened = (number + 1, line.lstrip()[3:].strip().lower(), [])
                else:
                    first, language, body = opened
                    name = path.relative_to(PROJECT_ROOT).as_posix()
                    found.append(Block(name, first, language, "\n".join(body)))
                    opened = None
            elif opened is not None:
                opened[2].append(line)
    return found


def commands(block: Block) -> list[Command]:
    """The command lines of a shell block, each classified."""
    lines = block.text.splitlines()
    found = []
    index = 0
    while index < len(lines):
        start, text = index, lines[index]
        if block.language == "console":
            if not text.startswith("$ "):
                index += 1  # what the command printed
                continue
            text = text[2:]
        while text.endswith("\\") and index + 1 < len(lines):
            index += 1
            text += "\n" + lines[index]
        index += 1
        if text.strip() and not text.lstrip().startswith("#"):
            kind, why = classify(block.file, text)
            found.append(Command(block, block.line + start, text, kind, why))
    return found


def skip_reason(file: str, text: str) -> str | None:
    """The reason `SKIPS` gives for this example, if it lists it."""
    return next((why for (name, snippet), why in SKIPS.items() if name == file and snippet in text), None)


def classify(file: str, text: str) -> tuple[Kind | None, str]:
    """What to do with one command line, and why; (None, why) when nothing fits."""
    skipped = skip_reason(file, text)
    if skipped is not None:
        return Kind.SKIP, skipped
    try:
        unknown = sorted(set(re.findall(r"<[a-z][a-z-]*>", _without_comment(text))) - set(PLACEHOLDERS))
        words = _words(fill_placeholders(text, PLACEHOLDERS))
    except ValueError as error:
        return None, f"not a command line bash would read: {error}"
    if unknown:
        return None, f"unknown placeholder {', '.join(unknown)} (add it to PLACEHOLDERS)"
    operators = [word for word in words if word in SHELL_OPERATORS or word.startswith(">")]
    if not words or operators:
        return None, f"a pipeline or redirection ({' '.join(operators)}): write one command per line"
    program, arguments = words[0], words[1:]
    if program == "make":
        return Kind.MAKE, Kind.MAKE.value
    if program in MONITORLINK:
        return _classify_monitorlink(arguments)
    if program == ".venv/bin/python" and arguments[:1] == ["-c"]:
        return Kind.RUN, "a Python one-liner"
    if program == "duckdb":
        return Kind.DUCKDB, Kind.DUCKDB.value
    return None, f"`{program}` is no command the docs test knows"


def _classify_monitorlink(arguments: list[str]) -> tuple[Kind | None, str]:
    if "--help" in arguments or "-h" in arguments:
        return Kind.RUN, "help"
    # Global options (`-v`) come first, then the sub-command and its first positional argument.
    positionals = [word for word in arguments if not word.startswith("-")]
    if not positionals:
        return None, "no sub-command"
    command, positional = positionals[0], next(iter(positionals[1:2]), None)
    after = arguments[arguments.index(command) + 1 :]
    if command in SERVICES or (command in SERVICE_OPTIONS and SERVICE_OPTIONS[command] in after):
        return Kind.RESOLVE, "starts a long-running service"
    if positional in READS.get(command, ()):
        return Kind.RUN, "only reads the platform"
    changes = CHANGES.get(command, ())
    if positional in changes or None in changes:
        return Kind.RESOLVE, "changes the platform"
    return None, f"`monitorlink {' '.join(positionals[:2])}` is in none of READS, SERVICES and CHANGES"


def _without_comment(text: str) -> str:
    """The line up to its comment (a `#` that starts a word outside quotes)."""
    lexer = shlex.shlex(text.replace("\\\n", ""), posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    lexer.commenters = ""
    kept = []
    for word in lexer:
        if word.startswith("#"):
            break
        kept.append(word)
    return " ".join(kept)


def _words(text: str) -> list[str]:
    words = shlex.split(text.replace("\\\n", ""), comments=True)
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        words.pop(0)
    return words


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """The command with each placeholder replaced by a value (an example, or the platform's own)."""
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


@cache
def make_targets() -> frozenset[str]:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))


def missing_make_targets(command: Command) -> list[str]:
    """The targets a `make` line names that the Makefile lacks."""
    targets = [word for word in command.words[1:] if not word.startswith("-") and "=" not in word]
    return [target for target in targets or ["help"] if target not in make_targets()]


def help_argv(command: Command) -> list[str]:
    """How a command is resolved without running it: the same line with `--help` at the end."""
    return [*command.words, "--help"]


def parse_problem(command: Command) -> str | None:
    """Parse a `monitorlink` line as the command line would, without running it: an unknown option or
    subcommand, or a value of the wrong type, is the usage error it would be (`--help` hides those)."""
    import typer

    from monitorlink.cli.main import app

    group = typer.main.get_command(app)
    try:
        context = group.make_context("monitorlink", command.words[1:])
        rest = [*getattr(context, "_protected_args", []), *context.args]
        current: Any = group
        while rest and hasattr(current, "resolve_command"):
            name, current, rest = current.resolve_command(context, rest)
            context = current.make_context(name, rest, parent=context)
            rest = (
                [*getattr(context, "_protected_args", []), *context.args]
                if hasattr(current, "commands")
                else []
            )
    except Exception as error:  # the parser's own usage errors, whatever their class
        return f"`{' '.join(command.words)}` does not parse: {error}"
    return None


def options_missing_from_help(command: Command, help_text: str) -> list[str]:
    """The long options the example uses that the command's help does not mention."""
    used = [word.split("=")[0] for word in command.words if word.startswith("--") and word != "--help"]
    return [option for option in used if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_text)]


# -- YAML excerpts -----------------------------------------------------------------------------------


@cache
def _yaml_nodes() -> list[Any]:
    """Every mapping and list element of every tracked YAML file."""
    tracked = subprocess.run(
        ["git", "ls-files", "*.yml", "*.yaml"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    nodes: list[Any] = []
    for name in tracked:
        path = PROJECT_ROOT / name
        if path.exists():
            nodes.extend(_walk(yaml.safe_load(path.read_text(encoding="utf-8"))))
    return nodes


def _walk(node: Any) -> Iterator[Any]:
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from _walk(child)


def yaml_entries_not_in_the_repository(block: Block) -> list[str]:
    """The entries of a YAML example that no YAML file of the repository holds as they are shown."""
    example = yaml.safe_load(block.text)
    entries = example if isinstance(example, list) else [example]
    known = [json.dumps(node, sort_keys=True, default=str) for node in _yaml_nodes()]
    return [
        json.dumps(entry, default=str)
        for entry in entries
        if json.dumps(entry, sort_keys=True, default=str) not in known
    ]
