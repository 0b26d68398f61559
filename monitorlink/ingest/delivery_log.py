"""The delivery log: one JSON line per landed batch of any source, `raw/<source>/deliveries.jsonl`.

Every feed logs the same way: a file or API delivery gets a line per decision (validated, quarantined,
re-delivery ignored), an event stream a line per micro-batch. Batch events, alerts, status and the
warehouse's quality marts read only this log, so they treat every source alike. It stays free of the
landing engines' heavy imports (GX, pandas): reading what happened must be cheap.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from monitorlink.core.lake import Lake, write_atomic


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


def delivery_log_path(lake: Lake, source: str) -> Path:
    """Where a source's delivery log lives: next to its raw-zone manifest."""
    return lake.zone("raw", source) / "deliveries.jsonl"


def rewrite_delivery_log(lake: Lake, source: str, replacements: list[DeliveryOutcome]) -> None:
    """Replace the log lines of re-processed deliveries (same batch id) in place, atomically."""
    by_batch = {outcome.batch_id: outcome for outcome in replacements}
    lines = [by_batch.get(outcome.batch_id, outcome) for outcome in delivery_log(lake, source)]
    text = "".join(json.dumps(asdict(outcome), ensure_ascii=False) + "\n" for outcome in lines)
    write_atomic(delivery_log_path(lake, source), text.encode("utf-8"))


def delivery_log(lake: Lake, source: str) -> list[DeliveryOutcome]:
    """Every decision ever taken on a source's deliveries, oldest first (one line per batch id).

    Two members of an ingester group may both log a batch one of them wrote (one repairing the log after
    a crash while the other finishes): the first line of a batch id counts.
    """
    path = delivery_log_path(lake, source)
    if not path.exists():
        return []
    outcomes, batches = [], set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line:
            continue
        outcome = DeliveryOutcome(**json.loads(line))
        if outcome.batch_id is not None and outcome.batch_id in batches:
            continue
        batches.add(outcome.batch_id)
        outcomes.append(outcome)
    return outcomes


def append_delivery_log(lake: Lake, source: str, outcome: DeliveryOutcome) -> None:
    """Add one decision at the end of the source's log (the landing engine's only write)."""
    path = delivery_log_path(lake, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(outcome), ensure_ascii=False) + "\n")
