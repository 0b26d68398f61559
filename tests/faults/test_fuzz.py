"""Property-based fuzzing of every parser and of the landing path (the fault suite's `fuzzing` check).

Every feed gets `budget.inputs_per_feed` inputs: real and simulated deliveries as seeds, changed by
mutations hypothesis draws (`tests/faults/mutations.py`). Each input must end *landed* (validated, or a
re-delivery the log ignores), *quarantined* with a reason naming the file, the rule and where it applies
the row, or, only for input that is not the feed at all, *rejected* with the platform's own one-line
error. Anything else is *unhandled*: an exception escaping the platform, a quarantine without a reason,
or an input still running after `HANG_SECONDS`; an input without any outcome is *lost*. All are counted
(hypothesis is not stopped at the first), recorded as figures, and only then asserted.

Inputs are drawn first and landed in chunks: Great Expectations has a fixed cost per run, so one run per
chunk instead of one per input is what makes 1,000 inputs per feed affordable. A chunk that raises is
split, each half on an empty lake, until the input that raises on its own is found.
"""

from __future__ import annotations

import _thread
import contextlib
import csv
import io
import json
import logging
import re
import signal
import threading
import time
import traceback
import uuid
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any, Generic, Literal, Protocol, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from connectors import availability, cbs, chain, education, tmsd
from connectors.base import Connector
from monitorlink.core.config import PROJECT_ROOT, Settings
from monitorlink.core.lake import Lake
from monitorlink.core.pseudonym import pseudonym_key
from monitorlink.ingest.availability import feed
from monitorlink.ingest.deliveries import DeliveryProcessor
from monitorlink.ingest.kafka_clients import event_bytes
from monitorlink.ingest.stream import Ingester, Message
from monitorlink.simulator import CBS_TABLES, simulate
from monitorlink.simulator.cbs import V3_PREFIX, V4_PREFIX, CbsServer
from tests.conftest import SNAPSHOTS, environment
from tests.faults.conftest import Budget
from tests.faults.figures import Figures, record
from tests.faults.mutations import (
    Case,
    any_of,
    cases,
    csv_mutations,
    json_mutations,
    workbook_mutations,
    xlsx_headers,
)

#: An input still running after this long is a hang (counted unhandled).
HANG_SECONDS = 30.0
#: Inputs per landing run: GX's fixed cost is paid once per chunk.
CHUNK = 20
#: How many simulated deliveries per file feed seed the mutations besides those with injected defects.
SMALLEST_SEEDS = 3
#: Data lines kept of a CSV seed besides those with an injected defect: the landing path's cost is per
#: row, and 100 rows exercise every rule as well as 2,000 do.
SEED_LINES = 100
#: Rows per OData page, small enough that both CBS tables come in several pages (next links to corrupt).
CBS_PAGE = 100
#: Where the CBS connector is pointed; every request is answered in-process, nothing leaves the machine.
CBS_HOST = "http://cbs.fuzz.invalid"
FULL_STATE_FEED = "fuzz"
TOPIC = "availability.v1"
EVENT_IDS = uuid.UUID("0f0c5e11-9a7d-4d0b-b7a4-6f7a8d6c2b10")

Verdict = Literal["landed", "quarantined", "rejected", "lost", "duplicated"]


@dataclass(frozen=True)
class Unhandled:
    """An input the platform did not handle: `signature` (type and place) groups the examples."""

    signature: str
    description: str


Outcome = Verdict | Unhandled


class Hang(BaseException):
    """An input past its time limit. A BaseException, so that the platform's `except Exception` (the
    processor quarantines any parser error) cannot mistake it for a parse error and swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `Hang` once `seconds` pass, or after the block if C code kept the signal from arriving.

    SIGUSR1 from a timer thread, not SIGALRM: pytest-timeout owns that one.
    """

    def _hang(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGUSR1, _hang)
    timer = threading.Timer(seconds, _thread.interrupt_main, args=(signal.SIGUSR1,))
    started = time.monotonic()
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)
    if time.monotonic() - started > seconds:
        raise Hang(f"took {time.monotonic() - started:.0f} s, more than {seconds:.0f} s")


def unhandled(error: BaseException) -> Unhandled:
    """The error as one line: type, message, and where it passed through the platform (the call the
    harness made, the last two platform frames, where a fix would go, and the library that raised; for
    a hang, where it was when the clock ran out).

    An error that never passed through the platform is the harness's own (a mutation that cannot be
    built): it is raised, so that it fails the test instead of being counted against the platform. A
    hang is the platform's wherever the clock ran out.
    """
    frames = traceback.extract_tb(error.__traceback__)[: -1 if isinstance(error, Hang) else None]
    own = [_place(f) for f in frames if re.search(r"/(connectors|monitorlink)/", f.filename)]
    if not own and not isinstance(error, Hang):
        raise error
    last = _place(frames[-1]) if frames else "?"
    where = " → ".join(dict.fromkeys([*own[:1], *own[-2:]])) or "?"
    where += "" if own and own[-1] == last else f" (raised in {last})"
    message = " ".join(str(error).split())[:200]
    kind = type(error).__name__
    return Unhandled(f"{kind} @ {where}", f"{kind}: {message} @ {where}")


def _place(frame: traceback.FrameSummary) -> str:
    """`connectors/cbs.py:103` for the project's files, `json/decoder.py:353` for a library's."""
    path = Path(frame.filename)
    shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else "/".join(path.parts[-2:])
    return f"{shown}:{frame.lineno}"


class Decided(Exception):
    """Raised by `Landing.prepare` for an input whose outcome is known before landing (a rejection)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome)
        self.outcome = outcome


def rejected(error: Exception) -> Decided:
    """A refusal counts as rejected only with a one-line message; more is a traceback in disguise."""
    message = str(error)
    if message.strip() and "\n" not in message:
        return Decided("rejected")
    kind = type(error).__name__
    return Decided(Unhandled(f"{kind} without a one-line message", f"rejected with {message[:200]!r}"))


# what a feed under test is --------------------------------------------------------------------------------


class Described(Protocol):
    """A fuzz case: it can say what was done to its seed (for the figures' examples)."""

    def describe(self) -> str: ...


C = TypeVar("C", bound=Described)
P = TypeVar("P")


class Landing(ABC, Generic[C, P]):
    """One feed's way into the lake: draws cases, prepares each (parsing that happens per input), lands
    prepared inputs a chunk at a time, and starts again on an empty lake to isolate an input that raises."""

    @abstractmethod
    def cases(self) -> st.SearchStrategy[C]:
        """What hypothesis draws for this feed."""

    @abstractmethod
    def prepare(self, case: C, serial: int) -> P:
        """The input's bytes, and what the platform does with one input before landing; raises `Decided`
        when that already settles it."""

    @abstractmethod
    def land(self, items: Sequence[P]) -> list[Outcome]:
        """Land a chunk; one outcome per item, in order. May raise: the caller isolates the culprit."""

    @abstractmethod
    def fresh(self) -> Landing[C, P]:
        """The same landing on an empty lake."""


def draw(strategy: st.SearchStrategy[C], count: int) -> list[C]:
    """`count` inputs from hypothesis: the same ones every run (derandomised, no example database)."""
    drawn: list[C] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(case: C) -> None:
        drawn.append(case)

    collect()
    return drawn


def fuzz(subject: str, landing: Landing[C, P], count: int) -> Figures:
    """Draw, prepare and land `count` inputs; every outcome is counted, none stops the run."""
    drawn = draw(landing.cases(), count)
    figures = Figures(check="fuzzing", subject=subject, tried=len(drawn))
    seen: set[str] = set()
    for start in range(0, len(drawn), CHUNK):
        chunk = list(enumerate(drawn[start : start + CHUNK], start=start + 1))
        outcomes: dict[int, Outcome] = {}
        prepared: list[tuple[int, P]] = []
        for serial, case in chunk:
            try:
                with time_limit(HANG_SECONDS):
                    prepared.append((serial, landing.prepare(case, serial)))
            except Decided as decided:
                outcomes[serial] = decided.outcome
            except (Exception, Hang) as error:
                outcomes[serial] = unhandled(error)
        landed = settle(landing, [item for _, item in prepared])
        outcomes.update(zip((serial for serial, _ in prepared), landed, strict=True))
        for serial, case in chunk:
            tally(figures, case, outcomes[serial], seen)
    return figures


def settle(landing: Landing[C, P], items: list[P]) -> list[Outcome]:
    """Land items; when that raises, land each half on an empty lake until the input at fault is alone."""
    if not items:
        return []
    try:
        with time_limit(HANG_SECONDS):
            return landing.land(items)
    except (Exception, Hang) as error:
        if len(items) == 1:
            return [unhandled(error)]
        middle = len(items) // 2
        outcomes = settle(landing.fresh(), items[:middle]) + settle(landing.fresh(), items[middle:])
        if isinstance(error, Hang) or any(isinstance(outcome, Unhandled) for outcome in outcomes):
            return outcomes  # a chunk that was only slow is no fault while each input is within the limit
        alone = unhandled(error)
        together = Unhandled(alone.signature, f"only with {len(items) - 1} other inputs: {alone.description}")
        return [together] * len(items)


def tally(figures: Figures, case: Described, outcome: Outcome, seen: set[str]) -> None:
    """Count one outcome; the first input of each kind of failure becomes an example (at most 5)."""
    if not isinstance(outcome, Unhandled):
        setattr(figures, outcome, getattr(figures, outcome) + 1)
        return
    figures.unhandled += 1
    if outcome.signature not in seen and len(figures.examples) < 5:
        seen.add(outcome.signature)
        figures.examples.append(f"{case.describe()[:300]} → {outcome.description}")


# file feeds: the delivery processor ------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One file as the landing folder hands it to the processor."""

    name: str
    content: bytes

    def item(self) -> tuple[str, bytes, str]:
        return self.name, self.content, "fuzz"


def delivery_name(seed: str, serial: int) -> str:
    """The seed's name with a version no other input has: the processor skips a name it has seen."""
    return re.sub(r"_v\d+\.", f"_v{serial}.", seed)


class Lakes:
    """Fresh lake folders under one test's tmp folder."""

    def __init__(self, root: Path) -> None:
        self.root, self.count = root, 0

    def new(self) -> Lake:
        self.count += 1
        return Lake(self.root / f"lake-{self.count}")


class FileLanding(Landing[Case, Delivery]):
    """A file feed through `DeliveryProcessor`, one processor per lake (as the landing pipeline uses it)."""

    def __init__(
        self,
        connector: Connector,
        seeds: dict[str, bytes],
        structural: st.SearchStrategy[Any],
        lakes: Lakes,
    ) -> None:
        self.connector, self.seeds, self.structural, self.lakes = connector, seeds, structural, lakes
        self.processor = DeliveryProcessor(lakes.new(), connector)

    def cases(self) -> st.SearchStrategy[Case]:
        return cases(sorted(self.seeds), self.structural)

    def prepare(self, case: Case, serial: int) -> Delivery:
        return Delivery(delivery_name(case.seed, serial), case.build(self.seeds[case.seed]))

    def land(self, items: Sequence[Delivery]) -> list[Outcome]:
        outcomes = {outcome.name: outcome for outcome in self.processor.process(d.item() for d in items)}
        verdicts: list[Outcome] = []
        for delivery in items:
            outcome = outcomes.get(delivery.name)
            if outcome is None:
                verdicts.append("lost")
            elif outcome.outcome in ("validated", "redelivery_ignored"):
                verdicts.append("landed")
            elif outcome.outcome == "quarantined" and _names_file_and_rule(
                outcome.name, outcome.samples, outcome.critical
            ):
                verdicts.append("quarantined")
            else:
                shown = f"{outcome.outcome} with critical {outcome.critical}, samples {outcome.samples}"
                verdicts.append(Unhandled(f"{outcome.outcome} without a reason", shown[:300]))
        return verdicts

    def fresh(self) -> FileLanding:
        return FileLanding(self.connector, self.seeds, self.structural, self.lakes)


def _names_file_and_rule(name: str, samples: dict[str, list[str]], critical: dict[str, int]) -> bool:
    """A quarantine one can act on: each critical rule has samples `<file>, <where>: <rule>: <reason>`."""
    return bool(critical) and all(
        samples.get(rule)
        and all(s.startswith(f"{name}, ") and s.partition(f": {rule}: ")[2].strip() for s in samples[rule])
        for rule in critical
    )


# CBS: OData responses through the connector, bundles through the processor ---------------------------------


@dataclass(frozen=True)
class ODataCase:
    """One OData page served mutated (with an HTTP status) while the connector fetches its table."""

    case: Case
    status: int

    def describe(self) -> str:
        return f"OData page {self.case.describe()}" + (f" (HTTP {self.status})" if self.status != 200 else "")


CbsCase = Case | ODataCase


@dataclass(frozen=True)
class Page:
    """Where an OData page is served, and for which table."""

    table: str
    api: str
    path: str
    skip: int


def odata_pages(tables: Path) -> dict[Page, bytes]:
    """Every page the simulated CBS server answers for the two tables, as its bytes."""
    pages: dict[Page, bytes] = {}
    with CbsServer(tables, page_size=CBS_PAGE) as server:
        for table, api in CBS_TABLES.items():
            prefix, resources = (
                (V3_PREFIX, ("DataProperties", "TypedDataSet"))
                if api == "v3"
                else (V4_PREFIX, ("MeasureCodes", "Observations"))
            )
            for resource in resources:
                path, skip, more = f"{prefix}/{table}/{resource}", 0, True
                while more:
                    _, body = server.answer(path, {"$skip": [str(skip)]})
                    pages[Page(table, api, path, skip)] = json.dumps(body).encode()
                    more = "odata.nextLink" in body or "@odata.nextLink" in body
                    skip += CBS_PAGE
    return pages


class CbsLanding(Landing[CbsCase, Delivery]):
    """CBS as `land(settings, "cbs")` runs it: `cbs.fetch` against OData pages (one of them mutated), the
    bundle into the processor; or a mutated bundle straight into the processor."""

    def __init__(self, pages: dict[Page, bytes], files: FileLanding) -> None:
        self.pages, self.files = pages, files
        self.by_place = {(page.path, page.skip): page for page in pages}
        self.by_name = {f"{page.path} $skip={page.skip}": page for page in pages}
        self.serving: tuple[Page, int, bytes] | None = None

    def respond(self, request: httpx.Request) -> httpx.Response:
        """The simulated server's answer, or the mutated page when it is the one asked for."""
        skip = request.url.params.get("$skip", "0")
        page = self.by_place.get((request.url.path, int(skip) if skip.isdecimal() else -1))
        if page is None:
            return httpx.Response(404, json={"error": f"no such resource {request.url.path}"})
        if self.serving is not None and self.serving[0] == page:
            return httpx.Response(self.serving[1], content=self.serving[2])
        return httpx.Response(200, content=self.pages[page])

    def cases(self) -> st.SearchStrategy[CbsCase]:
        pages = st.builds(
            ODataCase,
            cases(sorted(self.by_name), json_mutations()),
            any_of([200] * 8 + [404, 503]),
        )
        return st.one_of(cases(sorted(self.files.seeds), json_mutations()), pages)

    def prepare(self, case: CbsCase, serial: int) -> Delivery:
        if isinstance(case, Case):
            return self.files.prepare(case, serial)
        page = self.by_name[case.case.seed]
        self.serving = (page, case.status, case.case.build(self.pages[page]))
        try:
            bundle = fetch_cbs(page.table, page.api)
        except cbs.CbsError as error:
            raise rejected(error) from error
        finally:
            self.serving = None
        return Delivery(delivery_name(cbs.bundle_name(page.table, page.api), serial), bundle)

    def land(self, items: Sequence[Delivery]) -> list[Outcome]:
        return self.files.land(items)

    def fresh(self) -> CbsLanding:
        return CbsLanding(self.pages, self.files.fresh())


def fetch_cbs(table: str, api: str) -> bytes:
    """One table as `land(settings, "cbs")` fetches it, without retries (a failing page fails at once)."""
    prefix = V3_PREFIX if api == "v3" else V4_PREFIX
    return cbs.fetch(table, api, CBS_HOST + prefix, timeout_s=5.0, retries=0, backoff_s=0.0)


# availability: the stream ingester -----------------------------------------------------------------------

#: A message as a producer sends it: key and value (None for a tombstone).
Record = tuple[bytes | None, bytes | None]


class IngesterLanding(Landing[C, list[Record]]):
    """Messages through `Ingester.process` without a broker: one micro-batch per chunk, on its own lake,
    so every outcome is read back by Kafka offset (validated, or quarantined with rules and reasons)."""

    def __init__(self, settings: Settings, lakes: Lakes) -> None:
        self.settings, self.lakes = settings, lakes

    def land(self, items: Sequence[list[Record]]) -> list[Outcome]:
        lake = self.lakes.new()
        messages: list[Message] = []
        owners: list[int] = []
        for index, records in enumerate(items):
            for key, value in records:
                messages.append(Message(TOPIC, 0, len(messages), key, value))
                owners.append(index)
        Ingester(lake, feed(self.settings)).process(messages)
        placed: dict[int, list[dict[str, Any]]] = {}
        columns = ["_kafka_offset", "_message_sha256", "failed_rules", "reasons"]
        for zone in ("validated", "quarantine"):
            for row in lake.read_columns(zone, availability.SOURCE_NAME, columns):
                placed.setdefault(row["_kafka_offset"], []).append(row)
        landed_bytes = {row["_message_sha256"] for rows in placed.values() for row in rows}
        verdicts: list[list[Outcome]] = [[] for _ in items]
        for message, owner in zip(messages, owners, strict=True):
            again = message.sha256 in landed_bytes
            verdicts[owner].append(_message_outcome(placed.get(message.offset, []), again))
        return [_worst(outcomes) for outcomes in verdicts]


def _message_outcome(rows: list[dict[str, Any]], sent_before: bool) -> Outcome:
    """Where one message landed: one row, validated or quarantined with rules and reasons; no row only
    when the same bytes landed from another offset (the ingester counts that as a re-delivery)."""
    if not rows:
        return "landed" if sent_before else "lost"
    if len(rows) > 1:
        return "duplicated"
    row = rows[0]
    if "failed_rules" not in row:
        return "landed"
    if row["failed_rules"] and row["reasons"] and all(reason.strip() for reason in row["reasons"]):
        return "quarantined"
    return Unhandled("quarantined without a rule or reason", f"quarantine row {row}"[:300])


def _worst(outcomes: list[Outcome]) -> Outcome:
    """An input's outcome from its messages': the worst of them (no messages at all: nothing to land)."""
    ranked: list[Outcome] = ["lost", "duplicated", "quarantined", "landed"]
    failures = [outcome for outcome in outcomes if isinstance(outcome, Unhandled)]
    return failures[0] if failures else min(outcomes, key=ranked.index, default="landed")


class SnapshotLanding(IngesterLanding[Case]):
    """The snapshot format: `parse_snapshot` → `full_state_events` (against the real lists) → the ingester.

    Each input is published as its own list (a later `generatedAt` per input), as a daily pull would be,
    so its events have ids of their own rather than being duplicates of the seed's.
    """

    def __init__(self, seeds: dict[str, bytes], settings: Settings, lakes: Lakes) -> None:
        super().__init__(settings, lakes)
        self.seeds = seeds
        self.known = [availability.parse_snapshot(name, content) for name, content in seeds.items()]

    def cases(self) -> st.SearchStrategy[Case]:
        return cases(sorted(self.seeds), json_mutations())

    def prepare(self, case: Case, serial: int) -> list[Record]:
        content = case.build(republished(self.seeds[case.seed], serial))
        try:
            snapshot = availability.parse_snapshot(case.seed, content)
        except availability.SnapshotFormatError as error:
            raise rejected(error) from error
        events = availability.full_state_events(snapshot, self.known, FULL_STATE_FEED)
        return [(str(event["offer_key"]).encode(), event_bytes(event)) for event in events]

    def fresh(self) -> SnapshotLanding:
        return SnapshotLanding(self.seeds, self.settings, self.lakes)


def republished(content: bytes, serial: int) -> bytes:
    """The same list published `serial` seconds later: only its `generatedAt` text changes."""
    generated = json.loads(content)["generatedAt"]
    later = availability.parse_snapshot("seed", content).generated_at + timedelta(seconds=serial)
    return content.replace(f'"{generated}"'.encode(), f'"{later.isoformat()}"'.encode(), 1)


@dataclass(frozen=True)
class MessageCase:
    """A raw message: a mutated event as its value (or a tombstone), and a key of some kind."""

    case: Case
    key: str
    tombstone: bool

    def describe(self) -> str:
        value = "tombstone" if self.tombstone else self.case.describe()
        return f"{value} (key: {self.key})"


#: Keys producers send: the offer key (as `publish_events` does), none, or bytes that are no text.
KEYS = ("offer key", "no key", "binary key")


def message_key(kind: str, event: dict[str, Any]) -> bytes | None:
    """The key of one of the `KEYS` kinds for an event."""
    return {"offer key": str(event["offer_key"]).encode(), "no key": None, "binary key": b"\xff\x00\xfe"}[
        kind
    ]


class EventLanding(IngesterLanding[MessageCase]):
    """Raw message bytes straight into the ingester: events of the real lists, each with an event id of
    its own before mutation, so that what the gate sees is the mutation and not a duplicate id."""

    def __init__(self, seeds: dict[str, bytes], settings: Settings, lakes: Lakes) -> None:
        super().__init__(settings, lakes)
        self.seeds = seeds

    def cases(self) -> st.SearchStrategy[MessageCase]:
        return st.builds(
            MessageCase,
            cases(sorted(self.seeds), json_mutations()),
            any_of(KEYS),
            any_of([False] * 19 + [True]),
        )

    def prepare(self, case: MessageCase, serial: int) -> list[Record]:
        seed = self.seeds[case.case.seed]
        event = json.loads(seed)
        key = message_key(case.key, event)
        if case.tombstone:
            return [(key, None)]
        own_id = str(uuid.uuid5(EVENT_IDS, str(serial)))
        return [(key, case.case.build(seed.replace(event["event_id"].encode(), own_id.encode())))]

    def fresh(self) -> EventLanding:
        return EventLanding(self.seeds, self.settings, self.lakes)


# seeds ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeds:
    """The session's seeds: simulated deliveries per file feed, the simulated CBS tables, the real lists."""

    files: dict[str, dict[str, bytes]]
    cbs_tables: Path
    snapshots: dict[str, bytes]
    events: dict[str, bytes]


@pytest.fixture(scope="session")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Seeds:
    """One simulation per session; from each file feed its deliveries with injected defects (the odd
    ones) and the smallest few (cheap to land), and events of both real snapshots."""
    root = tmp_path_factory.mktemp("fuzz-simulation")
    with environment({"MONITORLINK_DEV_MODE": "1"}):
        result = simulate(root, pseudonym_key())
    files = {}
    for source in ("tmsd", "chain", "education"):
        folder = result.landing / source
        smallest = sorted(folder.iterdir(), key=lambda path: path.stat().st_size)[:SMALLEST_SEEDS]
        chosen = {d.file for d in result.defects if d.source == source} | {p.name for p in smallest}
        files[source] = {name: (folder / name).read_bytes() for name in sorted(chosen)}
    defect_lines = {d.file: set(d.rows) for d in result.defects if d.source == "tmsd"}
    files["tmsd"] = {name: trimmed(c, defect_lines.get(name, set())) for name, c in files["tmsd"].items()}
    snapshots = {path.name: path.read_bytes() for path in sorted(SNAPSHOTS.glob("*.json"))}
    return Seeds(files, result.cbs_tables, snapshots, event_seeds(snapshots))


def trimmed(content: bytes, keep: set[int]) -> bytes:
    """A CSV delivery cut to its header and first `SEED_LINES` data lines, plus the lines in `keep`."""
    lines = content.splitlines(keepends=True)
    return b"".join(
        line for number, line in enumerate(lines, start=1) if number <= SEED_LINES + 1 or number in keep
    )


def event_seeds(snapshots: dict[str, bytes]) -> dict[str, bytes]:
    """Events as the pipeline publishes them: figures of both lists, withdrawals between them, and a few
    figures in the v1 shape the ingester still reads (no event type, no feed)."""
    known = [availability.parse_snapshot(name, content) for name, content in snapshots.items()]
    events = [e for s in known for e in availability.full_state_events(s, known, FULL_STATE_FEED)]
    figures = [e for e in events if e["event_type"] == "figure"][::9]
    withdrawals = [e for e in events if e["event_type"] == "withdrawal"][:3]
    old = [
        {k: v for k, v in e.items() if k not in ("event_type", "full_state_feed")} | {"schema_version": 1}
        for e in figures[:3]
    ]
    chosen = [*figures, *withdrawals, *old]
    return {f"event {i:02d} ({e.get('event_type', 'v1')})": event_bytes(e) for i, e in enumerate(chosen)}


def csv_columns(contents: Sequence[bytes]) -> list[list[str]]:
    """Up to 30 values seen per column of the TMSD seeds, for generated rows within the contract."""
    columns: list[set[str]] = []
    for content in contents:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8", errors="replace")), delimiter=";"))
        for row in rows[1:200]:
            columns += [set() for _ in range(len(row) - len(columns))]
            for index, value in enumerate(row):
                columns[index].add(value)
    return [sorted(values)[:30] for values in columns]


# the test ---------------------------------------------------------------------------------------------------


def landing_for(
    subject: str, seeds: Seeds, settings: Settings, lakes: Lakes, monkeypatch: pytest.MonkeyPatch
) -> Landing[Any, Any]:
    """The landing of one feed with its seeds and mutations."""
    files = seeds.files.get(subject, {})
    if subject == "tmsd":
        return FileLanding(tmsd, files, csv_mutations(csv_columns(list(files.values()))), lakes)
    if subject == "chain":
        return FileLanding(chain, files, json_mutations(), lakes)
    if subject == "education":
        first = next(iter(files.values()))
        with zipfile.ZipFile(io.BytesIO(first)) as archive:
            members = archive.namelist()
        return FileLanding(education, files, workbook_mutations(members, xlsx_headers(first)), lakes)
    if subject == "cbs":
        pages = odata_pages(seeds.cbs_tables)
        landing = CbsLanding(pages, FileLanding(cbs, {}, json_mutations(), lakes))
        transport = httpx.MockTransport(landing.respond)
        monkeypatch.setattr(httpx, "Client", partial(httpx.Client, transport=transport))
        landing.files.seeds.update({cbs.bundle_name(t, a): fetch_cbs(t, a) for t, a in CBS_TABLES.items()})
        return landing
    if subject == "availability-snapshot":
        return SnapshotLanding(seeds.snapshots, settings, lakes)
    return EventLanding(seeds.events, settings, lakes)


FEEDS = ("tmsd", "chain", "education", "cbs", "availability-snapshot", "availability-event")


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("subject", FEEDS)
def test_every_input_lands_is_quarantined_with_a_reason_or_is_rejected_cleanly(
    subject: str,
    budget: Budget,
    seeds: Seeds,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No input, however broken, ends in a traceback, a hang, a reasonless quarantine or nowhere: the
    figures are recorded first, so a failing run still shows how many of which kind there were."""
    caplog.set_level(logging.ERROR)  # thousands of "quarantined …" warnings would bury the failure
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    landing = landing_for(subject, seeds, settings, Lakes(tmp_path / "lakes"), monkeypatch)
    figures = fuzz(subject, landing, budget.inputs_per_feed)
    record(figures)
    assert figures.failures() == {}, "\n".join([f"{figures.failures()}", *figures.examples])
