"""The delivery log: one JSON line per landed batch of any source, `raw/<source>/deliveries.jsonl`.

Every feed logs the same way: a file or API delivery gets a line per decision (validated, quarantined,
re-delivery ignored), an event stream a line per micro-batch. Batch events, alerts, status and the
warehouse's quality marts read only this log, so they treat every source alike. It stays free of the
landing engines' heavy imports (GX, pandas): reading what happened must be cheap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from monitorlink.core.journal import Journal
from monitorlink.core.lake import Lake


@dataclass
class DeliveryOutcome:
    """What happened to one delivery or micro-batch; one line of the delivery log.

    A delivery lands whole: `rows` are its rows per dataset, in the zone its `outcome` names. A micro-batch
    of events lands row by row: `rows` are the validated ones and `quarantined` those it quarantined.
    """

    source: str
    name: str
    received_sha256: str
    outcome: str
    origin: str = ""
    scope: str | None = None
    period: str | None = None
    version: int | None = None
    batch_id: str | None = None
    raw_path: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    critical: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)
    pseudonymised: int = 0
    duplicate_of: str | None = None
    processed_at: str = ""
    quarantined: dict[str, int] = field(default_factory=dict)


def delivery_journal(lake: Lake, source: str) -> Journal:
    """A source's delivery log, next to its raw-zone manifest (a file, or one object per line)."""
    return lake.journal("raw", source, "deliveries.jsonl")


def rewrite_delivery_log(lake: Lake, source: str, replacements: list[DeliveryOutcome]) -> None:
    """Replace the log lines of re-processed deliveries (same batch id) in place, atomically."""
    by_batch = {outcome.batch_id: asdict(outcome) for outcome in replacements}
    delivery_journal(lake, source).rewrite(lambda line: by_batch.get(line.get("batch_id"), line))


def delivery_log(lake: Lake, source: str) -> list[DeliveryOutcome]:
    """Every decision ever taken on a source's deliveries, oldest first (one line per batch id).

    Two members of an ingester group may both log a batch one of them wrote (one repairing the log after
    a crash while the other finishes): the first line of a batch id counts.
    """
    outcomes, batches = [], set()
    for line in delivery_journal(lake, source).records():
        outcome = DeliveryOutcome(**line)
        if outcome.batch_id is not None and outcome.batch_id in batches:
            continue
        batches.add(outcome.batch_id)
        outcomes.append(outcome)
    return outcomes


def append_delivery_log(lake: Lake, source: str, outcome: DeliveryOutcome) -> None:
    """Add one decision at the end of the source's log (the landing engine's only write)."""
    delivery_journal(lake, source).append([asdict(outcome)])
