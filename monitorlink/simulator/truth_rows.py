"""The deliveries as the simulator generated them, in the shape the truth is computed from, and the
arithmetic the marts use (DuckDB's rounding and quantiles, quarters, twelve months later)."""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from monitorlink.simulator.chain import Milestone
from monitorlink.simulator.population import quarter_bounds

Key = tuple[Any, ...]
MartRows = dict[Key, dict[str, Any]]


@dataclass(frozen=True)
class Row:
    """One row of a quarter's TMSD delivery as the simulator made it: a trajectory, its end as known then."""

    youth: str  # BSN of the simulated pool
    gemeente: str
    birth_year: int
    form: str
    referrer: str
    product: str
    provider: str
    start: date
    end: date | None
    cost: Decimal | None


@dataclass
class Revision:
    """What a `_v2` changes in the rows of the quarter it revises: late-registered ends by row index,
    and the row indexes copied as late registrations (another product of the same youth)."""

    base: str
    ended: dict[int, date] = field(default_factory=dict)
    late: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Workbook:
    """The figures of one education workbook, as generated (before any defect)."""

    period: str
    pupils: list[tuple[str, str, int, int]]  # gemeente, school type, pupils, with TLV
    absence: list[tuple[str, str, int | None, int]]  # gemeente, kind, pupils, with youth care
    arrangements: list[tuple[str, str]]  # youth (BSN), gemeente


@dataclass
class Deliveries:
    """The newest delivery of every scope and period, by file name, as generated."""

    tmsd: dict[str, tuple[str, str, list[Row]]]  # file → (gemeente, period, rows)
    chain: list[Milestone]
    education: dict[str, Workbook]


def period_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def bounds(period: str) -> tuple[date, date]:
    return quarter_bounds(int(period[:4]), int(period[5]))


def duck_round(value: float, digits: int) -> float:
    """round(value, digits) as DuckDB computes it for a double: half away from zero."""
    modifier = 10.0**digits
    return math.copysign(math.floor(abs(value) * modifier + 0.5), value) / modifier


def quantile_cont(values: list[int], q: float) -> float:
    """DuckDB's quantile_cont: linear interpolation between the closest ranks of the sorted values."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return float(ordered[low] + (rank - low) * (ordered[high] - ordered[low]))


def plus_12_months(day: date) -> date:
    """The same day a year later (DuckDB's `+ interval 12 month`: 29 February becomes 28 February)."""
    return date(day.year + 1, day.month, min(day.day, calendar.monthrange(day.year + 1, day.month)[1]))


def tmsd_rows(running: Iterable[Any], last: date) -> list[Row]:
    """The rows of a quarter's delivery from the trajectories that ran in it (tmsd.running's order)."""
    return [
        Row(
            youth=t.municipality.bsn(t.person),
            gemeente=t.municipality.delivery_code(t.person, date(last.year, last.month - 2, 1)),
            birth_year=t.birth_year,
            form=t.form,
            referrer=t.referrer,
            product=t.product,
            provider=t.provider,
            start=t.start,
            end=t.end if t.end is not None and t.end <= last else None,
            cost=None if t.cost_per_quarter is None else Decimal(f"{t.cost_per_quarter:.2f}"),
        )
        for t in running
    ]


def revised(rows: list[Row], revision: Revision) -> list[Row]:
    """A quarter's rows as its `_v2` delivers them."""
    changed = [replace(r, end=revision.ended[i]) if i in revision.ended else r for i, r in enumerate(rows)]
    late = [
        replace(changed[i], product=changed[i].product[:2] + "Z" + changed[i].product[3:])
        for i in revision.late
    ]
    return changed + late


def workbook(period: str, sheets: dict[str, list[list[Any]]], bsn_of: Callable[[str, str], str]) -> Workbook:
    """An education workbook's figures from its generated sheets (before any defect touches them)."""
    return Workbook(
        period=period,
        pupils=[(r[3], r[4], r[5], r[6]) for r in sheets["leerlingen"]],
        absence=[(r[2], r[3], r[4], r[5]) for r in sheets["verzuim"]],
        arrangements=[(bsn_of(r[3], r[0]), r[3]) for r in sheets["arrangementen"]],
    )
