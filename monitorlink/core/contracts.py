"""Feed contracts as code: one versioned YAML file per feed in `contracts/`.

A contract names every field with its type, whether it is required, and its allowed values or range.
The parser's Arrow schema is derived from it (`arrow_schema`); the expectation suite and the dbt models
are checked against it in the tests, so a change in one place that the others do not follow fails CI.
"""

from __future__ import annotations

import calendar
import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from monitorlink.core.config import PROJECT_ROOT

CONTRACTS_DIR = PROJECT_ROOT / "contracts"

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "list<string>": pa.list_(pa.string()),
}


@dataclass(frozen=True)
class Field:
    """One field of a contract and what must hold for it."""

    name: str
    type: str
    description: str
    required: bool = False
    accepted_values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    header: str | None = None
    renamed_from: tuple[str, ...] = ()
    pseudonym: bool = False
    reference: str | None = None

    @property
    def allowed(self) -> frozenset[str] | None:
        """The accepted values as a set (order carries no meaning), or None when any value goes.

        `reference: <seed>.<column>` takes them from a dbt seed, so the quality gate's referential check
        and the warehouse's reference table cannot drift apart.
        """
        if self.reference:
            return reference_values(self.reference)
        return frozenset(self.accepted_values) if self.accepted_values else None

    @property
    def bounds(self) -> tuple[float | None, float | None] | None:
        """(min, max) where the contract sets a range, else None."""
        return (self.min, self.max) if (self.min, self.max) != (None, None) else None

    @property
    def arrow_type(self) -> pa.DataType:
        """The Arrow type this field lands as in the lake."""
        return _ARROW_TYPES[self.type]


@dataclass(frozen=True)
class Delivery:
    """How a file feed arrives: its format, the file-name pattern, and the sheet (workbooks only).

    The pattern's named groups `scope`, `period` and `version` say what a delivery covers: a higher
    version of the same scope and period is a revision that replaces it.
    """

    format: str
    file_pattern: str
    sheet: str | None = None


@dataclass(frozen=True)
class Freshness:
    """How often a feed is expected, how long after a period ends its data arrives, and the grace after
    that: the one lateness policy of the platform.

    It runs two clocks, because either can stop while the other goes on. The landing clock catches a
    supplier who stopped sending: nothing landed for `every_days` + `grace_days`. The data clock catches
    one who keeps sending old periods (a re-landing resets the landing clock, not the data's age): the
    next period ends `every_days` after the newest one did and arrives `lag_days` after that, so the data
    is late once its newest period ended more than `every_days` + `lag_days` + `grace_days` ago.
    """

    every_days: int
    grace_days: int
    lag_days: int = 0

    @property
    def late_after_days(self) -> int:
        """Days after the last landing at which the source is late."""
        return self.every_days + self.grace_days

    @property
    def data_late_after_days(self) -> int:
        """Days after the end of the newest period at which the source's data is late."""
        return self.every_days + self.lag_days + self.grace_days

    def late_reason(self, now: datetime, landed_at: datetime | None, data_until: date | None) -> str | None:
        """Why the source is late at `now` on either clock, or None when it is not.

        `data_until` is the last day the newest data covers (`period_end`); None when that is unknown,
        and then only the landing clock speaks. Ages are compared unrounded and shown to a tenth of a day.
        """
        if landed_at is None:
            return "never landed"
        reasons = []
        landed_days = (now - landed_at).total_seconds() / 86_400
        if landed_days > self.late_after_days:
            reasons.append(
                f"no delivery for {_days(landed_days)} days"
                f" (policy: every {self.every_days} + grace {self.grace_days})"
            )
        data_days = None if data_until is None else data_age_days(data_until, now)
        if data_days is not None and data_days > self.data_late_after_days:
            reasons.append(
                f"newest data ends {data_until}, {_days(data_days)} days ago (policy: every"
                f" {self.every_days} + lag {self.lag_days} + grace {self.grace_days})"
            )
        return "; ".join(reasons) or None


def _days(days: float) -> str:
    """A number of days to a tenth, without a trailing `.0`: `130`, `106.5`."""
    return f"{days:.1f}".removesuffix(".0")


def data_age_days(data_until: date, now: datetime) -> float:
    """Days since data covering up to and including `data_until` ended (at the next midnight, UTC)."""
    ended = datetime.combine(data_until + timedelta(days=1), time(), UTC)
    return (now - ended).total_seconds() / 86_400


# The periods deliveries name (contracts' `file_pattern`) and CBS's period codes (`period_code`).
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^(\d{4})(?:JJ00)?$")
_HALF_YEAR = re.compile(r"^(\d{4})HJ0([12])$")
_QUARTER = re.compile(r"^(\d{4})(?:Q|KW0)([1-4])$")
_MONTH = re.compile(r"^(\d{4})(?:-|MM)(\d{2})$")


def period_end(period: str) -> date | None:
    """The last day a period covers, or None for a period this cannot read.

    Read: quarters `2024Q3`, months `2024-07`, years `2024`, days `2024-07-15` (a measurement's day),
    and CBS's codes `2024KW03`, `2024MM07`, `2024HJ01`, `2024JJ00`. Anything else (CBS's file names carry
    the OData version, `v4`, where others carry the period) is None, so a caller falls back to the landing
    clock alone: an unknown period never breaks a status or an alert check.
    """
    text = period.strip()
    try:
        if _DAY.match(text):
            return date.fromisoformat(text)
        if found := _YEAR.match(text):
            return date(int(found[1]), 12, 31)
        if found := _HALF_YEAR.match(text):
            return _month_end(int(found[1]), 6 * int(found[2]))
        if found := _QUARTER.match(text):
            return _month_end(int(found[1]), 3 * int(found[2]))
        if found := _MONTH.match(text):
            return _month_end(int(found[1]), int(found[2]))
    except ValueError:  # a month 13, a day 31 February, a year 0
        return None
    return None


def _month_end(year: int, month: int) -> date:
    first = date(year, month, 1)  # ValueError for a month that does not exist
    return first.replace(day=calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class Contract:
    """A feed's contract: identity, version, freshness policy, and its fields in order."""

    name: str
    version: int
    suite: Path
    description: str
    fields: tuple[Field, ...]
    freshness: Freshness
    topic: str | None = None
    key: str | None = None
    delivery: Delivery | None = None
    unique_key: tuple[str, ...] = ()
    #: Older versions of this contract that are still read (the feed's connector says how).
    reads_versions: tuple[int, ...] = ()

    @property
    def id(self) -> str:
        """`<name>.v<version>`, the spelling used for topics, suites and file names."""
        return f"{self.name}.v{self.version}"

    def field(self, name: str) -> Field:
        """One field by name; a KeyError names the contract."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.id} has no field {name!r}")

    def arrow_schema(self) -> pa.Schema:
        """The schema rows of this feed have in the validated zone (before the ingester's own columns)."""
        return pa.schema([pa.field(f.name, f.arrow_type, nullable=not f.required) for f in self.fields])


def _field(entry: dict[str, Any], source: Path) -> Field:
    if entry.get("type") not in _ARROW_TYPES:
        raise ValueError(f"{source}: field {entry.get('name')!r} has unknown type {entry.get('type')!r}")
    values = entry.get("accepted_values")
    return Field(
        name=entry["name"],
        type=entry["type"],
        description=entry.get("description", ""),
        required=bool(entry.get("required", False)),
        accepted_values=tuple(values) if values is not None else None,
        min=entry.get("min"),
        max=entry.get("max"),
        pattern=entry.get("pattern"),
        header=entry.get("header"),
        renamed_from=tuple(entry.get("renamed_from", ())),
        pseudonym=bool(entry.get("pseudonym", False)),
        reference=entry.get("reference"),
    )


@cache
def reference_values(reference: str) -> frozenset[str]:
    """The values of one column of a dbt seed, e.g. `twente_gemeenten.gm_code`."""
    seed, column = reference.split(".")
    with (PROJECT_ROOT / "dbt" / "seeds" / f"{seed}.csv").open(encoding="utf-8", newline="") as handle:
        return frozenset(row[column] for row in csv.DictReader(handle))


@cache
def load_contract(contract_id: str) -> Contract:
    """Load `contracts/<contract_id>.yaml`, e.g. `availability.v1`."""
    path = CONTRACTS_DIR / f"{contract_id}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    delivery = document.get("delivery")
    contract = Contract(
        name=document["name"],
        version=int(document["version"]),
        suite=PROJECT_ROOT / document["suite"],
        description=document.get("description", "").strip(),
        fields=tuple(_field(entry, path) for entry in document["fields"]),
        freshness=_freshness(document.get("freshness"), path),
        topic=document.get("topic"),
        key=document.get("key"),
        delivery=Delivery(**delivery) if delivery else None,
        unique_key=tuple(document.get("unique_key", ())),
        reads_versions=tuple(int(v) for v in document.get("reads_versions", ())),
    )
    if contract.id != contract_id:
        raise ValueError(f"{path}: name and version say {contract.id}, the file name says {contract_id}")
    return contract


def _freshness(entry: Any, path: Path) -> Freshness:
    """A contract's freshness policy; a contract without one cannot say when its source is late.

    `lag_days` may be left out (0: the data is expected as soon as its period ends, as for events).
    """
    try:
        policy = Freshness(int(entry["every_days"]), int(entry["grace_days"]), int(entry.get("lag_days", 0)))
    except (TypeError, KeyError, ValueError, AttributeError) as error:
        raise ValueError(
            f"{path}: freshness needs every_days and grace_days (and optionally lag_days) as whole numbers"
        ) from error
    if policy.every_days < 1 or policy.grace_days < 0 or policy.lag_days < 0:
        raise ValueError(
            f"{path}: freshness every_days must be at least 1, and grace_days and lag_days at least 0"
        )
    return policy


# For each kind of rule: what the contract says for a field, and how a GX expectation / dbt test says it.
_GX_RULES: dict[str, tuple[Callable[[Field], Any], Callable[[dict[str, Any]], Any]]] = {
    "expect_column_values_to_not_be_null": (lambda f: True if f.required else None, lambda kw: True),
    "expect_column_values_to_be_in_set": (lambda f: f.allowed, lambda kw: frozenset(kw["value_set"])),
    "expect_column_values_to_be_between": (
        lambda f: f.bounds,
        lambda kw: (kw.get("min_value"), kw.get("max_value")),
    ),
    "expect_column_values_to_match_regex": (lambda f: f.pattern, lambda kw: kw["regex"]),
}
_DBT_RULES: dict[str, tuple[Callable[[Field], Any], Callable[[dict[str, Any]], Any]]] = {
    # A field with a reference is checked in the warehouse by a relationships test to that seed instead.
    "accepted_values": (
        lambda f: None if f.reference else f.allowed,
        lambda args: frozenset(args["values"]),
    ),
    "relationships": (
        lambda f: f.reference,
        lambda args: _seed_name(args["to"]) + "." + args["field"],
    ),
    "in_range": (lambda f: f.bounds, lambda args: (args.get("min_value"), args.get("max_value"))),
}


def _seed_name(ref: str) -> str:
    """`ref('twente_gemeenten')` → `twente_gemeenten`."""
    return ref.removeprefix("ref('").removesuffix("')")


def suite_mismatches(contract: Contract, suite: dict[str, Any]) -> list[str]:
    """Where an expectation suite (its JSON document) disagrees with the contract; empty when in step.

    Required fields need a not-null expectation; accepted values, ranges and patterns need the same
    expectation with the same arguments; and the suite may only name fields the contract has.
    Conditional expectations (`row_condition`: a rule across fields, e.g. only a withdrawal needs a
    full-state feed) are the suite's own, as the contract speaks of one field at a time.
    """
    names = {f.name for f in contract.fields}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    problems = []
    for expectation in suite["expectations"]:
        kwargs = expectation["kwargs"]
        named = [kwargs[key] for key in ("column", "column_A", "column_B") if key in kwargs]
        for column in named + list(kwargs.get("column_list", [])):
            # `_`-columns are the platform's own delivery bookkeeping, not the feed's.
            if column not in names and not column.startswith("_"):
                problems.append(f"the suite names {column!r}, which {contract.id} does not have")
        if "column" in kwargs and "row_condition" not in kwargs:
            found[(expectation["type"], kwargs["column"])] = kwargs
        if expectation["type"] == "expect_compound_columns_to_be_unique":
            found[(expectation["type"], "")] = kwargs
    if contract.unique_key:
        unique = found.get(("expect_compound_columns_to_be_unique", ""), {}).get("column_list", [])
        if [c for c in unique if not c.startswith("_")] != list(contract.unique_key):
            problems.append(
                f"{contract.id} has unique key {list(contract.unique_key)}; the suite checks {unique}"
            )
    for f in contract.fields:
        for rule, (wanted, read) in _GX_RULES.items():
            kwargs = found.get((rule, f.name))
            if wanted(f) != (read(kwargs) if kwargs else None):
                problems.append(
                    f"{f.name}: {contract.id} says {wanted(f)!r}; the suite's {rule} says {kwargs!r}"
                )
    return problems


def staging_mismatches(
    contract: Contract, staging_sql: str, staging_yml: dict[str, Any], model_name: str | None = None
) -> list[str]:
    """Where a dbt staging model (its SQL and its properties file) disagrees with the contract.

    The model must select every contract field (renaming is fine: `quality as figure_quality`, and so is
    a default: `coalesce(event_type, 'figure') as event_type`), and its
    accepted_values and in_range tests must say what the contract says, under the renamed column.
    """
    renamed = dict(re.findall(r"^\s*(?:timezone\('UTC', )?(\w+)\)? as (\w+),?$", staging_sql, re.MULTILINE))
    # a default for what older contract versions lacked: `coalesce(event_type, 'figure') as event_type`
    renamed |= dict(re.findall(r"^\s*coalesce\((\w+), [^)]*\) as (\w+),?$", staging_sql, re.MULTILINE))
    selected = set(re.findall(r"^\s*(\w+),?$", staging_sql, re.MULTILINE)) | set(renamed)
    problems = [
        f"{f.name}: in {contract.id}, not selected by the model"
        for f in contract.fields
        if f.name not in selected
    ]
    models = staging_yml["models"]
    (model,) = [m for m in models if m["name"] == model_name] if model_name else models
    tests = {column["name"]: column.get("data_tests", []) for column in model.get("columns", [])}
    for f in contract.fields:
        column = renamed.get(f.name, f.name)
        declared = {
            name: body.get("arguments", {})
            for test in tests.get(column, [])
            if isinstance(test, dict)
            for name, body in test.items()
        }
        for rule, (wanted, read) in _DBT_RULES.items():
            got = read(declared[rule]) if rule in declared else None
            if (wanted(f) is not None and got != wanted(f)) or (got is not None and wanted(f) is None):
                problems.append(
                    f"{column}: {contract.id} says {wanted(f)!r}; the dbt test {rule} says {got!r}"
                )
    return problems


def source_mismatches(contract: Contract, sources_yml: dict[str, Any]) -> list[str]:
    """Where the dbt source table of a dataset disagrees with the contract (columns and not-null tests).

    The table is the one that reads the dataset's lake input (`lake_inputs.<dataset>` in its location);
    dbt names it after the entity (system → entity), which need not be the dataset's name.
    """
    reads = f'.get("{contract.name}",'
    tables = [
        t
        for source in sources_yml["sources"]
        for t in source["tables"]
        if reads in str(t.get("meta", {}).get("external_location", ""))
    ]
    if len(tables) != 1:
        return [f"{contract.id}: expected one dbt source table reading {contract.name}, found {len(tables)}"]
    columns = {c["name"]: c.get("data_tests", []) for c in tables[0].get("columns", [])}
    problems = [
        f"{name}: a source column {contract.id} does not have"
        for name in columns.keys() - {f.name for f in contract.fields}
    ]
    for f in contract.fields:
        if f.name not in columns:
            problems.append(f"{f.name}: in {contract.id}, not documented in the dbt source")
        elif f.required != ("not_null" in columns[f.name]):
            problems.append(
                f"{f.name}: {contract.id} says required={f.required}; the source's not_null disagrees"
            )
    return problems
