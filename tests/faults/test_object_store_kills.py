"""A lander SIGKILLed between a delivery's data and its commit, with the lake on object storage (S3):
after the next run nothing is lost or duplicated, and a third run changes nothing.

The lake lives on a real S3 endpoint (moto's server, `tests.real_services`), under a prefix of its own
per case. The landing folder holds eight small TMSD deliveries made here (`tests.factories`): six clean,
one with two bad rows and one with no rows at all, both of which the quality gate quarantines. Each case
kills the lander at one delivery: the lander is `monitorlink land tmsd` (`monitorlink.cli.main.main`) in
a child process whose `DeliveryProcessor._append_log` sends the process SIGKILL instead of writing that
delivery's log line, so the delivery's objects are on S3 and its commit is not. Before going on, the test
sees that for itself: the child died of SIGKILL, the log holds the deliveries before it, and the only
objects without a log line are the killed delivery's. Then `monitorlink land tmsd` runs normally, and
once more. The small budget kills at the first delivery, the two quarantined ones and the last;
`--fault-budget full` at each of the eight.

The truth comes from the inputs, not from the code under test: each file's data rows are counted with
the `csv` module, its checksum with `hashlib`, and whether it belongs in the validated or the quarantine
zone is known from how it was made. Everything on S3 is read with boto3 and pyarrow: every delivery has
one log line with the expected outcome, its rows in exactly one zone under that line's batch id (each
file row once), its raw bytes kept once with one manifest record; no Parquet object or quarantine report
names a batch without a log line; and the third run leaves every object as it was.

The cases run side by side (each step of every case at once, see `episodes`): a lander's start costs
about 7 s of imports, and three runs per case one case after the other would take twice as long.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monitorlink.core import services
from monitorlink.core.config import PROJECT_ROOT
from monitorlink.ops.broker import SERVICE as BROKER_SERVICE
from tests.factories import tmsd_file, tmsd_row
from tests.faults.conftest import Budget
from tests.faults.figures import Figures, record
from tests.real_services import S3Server, free_port, object_store  # noqa: F401

pytestmark = [pytest.mark.faults, pytest.mark.integration]

CHECK = "kills on object storage"
SOURCE = "tmsd"
#: A run still going after this long is stuck (a failure of its own); a clean one takes about 10 s.
STUCK_AFTER_S = 180.0
MAX_EXAMPLES = 20

#: The steps of an episode, in order, and the name of each one's output files in the episode's home.
KILLED, RELANDED, AGAIN = "killed", "relanded", "again"
#: What the killed child prints just before its SIGKILL: the delivery whose log line it never writes.
KILL_MARK = "MONITORLINK-KILLED-BEFORE-COMMIT "

#: The lander of the first step: `monitorlink land tmsd` exactly as the command runs it, except that the
#: `kill_at`-th log line (argv[1]) is never written: the process SIGKILLs itself instead, after the
#: delivery's raw copy, manifest record, Parquet object(s) and quarantine report are on S3.
KILLING_LANDER = """
import json, os, signal, sys

from monitorlink.ingest import deliveries

kill_at = int(sys.argv[1])
commit = deliveries.DeliveryProcessor._append_log
calls = 0


def killed_before_commit(self, outcome):
    global calls
    calls += 1
    if calls == kill_at:
        mark = {"name": outcome.name, "batch_id": outcome.batch_id}
        print(MARK + json.dumps(mark), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    commit(self, outcome)


deliveries.DeliveryProcessor._append_log = killed_before_commit

from monitorlink.cli.main import main

sys.exit(main(["land", "tmsd"]))
""".replace("MARK", repr(KILL_MARK))

# where things are on S3, below the lake's prefix (monitorlink.core.lake, monitorlink.core.journal)
LOG_KEY = re.compile(rf"raw/{SOURCE}/deliveries/[^/]+\.jsonl")
MANIFEST_KEY = re.compile(rf"raw/{SOURCE}/manifest/[^/]+\.jsonl")
RAW_KEY = re.compile(rf"raw/{SOURCE}/\d{{4}}-\d{{2}}-\d{{2}}/[0-9a-f]{{16}}-[^/]+")
PARQUET_KEY = re.compile(
    rf"(?P<zone>validated|quarantine)/{SOURCE}/ingest_date=\d{{4}}-\d{{2}}-\d{{2}}/(?P<batch>[^/]+)\.parquet"
)
REPORT_KEY = re.compile(
    rf"quarantine/{SOURCE}/ingest_date=\d{{4}}-\d{{2}}-\d{{2}}/(?P<batch>[^/]+)\.validation\.json"
)
#: The announce outbox (`ops/announced/…`): written by `land` after landing, not part of the zones.
OPS_KEY = re.compile(r"ops/.+")
#: The zone a delivery's rows belong in, and the outcome its log line must name.
OUTCOME_OF_ZONE = {"validated": "validated", "quarantine": "quarantined"}


# the inputs ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One input file and what must become of it, known from how it was made."""

    name: str
    content: bytes
    zone: str  # where its rows belong: "validated", or "quarantine" for a file made broken

    @property
    def rows(self) -> int:
        """Its data rows, counted here with the csv module (`;`-separated, one header line)."""
        reader = csv.reader(io.StringIO(self.content.decode("utf-8"), newline=""), delimiter=";")
        return sum(1 for row in itertools.islice(reader, 1, None) if row)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def outcome(self) -> str:
        return OUTCOME_OF_ZONE[self.zone]


def make_deliveries() -> list[Delivery]:
    """Eight TMSD deliveries in landing order (name order): six clean, two the quality gate rejects."""
    numbers = itertools.count(1)

    def rows(scope: str, count: int, **changes: str) -> list[list[str]]:
        """Valid rows of one municipality, each a trajectory of its own (unique key: the pseudonym)."""
        return [
            tmsd_row(client_pseudo_id=f"{next(numbers):064x}", gemeente_code=scope, **changes)
            for _ in range(count)
        ]

    def clean(scope: str, period: str, count: int) -> Delivery:
        name = f"tmsd_jeugd_{scope}_{period}_v1.csv"
        return Delivery(name, tmsd_file(*rows(scope, count)), "validated")

    broken = tmsd_file(  # an unknown municipality and a trajectory ending before it started
        *rows("GM0153", 2), *rows("GM9999", 1), *rows("GM0153", 1, einddatum="2022-12-31")
    )
    deliveries = [
        clean("GM0141", "2023Q1", 4),
        clean("GM0141", "2023Q2", 5),
        clean("GM0141", "2023Q3", 6),
        clean("GM0147", "2023Q1", 4),
        Delivery("tmsd_jeugd_GM0153_2023Q1_v1.csv", broken, "quarantine"),
        clean("GM0158", "2023Q1", 5),
        Delivery("tmsd_jeugd_GM0163_2023Q1_v1.csv", tmsd_file(), "quarantine"),  # the header alone
        clean("GM0164", "2023Q1", 6),
    ]
    assert [d.name for d in deliveries] == sorted(d.name for d in deliveries), "landing order is name order"
    assert len({d.sha256 for d in deliveries}) == len(deliveries), "no input is a copy of another"
    return deliveries


DELIVERIES = make_deliveries()
NAMES = [delivery.name for delivery in DELIVERIES]


@dataclass(frozen=True)
class Case:
    """Where the lander dies: just before the log line of the `kill_at`-th delivery (in landing order)."""

    kill_at: int

    @property
    def killed(self) -> Delivery:
        return DELIVERIES[self.kill_at - 1]

    @property
    def id(self) -> str:
        kind = "validated" if self.killed.zone == "validated" else "quarantined"
        if not self.killed.rows:
            kind += "-without-rows"
        return f"delivery-{self.kill_at}-of-{len(DELIVERIES)}-{kind}"


def cases(budget: str) -> list[Case]:
    """The small budget (`make test`) kills at the first delivery, the quarantined one with rows, the one
    the gate rejects for having no rows (whose only uncommitted object is its quarantine report) and the
    last; the full budget (`make faults`) at every delivery."""
    if budget == "full":
        return [Case(k) for k in range(1, len(DELIVERIES) + 1)]
    quarantined = [NAMES.index(f"tmsd_jeugd_{scope}_2023Q1_v1.csv") + 1 for scope in ("GM0153", "GM0163")]
    return [Case(k) for k in (1, *quarantined, len(DELIVERIES))]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per kill point of the chosen budget (`--fault-budget`, tests/faults/conftest.py)."""
    if "case" in metafunc.fixturenames:
        chosen = cases(str(metafunc.config.getoption("fault_budget")))
        metafunc.parametrize("case", chosen, ids=[case.id for case in chosen])


# what is on S3 ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Objects:
    """Every object below a lake's prefix after one step, by key below the prefix: bytes, ETag and time."""

    contents: dict[str, bytes]
    stamps: dict[str, tuple[str, datetime]]


def objects(server: S3Server, prefix: str) -> Objects:
    """List and read everything under `prefix` with boto3 (not with the code under test)."""
    client = server.client()
    contents: dict[str, bytes] = {}
    stamps: dict[str, tuple[str, datetime]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=server.bucket, Prefix=f"{prefix}/"):
        for item in page.get("Contents", []):
            key = str(item["Key"]).removeprefix(f"{prefix}/")
            stamps[key] = (str(item["ETag"]), item["LastModified"])
            contents[key] = client.get_object(Bucket=server.bucket, Key=item["Key"])["Body"].read()
    return Objects(contents, stamps)


@dataclass(frozen=True)
class ParquetObject:
    """One Parquet object of the validated or quarantine zone and the delivery bookkeeping of its rows."""

    key: str
    zone: str
    batch_id: str  # from its name
    rows: list[tuple[str, str, int]]  # per row: _delivery_file, _batch_id, _source_row


@dataclass(frozen=True)
class LakeView:
    """The lake's objects read as what they stand for."""

    log: list[dict[str, Any]]  # delivery-log lines, in key (time) order
    manifest: list[dict[str, Any]]
    raw: dict[str, bytes]  # raw copies by key
    parquet: list[ParquetObject]
    reports: dict[str, str]  # quarantine report key → batch id
    unexpected: list[str]  # keys in the zones that are none of the above

    @property
    def logged(self) -> set[str]:
        return {str(line["batch_id"]) for line in self.log if line.get("batch_id")}


def json_lines(content: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in content.splitlines() if line.strip()]


def view(found: Objects) -> LakeView:
    lake = LakeView([], [], {}, [], {}, [])
    for key, content in sorted(found.contents.items()):
        if LOG_KEY.fullmatch(key):
            lake.log.extend(json_lines(content))
        elif MANIFEST_KEY.fullmatch(key):
            lake.manifest.extend(json_lines(content))
        elif RAW_KEY.fullmatch(key):
            lake.raw[key] = content
        elif match := PARQUET_KEY.fullmatch(key):
            table = pq.read_table(
                pa.BufferReader(content), columns=["_delivery_file", "_batch_id", "_source_row"]
            )
            rows = [(r["_delivery_file"], r["_batch_id"], r["_source_row"]) for r in table.to_pylist()]
            lake.parquet.append(ParquetObject(key, match["zone"], match["batch"], rows))
        elif match := REPORT_KEY.fullmatch(key):
            lake.reports[key] = match["batch"]
        elif not OPS_KEY.fullmatch(key):
            lake.unexpected.append(key)
    return lake


# the episodes ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One process of an episode: its exit code (None: stuck, and killed by the test) and its output."""

    returncode: int | None
    stdout: str
    stderr: str

    def tail(self, lines: int = 4) -> str:
        """The last lines it wrote, for a failure message."""
        text = [line for line in (self.stdout + self.stderr).splitlines() if line.strip()]
        return " | ".join(text[-lines:])


@dataclass
class Episode:
    """One case: a home, a lake prefix on S3, and what each step left there."""

    case: Case
    home: Path
    prefix: str
    env: dict[str, str] = field(repr=False)
    runs: dict[str, Run] = field(default_factory=dict, repr=False)
    states: dict[str, Objects] = field(default_factory=dict, repr=False)


def environment(server: S3Server, home: Path, lake_uri: str) -> dict[str, str]:
    """The variables of one episode's processes; nothing of the test's own MONITORLINK_ or AWS_ ones."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("MONITORLINK_", "AWS_"))}
    return (
        inherited
        | server.environment()
        | {
            "MONITORLINK_HOME": str(home),
            "MONITORLINK_LAKE_URI": lake_uri,
            "MONITORLINK_LOCK_DSN": "local",  # one machine lands here
            "MONITORLINK_DEV_MODE": "1",  # simulated data: the public development key is the right one
            "MONITORLINK_BROKER_PORT": str(free_port()),  # `land` announces on an embedded broker of its own
        }
    )


def killing_lander(episode: Episode) -> list[str]:
    return [sys.executable, "-c", KILLING_LANDER, str(episode.case.kill_at)]


def lander(episode: Episode) -> list[str]:
    return [str(Path(sys.executable).with_name("monitorlink")), "land", SOURCE]


def run_together(episodes: list[Episode], step: str, argv: Callable[[Episode], list[str]]) -> None:
    """Run one step of every episode at once (each in its own home and prefix), waiting for all."""
    with contextlib.ExitStack() as stack:
        started: list[tuple[Episode, subprocess.Popen[bytes], Path, Path]] = []
        try:
            for episode in episodes:
                out, err = episode.home / f"{step}.stdout", episode.home / f"{step}.stderr"
                process = subprocess.Popen(
                    argv(episode),
                    env=episode.env,
                    cwd=PROJECT_ROOT,
                    stdin=subprocess.DEVNULL,
                    stdout=stack.enter_context(out.open("wb")),
                    stderr=stack.enter_context(err.open("wb")),
                )
                started.append((episode, process, out, err))
            deadline = time.monotonic() + STUCK_AFTER_S
            for episode, process, out, err in started:
                code: int | None
                try:
                    code = process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    code = None
                    process.kill()
                    process.wait()
                text = (out.read_text(errors="replace"), err.read_text(errors="replace"))
                episode.runs[step] = Run(code, *text)
        finally:
            for _, process, _, _ in started:
                if process.poll() is None:
                    process.kill()
                    process.wait()


@pytest.fixture(scope="module")
def episodes(
    object_store: S3Server,  # noqa: F811
    budget: Budget,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Episode]]:
    """Every case's three runs, each step of all cases at once; the lake's objects after each step."""
    run = uuid.uuid4().hex[:8]
    found: dict[str, Episode] = {}
    for case in cases(budget.name):
        home = tmp_path_factory.mktemp(f"s3-kill-{case.id}")
        prefix = f"object-store-kills-{run}/{case.id}"
        env = environment(object_store, home, f"s3://{object_store.bucket}/{prefix}")
        found[case.id] = Episode(case, home, prefix, env)
        landing = home / "landing" / SOURCE
        landing.mkdir(parents=True)
        for delivery in DELIVERIES:
            (landing / delivery.name).write_bytes(delivery.content)
    all_episodes = list(found.values())
    try:
        for step, argv in ((KILLED, killing_lander), (RELANDED, lander), (AGAIN, lander)):
            run_together(all_episodes, step, argv)
            for episode in all_episodes:
                episode.states[step] = objects(object_store, episode.prefix)
        yield found
    finally:
        for episode in all_episodes:  # an embedded broker a stuck `land` may have left running
            services.stop(episode.home / "run", BROKER_SERVICE)


# the checks ------------------------------------------------------------------------------------------------


@dataclass
class Findings:
    """What went wrong in one episode, by failure column of the fault figures."""

    landed: int = 0
    quarantined: int = 0
    unhandled: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)

    def figures(self, subject: str) -> Figures:
        return Figures(
            check=CHECK,
            subject=subject,
            tried=1,
            landed=self.landed,
            quarantined=self.quarantined,
            unhandled=len(self.unhandled),
            lost=len(self.lost),
            duplicated=len(self.duplicated),
            examples=[*self.unhandled, *self.lost, *self.duplicated][:MAX_EXAMPLES],
        )


def check_kill_point(episode: Episode, findings: Findings) -> None:
    """The child died of its SIGKILL, between the killed delivery's data and its log line: the log holds
    exactly the deliveries before it, and the only objects naming a batch without a log line are the
    killed delivery's (its Parquet object in its zone with all its rows, and its report if quarantined)."""
    case, run = episode.case, episode.runs[KILLED]
    killed = case.killed
    if run.returncode != -signal.SIGKILL:
        findings.unhandled.append(
            f"the lander was to die of SIGKILL before the log line of {killed.name}, but exited "
            f"{run.returncode}: {run.tail()}"
        )
    marks = [
        json.loads(line.removeprefix(KILL_MARK)) for line in run.stdout.splitlines() if KILL_MARK in line
    ]
    batch_id = str(marks[0]["batch_id"]) if marks else None
    if [mark["name"] for mark in marks] != [killed.name]:
        findings.unhandled.append(f"the lander was to be killed at {killed.name}, it reported {marks}")
    lake = view(episode.states[KILLED])
    names = [line["name"] for line in lake.log]
    if names != NAMES[: case.kill_at - 1]:
        findings.unhandled.append(
            f"at the kill the log was to list {NAMES[: case.kill_at - 1]}, it lists {names}"
        )
    data = [item for item in lake.parquet if item.batch_id not in lake.logged]
    reports = sorted(batch for batch in lake.reports.values() if batch not in lake.logged)
    uncommitted = {item.batch_id for item in data} | set(reports)
    if uncommitted != {batch_id}:
        findings.unhandled.append(
            f"at the kill, the batches with objects but no log line were to be {killed.name}'s ({batch_id}) "
            f"alone; they are {sorted(uncommitted)}"
        )
    expected_data = [(killed.zone, killed.name, killed.rows)] if killed.rows else []
    found_data = [
        (item.zone, file, count) for item in data for file, count in Counter(r[0] for r in item.rows).items()
    ]
    if found_data != expected_data:
        findings.unhandled.append(
            f"at the kill, the uncommitted Parquet data was to be {expected_data} (zone, file, rows), it is "
            f"{found_data}: the kill did not fall between {killed.name}'s data and its commit"
        )
    if killed.zone == "quarantine" and reports != [batch_id]:
        findings.unhandled.append(
            f"at the kill, {killed.name}'s quarantine report was to be on S3: {reports}"
        )


def check_runs(episode: Episode, findings: Findings) -> None:
    """The landing after the kill succeeds (4: every new delivery quarantined), the one after it too."""
    relanded, again = episode.runs[RELANDED], episode.runs[AGAIN]
    if relanded.returncode not in (0, 4):
        findings.unhandled.append(
            f"`monitorlink land tmsd` after the kill exited {relanded.returncode}: {relanded.tail()}"
        )
    if again.returncode != 0:
        findings.unhandled.append(
            f"`monitorlink land tmsd` a third time exited {again.returncode}: {again.tail()}"
        )


def check_lake(found: Objects, findings: Findings) -> None:
    """Each delivery once, whole, in its zone, under its one log line; nothing in the lake besides."""
    lake = view(found)
    for delivery in DELIVERIES:
        check_delivery(lake, delivery, findings)
    known = set(NAMES)
    for name, count in sorted(Counter(str(line["name"]) for line in lake.log).items()):
        if name not in known:
            findings.duplicated.append(f"{name}: {count} log line(s), but no such file was delivered")
    for batch_id, count in sorted(Counter(str(line.get("batch_id")) for line in lake.log).items()):
        if count > 1:
            findings.duplicated.append(f"batch {batch_id} has {count} log lines")
    for item in lake.parquet:
        if item.batch_id not in lake.logged:
            findings.duplicated.append(f"orphaned Parquet object {item.key}: its batch has no log line")
        if {row[1] for row in item.rows} - {item.batch_id}:
            findings.duplicated.append(
                f"{item.key} holds rows of other batches: {sorted({r[1] for r in item.rows})}"
            )
    quarantined = {str(line["batch_id"]) for line in lake.log if line["outcome"] == "quarantined"}
    for key, batch_id in sorted(lake.reports.items()):
        if batch_id not in quarantined:
            findings.duplicated.append(
                f"orphaned quarantine report {key}: its batch has no log line of a quarantined delivery"
            )
    for key in lake.unexpected:
        findings.duplicated.append(f"an object that is no part of the lake's layout: {key}")


def check_delivery(lake: LakeView, delivery: Delivery, findings: Findings) -> None:
    """One delivery: one log line with its outcome, its rows whole under that batch, its raw bytes once."""
    name = delivery.name
    lines = [line for line in lake.log if line["name"] == name]
    if not lines:
        findings.lost.append(f"{name}: no log line")
        return
    if len(lines) > 1:
        findings.duplicated.append(f"{name}: {len(lines)} log lines ({[line['batch_id'] for line in lines]})")
    line, problems = lines[0], len(findings.lost) + len(findings.duplicated)
    batch_id = str(line["batch_id"])
    if line["outcome"] != delivery.outcome:
        findings.lost.append(f"{name}: logged {line['outcome']}, it is {delivery.outcome}")
    # its rows: all in one Parquet object of its zone, the one of its logged batch, each file row once
    places = [(item, [r for r in item.rows if r[0] == name]) for item in lake.parquet]
    places = [(item, rows) for item, rows in places if rows]
    if len(places) > 1:
        where = [f"{item.zone}/{item.batch_id} ({len(rows)} rows)" for item, rows in places]
        findings.duplicated.append(f"{name}: rows in {len(places)} Parquet objects: {where}")
    if delivery.rows and not places:
        findings.lost.append(f"{name}: none of its {delivery.rows} rows is in the lake (batch {batch_id})")
    for item, rows in places[:1]:
        if (item.zone, item.batch_id) != (delivery.zone, batch_id):
            findings.lost.append(
                f"{name}: its rows are in {item.zone} under batch {item.batch_id}; its log line says "
                f"{delivery.zone} under {batch_id}"
            )
        numbers = Counter(r[2] for r in rows)
        expected = Counter(range(2, delivery.rows + 2))  # file rows after the header line
        if missing := expected - numbers:
            findings.lost.append(f"{name}: {missing.total()} of its {delivery.rows} rows missing")
        if extra := numbers - expected:
            findings.duplicated.append(f"{name}: {extra.total()} rows more than its {delivery.rows}")
    if delivery.zone == "quarantine":
        reports = [key for key, batch in lake.reports.items() if batch == batch_id]
        if len(reports) != 1:
            findings.lost.append(f"{name}: {len(reports)} quarantine reports for its batch {batch_id}")
    # its raw bytes: kept once, recorded once in the manifest, where its log line says
    copies = [
        key for key, content in lake.raw.items() if hashlib.sha256(content).hexdigest() == delivery.sha256
    ]
    records = [r for r in lake.manifest if (r.get("received_sha256") or r["sha256"]) == delivery.sha256]
    if not copies or not records:
        findings.lost.append(f"{name}: {len(copies)} raw copies, {len(records)} manifest records")
    if len(copies) > 1 or len(records) > 1:
        findings.duplicated.append(
            f"{name}: raw bytes kept {len(copies)} times, {len(records)} manifest records"
        )
    if line.get("raw_path") not in copies:
        findings.lost.append(f"{name}: its log line's raw copy {line.get('raw_path')} is not in the lake")
    if len(findings.lost) + len(findings.duplicated) == problems:
        if delivery.zone == "validated":
            findings.landed += 1
        else:
            findings.quarantined += 1


def check_unchanged(before: Objects, after: Objects, findings: Findings) -> None:
    """The third run lands nothing: every object as it was (bytes, ETag, time), none added."""
    for key in sorted(after.stamps.keys() - before.stamps.keys()):
        findings.duplicated.append(f"the third run added {key}")
    for key in sorted(before.stamps.keys() - after.stamps.keys()):
        findings.lost.append(f"the third run removed {key}")
    for key in sorted(before.stamps.keys() & after.stamps.keys()):
        if before.stamps[key] != after.stamps[key] or before.contents[key] != after.contents[key]:
            findings.duplicated.append(f"the third run rewrote {key}")


# the test --------------------------------------------------------------------------------------------------


def test_a_lander_killed_between_data_and_commit_on_s3_loses_and_duplicates_nothing(
    episodes: dict[str, Episode], case: Case
) -> None:
    episode = episodes[case.id]
    findings = Findings()
    check_kill_point(episode, findings)
    check_runs(episode, findings)
    check_lake(episode.states[RELANDED], findings)
    check_unchanged(episode.states[RELANDED], episode.states[AGAIN], findings)
    figures = findings.figures(
        f"lander on S3, killed before the commit of delivery {case.kill_at}/{len(NAMES)}"
    )
    record(figures)
    assert figures.failures() == {}, "\n".join(figures.examples)
    expected = Counter(delivery.zone for delivery in DELIVERIES)
    assert (figures.landed, figures.quarantined) == (expected["validated"], expected["quarantine"])
