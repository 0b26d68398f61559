"""`monitorlink quality report`: per landed batch, how many rows passed, how many were quarantined and why.

Read straight from the lake's validated and quarantine zones with DuckDB, so the report is what an analyst
finds in the files themselves — there is no separate bookkeeping that could disagree with them. The one
thing the zones cannot show is a delivery quarantined with no rows at all (a workbook that is really text,
an empty file): it wrote no Parquet file, so its batch and reasons come from its line in the delivery log
(`raw/<source>/deliveries.jsonl`), which also gives every quarantined delivery its sample messages.

Rules are counted in two units, never mixed: *rows* (rows carrying the rule, from the zones) and
*deliveries* (deliveries, or micro-batches of events, the rule fired in). `rule_counts` is the one place
both are summed, for this report and for `monitorlink run`'s summary alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from monitorlink.core.lake import ZONES, Lake
from monitorlink.ingest.delivery_log import DeliveryOutcome, delivery_log
from monitorlink.ingest.sources import SOURCES, Arrival, Source, lake_datasets
from monitorlink.ingest.sources import source as find_source

#: How many batch ids an error about an unknown batch offers instead.
NEWEST_SHOWN = 5


@dataclass(frozen=True)
class BatchQuality:
    """One dataset's part of a batch: rows passed, rows quarantined, and each rule with its count of rows."""

    dataset: str
    batch_id: str
    landed_at: datetime
    validated: int
    quarantined: int
    rules: dict[str, int]
    flags: dict[str, int]
    delivery: str | None


@dataclass(frozen=True)
class Batch:
    """One landed batch as the report lists it (`--limit` counts these): a delivery with every dataset it
    filled, or a micro-batch of events. Counts are rows; `reasons` are the delivery log's sample messages
    per critical rule, the only reasons a delivery quarantined with no rows has."""

    batch_id: str
    source: str
    landed_at: datetime
    delivery: str | None
    outcome: str
    validated: int
    quarantined: int
    rules: dict[str, int]
    flags: dict[str, int]
    reasons: dict[str, list[str]]
    datasets: list[BatchQuality]

    @property
    def is_quarantined(self) -> bool:
        """Whether any of it was quarantined: rows of a micro-batch, or a delivery, with or without rows."""
        return self.outcome != "validated"


@dataclass(frozen=True)
class RuleCount:
    """How often one rule fired over some batches, in each unit separately.

    `kind` is "quarantine" (a critical rule: the rows it quarantined) or "flag" (a warning on validated
    rows). `deliveries` counts the deliveries or micro-batches it fired in, `rows` the rows carrying it;
    a rule that rejected a delivery with no rows counts one delivery and no rows.
    """

    rule: str
    kind: str
    deliveries: int
    rows: int


@dataclass(frozen=True)
class QuarantinedRow:
    """One rejected row: where it came from (Kafka partition@offset, or file:row) and every reason."""

    batch_id: str
    location: str
    event_id: str | None
    reasons: list[str]


def _known_datasets() -> list[str]:
    """Every dataset the platform's sources fill, whether or not anything landed yet."""
    return sorted(lake_datasets())


def check_dataset(dataset: str | None) -> None:
    """Refuse a dataset no source fills, naming those there are: a typo must not read as an empty lake."""
    if dataset is not None and dataset not in _known_datasets():
        raise ValueError(f"unknown dataset {dataset!r}; the datasets are: {', '.join(_known_datasets())}")


def datasets(lake: Lake, dataset: str | None = None) -> list[str]:
    """Datasets of the platform's sources with anything in the validated or quarantine zone (or just
    `dataset`, if it has)."""
    names = {path.name for zone in ("validated", "quarantine") for path in (lake.root / zone).glob("*/")}
    return sorted(name for name in names & set(_known_datasets()) if dataset in (None, name))


def _source_of(dataset: str) -> Source:
    """The source that fills a dataset (every known dataset has exactly one)."""
    return next(item for item in SOURCES if dataset in item.datasets)


def _arrives_as_events(dataset: str) -> bool:
    """Whether a dataset's rows came as events (a row's place is a Kafka offset) or in deliveries (a file
    row): the source says so, the files need not be inspected."""
    return _source_of(dataset).arrival is Arrival.EVENTS


def _counts(lake: Lake, zone: str, dataset: str) -> dict[str, tuple[datetime, int]]:
    """Per batch, when its first row of this dataset landed in this zone (naive UTC) and how many rows."""
    files = [str(p) for p in lake.parquet_files(zone, dataset)]
    if not files:
        return {}
    rows = lake.rows(
        "select _batch_id, timezone('UTC', min(_ingested_at)), count(*) from read_parquet($files) group by 1",
        params={"files": files},
    )
    return {batch: (landed_at, count) for batch, landed_at, count in rows}


def _per_rule(lake: Lake, zone: str, dataset: str, column: str) -> dict[str, dict[str, int]]:
    """Per batch, how many rows carry each rule in a list column (quarantine rules or warning flags)."""
    files = [str(p) for p in lake.parquet_files(zone, dataset)]
    if not files:
        return {}
    rows = lake.rows(
        f"select _batch_id, rule, count(*) from"
        f" (select _batch_id, unnest({column}) as rule from read_parquet($files)) group by 1, 2",
        params={"files": files},
    )
    rules: dict[str, dict[str, int]] = {}
    for batch, rule, count in rows:
        rules.setdefault(batch, {})[rule] = count
    return rules


def _deliveries(lake: Lake, dataset: str) -> dict[str, str]:
    """Batch id → the file it landed from (a micro-batch of events has no file)."""
    files = [str(p) for zone in ZONES for p in lake.parquet_files(zone, dataset)]
    if not files or _arrives_as_events(dataset):
        return {}
    rows = lake.rows(
        "select distinct _batch_id, _delivery_file from read_parquet($files, union_by_name=true)",
        params={"files": files},
    )
    return dict(rows)


def batches(lake: Lake, dataset: str | None = None) -> list[BatchQuality]:
    """Every dataset's part of every batch in its zones, newest first (`report` groups them per batch)."""
    found = []
    for name in datasets(lake, dataset):
        validated, quarantined = _counts(lake, "validated", name), _counts(lake, "quarantine", name)
        rules = _per_rule(lake, "quarantine", name, "failed_rules")
        flags = {} if _arrives_as_events(name) else _per_rule(lake, "validated", name, "_quality_flags")
        deliveries = _deliveries(lake, name)
        for batch_id in validated.keys() | quarantined.keys():
            parts = [part for part in (validated.get(batch_id), quarantined.get(batch_id)) if part]
            found.append(
                BatchQuality(
                    dataset=name,
                    batch_id=batch_id,
                    landed_at=min(landed_at for landed_at, _ in parts),
                    validated=validated[batch_id][1] if batch_id in validated else 0,
                    quarantined=quarantined[batch_id][1] if batch_id in quarantined else 0,
                    rules=dict(sorted(rules.get(batch_id, {}).items())),
                    flags=dict(sorted(flags.get(batch_id, {}).items())),
                    delivery=deliveries.get(batch_id),
                )
            )
    return sorted(found, key=lambda b: (b.landed_at, b.batch_id), reverse=True)


def report(lake: Lake, dataset: str | None = None, source: str | None = None) -> list[Batch]:
    """Every batch in the lake (of one dataset or source), newest first, one per delivery or micro-batch.

    The zones give each batch's rows per dataset, the delivery logs its verdict and reasons, and the
    deliveries that landed no rows at all. With `dataset` a batch shows only its rows of that dataset, and
    a delivery without rows shows when its source fills the dataset (nothing says which one it was for).
    """
    check_dataset(dataset)
    if source is not None:
        find_source(source)  # an unknown name is an error naming the sources there are
    scope = [item for item in SOURCES if source in (None, item.name) and dataset in (None, *item.datasets)]
    grouped: dict[str, list[BatchQuality]] = {}
    for name in (name for item in scope for name in item.datasets if dataset in (None, name)):
        for part in batches(lake, name):
            grouped.setdefault(part.batch_id, []).append(part)
    logged = {
        line.batch_id: line for item in scope for line in delivery_log(lake, item.name) if line.batch_id
    }
    rowless = {batch_id for batch_id, line in logged.items() if not _landed_rows(line)}
    listed = [
        _batch(grouped.get(batch_id, []), logged.get(batch_id)) for batch_id in grouped.keys() | rowless
    ]
    return sorted(listed, key=lambda item: (item.landed_at, item.batch_id), reverse=True)


def _landed_rows(line: DeliveryOutcome) -> int:
    """Rows a logged batch put in either zone; 0 for a delivery whose file held none that could be read."""
    return sum(line.rows.values()) + sum(line.quarantined.values())


def _batch(parts: list[BatchQuality], line: DeliveryOutcome | None) -> Batch:
    """One batch from its rows per dataset and its delivery-log line; either may be missing (a delivery
    without rows has no rows in the zones, a lake older than its logs no log line), never both."""
    batch_id, source, landed_at = _origin(parts, line)
    validated = sum(part.validated for part in parts)
    quarantined = sum(part.quarantined for part in parts)
    return Batch(
        batch_id=batch_id,
        source=source.name,
        landed_at=landed_at,
        delivery=_delivery_name(source, parts, line),
        outcome=_verdict(validated, quarantined, line),
        validated=validated,
        quarantined=quarantined,
        rules=_summed(part.rules for part in parts),
        flags=_summed(part.flags for part in parts),
        reasons=_reasons(line),
        datasets=parts,
    )


def _origin(parts: list[BatchQuality], line: DeliveryOutcome | None) -> tuple[str, Source, datetime]:
    """A batch's id, source and landing time: its rows say so, and the log line of one without rows."""
    if parts:
        return parts[0].batch_id, _source_of(parts[0].dataset), min(part.landed_at for part in parts)
    assert line is not None and line.batch_id is not None, "a batch is known by its rows or its log line"
    landed_at = datetime.fromisoformat(line.processed_at).astimezone(UTC).replace(tzinfo=None)
    return line.batch_id, find_source(line.source), landed_at  # naive UTC, as DuckDB reads the zones


def _delivery_name(source: Source, parts: list[BatchQuality], line: DeliveryOutcome | None) -> str | None:
    """The file (or API fetch) a batch landed from: its rows name it, else its log line; a micro-batch of
    events has none (the log names it by its batch id)."""
    named = next((part.delivery for part in parts if part.delivery), None)
    if named is None and line is not None and source.arrival is not Arrival.EVENTS:
        return line.name
    return named


def _verdict(validated: int, quarantined: int, line: DeliveryOutcome | None) -> str:
    """validated, quarantined or partly quarantined. A delivery is quarantined whole, and only its log
    says so when it had no rows; a micro-batch of events quarantines row by row, so it can be partly."""
    if validated and quarantined:
        return "partly quarantined"
    if quarantined or (line is not None and line.outcome == "quarantined"):
        return "quarantined"
    return "validated"


def _reasons(line: DeliveryOutcome | None) -> dict[str, list[str]]:
    """Each critical rule of a logged delivery with the sample messages the log keeps (events keep none:
    their reasons are on their rows)."""
    if line is None:
        return {}
    return {rule: samples for rule, samples in sorted(line.samples.items()) if rule in line.critical}


def _summed(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Per-rule counts of several datasets added up, by rule name."""
    total: Counter[str] = Counter()
    for part in counts:
        total.update(part)
    return dict(sorted(total.items()))


def rule_counts(listed: Iterable[Batch]) -> list[RuleCount]:
    """Every rule over these batches, counted in deliveries and in rows: the one tally the report and the
    run summary both show, so the same rule in the same unit has the same number in both.

    A critical rule counts in a batch when rows carry it or its log line names it (a delivery with no
    rows); a flag when validated rows carry it. Most deliveries first.
    """
    deliveries: Counter[tuple[str, str]] = Counter()
    rows: Counter[tuple[str, str]] = Counter()
    for item in listed:
        for kind, counted in (
            ("quarantine", {**dict.fromkeys(item.reasons, 0), **item.rules}),
            ("flag", item.flags),
        ):
            for rule, count in counted.items():
                deliveries[kind, rule] += 1
                rows[kind, rule] += count
    counts = [RuleCount(rule, kind, deliveries[kind, rule], rows[kind, rule]) for kind, rule in deliveries]
    return sorted(counts, key=lambda c: (c.kind != "quarantine", -c.deliveries, -c.rows, c.rule))


def find_batch(lake: Lake, batch_id: str, dataset: str | None = None) -> Batch:
    """One batch by its id; an unknown id is an error offering the newest ones, so a typo is not taken
    for a batch without problems."""
    listed = report(lake, dataset)
    for item in listed:
        if item.batch_id == batch_id:
            return item
    newest = ", ".join(item.batch_id for item in listed[:NEWEST_SHOWN]) or "none"
    where = f" of dataset {dataset!r}" if dataset else ""
    raise ValueError(f"no batch {batch_id!r}{where} in the lake; the newest batches: {newest}")


def rejected_rows(lake: Lake, batch: Batch) -> list[QuarantinedRow]:
    """The quarantined rows of a batch, dataset by dataset (none for a delivery that had no rows)."""
    return [
        row
        for part in batch.datasets
        if part.quarantined
        for row in quarantined_rows(lake, part.dataset, part.batch_id)
    ]


def quarantined_rows(lake: Lake, dataset: str, batch_id: str) -> list[QuarantinedRow]:
    """The rejected rows of one batch with all their reasons (for files: the rows at fault first)."""
    files = [str(p) for p in lake.parquet_files("quarantine", dataset)]
    if not files:
        return []
    location, order, event = (
        # rows with a failure of their own first, then those rejected only with their delivery
        ("_delivery_file || ':' || _source_row", "failed_rules = ['delivery_rejected'], _source_row", "null")
        if not _arrives_as_events(dataset)
        else ("_kafka_partition || '@' || _kafka_offset", "_kafka_partition, _kafka_offset", "event_id")
    )
    rows = lake.rows(
        f"select _batch_id, {location}, {event}, reasons from read_parquet($files)"
        f" where _batch_id = $batch order by {order}",
        params={"files": files, "batch": batch_id},
    )
    return [QuarantinedRow(*row) for row in rows]
