"""A broken rule, as every part of the platform reports it: connectors, the quality gate, the landing engine.

It lives apart from the Great Expectations gate so that a connector or the event path can name a failure
without loading GX and pandas (seconds of import time in every process, Airflow's triggerer included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitorlink.core.pseudonym import mask_bsns

#: `critical` quarantines; `warning` lets the data pass with a flag the analyst can see.
SEVERITIES = ("critical", "warning")


@dataclass(frozen=True)
class RuleFailure:
    """One broken rule: its stable name, the readable reason, and the offending column and value."""

    rule: str
    reason: str
    column: str | None = None
    value: Any = None
    severity: str = "critical"

    @property
    def is_critical(self) -> bool:
        """Critical failures stop the row (stream feeds) or the whole delivery (file feeds)."""
        return self.severity == "critical"

    def describe(self) -> str:
        """One line for people: `rule: reason (column=value)`; a citizen service number in it is masked."""
        where = f" ({self.column}={self.value!r})" if self.column else ""
        return mask_bsns(f"{self.rule}: {self.reason}{where}")
