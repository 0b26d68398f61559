"""Child-protection chain: monthly milestone deliveries per chain partner, as JSON.

`keten_<partner>_<yyyy>-<mm>_v<n>.json` holding `{"schema_version": 1, "partner": …, "period": …,
"records": [{…milestone…}]}`. Milestones of one case arrive out of order and from different partners;
putting them in order is the warehouse's job, not the connector's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from connectors.base import ParsedTable
from connectors.files import decode, read_records, redact_text
from monitorlink.core.contracts import Contract, load_contract

CONTRACT = load_contract("chain.v1")
source = CONTRACT.name
contracts: tuple[Contract, ...] = (CONTRACT,)


def parse(name: str, content: bytes) -> list[ParsedTable]:
    """The milestones of one delivery; a document that is not the agreed envelope raises ValueError."""
    text, _ = decode(content)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error})") from error
    records = document.get("records") if isinstance(document, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError("expected an object with a list of objects under 'records'")
    if document.get("schema_version") != CONTRACT.version:
        raise ValueError(
            f"schema_version {document.get('schema_version')!r}; this connector reads {CONTRACT.version}"
        )
    return [read_records(records, CONTRACT)]


def redact(content: bytes, replacements: Mapping[str, str]) -> bytes:
    """The document with delivered citizen service numbers replaced by their pseudonyms."""
    return redact_text(content, replacements)
