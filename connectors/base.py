"""What every connector gives the landing engine: the interface, and the table of rows it reads.

A connector knows one source's real format and nothing of the platform around it: it reads bytes into
rows under contract field names (`parse`) and can replace identifiers in those bytes (`redact`), so the
raw zone never keeps a citizen service number. Keeping the interface here, beside the connectors, lets
them depend on the platform's core (contracts, rules) and never on the engine that calls them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from monitorlink.core.config import Settings
from monitorlink.core.contracts import Contract
from monitorlink.core.rules import RuleFailure

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class ParsedTable:
    """One contract's rows read from one delivery, before types and quality are checked.

    `rows` hold the delivered values under contract field names; `row_numbers` say where each row is in
    the file (line or sheet row), so every reason can name it. `flags` are warnings about the delivery as
    a whole; `problems` are critical ones (a required column missing) that stop the delivery.

    A reader that has the values column by column (the CSV reader, through Arrow) sets `arrow` instead of
    `rows`: one string column per contract field it found, a row per entry of `row_numbers`. Typing them
    column by column costs a fraction of a Python dict per row (`monitorlink.ingest.delivery_prepare`).
    """

    contract: Contract
    rows: list[dict[str, Any]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    flags: list[RuleFailure] = field(default_factory=list)
    problems: list[RuleFailure] = field(default_factory=list)
    arrow: pa.Table | None = None

    @property
    def num_rows(self) -> int:
        """How many rows were read (whichever way they are held)."""
        return len(self.row_numbers)

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts under contract field names, whichever way they are held (for tests, small
        tables and checks that look at a few rows)."""
        if self.arrow is None:
            return self.rows
        found = self.arrow.to_pylist()
        return found if found else [{} for _ in self.row_numbers]


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
