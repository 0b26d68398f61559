"""A delivery between its bytes and the lake: name → parse → pseudonymise → type, every problem a failure.

The first half of landing a delivery, apart from the processor that decides and writes (`deliveries`):
what a file name says it covers, the connector's parse (any exception of a parser becomes the rule
`file_readable`), BSNs replaced by keyed pseudonyms in pseudonym columns and masked anywhere else, and
every value in its contract type. Nothing here touches the lake.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from connectors.base import Connector, ParsedTable
from connectors.files import SUPPRESSED, bsns_in_text, to_contract_type
from monitorlink.core.contracts import Contract
from monitorlink.core.pseudonym import (
    BSN_MASK,
    MissingPseudonymKey,
    bsn_tokens,
    is_bsn,
    mask_bsns,
    pseudonym_key,
    pseudonymise,
)
from monitorlink.core.rules import RuleFailure


@dataclass(frozen=True)
class DeliveryName:
    """What a file name says a delivery covers; a higher version revises the same scope and period."""

    scope: str
    period: str
    version: int


def parse_name(contract: Contract, name: str) -> DeliveryName | None:
    """The scope, period and version in a file name, or None when it does not follow the contract."""
    assert contract.delivery is not None, f"{contract.id} is not a file feed"
    match = re.match(contract.delivery.file_pattern, name)
    if match is None:
        return None
    return DeliveryName(match["scope"], match["period"], int(match["version"]))


@dataclass
class PreparedTable:
    """One contract's rows of a delivery in contract types, each with the rules it broke so far."""

    contract: Contract
    rows: list[dict[str, Any]]
    row_numbers: list[int]
    row_failures: list[list[RuleFailure]]
    batch_failures: list[RuleFailure]


@dataclass
class PreparedDelivery:
    """A delivery between reading and landing: its tables, identifier replacements and failures."""

    name: str
    origin: str
    content: bytes
    sha256: str
    delivery: DeliveryName | None
    tables: list[PreparedTable]
    replacements: dict[str, str] = field(default_factory=dict)
    delivery_failures: list[RuleFailure] = field(default_factory=list)

    def failures(self) -> Iterator[tuple[str, int | None, RuleFailure]]:
        """Every failure with the dataset and file row it concerns (None for the delivery as a whole)."""
        for failure in self.delivery_failures:
            yield "", None, failure
        for table in self.tables:
            for failure in table.batch_failures:
                yield table.contract.name, None, failure
            for number, failures in zip(table.row_numbers, table.row_failures, strict=True):
                for failure in failures:
                    yield table.contract.name, number, failure

    @property
    def is_rejected(self) -> bool:
        return any(failure.is_critical for _, _, failure in self.failures())


def prepare(connector: Connector, name: str, content: bytes, origin: str, digest: str) -> PreparedDelivery:
    """Parse a delivery, pseudonymise and type its rows; every problem becomes a failure, never an error.

    Only a missing pseudonym key raises: without it no delivery of a person-level feed may land.
    """
    delivery = parse_name(connector.contracts[0], name)
    prepared = PreparedDelivery(name, origin, content, digest, delivery, [])
    if delivery is None:
        pattern = connector.contracts[0].delivery.file_pattern  # type: ignore[union-attr]
        reason = f"file name does not match {pattern}; scope, period and version are unknown"
        prepared.delivery_failures.append(RuleFailure("file_name_matches_contract", reason, "file", name))
    try:
        parsed = connector.parse(name, content)
    except ValueError as error:
        reason = f"the file could not be read: {error}"
        prepared.delivery_failures.append(RuleFailure("file_readable", reason, "file", name))
        parsed = []
    except MissingPseudonymKey:
        raise
    except Exception as error:
        # Any other error is a parser meeting bytes it cannot read (csv's field limit, a corrupt zip
        # member, recursion): quarantine this file rather than hold up every delivery after it.
        reason = f"the file could not be read ({type(error).__name__}): {error}"
        prepared.delivery_failures.append(RuleFailure("file_readable", reason, "file", name))
        parsed = []
    # Only feeds with pseudonym columns need the key (read per delivery, so a missing one stops it).
    needs_key = any(f.pseudonym for c in connector.contracts for f in c.fields)
    key = pseudonym_key() if needs_key else b""
    for table in parsed:
        prepared.tables.append(typed_table(table, key, prepared.replacements))
    return prepared


def typed_table(parsed: ParsedTable, key: bytes, replacements: dict[str, str]) -> PreparedTable:
    """A parsed table's rows in contract types: BSNs pseudonymised (pseudonym columns) or masked (text)."""
    table = PreparedTable(parsed.contract, [], parsed.row_numbers, [], parsed.flags + parsed.problems)
    for raw in parsed.rows:
        row: dict[str, Any] = {}
        failures: list[RuleFailure] = []
        for f in parsed.contract.fields:
            value = raw.get(f.name)
            if f.pseudonym and value is not None and is_bsn(str(value).strip()):
                bsn = str(value).strip()
                value = replacements[bsn] = pseudonymise(bsn, key)
                reason = "a citizen service number was delivered; replaced by its keyed pseudonym"
                failures.append(RuleFailure("bsn_pseudonymised", reason, f.name, None, "warning"))
            elif isinstance(value, str) and (found := bsn_tokens(value)):
                for bsn in found:
                    replacements.setdefault(bsn, BSN_MASK)
                value = mask_bsns(value)
                reason = f"a citizen service number in {f.name} was removed ({BSN_MASK})"
                failures.append(RuleFailure("bsn_removed", reason, f.name, None, "warning"))
            try:
                typed = to_contract_type(value, f)
            except ValueError as error:
                reason = f"value does not fit the contract type {f.type}: {error}"
                failures.append(RuleFailure(f"type_{f.name}", reason, f.name, _shown(value)))
                typed = None
            if typed is SUPPRESSED:
                reason = "value suppressed ('.') by the source; read as empty"
                failures.append(RuleFailure("suppressed_value", reason, f.name, ".", "warning"))
                typed = None
            row[f.name] = typed
        table.rows.append(row)
        table.row_failures.append(failures)
    return table


def mask_bsns_outside_rows(prepared: PreparedDelivery) -> None:
    """Numbers the rows did not show (a file that could not be read, an envelope field) are masked in
    the raw copy too; a workbook's connector searches its own cells."""
    if prepared.content.startswith(b"PK"):
        return
    for bsn in bsns_in_text(prepared.content):
        prepared.replacements.setdefault(bsn, BSN_MASK)


def _shown(value: Any) -> Any:
    """A value as it may appear in a reason: plain text or number, never a long blob or a BSN."""
    if isinstance(value, int | float):
        return BSN_MASK if is_bsn(str(value)) else value
    return mask_bsns(str(value)[:80]).encode("utf-8", "backslashreplace").decode("utf-8")
