"""The quality gate: Great Expectations suites kept as versioned JSON files in `expectations/`.

A suite is data, not code, so a data steward can read and review it. Each expectation carries
``meta.rule`` (a short, stable name) and ``meta.reason`` (what a person should understand) so that a
quarantined row says *which rule* it broke and *why that matters*, not just a GX type name.

Row-level failures quarantine those rows; a failure that names no rows (a table-level expectation, or an
expectation that could not even run) quarantines the whole batch — steering on a batch we could not check
does more harm than waiting for a fixed one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from monitorlink.core.rules import SEVERITIES, RuleFailure

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core.batch_definition import BatchDefinition


@cache
def _great_expectations() -> ModuleType:
    """GX, imported on first use: it costs seconds, and most processes that name a rule never validate."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # its import logs at INFO otherwise
    import great_expectations

    # Some GX modules pin their own logger to INFO on import; keep their chatter out of our output.
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return great_expectations


@dataclass
class ValidationOutcome:
    """What the gate decided for one batch."""

    suite_name: str
    row_failures: dict[int, list[RuleFailure]] = field(default_factory=dict)
    batch_failures: list[RuleFailure] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    def failures_for(self, index: int) -> list[RuleFailure]:
        """Everything that sends row `index` to quarantine (batch failures apply to every row)."""
        return self.batch_failures + self.row_failures.get(index, [])


@dataclass(frozen=True)
class Suite:
    """A suite file loaded once: its GX object and the path it came from (named in errors)."""

    path: Path
    expectation_suite: gx.ExpectationSuite

    @property
    def name(self) -> str:
        """The suite's name, e.g. ``availability.v1``."""
        return str(self.expectation_suite.name)


def load_suite(path: Path) -> Suite:
    """Load a suite file; a malformed file fails here with its path, not later inside a batch."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        suite = _great_expectations().ExpectationSuite(**document)
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(f"{path}: not a valid expectation suite ({error})") from error
    for expectation in suite.expectations:
        meta = expectation.meta or {}
        if not meta.get("rule") or not meta.get("reason"):
            raise ValueError(
                f"{path}: expectation {expectation.expectation_type} lacks meta.rule/meta.reason"
            )
        if meta.get("severity", "critical") not in SEVERITIES:
            raise ValueError(
                f"{path}: rule {meta['rule']} has severity {meta['severity']!r}; use {SEVERITIES}"
            )
    return Suite(path=path, expectation_suite=suite)


@cache
def _batch_definition() -> BatchDefinition[Any]:
    """One ephemeral GX context per process: building it costs more than validating a batch."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = _great_expectations().get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("monitorlink").add_dataframe_asset("micro_batch")
    definition: BatchDefinition[Any] = asset.add_batch_definition_whole_dataframe("whole_batch")
    return definition


def validate(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], suite: Suite) -> ValidationOutcome:
    """Run a suite over a batch of rows and sort each failure into row failures or a batch failure.

    Row `i` of the outcome is `rows[i]`; `columns` fixes the frame's columns even when a row lacks one.
    """
    import pandas as pd  # only validation needs it; naming a rule or reading the lake does not

    frame = pd.DataFrame(list(rows), columns=list(columns))
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite.expectation_suite, result_format={"result_format": "COMPLETE"})
    outcome = ValidationOutcome(suite_name=suite.name, result=result.to_json_dict())  # type: ignore[no-untyped-call]
    for expectation_result in result.results:
        if expectation_result.success:
            continue
        config = expectation_result.expectation_config
        if config is None:  # GX always sets it on results of a suite run; guard for the type checker
            continue
        column = config.kwargs.get("column") or config.kwargs.get("column_A")
        rule, reason = str(config.meta["rule"]), str(config.meta["reason"])
        severity = str(config.meta.get("severity", "critical"))
        details = expectation_result.result or {}
        indexes = details.get("unexpected_index_list")
        raised = (expectation_result.exception_info or {}).get("raised_exception")
        if not indexes or raised:
            message = (expectation_result.exception_info or {}).get("exception_message")
            suffix = f" — could not be evaluated: {message}" if raised else ""
            outcome.batch_failures.append(RuleFailure(rule, reason + suffix, column, None, severity))
            continue
        for index in indexes:
            value = frame.at[index, column] if column in frame.columns else None
            outcome.row_failures.setdefault(int(index), []).append(
                RuleFailure(rule, reason, column, _plain(value), severity)
            )
    return outcome


def _plain(value: Any) -> Any:
    """Make a cell JSON-friendly for the quarantine record (NaN → None, timestamps → ISO text)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "isoformat"):  # a pandas Timestamp (or any date/time): ISO text
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value
