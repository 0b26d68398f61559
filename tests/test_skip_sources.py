"""Switching a source off: MONITORLINK_SKIP_SOURCES (watcher and `run`), `--only`/`--skip` (one run)."""

from __future__ import annotations

import pytest
import typer

from monitorlink.cli.pipelines import _selected
from monitorlink.core.config import Settings, load_settings
from monitorlink.ops.watch import watch_once


def test_the_watcher_leaves_a_skipped_source_alone(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITORLINK_SKIP_SOURCES", "availability,tmsd,education,cbs")
    settings = load_settings()
    (settings.landing_root / "tmsd").mkdir(parents=True)
    # any delivery would land (or be quarantined) and so create the raw zone: a skipped one must not
    (settings.landing_root / "tmsd" / "tmsd_jeugd_GM0153_2024Q1_v1.csv").write_text("not even csv\n")
    assert watch_once(settings) == {"chain": 0}
    assert not (settings.lake_root / "raw" / "tmsd").exists(), "a skipped source lands nothing"


def test_only_and_skip_choose_sources_in_the_platform_order() -> None:
    assert _selected([], []) == ["availability", "tmsd", "chain", "education", "cbs"]
    assert _selected(["cbs", "tmsd"], []) == ["tmsd", "cbs"]
    assert _selected([], ["cbs", "availability"]) == ["tmsd", "chain", "education"]
    assert _selected(["tmsd"], ["tmsd"]) == []


def test_an_unknown_source_is_a_usage_error_naming_the_sources() -> None:
    with pytest.raises(typer.BadParameter, match="unknown source 'tmds'; the sources are availability, tmsd"):
        _selected(["tmds"], [])
