"""SIGKILL the ingester between write and commit, and after commit: nothing lost, nothing duplicated."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter

import pyarrow.parquet as pq
import pytest

from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest import availability
from monitorlink.ingest.consumer import FAILPOINT_VARIABLE
from tests.conftest import SNAPSHOT_AUG_14

pytestmark = pytest.mark.integration


def _ingester(failpoint: str | None) -> subprocess.CompletedProcess[str]:
    """`monitorlink ingest` as its own process, in small batches so a crash leaves work to redo."""
    env = {**os.environ, "MONITORLINK_BATCH_MAX_RECORDS": "40", "MONITORLINK_BATCH_MAX_RECORDS_BACKLOG": "40"}
    env.pop(FAILPOINT_VARIABLE, None)
    if failpoint:
        env[FAILPOINT_VARIABLE] = failpoint
    return subprocess.run(
        [sys.executable, "-m", "monitorlink.cli.main", "ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize(("failpoint", "redelivered"), [("after_write", True), ("after_commit", False)])
def test_killed_ingester_resumes_without_loss_or_duplicates(
    kafka_settings: Settings, failpoint: str, redelivered: bool
) -> None:
    pulled = availability.pull(kafka_settings, (str(SNAPSHOT_AUG_14),))
    (published,) = availability.publish(kafka_settings, pulled)
    assert len(published.messages) == 152

    crashed = _ingester(failpoint)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    lake = Lake(kafka_settings.lake_root)
    landed_before_restart = len(lake.parquet_files("validated", "availability"))
    assert landed_before_restart == 1, "the crash came right after the first batch was written"

    resumed = _ingester(None)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    skipped = int(re.search(r"re-deliveries skipped (\d+)", resumed.stdout).group(1))  # type: ignore[union-attr]
    assert (skipped > 0) is redelivered

    rows = [
        row
        for path in lake.parquet_files("validated", "availability")
        for row in pq.read_table(path).to_pylist()
    ]
    assert lake.parquet_files("quarantine", "availability") == []
    landed = Counter((row["_kafka_partition"], row["_kafka_offset"]) for row in rows)
    expected = Counter((ref.partition, ref.offset) for ref in published.messages)
    assert landed == expected, "every published message landed exactly once"
    assert len({row["event_id"] for row in rows}) == len(rows) == 152
