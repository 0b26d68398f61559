"""The lake's column layout: what every validated and quarantined row carries, for every feed.

One quarantine schema: every rejected row, whatever its feed, is `record` (the row or message as it
arrived, citizen service numbers masked), `failed_rules` and `reasons`, then where it came from and the
batch it landed in. Only the provenance differs with how a feed arrives: a file delivery names the file
and row, an event stream the topic, partition and offset. Kept free of the landing engines' heavy imports
(GX, pandas), so readers of the lake — the warehouse build, status, alerts — stay cheap to import.
"""

from __future__ import annotations

import pyarrow as pa

from monitorlink.core.contracts import Contract

#: Every quarantined row starts with these, in every dataset.
REJECTED_COLUMNS = [
    pa.field("record", pa.string()),
    pa.field("failed_rules", pa.list_(pa.string())),
    pa.field("reasons", pa.list_(pa.string())),
]
#: Every landed row (either zone) ends with these: the batch it landed in and when.
BATCH_COLUMNS = [
    pa.field("_batch_id", pa.string()),
    pa.field("_ingested_at", pa.timestamp("us", tz="UTC")),
]
#: Provenance of a row from a file (or API) delivery: the delivery, its scope, period, version, row.
DELIVERY_COLUMNS = [
    pa.field("_delivery_file", pa.string()),
    pa.field("_delivery_sha256", pa.string()),
    pa.field("_delivery_scope", pa.string()),
    pa.field("_delivery_period", pa.string()),
    pa.field("_delivery_version", pa.int32()),
    pa.field("_source_row", pa.int64()),
    pa.field("_quality_flags", pa.list_(pa.string())),
    *BATCH_COLUMNS,
]
#: Provenance of a row from an event stream: where the message was, its checksum (tells a re-delivery).
INGEST_COLUMNS = [
    pa.field("_kafka_topic", pa.string()),
    pa.field("_kafka_partition", pa.int32()),
    pa.field("_kafka_offset", pa.int64()),
    pa.field("_kafka_key", pa.string()),
    pa.field("_message_sha256", pa.string()),
    *BATCH_COLUMNS,
]
DELIVERY_QUARANTINE_SCHEMA = pa.schema([*REJECTED_COLUMNS, *DELIVERY_COLUMNS])
#: An event stream also keeps the rejected event's id, so a later copy under that id is recognised.
STREAM_QUARANTINE_SCHEMA = pa.schema([*REJECTED_COLUMNS, pa.field("event_id", pa.string()), *INGEST_COLUMNS])


def dataset_schema(contract: Contract) -> pa.Schema:
    """Schema of a file feed's rows in the validated zone: the contract's fields, then the bookkeeping."""
    return pa.schema([*contract.arrow_schema(), *DELIVERY_COLUMNS])
