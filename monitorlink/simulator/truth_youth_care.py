"""The truth of the youth-care marts, from the trajectories each quarter's newest TMSD delivery lists."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from monitorlink.simulator.population import LAST_YEAR, Municipality
from monitorlink.simulator.truth_definitions import (
    CARE_FORMS,
    TMSD_MARTS,
)
from monitorlink.simulator.truth_rows import (
    MartRows,
    Row,
    bounds,
    duck_round,
    period_of,
    plus_12_months,
)


@dataclass
class _YouthQuarter:
    birth_year: int
    categories: set[str]
    local_team: bool


def tmsd_marts(
    current: dict[tuple[str, str], list[Row]], towns: list[Municipality]
) -> tuple[dict[str, MartRows], dict[str, set[str]]]:
    """The youth-care marts, and the youths in care per quarter (the education mart links to them)."""
    youths_0_17 = {(t.code, year): t.youths(year) for t in towns for year in range(2015, 2031)}
    out: dict[str, MartRows] = {name: {} for name in TMSD_MARTS}
    quarters: dict[tuple[str, str], dict[str, _YouthQuarter]] = {}
    not_local: dict[str, set[str]] = defaultdict(set)
    in_care: dict[str, set[str]] = defaultdict(set)
    for (gemeente, period), rows in current.items():
        youths: dict[str, _YouthQuarter] = {}
        for row in rows:
            category, _, local, _ = CARE_FORMS[row.form]
            entry = youths.get(row.youth)
            if entry is None:
                youths[row.youth] = _YouthQuarter(row.birth_year, {category}, local)
            else:
                entry.birth_year = max(entry.birth_year, row.birth_year)
                entry.categories.add(category)
                entry.local_team = entry.local_team or local
            if not local:
                not_local[period].add(row.youth)
        quarters[(gemeente, period)] = youths
        in_care[period].update(youths)
    _per_1000(out, quarters, youths_0_17, [t.code for t in towns])
    _normalising(out, quarters, not_local, youths_0_17)
    _transition_18(out, quarters)
    for (gemeente, period), rows in current.items():
        _placements_referrals_flow(out, gemeente, period, rows)
    _flow_lag(out)
    _costs(out, current, towns)
    _reentry(out, current)
    return out, in_care


def _per_1000(
    out: dict[str, MartRows],
    quarters: dict[tuple[str, str], dict[str, _YouthQuarter]],
    youths_0_17: dict[tuple[str, int], int],
    codes: list[str],
) -> None:
    region: dict[tuple[str, str], set[str]] = defaultdict(set)
    delivered: dict[str, set[str]] = defaultdict(set)
    national = _national()
    for (gemeente, period), youths in quarters.items():
        counts: dict[str, int] = defaultdict(int)
        for youth, entry in youths.items():
            if not 0 <= int(period[:4]) - entry.birth_year <= 17:
                continue
            delivered[period].add(gemeente)
            forms = {"totaal", *entry.categories} | ({"door lokaal team"} if entry.local_team else set())
            for form in forms:
                counts[form] += 1
                region[(period, form)].add(youth)
        year = int(period[:4])
        for form, count in counts.items():
            out["fct_youth_care_per_1000"][(gemeente, period, form)] = _per_1000_row(
                "gemeente", count, youths_0_17[(gemeente, year)], national.get((year, form)), 1, 1
            )
    for (period, form), youths_in_region in region.items():
        year = int(period[:4])
        population = sum(youths_0_17[(code, year)] for code in codes)
        out["fct_youth_care_per_1000"][("Twente", period, form)] = _per_1000_row(
            "regio",
            len(youths_in_region),
            population,
            national.get((year, form)),
            len(delivered[period]),
            len(codes),
        )


def _per_1000_row(
    level: str, count: int, population: int, national: float | None, in_total: int, expected: int
) -> dict[str, Any]:
    return {
        "level": level,
        "youths_in_care": count,
        "youths_0_17": population,
        "per_1000": duck_round(1000.0 * count / population, 1),
        "national_per_1000_year": national,
        "gemeenten_in_total": in_total,
        "gemeenten_expected": expected,
        "is_complete": in_total == expected,
    }


def _national() -> dict[tuple[int, str], float]:
    """CBS's national figure per year and form, from the constants the simulated 85098NED is made with."""
    from monitorlink.simulator.cbs import NATIONAL_CARE_RATE, NATIONAL_YOUTHS

    total = round(NATIONAL_YOUTHS * NATIONAL_CARE_RATE)
    shares = {"totaal": 1.0, "jeugdhulp zonder verblijf": 0.93, "jeugdhulp met verblijf": 0.09}
    return {
        (year, form): duck_round(1000.0 * round(total * share) / NATIONAL_YOUTHS, 1)
        for year in range(2019, LAST_YEAR + 1)
        for form, share in shares.items()
    }


def _normalising(
    out: dict[str, MartRows],
    quarters: dict[tuple[str, str], dict[str, _YouthQuarter]],
    not_local: dict[str, set[str]],
    youths_0_17: dict[tuple[str, int], int],
) -> None:
    for (gemeente, period), youths in quarters.items():
        year = int(period[:4])
        aged = [youth for youth, entry in youths.items() if 0 <= year - entry.birth_year <= 17]
        if not aged:
            continue
        local_only = sum(1 for youth in aged if youth not in not_local[period])
        population = youths_0_17[(gemeente, year)]
        out["fct_normalising"][(gemeente, period)] = {
            "youths_local_team_only": local_only,
            "youths_referred_care": len(aged) - local_only,
            "local_team_only_per_1000": duck_round(1000.0 * local_only / population, 1),
            "referred_care_per_1000": duck_round(1000.0 * (len(aged) - local_only) / population, 1),
        }


def _transition_18(
    out: dict[str, MartRows], quarters: dict[tuple[str, str], dict[str, _YouthQuarter]]
) -> None:
    turning: dict[tuple[str, int], set[str]] = defaultdict(set)
    in_year: set[tuple[str, int]] = set()
    for (gemeente, period), youths in quarters.items():
        year = int(period[:4])
        for youth, entry in youths.items():
            in_year.add((youth, year))
            if year - entry.birth_year == 18:
                turning[(gemeente, year)].add(youth)
    last_year = max(int(period[:4]) for _, period in quarters)
    for (gemeente, year), turned in turning.items():
        continues = sum(1 for youth in turned if (youth, year + 1) in in_year)
        out["fct_transition_18"][(gemeente, year)] = {
            "youths_turning_18_in_care": len(turned),
            "youths_care_continues": continues,
            "care_continues_pct": duck_round(100.0 * continues / len(turned), 1),
            "is_follow_up_complete": year < last_year,
        }


def _placements_referrals_flow(out: dict[str, MartRows], gemeente: str, period: str, rows: list[Row]) -> None:
    first, last = bounds(period)
    placed: dict[str, set[str]] = defaultdict(set)
    newly: dict[str, set[str]] = defaultdict(set)
    referrers: dict[str, int] = defaultdict(int)
    begin = instroom = uitstroom = eind = 0
    durations = 0
    for row in rows:
        _, subcategory, _, out_of_home = CARE_FORMS[row.form]
        if out_of_home:
            placed[subcategory].add(row.youth)
            if row.start >= first:
                newly[subcategory].add(row.youth)
        if row.start >= first:
            referrers[row.referrer] += 1
            instroom += 1
        else:
            begin += 1
        if row.end is not None and row.end <= last:
            uitstroom += 1
            durations += (row.end - row.start).days
        else:
            eind += 1
    for subcategory, youths in placed.items():
        out["fct_out_of_home_placements"][(gemeente, period, subcategory)] = {
            "youths_placed": len(youths),
            "youths_newly_placed": len(newly[subcategory]),
        }
    for referrer, count in referrers.items():
        out["fct_referral_routes"][(gemeente, period, referrer)] = {
            "trajectories_started": count,
            "share_pct": duck_round(100.0 * count / instroom, 1),
        }
    out["fct_trajectory_flow"][(gemeente, period)] = {
        "begin_stand": begin,
        "instroom": instroom,
        "uitstroom": uitstroom,
        "eind_stand": eind,
        "avg_duration_days_ended": duck_round(durations / uitstroom, 1) if uitstroom else None,
        "begin_vs_previous_end": None,
    }


def _flow_lag(out: dict[str, MartRows]) -> None:
    flow = out["fct_trajectory_flow"]
    previous: dict[str, int] = {}
    for gemeente, period in sorted(flow):
        row = flow[(gemeente, period)]
        if gemeente in previous:
            row["begin_vs_previous_end"] = row["begin_stand"] - previous[gemeente]
        previous[gemeente] = row["eind_stand"]


def _costs(
    out: dict[str, MartRows], current: dict[tuple[str, str], list[Row]], towns: list[Municipality]
) -> None:
    inhabitants = {t.code: t.inhabitants for t in towns}
    sums: dict[tuple[str, int], list[Any]] = {}
    for (gemeente, period), rows in current.items():
        entry = sums.setdefault((gemeente, int(period[:4])), [Decimal(0), 0, 0])
        for row in rows:
            entry[2] += 1
            if row.cost is not None:
                entry[0] += row.cost
                entry[1] += 1
    for (gemeente, year), (cost, with_cost, total) in sums.items():
        out["fct_costs_per_inhabitant"][(gemeente, year)] = {
            "cost_eur": float(cost),
            "inhabitants": inhabitants[gemeente],
            "cost_per_inhabitant_eur": duck_round(float(cost) / inhabitants[gemeente], 2),
            "cost_coverage_pct": duck_round(100.0 * with_cost / total, 1),
        }


def _reentry(out: dict[str, MartRows], current: dict[tuple[str, str], list[Row]]) -> None:
    """Trajectories combined over the deliveries, then each youth's ends of care and returns."""
    trajectories: dict[tuple[str, str, str, date], list[Any]] = {}  # key → [period, gemeente, end]
    for (gemeente, period), rows in current.items():
        for row in rows:
            key = (row.youth, row.product, row.provider, row.start)
            entry = trajectories.get(key)
            if entry is None:
                trajectories[key] = [period, gemeente, row.end]
                continue
            if period > entry[0]:
                entry[0], entry[1] = period, gemeente
            if row.end is not None and (entry[2] is None or row.end > entry[2]):
                entry[2] = row.end
    per_youth: dict[str, list[tuple[date, date | None, str]]] = defaultdict(list)
    for (youth, _, _, start), (_, gemeente, end) in trajectories.items():
        per_youth[youth].append((start, end, gemeente))
    latest_start = max(start for _, _, _, start in trajectories)
    ends: dict[tuple[str, str], dict[str, date]] = defaultdict(dict)  # (gemeente, period) → youth → end
    for youth, spells in per_youth.items():
        for _, end, gemeente in spells:
            if end is None or any(s <= end and (e is None or e > end) for s, e, _ in spells):
                continue
            cell = ends[(gemeente, period_of(end))]
            cell[youth] = max(end, cell.get(youth, end))
    for (gemeente, period), youths in ends.items():
        returned = sum(
            1
            for youth, end in youths.items()
            if any(end < start <= plus_12_months(end) for start, _, _ in per_youth[youth])
        )
        out["fct_reentry"][(gemeente, period)] = {
            "youths_care_ended": len(youths),
            "youths_reentered_12m": returned,
            "reentry_pct": duck_round(100.0 * returned / len(youths), 1),
            "is_follow_up_complete": plus_12_months(max(youths.values())) <= latest_start,
        }
