"""Forked workers for the kill tests: import the platform once, run each worker as a fork, SIGKILL it.

Starting the `monitorlink` CLI costs 10–15 s of imports, so a worker here is a fork of the test process
that calls exactly the function the CLI calls; killing one and forking the next costs milliseconds, which
is what makes a hundred kills affordable. The parent never runs a worker's code itself while it forks:
it only reads the lake and logs, the way an operator would.
"""

from __future__ import annotations

import enum
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Protocol

from monitorlink.core.config import Settings

FORK = multiprocessing.get_context("fork")
#: How often the parent looks at a running worker and at the lake it writes.
POLL_S = 0.05
#: How long a worker that was asked to stop (SIGTERM, as `monitorlink down` does) may take to exit.
STOP_GRACE_S = 30.0


class Subject(Protocol):
    """One kind of worker under test, as the parent sees it; an episode is one home with one lake."""

    name: str

    def fresh(self) -> Settings:
        """A new episode: a home of its own, with its inputs in place and an empty lake."""
        ...

    def run(self, settings: Settings) -> None:
        """The worker's body in the child: exactly the function the CLI runs."""
        ...

    def tick(self, settings: Settings, elapsed: float) -> None:
        """Called while workers run, `elapsed` seconds into the episode (the watcher's files appear)."""
        ...

    def progress(self, settings: Settings) -> int | None:
        """Output so far, when the kill clock starts at the worker's first output (the ingester, which
        first waits for its consumer group); None when it starts with the worker."""
        ...

    def done(self, settings: Settings) -> bool:
        """All of the episode's work is in the lake: a worker that never exits is then stopped."""
        ...


class Ending(enum.Enum):
    """How one worker ended."""

    KILLED = "killed"  # SIGKILLed while alive and not done: the only kind that counts as a kill
    FINISHED = "finished"  # exited 0 on its own, or after SIGTERM once its work was done
    CRASHED = "crashed"  # exited with an error of its own
    STUCK = "stuck"  # neither finished nor got anywhere before the deadline


@dataclass(frozen=True)
class Worker:
    """One worker's end, and how long it worked (from its start, or its first output)."""

    ending: Ending
    exitcode: int | None
    seconds: float


def start(subject: Subject, settings: Settings) -> BaseProcess:
    """Fork a worker (daemonic, so a failing test leaves no orphan behind)."""
    child = FORK.Process(target=subject.run, args=(settings,), name=f"{subject.name}-worker", daemon=True)
    child.start()
    return child


def kill(child: BaseProcess) -> bool:
    """SIGKILL a worker and reap it; True when it was still alive to receive the signal."""
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    return child.exitcode == -signal.SIGKILL


def stop(child: BaseProcess) -> int | None:
    """SIGTERM a worker (its graceful stop) and wait for it; returns the exit code (None: it hung)."""
    if child.is_alive():
        assert child.pid is not None
        os.kill(child.pid, signal.SIGTERM)
    child.join(STOP_GRACE_S)
    return child.exitcode


def run(
    subject: Subject, settings: Settings, began: float, kill_after: float | None, timeout: float
) -> Worker:
    """Run one worker on an episode: SIGKILL it `kill_after` seconds into its work, or let it finish.

    `began` is when the episode started (the clock of `tick`). A worker that finishes before its kill
    is not counted as killed: only a kill of a live worker with work left tests anything.
    """
    child = start(subject, settings)
    launched = time.monotonic()
    mark = subject.progress(settings)
    working = launched if mark is None else None
    while True:
        now = time.monotonic()
        subject.tick(settings, now - began)
        if working is None and subject.progress(settings) != mark:
            working = now
        seconds = now - (working or launched)
        if not child.is_alive():
            child.join()
            return Worker(Ending.FINISHED if child.exitcode == 0 else Ending.CRASHED, child.exitcode, seconds)
        if subject.done(settings):
            code = stop(child)
            if code is None:
                kill(child)
            return Worker(Ending.FINISHED if code == 0 else Ending.CRASHED, code, seconds)
        if working is not None and kill_after is not None and seconds >= kill_after:
            ending = Ending.KILLED if kill(child) else Ending.FINISHED
            return Worker(ending, child.exitcode, seconds)
        if now - launched > timeout:
            kill(child)
            return Worker(Ending.STUCK, None, seconds)
        time.sleep(POLL_S)


@dataclass
class Hunt:
    """What a series of kills did: kills delivered, episodes settled, and workers that failed."""

    kills: int = 0
    episodes: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def hunt(
    subject: Subject,
    kills: int,
    window: float,
    rng: random.Random,
    timeout: float,
    settle: Callable[[Settings], None],
) -> Hunt:
    """Kill workers at random moments of their work until `kills` kills landed, restarting after each.

    Each kill is followed by a new worker on the same episode. A worker that finishes before its kill
    ends the episode, and the next starts on a fresh lake, so kills keep landing mid-work. After the
    last kill a final worker runs to the end. Delays are drawn from [0, window], where `window` is how
    long an uninterrupted worker works. Each finished episode goes to `settle` (verification) at once,
    so its lake can be removed before the next grows.
    """
    result = Hunt()
    started = time.monotonic()
    settings, began = subject.fresh(), time.monotonic()
    while True:
        final = result.kills >= kills
        worker = run(subject, settings, began, None if final else rng.uniform(0, window), timeout)
        if worker.ending is Ending.KILLED:
            result.kills += 1
            continue
        if worker.ending is not Ending.FINISHED:
            result.failures.append(
                f"{subject.name} worker {worker.ending.value} (exit code {worker.exitcode}) "
                f"after {worker.seconds:.1f} s in {settings.home.name}"
            )
        result.episodes += 1
        settle(settings)
        if final:
            result.seconds = time.monotonic() - started
            return result
        settings, began = subject.fresh(), time.monotonic()
