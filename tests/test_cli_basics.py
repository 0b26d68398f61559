"""The command line's basics: version, help on everything, exit codes, ids that can be copied, no lake."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import typer

from monitorlink.cli.main import app, main
from monitorlink.cli.output import console, stage, table
from monitorlink.core.config import Settings
from monitorlink.ops import alerts
from monitorlink.ops.alert_store import AlertStore


def test_version_is_the_installed_package(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"monitorlink {metadata.version('monitorlink')}"


def _every_command() -> list[tuple[list[str], Any]]:
    """Every command and subcommand with the words that reach it."""
    found = []
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        if subcommands:
            found += [([name, sub], subcommand) for sub, subcommand in subcommands.items()]
        else:
            found.append(([name], command))
    return found


def test_every_command_and_argument_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = _every_command()
    assert len(commands) >= 25, [words for words, _ in commands]
    for words, command in commands:
        assert (command.help or "").strip(), f"`monitorlink {' '.join(words)}` has no description"
        for parameter in command.params:
            helped = getattr(parameter, "help", None)
            assert helped, f"`monitorlink {' '.join(words)}`: {parameter.name} has no help"
        assert main([*words, "--help"]) == 0
        words_shown = " ".join(capsys.readouterr().out.split())  # help is wrapped to the terminal
        assert "README's 'Configuration' section" in words_shown, f"{words}: no epilog"


@pytest.mark.parametrize("words", [["status"], ["alerts", "list"], ["freshness"], ["quality", "report"]])
def test_a_report_on_a_home_without_a_lake_says_so_and_creates_nothing(
    words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "mistyped-home"
    monkeypatch.setenv("MONITORLINK_HOME", str(home))
    monkeypatch.delenv("MONITORLINK_LAKE_ROOT", raising=False)
    assert main(words) == 1
    assert capsys.readouterr().out.startswith(f"error: no lake at {home / 'lake'} (MONITORLINK_HOME={home})")
    assert not home.exists()


def test_wrong_usage_exits_2(settings: Settings) -> None:
    assert main(["no-such-command"]) == 2
    assert main(["run", "--only", "tmds"]) == 2
    assert main(["land", "availability"]) == 2


def test_alerts_list_shows_the_id_that_resolve_takes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONITORLINK_ALERT_NOTIFIERS", "log")
    settings.lake_root.mkdir(parents=True)
    alerts.pipeline_failed(settings, "cbs/run", "land", "CBS did not answer")
    (alert_id,) = AlertStore(settings).open_alerts()
    assert main(["alerts", "list"]) == 0
    listed = capsys.readouterr().out
    assert alert_id in listed and "cbs/run" in listed
    assert main(["alerts", "resolve", alert_id]) == 0
    assert main(["alerts", "resolve", alert_id]) == 5, "an alert that is not open is a finding, not an error"


def test_tables_off_a_terminal_are_tab_separated_and_never_cut(capsys: pytest.CaptureFixture[str]) -> None:
    long_id = "batch-" + "0123456789abcdef" * 12
    listing = table("Batches", ("id", "rules"))
    listing.add_row(long_id, "rule_a ×2\nrule_b ×1")
    console.print(listing)
    assert capsys.readouterr().out.splitlines() == [
        "# Batches",
        "id\trules",
        f"{long_id}\trule_a ×2; rule_b ×1",
    ]


def test_off_a_terminal_each_step_and_each_stage_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with stage("starting services") as step:
        step.note("broker")
        step.note("Airflow")
        step.update("not shown off a terminal")
        step.done("5 running")
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["starting services: broker …", "starting services: Airflow …"]
    assert len(lines) == 3 and lines[2].startswith("starting services: 5 running (")


def test_a_failing_stage_says_so_and_the_error_goes_on(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), stage("landing tmsd"):
        raise RuntimeError("share not mounted")
    assert capsys.readouterr().out.startswith("landing tmsd: failed (")
