"""What every connector gives the landing engine: the interface, and the table of rows it reads.

A connector knows one source's real format and nothing of the platform around it: it reads bytes into
rows under contract field names (`parse`) and can replace identifiers in those bytes (`redact`), so the
raw zone never keeps a citizen service number. Keeping the interface here, beside the connectors, lets
them depend on the platform's core (contracts, rules) and never on the engine that calls them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from monitorlink.core.config import Settings
from monitorlink.core.contracts import Contract
from monitorlink.core.rules import RuleFailure


@dataclass
class ParsedTable:
    """One contract's rows read from one delivery, before types and quality are checked.

    `rows` hold the delivered values under contract field names; `row_numbers` say where each row is in
    the file (line or sheet row), so every reason can name it. `flags` are warnings about the delivery as
    a whole; `problems` are critical ones (a required column missing) that stop the delivery.
    """

    contract: Contract
    rows: list[dict[str, Any]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    flags: list[RuleFailure] = field(default_factory=list)
    problems: list[RuleFailure] = field(default_factory=list)


class Connector(Protocol):
    """One source's connector module: its name, its contracts, and how to read and redact a delivery."""

    source: str
    contracts: tuple[Contract, ...]

    def parse(self, name: str, content: bytes) -> list[ParsedTable]:
        """Every table of one delivery, rows under contract field names, values as delivered."""

    def redact(self, content: bytes, replacements: Mapping[str, str]) -> bytes:
        """The delivery's bytes with the given identifier values replaced (BSN → pseudonym)."""


class PulledConnector(Connector, Protocol):
    """A connector whose deliveries the platform fetches (an API) instead of finding them in a folder."""

    def pull(self, settings: Settings) -> Iterator[tuple[str, bytes, str]]:
        """(name, bytes, origin) of every delivery to fetch now, as a landing folder would list them."""
