"""Service manager: start by PID file, stop whole process trees, and say which log to read on failure."""

from __future__ import annotations

import sys
from pathlib import Path

import psutil
import pytest

from monitorlink.core import services
from tests.waiting import wait_until

# A parent that starts a child which ignores SIGTERM, like the parts `airflow standalone` leaves behind.
STUBBORN_TREE = """
import signal, subprocess, sys, time
CHILD = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('child up', flush=True); "
child = subprocess.Popen([sys.executable, "-c", CHILD + "time.sleep(99)"])
print("parent up", child.pid, flush=True)
time.sleep(300)
"""


def _alive(process: psutil.Process) -> bool:
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _children_started(run_dir: Path) -> bool:
    return "child up" in services.log_file(run_dir, "tree").read_text()


def test_stop_kills_the_whole_tree_even_children_that_ignore_sigterm(tmp_path: Path) -> None:
    started = services.start(
        tmp_path,
        "tree",
        [sys.executable, "-c", STUBBORN_TREE],
        ready=lambda: _children_started(tmp_path),
        timeout_s=30,
    )
    assert started.running and started.pid is not None
    tree = [psutil.Process(started.pid), *psutil.Process(started.pid).children(recursive=True)]
    assert len(tree) == 2
    assert services.start(tmp_path, "tree", ["false"], ready=lambda: True, timeout_s=1).pid == started.pid

    assert services.stop(tmp_path, "tree", grace_s=1)
    wait_until(
        lambda: not any(_alive(p) for p in tree), 10, "the parent and its SIGTERM-ignoring child to be gone"
    )
    assert not services.status(tmp_path, "tree").running
    assert not services.stop(tmp_path, "tree")


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("crash", "raise SystemExit(3)", r"crash exited with code 3; see .*crash\.log"),
        ("slow", "import time; time.sleep(60)", r"slow was not ready after 1 s; see .*slow\.log"),
    ],
)
def test_a_service_that_does_not_come_up_is_stopped_and_names_its_log(
    tmp_path: Path, name: str, code: str, message: str
) -> None:
    with pytest.raises(services.ServiceError, match=message):
        services.start(tmp_path, name, [sys.executable, "-c", code], ready=lambda: False, timeout_s=1)
    assert not services.status(tmp_path, name).running
