"""The command line's error handling (the whole `monitorlink run` is in test_simulated_run.py)."""

from __future__ import annotations

import pytest

from monitorlink.cli.main import main
from monitorlink.core.config import Settings

pytestmark = pytest.mark.integration


def test_errors_are_one_readable_line_and_exit_1(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build"]) == 1
    assert "error: nothing to build from: no validated data" in capsys.readouterr().out


def test_a_threshold_that_switches_protection_off_is_one_line_naming_the_variable(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITORLINK_SUPPRESSION_THRESHOLD", "1")
    assert main(["build"]) == 1
    printed = capsys.readouterr().out.strip()
    assert printed.startswith(
        "error: MONITORLINK_SUPPRESSION_THRESHOLD=1 would switch disclosure control off"
    )
    assert "Traceback" not in printed
