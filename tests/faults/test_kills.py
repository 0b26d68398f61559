"""Random SIGKILLs of the lander, the watcher and the ingester while work flows, and a broker killed
mid-stream: every delivery and event lands exactly once, with its log line, equal to a clean run's.

Not fixed failpoints: each worker is a fork of this process (`workers.py`) killed after a delay drawn
from a seeded `random.Random` over the time an uninterrupted worker works, then restarted, until
`budget.kills_per_process` kills landed on live workers. The truth is a clean, uninterrupted run of the
same inputs in a home of its own, compared per delivery (by file name) or per event (by event id): its
delivery-log lines, and its rows in the validated and quarantine zones as a multiset of content without
the columns that differ between any two runs (`PER_RUN_COLUMNS`, found by landing the same inputs twice).
With the full budget, the warehouse is also built from the last episode's lake and the clean one, and
every published table compared.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import shutil
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from connectors.availability import SOURCE_NAME
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest import availability
from monitorlink.ingest.delivery_log import delivery_log
from monitorlink.ingest.events import announced
from monitorlink.ingest.kafka_clients import MessageRef
from monitorlink.ingest.landing import land
from monitorlink.ingest.sources import source
from monitorlink.ops import alert_store, alerts, broker
from monitorlink.ops.recovery import replay
from monitorlink.ops.watch import watch
from monitorlink.simulator import SimulationResult
from monitorlink.warehouse import build as warehouse
from tests.conftest import SNAPSHOT_AUG_06, SNAPSHOT_AUG_14, free_port, topic_messages
from tests.faults import workers
from tests.faults.conftest import Budget
from tests.faults.figures import Figures, record

SEED = 2026
CHECK = "random kills"
#: Columns that differ between two clean runs of the same inputs (a new batch id and landing time).
PER_RUN_COLUMNS = ("_batch_id", "_ingested_at")
#: Where a replayed event sits differs from the clean run: another topic (one per round here), new
#: offsets, and other partitions when the ingester's consumer re-created the topic first (tansu then
#: gives it its default of 4 partitions, not MONITORLINK_TOPIC_PARTITIONS).
REPLAYED_COLUMNS = (*PER_RUN_COLUMNS, "_kafka_topic", "_kafka_partition", "_kafka_offset")
#: Warehouse columns that record when a build or a landing happened, or name a batch.
#: The ingester's micro-batches are as large as its polls happened to be, so a run with kills lands the
#: same events in other batches: the marts that count landing batches differ, the facts may not.
MICRO_BATCHES = frozenset({"fct_delivery_quality", "fct_quarantined_rows_by_rule", "deliveries"})
WAREHOUSE_PER_RUN = frozenset(
    {"delivery_id", "batch_id", "landed_at", "processed_at", "last_seen_at", "last_landed_at", "ingested_at"}
)
#: The lander's inputs: a TMSD municipality with a revision, a re-delivery and quarantined quarters, and
#: an education SWV whose workbooks have three sheets (three datasets written per delivery).
LANDER_INPUTS = {"tmsd": ("tmsd_jeugd_GM0163_*",), "education": ("onderwijs_jeugd_PO2301_*",)}
#: The watcher's: three sources, their files appearing one by one while it runs.
WATCHER_INPUTS = {
    "tmsd": ("tmsd_jeugd_GM0141_*",),
    "chain": ("keten_GI_2019-*",),
    "education": ("onderwijs_jeugd_VO2301_2019Q*", "onderwijs_jeugd_VO2301_2020Q*"),
}
SNAPSHOTS = (str(SNAPSHOT_AUG_06), str(SNAPSHOT_AUG_14))
#: Seconds between two files appearing in the watcher's landing folders, and between its rounds.
FEED_GAP_S = 0.1
WATCH_INTERVAL_S = 0.2
#: Small micro-batches, so an ingester has a dozen commits to be killed around.
INGEST_BATCH = 25
#: A killed consumer holds its partitions until its session expires: at the default 6 s a restarted
#: ingester waits about 12 s for the rebalance, at 2 s about 4.5 s (measured on the embedded broker).
SESSION_TIMEOUT_MS = 2000
#: A worker still busy after this long is stuck (a failure of its own).
STUCK_AFTER_S = 180.0
#: The broker is killed once a random share in this range of the published events has landed.
BROKER_KILL_SHARE = (0.2, 0.8)
BROKER_KILLS = {"small": 1, "full": 3}
#: After a replay, the ingester is stopped once nothing has landed for this long (polls are 0.5 s).
QUIET_S = 3.0
MAX_EXAMPLES = 20

pytestmark = pytest.mark.timeout(1800)


# what happened to each delivery or event ---------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One delivery (by file name) or event (by id): its marks and its rows in the lake.

    Marks are the outcomes of a delivery's log lines, or the zone of each row carrying an event id;
    exactly once means exactly one mark, the clean run's.
    """

    marks: tuple[str, ...]
    rows: Counter[tuple[str, str]]


NOTHING = Item((), Counter())
#: The outcome an event's zone stands for, named as a delivery's outcome is.
OUTCOME_OF_ZONE = {"validated": "validated", "quarantine": "quarantined"}


@dataclass
class Tally:
    """What the checks of a subject found, summed over its episodes."""

    landed: int = 0
    quarantined: int = 0
    lost: int = 0
    duplicated: int = 0
    unhandled: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, example: str) -> None:
        """Keep the first examples only: a broken run would otherwise fill the report."""
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(example)

    def compare(self, truth: dict[str, Item], found: dict[str, Item], where: str) -> None:
        """Count each item of the clean run that is missing or changed (lost) or there twice (duplicated),
        and each the clean run does not have (duplicated: something landed that was never sent)."""
        for key, expected in sorted(truth.items()):
            item = found.get(key, NOTHING)
            missing, extra = expected.rows - item.rows, item.rows - expected.rows
            lost = not item.marks or (len(item.marks) == 1 and item.marks != expected.marks) or bool(missing)
            duplicated = len(item.marks) > 1 or bool(extra)
            self.lost += lost
            self.duplicated += duplicated
            if lost or duplicated:
                self.note(
                    f"{where}: {key}: marks {list(item.marks)} (clean {list(expected.marks)}), "
                    f"{missing.total()} rows missing, {extra.total()} rows extra{differing(missing, extra)}"
                )
            self.landed += item.marks == ("validated",)
            self.quarantined += item.marks == ("quarantined",)
        for key in sorted(found.keys() - truth.keys()):
            self.duplicated += 1
            self.note(f"{where}: {key}: in the lake but not in the clean run ({list(found[key].marks)})")


def differing(missing: Counter[tuple[str, str]], extra: Counter[tuple[str, str]]) -> str:
    """Where the first missing row and the first extra row differ: a hint at why rows changed."""
    if not missing or not extra:
        return ""
    (zone, text), (other_zone, other_text) = min(missing), min(extra)
    row, other = json.loads(text), json.loads(other_text)
    fields = sorted(name for name in row.keys() | other.keys() if row.get(name) != other.get(name))
    return f" (e.g. {zone} → {other_zone}, differing in {', '.join(fields)})"


def zone_rows(
    lake: Lake, datasets: Iterable[str], key: str, per_run: Collection[str]
) -> dict[str, Counter[tuple[str, str]]]:
    """Rows of both zones by `key` (delivery file or event id), as (zone, content without `per_run`)."""
    rows: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for zone in OUTCOME_OF_ZONE:
        for dataset in datasets:
            for path in lake.parquet_files(zone, dataset):
                table = pq.read_table(path)
                table = table.drop_columns([c for c in per_run if c in table.column_names])
                for row in table.to_pylist():
                    content = json.dumps({"dataset": dataset, **row}, sort_keys=True, default=str)
                    rows[str(row[key])][(zone, content)] += 1
    return rows


def delivery_items(settings: Settings, sources: Iterable[str]) -> dict[str, Item]:
    """Per delivery file: the outcome of each of its log lines (a missing raw copy marked) and its rows."""
    lake = Lake(settings.lake_root)
    marks: dict[str, list[str]] = defaultdict(list)
    datasets = []
    for name in sources:
        connector = source(name).connector
        assert connector is not None
        datasets += [contract.name for contract in connector.contracts]
        for outcome in delivery_log(lake, name):
            kept = outcome.raw_path is None or (lake.root / outcome.raw_path).exists()
            marks[outcome.name].append(outcome.outcome if kept else f"{outcome.outcome}, raw copy missing")
    rows = zone_rows(lake, datasets, "_delivery_file", PER_RUN_COLUMNS)
    return {name: Item(tuple(marks.get(name, ())), rows.get(name, Counter())) for name in marks.keys() | rows}


def event_items(settings: Settings, per_run: Collection[str] = PER_RUN_COLUMNS) -> dict[str, Item]:
    """Per event id: the zone of each row that carries it, and the rows."""
    rows = zone_rows(Lake(settings.lake_root), [SOURCE_NAME], "event_id", per_run)
    return {
        event_id: Item(tuple(sorted(OUTCOME_OF_ZONE[zone] for zone, _ in found.elements())), found)
        for event_id, found in rows.items()
    }


def landed_places(settings: Settings) -> set[tuple[int, int]]:
    """(partition, offset) of every message in the lake: what the ingester's own ledger is built from."""
    lake = Lake(settings.lake_root)
    columns = ["_kafka_partition", "_kafka_offset"]
    return {
        (row["_kafka_partition"], row["_kafka_offset"])
        for zone in OUTCOME_OF_ZONE
        for row in lake.read_columns(zone, SOURCE_NAME, columns)
    }


# homes and subjects --------------------------------------------------------------------------------------


def at_home(base: Settings, home: Path, **changes: Any) -> Settings:
    """`base` moved to a home of its own: lake, landing folders and warehouse files all under `home`."""
    return dataclasses.replace(
        base,
        home=home,
        lake_root=home / "lake",
        landing_root=home / "landing",
        warehouse_path=home / "warehouse" / "monitorlink.duckdb",
        analysts_warehouse_path=home / "warehouse" / "analysts" / "monitorlink.duckdb",
        restricted_warehouse_path=home / "warehouse" / "restricted" / "monitorlink.duckdb",
        **changes,
    )


@dataclass
class Homes:
    """Numbered homes under one folder, one per episode."""

    root: Path
    count: int = 0

    def next(self) -> Path:
        self.count += 1
        return self.root / f"episode-{self.count:03d}"


def inputs(landing: Path, patterns: Mapping[str, tuple[str, ...]]) -> list[tuple[str, Path]]:
    """(source, file) of the simulated deliveries that match, per source in name order (version order)."""
    return [
        (name, path)
        for name, globs in patterns.items()
        for path in sorted({p for pattern in globs for p in (landing / name).glob(pattern)})
    ]


def sources_of(files: list[tuple[str, Path]]) -> list[str]:
    """The sources of some inputs, in the order they first appear."""
    return list(dict.fromkeys(name for name, _ in files))


@dataclass
class Lander:
    """`monitorlink land <source>` for each source in turn, over a landing folder filled beforehand."""

    base: Settings
    homes: Homes
    files: list[tuple[str, Path]]
    name: str = "lander"

    @property
    def sources(self) -> list[str]:
        return sources_of(self.files)

    def fresh(self) -> Settings:
        settings = at_home(self.base, self.homes.next())
        for name, path in self.files:
            (settings.landing_root / name).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, settings.landing_root / name / path.name)
        return settings

    def run(self, settings: Settings) -> None:
        for name in self.sources:
            land(settings, name)

    def tick(self, settings: Settings, elapsed: float) -> None:
        """Every file is there from the start."""

    def progress(self, settings: Settings) -> int | None:
        """The lander works from its first instant (its start-up rolls back unlogged batches)."""
        return None

    def done(self, settings: Settings) -> bool:
        """The lander exits when done."""
        return False


@dataclass
class Watcher:
    """`monitorlink watch` (rounds of land + announce) while files appear in three landing folders."""

    base: Settings
    homes: Homes
    files: list[tuple[str, Path]]
    name: str = "watcher"

    @property
    def sources(self) -> list[str]:
        return sources_of(self.files)

    def fresh(self) -> Settings:
        return at_home(self.base, self.homes.next())

    def run(self, settings: Settings) -> None:
        watch(settings)

    def tick(self, settings: Settings, elapsed: float) -> None:
        """Files appear one every `FEED_GAP_S`, sources taking turns, as a sender copies them: to a
        temporary name first, then renamed (docs/operations.md, "Landing files")."""
        for name, path in self._feed()[: int(elapsed / FEED_GAP_S) + 1]:
            target = settings.landing_root / name / path.name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target.with_name(f"{path.name}.part"))
                os.replace(target.with_name(f"{path.name}.part"), target)

    def progress(self, settings: Settings) -> int | None:
        """The watcher works from its first round."""
        return None

    def done(self, settings: Settings) -> bool:
        """Every file has appeared, has its log line, and every logged batch was announced."""
        lake = Lake(settings.lake_root)
        for name in self.sources:
            logged = delivery_log(lake, name)
            wanted = {path.name for source_name, path in self.files if source_name == name}
            if not wanted <= {outcome.name for outcome in logged}:
                return False
            if not {o.batch_id for o in logged if o.batch_id} <= announced(settings, name):
                return False
        return True

    def _feed(self) -> list[tuple[str, Path]]:
        """The files in the order they appear: one of each source in turn, each source in name order."""
        queues = {name: [f for f in self.files if f[0] == name] for name in self.sources}
        longest = max(len(queue) for queue in queues.values())
        return [queue[i] for i in range(longest) for queue in queues.values() if i < len(queue)]


@dataclass
class StreamIngester:
    """`monitorlink ingest` as a service (`ingest(follow=True)`), each episode with its own consumer group."""

    base: Settings
    homes: Homes
    published: list[MessageRef]
    name: str = "ingester"

    def fresh(self) -> Settings:
        home = self.homes.next()
        return at_home(
            self.base,
            home,
            consumer_group=f"{self.base.consumer_group}-{home.name}",
            batch_max_records=INGEST_BATCH,
            batch_max_records_backlog=INGEST_BATCH,
            session_timeout_ms=SESSION_TIMEOUT_MS,
        )

    def run(self, settings: Settings) -> None:
        availability.ingest(settings, follow=True)

    def tick(self, settings: Settings, elapsed: float) -> None:
        """The events were published before the episode began."""

    def progress(self, settings: Settings) -> int | None:
        """Batch files written: the kill clock starts at the first, after the group's rebalance."""
        lake = Lake(settings.lake_root)
        return sum(len(lake.parquet_files(zone, SOURCE_NAME)) for zone in OUTCOME_OF_ZONE)

    def done(self, settings: Settings) -> bool:
        return {(ref.partition, ref.offset) for ref in self.published} <= landed_places(settings)


def snapshot_stream(base: Settings, homes: Homes, topic: str) -> tuple[StreamIngester, Settings]:
    """An ingester subject on `topic`, and an episode whose raw zone holds the two real snapshots whose
    events (figures and withdrawals) were just published there."""
    ingester = StreamIngester(dataclasses.replace(base, availability_topic=topic), homes, [])
    settings = ingester.fresh()
    published = availability.publish(settings, availability.pull(settings, SNAPSHOTS))
    ingester.published = [ref for item in published for ref in item.messages]
    return ingester, settings


def landed_ids(settings: Settings) -> set[str]:
    """Event ids in either zone of the lake."""
    lake = Lake(settings.lake_root)
    return {
        row["event_id"]
        for zone in OUTCOME_OF_ZONE
        for row in lake.read_columns(zone, SOURCE_NAME, ["event_id"])
    }


def landed_rows(settings: Settings) -> int:
    """Rows in either zone (a replayed copy of a landed event counts too, unlike its offset)."""
    lake = Lake(settings.lake_root)
    return sum(
        pq.read_metadata(path).num_rows
        for zone in OUTCOME_OF_ZONE
        for path in lake.parquet_files(zone, SOURCE_NAME)
    )


def wait_quiet(settings: Settings) -> None:
    """Wait until nothing lands for `QUIET_S`: replayed copies of events that had landed already may
    come after the last missing one, and a duplicate must be seen to be counted."""
    rows, since = landed_rows(settings), time.monotonic()
    while time.monotonic() - since < QUIET_S:
        time.sleep(workers.POLL_S)
        if landed_rows(settings) != rows:
            rows, since = landed_rows(settings), time.monotonic()


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll until `condition` holds; False when `timeout` seconds passed first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(workers.POLL_S)
    return True


def broker_killed_mid_stream(
    own: Settings, ingester: StreamIngester, settings: Settings, share: float, expected: set[str]
) -> list[str]:
    """SIGKILL the broker once `share` of the events landed, restart it empty, `replay`, and let the
    running ingester pick the replayed events up (docs/operations.md, "After a broker restart").

    Returns what went wrong on the way: an ingester that died across the restart (another is started,
    so the loss check still means something), or events that never landed in time.
    """
    failures = []
    child = workers.start(ingester, settings)
    enough = share * len(ingester.published)
    if not wait_for(lambda: landed_rows(settings) >= enough, STUCK_AFTER_S):
        failures.append(f"{settings.home.name}: {enough:.0f} events did not land before the broker kill")
    pid = broker.state(own).pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # the broker is our child: reap it, so it is gone
        os.waitpid(pid, 0)
    assert broker.start(own).healthy, "the broker did not come back"
    replay(settings)
    deadline = time.monotonic() + STUCK_AFTER_S
    while not expected <= landed_ids(settings) and time.monotonic() < deadline:
        if not child.is_alive():
            failures.append(
                f"{settings.home.name}: the ingester exited ({child.exitcode}) across the broker restart"
            )
            child = workers.start(ingester, settings)
        time.sleep(workers.POLL_S)
    if not expected <= landed_ids(settings):
        failures.append(f"{settings.home.name}: events still missing {STUCK_AFTER_S:.0f} s after the replay")
    wait_quiet(settings)
    code = workers.stop(child)
    if code is None:
        workers.kill(child)
    if code != 0:
        failures.append(f"{settings.home.name}: the ingester exited with {code} when stopped")
    return failures


# running and verifying -----------------------------------------------------------------------------------


def clean_run(subject: workers.Subject) -> tuple[Settings, float]:
    """One uninterrupted worker on a fresh episode: the truth, and how long the worker works."""
    settings = subject.fresh()
    worker = workers.run(subject, settings, time.monotonic(), None, STUCK_AFTER_S)
    assert worker.ending is workers.Ending.FINISHED, f"the clean {subject.name} run {worker.ending.value}"
    return settings, worker.seconds


@dataclass
class Verifier:
    """Settles each finished episode against the truth, keeping only the newest episode's home."""

    truth: dict[str, Item]
    items: Callable[[Settings], dict[str, Item]]
    tally: Tally = field(default_factory=Tally)
    also: Callable[[Settings, Tally], None] | None = None
    last: Settings | None = None

    def __call__(self, settings: Settings) -> None:
        self.tally.compare(self.truth, self.items(settings), settings.home.name)
        if self.also is not None:
            self.also(settings, self.tally)
        if self.last is not None:
            shutil.rmtree(self.last.home)
        self.last = settings


def hunt(subject: workers.Subject, budget: Budget, verifier: Verifier, window: float) -> workers.Hunt:
    """`workers.hunt` with this subject's seed, printing how long it took (the figures hold no timings)."""
    result = workers.hunt(
        subject,
        budget.kills_per_process,
        window,
        random.Random(f"{SEED}:{subject.name}"),
        STUCK_AFTER_S,
        verifier,
    )
    print(
        f"{subject.name}: window {window:.1f} s, {result.kills} kills over {result.episodes} episodes "
        f"in {result.seconds:.0f} s"
    )
    return result


def published_tables(settings: Settings, ignore: frozenset[str]) -> dict[str, Counter[str]]:
    """Build the warehouse from the home's lake; every published table's rows, without per-run columns
    (and without the tables and columns in `ignore`)."""
    warehouse.build(settings)
    tables: dict[str, Counter[str]] = {}
    with warehouse.connect_readonly(settings) as db:
        names = db.execute(
            "select table_name from information_schema.tables where table_schema = ?",
            [warehouse.PUBLISHED_SCHEMA],
        ).fetchall()
        for (table,) in names:
            if table in ignore:
                continue
            relation = db.table(f"{warehouse.PUBLISHED_SCHEMA}.{table}")
            columns = ", ".join(f'"{c}"' for c in relation.columns if c not in WAREHOUSE_PER_RUN | ignore)
            rows = db.sql(f"select {columns} from {warehouse.PUBLISHED_SCHEMA}.{table}").fetchall()
            tables[table] = Counter(map(repr, rows))
    return tables


def compare_warehouses(
    clean: Settings, rebuilt: Settings, tally: Tally, ignore: frozenset[str] = frozenset()
) -> None:
    """The issue's "rebuilt warehouse equal to a clean run's": table by table, rows as multisets."""
    expected, found = published_tables(clean, ignore), published_tables(rebuilt, ignore)
    for table in sorted(expected.keys() | found.keys()):
        missing = expected.get(table, Counter()) - found.get(table, Counter())
        extra = found.get(table, Counter()) - expected.get(table, Counter())
        tally.lost += bool(missing)
        tally.duplicated += bool(extra)
        if missing or extra:
            tally.note(f"warehouse {table}: {missing.total()} rows missing, {extra.total()} extra")


def figures_of(subject: str, tried: int, tally: Tally, failures: list[str]) -> Figures:
    """The row this check records for one subject."""
    return Figures(
        check=CHECK,
        subject=subject,
        tried=tried,
        landed=tally.landed,
        quarantined=tally.quarantined,
        unhandled=tally.unhandled + len(failures),
        lost=tally.lost,
        duplicated=tally.duplicated,
        examples=[*failures, *tally.examples][:MAX_EXAMPLES],
    )


# fixtures ----------------------------------------------------------------------------------------------


# the tests ---------------------------------------------------------------------------------------------


def test_random_kills_of_the_lander(
    settings: Settings, simulation: SimulationResult, budget: Budget, tmp_path: Path
) -> None:
    lander = Lander(settings, Homes(tmp_path / "lander"), inputs(simulation.landing, LANDER_INPUTS))
    clean, window = clean_run(lander)
    verifier = Verifier(delivery_items(clean, lander.sources), lambda s: delivery_items(s, lander.sources))
    result = hunt(lander, budget, verifier, window)
    if budget.full and verifier.last is not None:
        compare_warehouses(clean, verifier.last, verifier.tally)
    figures = figures_of("lander", result.kills, verifier.tally, result.failures)
    record(figures)
    assert figures.failures() == {}


@pytest.mark.integration
def test_random_kills_of_the_watcher(
    kafka_settings: Settings, simulation: SimulationResult, budget: Budget, tmp_path: Path
) -> None:
    base = dataclasses.replace(
        kafka_settings,
        batch_topic=f"{kafka_settings.availability_topic}.batches",
        alert_notifiers=("log",),
        watch_interval_s=WATCH_INTERVAL_S,
    )
    watcher = Watcher(base, Homes(tmp_path / "watcher"), inputs(simulation.landing, WATCHER_INPUTS))
    logged_batches: set[str] = set()

    def batches_and_alerts(settings: Settings, tally: Tally) -> None:
        """Remember the episode's batches (checked on the topic at the end); a failed landing is unhandled."""
        lake = Lake(settings.lake_root)
        logged_batches.update(
            o.batch_id for name in watcher.sources for o in delivery_log(lake, name) if o.batch_id
        )
        for event in alert_store.AlertStore(settings).history():
            if event["kind"] == alerts.PIPELINE_FAILURE and event["event_type"] == "alert_opened":
                tally.unhandled += 1
                tally.note(f"{settings.home.name}: {event['summary']}")

    clean, window = clean_run(watcher)
    verifier = Verifier(
        delivery_items(clean, watcher.sources),
        lambda s: delivery_items(s, watcher.sources),
        also=batches_and_alerts,
    )
    batches_and_alerts(clean, verifier.tally)
    result = hunt(watcher, budget, verifier, window)
    announced_ids = Counter(str(event["batch_id"]) for event in topic_messages(base, base.batch_topic))
    for batch_id in sorted(logged_batches - announced_ids.keys()):
        verifier.tally.lost += 1
        verifier.tally.note(f"batch {batch_id} landed but its batch event never reached the topic")
    twice = sum(count > 1 for count in announced_ids.values())
    print(f"watcher: {twice} batch events announced more than once (consumers de-duplicate by event_id)")
    if budget.full and verifier.last is not None:
        compare_warehouses(clean, verifier.last, verifier.tally)
    figures = figures_of("watcher", result.kills, verifier.tally, result.failures)
    record(figures)
    assert figures.failures() == {}


@pytest.mark.integration
def test_random_kills_of_the_ingester(kafka_settings: Settings, budget: Budget, tmp_path: Path) -> None:
    ingester, _ = snapshot_stream(
        kafka_settings, Homes(tmp_path / "ingester"), kafka_settings.availability_topic
    )
    clean, window = clean_run(ingester)
    truth = event_items(clean)
    assert len(truth) == len(ingester.published), "every published event has an id of its own"
    verifier = Verifier(truth, event_items)
    result = hunt(ingester, budget, verifier, window)
    if budget.full and verifier.last is not None:
        compare_warehouses(clean, verifier.last, verifier.tally, MICRO_BATCHES)
    figures = figures_of("ingester", result.kills, verifier.tally, result.failures)
    record(figures)
    assert figures.failures() == {}


@pytest.mark.integration
def test_broker_killed_mid_stream_loses_nothing_after_replay(
    settings: Settings, budget: Budget, tmp_path: Path
) -> None:
    own = at_home(
        settings,
        tmp_path / "broker",
        kafka_bootstrap=None,
        broker_port=free_port(),
        alert_notifiers=("log",),
        batch_topic="monitorlink.batches.v1.test",
    )
    homes, rng = Homes(tmp_path / "rounds"), random.Random(f"{SEED}:broker")
    tally, failures = Tally(), list[str]()
    state = broker.start(own)
    assert state.healthy, f"the test's own broker did not come up; see {state.log_file}"
    try:
        ingester, _ = snapshot_stream(own, homes, "availability.v1.clean")
        clean, _ = clean_run(ingester)
        truth = event_items(clean, REPLAYED_COLUMNS)
        for kill in range(BROKER_KILLS[budget.name]):
            ingester, episode = snapshot_stream(own, homes, f"availability.v1.round-{kill}")
            share = rng.uniform(*BROKER_KILL_SHARE)
            failures += broker_killed_mid_stream(own, ingester, episode, share, set(truth))
            tally.compare(truth, event_items(episode, REPLAYED_COLUMNS), episode.home.name)
    finally:
        broker.stop(own)
    figures = figures_of("broker", BROKER_KILLS[budget.name], tally, failures)
    record(figures)
    assert figures.failures() == {}
