"""An atomic publish under concurrent read-only queries: every query answers, and from one whole build.

Readers are what dashboards and analysts are: separate processes (Superset's gunicorn workers) with
several threads each, every query on a fresh read-only connection (`connect_readonly`, as Superset's
NullPool does). Meanwhile the warehouse is published again and again (`warehouse.publish`, the rename
the build ends with). Each build's table says its version and its rows add up to a sum that follows
from that version, so a query that saw half of one build and half of another would not add up.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import shutil
import threading
import time
from multiprocessing.queues import Queue
from pathlib import Path

import duckdb

from monitorlink.core.config import Settings
from monitorlink.warehouse.build import connect_readonly, publish
from tests.faults.conftest import Budget
from tests.faults.figures import Figures, record

#: Rows per build: enough that a query takes a while, so swaps land in the middle of queries.
ROWS = 200_000
PROCESSES, THREADS = 2, 8
#: How long the readers may take before the rest of their queries count as failed (they need seconds).
DEADLINE_S = 300


def write_build(path: Path, version: int) -> None:
    """A finished build of `version`: amount = row number + version, so the sum tells the version."""
    with duckdb.connect(str(path)) as db:
        db.execute("create schema published")
        db.execute(
            f"create table published.kpi as select {version} as version, i as row_number, i + {version} "
            f"as amount from range({ROWS}) t(i)"
        )


def expected_sum(version: int) -> int:
    """What a whole build of `version` adds up to (a hand calculation: Σi + ROWS·version)."""
    return ROWS * (ROWS - 1) // 2 + ROWS * version


def one_query(settings: Settings) -> str | None:
    """One read on its own connection; the problem it had, or None."""
    try:
        with connect_readonly(settings) as db:
            rows = db.sql("select min(version), max(version), count(*), sum(amount) from kpi").fetchall()
    except Exception as error:  # every failure counts, whatever its kind
        return f"{type(error).__name__}: {error}"
    low, high, count, total = rows[0]
    if low != high or count != ROWS or total != expected_sum(low):
        return f"mixed or partial build: versions {low}–{high}, {count} rows, sum {total}"
    return None


def reader_process(settings: Settings, per_thread: int, results: Queue[tuple[int, list[str]]]) -> None:
    """THREADS threads of `per_thread` queries each; reports (answered, problems) to the parent."""
    lock, problems, answered = threading.Lock(), [], [0]

    def loop(share: int) -> None:
        for _ in range(share):
            problem = one_query(settings)
            with lock:
                answered[0] += 1
                if problem:
                    problems.append(problem)

    threads = [threading.Thread(target=loop, args=(per_thread,)) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((answered[0], problems))


def test_every_query_answers_from_one_whole_build_while_the_warehouse_is_published(
    settings: Settings, budget: Budget
) -> None:
    published = settings.warehouse_path
    published.parent.mkdir(parents=True)
    write_build(published, 0)
    templates = [published.with_name(f"template-{version}.duckdb") for version in range(1, 6)]
    for version, template in enumerate(templates, start=1):
        write_build(template, version)
    context = multiprocessing.get_context("fork")
    results: Queue[tuple[int, list[str]]] = context.Queue()
    per_thread = -(-budget.concurrent_queries // (PROCESSES * THREADS))
    expected = PROCESSES * THREADS * per_thread
    readers = [
        context.Process(target=reader_process, args=(settings, per_thread, results)) for _ in range(PROCESSES)
    ]
    for reader in readers:
        reader.start()
    publishes, deadline = 0, time.monotonic() + DEADLINE_S
    while any(reader.is_alive() for reader in readers) and time.monotonic() < deadline:
        publishes += 1
        build_file = published.with_name(f"build-{publishes}.duckdb")
        shutil.copyfile(templates[publishes % len(templates)], build_file)  # a build finishing
        publish(build_file, published)
        time.sleep(0.005)
    answered, problems = 0, list[str]()
    for reader in readers:
        if reader.is_alive():  # a reader that hangs is a failure too: every query it owed counts
            reader.kill()
            problems.append(f"a reader process was still busy after {DEADLINE_S} s")
        with contextlib.suppress(queue.Empty):
            count, found = results.get(timeout=10)
            answered, problems = answered + count, problems + found
    figures = Figures(
        check="concurrent reads",
        subject=f"published file, {publishes} publishes",
        tried=answered,
        failed_reads=len(problems) + (expected - answered),
        examples=sorted(set(problems))[:5],
    )
    record(figures)
    assert publishes >= 10, "the warehouse was published while the queries ran"
    assert answered == expected >= budget.concurrent_queries
    assert figures.failures() == {}, figures.examples
