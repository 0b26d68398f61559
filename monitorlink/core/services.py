"""Start, stop and inspect the long-running local services (broker, ingester, Airflow) by PID file.

Each service runs in its own session (process group) with its log in `<home>/run/<name>.log`. Stopping
kills the whole process tree, because some services (Airflow standalone) leave children behind when only
the parent gets SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

#: The services `monitorlink up` starts, in order (`status` and `services` report on them).
SERVICE_NAMES = ("broker", "ingester", "watcher", "airflow", "superset")


@dataclass(frozen=True)
class ServiceStatus:
    """Whether a service started by monitorlink is alive, with its PID and log."""

    name: str
    pid: int | None
    running: bool
    log_file: Path


class ServiceError(RuntimeError):
    """A service did not come up; the message names the log file to read."""


def _pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.pid"


def log_file(run_dir: Path, name: str) -> Path:
    """Where a service writes its output."""
    return run_dir / f"{name}.log"


def status(run_dir: Path, name: str) -> ServiceStatus:
    """Read the PID file and check that the process is still ours and alive (not a zombie)."""
    pid_path = _pid_file(run_dir, name)
    pid = int(pid_path.read_text().strip()) if pid_path.exists() else None
    running = False
    if pid is not None:
        try:
            running = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            running = False
    return ServiceStatus(name=name, pid=pid, running=running, log_file=log_file(run_dir, name))


def start(
    run_dir: Path,
    name: str,
    argv: Sequence[str],
    ready: Callable[[], bool],
    timeout_s: float,
    env: Mapping[str, str] | None = None,
) -> ServiceStatus:
    """Start a service unless it already runs, and wait until `ready()` says it serves requests."""
    current = status(run_dir, name)
    if current.running:
        return current
    run_dir.mkdir(parents=True, exist_ok=True)
    with log_file(run_dir, name).open("ab") as log:
        process = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=_service_environment(env),
        )
    _pid_file(run_dir, name).write_text(str(process.pid))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(f"{name} exited with code {process.returncode}; see {log_file(run_dir, name)}")
        if ready():
            return status(run_dir, name)
        time.sleep(0.3)
    stop(run_dir, name)
    raise ServiceError(f"{name} was not ready after {timeout_s:.0f} s; see {log_file(run_dir, name)}")


def _service_environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    """The caller's environment, with this interpreter's bin folder first on PATH: services such as
    `airflow standalone` start their parts by command name, and must find the project's venv."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path, **(extra or {})}


def stop(run_dir: Path, name: str, grace_s: float = 10.0) -> bool:
    """Stop a service and every process it started; returns whether anything was running."""
    current = status(run_dir, name)
    _pid_file(run_dir, name).unlink(missing_ok=True)
    if not current.running or current.pid is None:
        return False
    try:
        root = psutil.Process(current.pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return False
    for process in tree:
        _signal(process, signal.SIGTERM)
    _, alive = psutil.wait_procs(tree, timeout=grace_s)
    for process in alive:
        _signal(process, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)
    return True


def _signal(process: psutil.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        process.send_signal(sig)
