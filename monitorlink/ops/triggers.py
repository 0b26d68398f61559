"""The function Airflow's triggerer runs on every message of the batch topic (`MessageQueueTrigger`).

It runs inside the triggerer process for each Kafka message, so it imports only the batch-event format
and the warehouse's watermarks: no quality gate, pandas or dbt (a test checks the import cost).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from monitorlink.core.config import load_settings
from monitorlink.ingest.events import LANDED, SCHEMA, decode
from monitorlink.warehouse.watermarks import warehouse_watermarks

log = logging.getLogger(__name__)


def landed_batch_of(message: Any, source: str) -> dict[str, Any] | None:
    """Airflow `MessageQueueTrigger` apply_function: the event when it is a landed batch of `source`.

    The trigger hands over a confluent-kafka message; returning None lets it pass (committed, ignored).
    Quarantined batches change nothing the warehouse reads, and a batch the published warehouse already
    holds needs no rebuild either, so neither triggers one.
    """
    try:
        event = decode(message.value())
    except ValueError:
        log.warning("ignored a message on the batch topic that is not a %s event", SCHEMA)
        return None
    if event.get("source") != source or event.get("event_type") != LANDED:
        return None
    built = warehouse_watermarks(load_settings()).get(source)
    if built is not None and datetime.fromisoformat(str(event["landed_at"])) <= built:
        return None  # a warehouse built since then already has it (a backlog after `make run`, a replay)
    return event
