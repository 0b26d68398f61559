"""The ground truth of a simulation: every KPI mart's figures as delivered data show them, without defects.

`simulate` writes `truth.json` beside `manifest.json`. Each figure is computed here from the simulator's
own objects — the trajectories each quarter's TMSD delivery lists (and what a `_v2` revision changes in
them), the chain milestones each partner-month delivers, the figures each education workbook holds, the
populations behind the CBS tables — never from the written files and never with platform code. A youth
is the BSN of the simulated pool (the pseudonym links exactly those); a trajectory is a youth + product
+ provider + start date, as TMSD identifies it.

For each mart the file holds its key, a definition per column (the rule implemented here, matching the
mart's documented KPI definition), and its rows. For each injected defect of the manifest it holds what
the defect does to the delivered data (`effect`) and which mart rows it therefore changes (`affects`,
found by computing the truth again without the quarantined delivery, or with the truncated file or the
suppressed cells): the only rows where the warehouse may differ from the truth. Defects the platform
repairs (delimiter, encoding, headers, renamed columns, raw BSNs, totals rows) and ignored re-deliveries
change nothing, so they affect no row.
"""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from monitorlink.simulator.chain import Milestone
from monitorlink.simulator.population import LAST_YEAR, Municipality, quarter_bounds

Key = tuple[Any, ...]
MartRows = dict[Key, dict[str, Any]]

#: hulpvorm → (CBS category, CBS subcategory, by the local team, out-of-home placement): the platform's
#: forms of care (dbt seed zorgvormen), restated here so the truth does not read the platform's files.
CARE_FORMS: dict[str, tuple[str, str, bool, bool]] = {
    "wijkteam": ("jeugdhulp zonder verblijf", "jeugdhulp door lokaal team", True, False),
    "ambulant": ("jeugdhulp zonder verblijf", "ambulante jeugdhulp", False, False),
    "daghulp": ("jeugdhulp zonder verblijf", "daghulp", False, False),
    "pleegzorg": ("jeugdhulp met verblijf", "pleegzorg", False, True),
    "gezinsgericht": ("jeugdhulp met verblijf", "gezinsgericht (gezinshuis)", False, True),
    "gesloten": ("jeugdhulp met verblijf", "gesloten plaatsing", False, True),
    "overig verblijf": ("jeugdhulp met verblijf", "overig verblijf (residentieel)", False, True),
    "OTS": ("jeugdbescherming", "ondertoezichtstelling", False, False),
    "voorlopige OTS": ("jeugdbescherming", "voorlopige ondertoezichtstelling", False, False),
    "voogdij": ("jeugdbescherming", "voogdij", False, False),
    "jeugdreclassering": ("jeugdreclassering", "jeugdreclassering", False, False),
}
CHAIN_STEPS = (
    (1, "melding", "verzoek_onderzoek", "melding → verzoek onderzoek"),
    (2, "verzoek_onderzoek", "start_onderzoek", "verzoek → start onderzoek"),
    (3, "start_onderzoek", "rekest", "onderzoek → rekest"),
    (4, "rekest", "uitspraak", "rekest → uitspraak"),
    (5, "uitspraak", "jeugdbeschermer_toegewezen", "uitspraak → jeugdbeschermer"),
)
SPECIAL_EDUCATION = ("SO", "VSO", "SBO")
#: The quarters dim_period knows: a chain case can wait in any of them.
PERIOD_YEARS = (2015, 2030)

_ROUNDING = "round(x, n) rounds half away from zero, as DuckDB rounds a double"
_AGE = (
    "age = the quarter's year − the youngest birth year delivered for the youth in that "
    "municipality-quarter (TMSD has birth years only; the simulator draws one per trajectory)"
)
_IN_CARE = (
    "in care in a quarter = in a row of the quarter's newest TMSD delivery (a trajectory running in it)"
)
#: Per mart: its key columns and the definition implemented for each column.
MARTS: dict[str, dict[str, Any]] = {
    "fct_youth_care_per_1000": {
        "key": ["gemeente_code", "period_key", "care_form"],
        "definitions": {
            "youths_in_care": f"distinct youths aged 0–17 in care in the quarter; {_IN_CARE}; {_AGE}; a "
            "youth counts under totaal and under each form (CBS category of a hulpvorm, 'door lokaal team' = "
            "wijkteam) of any of its rows; region rows (Twente) count each youth once",
            "youths_0_17": "CBS 03759ned youths 0–17 on 1 January of the quarter's year (Twente: the sum)",
            "per_1000": f"round(1000 × youths_in_care / youths_0_17, 1); {_ROUNDING}",
            "national_per_1000_year": "round(1000 × CBS 85098NED NL01 youths in care ÷ NL01 youths 0–17, 1), "
            "for totaal and with/without stay only",
            "level": "gemeente, or regio for Twente",
            "gemeenten_in_total": "1; region: municipalities with at least one youth 0–17 in care",
            "gemeenten_expected": "1; region: the 14 municipalities",
            "is_complete": "municipality rows true; region rows: gemeenten_in_total = gemeenten_expected",
        },
    },
    "fct_normalising": {
        "key": ["gemeente_code", "period_key"],
        "definitions": {
            "youths_local_team_only": f"youths 0–17 in care whose rows of the quarter, in any municipality, "
            f"are all wijkteam; {_AGE}",
            "youths_referred_care": "the other youths 0–17 in care in the quarter",
            "local_team_only_per_1000": f"round(1000 × youths_local_team_only / youths 0–17, 1); {_ROUNDING}",
            "referred_care_per_1000": f"round(1000 × youths_referred_care / youths 0–17, 1); {_ROUNDING}",
        },
    },
    "fct_out_of_home_placements": {
        "key": ["gemeente_code", "period_key", "placement_type"],
        "definitions": {
            "youths_placed": "distinct youths (all ages) with a row of the quarter's delivery whose hulpvorm "
            "is an out-of-home placement of this CBS subcategory",
            "youths_newly_placed": "of them, youths with such a row starting on or after the quarter's start",
        },
    },
    "fct_reentry": {
        "key": ["gemeente_code", "period_key"],
        "definitions": {
            "youths_care_ended": "a trajectory (youth + product + provider + start, combined over all "
            "newest deliveries, end = the latest end delivered, municipality = that of its latest quarter) "
            "ends care "
            "when no trajectory of the youth starts on or before its end and runs past it (or has no end); "
            "per youth, municipality and quarter of the end the latest such end counts; distinct youths",
            "youths_reentered_12m": "of them, youths with a trajectory starting after that end and on or "
            "before the same day 12 months later (29 Feb → 28 Feb)",
            "reentry_pct": f"round(100 × youths_reentered_12m / youths_care_ended, 1); {_ROUNDING}",
            "is_follow_up_complete": "the cell's latest end + 12 months ≤ the latest start delivered",
        },
    },
    "fct_referral_routes": {
        "key": ["gemeente_code", "period_key", "referrer"],
        "definitions": {
            "trajectories_started": "rows of the quarter's newest delivery with this referrer starting on or "
            "after the quarter's first day",
            "share_pct": f"round(100 × trajectories_started / the municipality-quarter's starts, 1); "
            f"{_ROUNDING}",
        },
    },
    "fct_trajectory_flow": {
        "key": ["gemeente_code", "period_key"],
        "definitions": {
            "begin_stand": "rows of the quarter's newest delivery starting before the quarter",
            "instroom": "rows starting in the quarter",
            "uitstroom": "rows with an end (as delivered) on or before the quarter's last day",
            "eind_stand": "rows without an end, or ending after the quarter",
            "avg_duration_days_ended": f"round(mean(end − start, days) of the uitstroom rows, 1); "
            f"{_ROUNDING}",
            "begin_vs_previous_end": "begin_stand − eind_stand of the municipality's previous quarter "
            "delivered",
        },
    },
    "fct_transition_18": {
        "key": ["gemeente_code", "year"],
        "definitions": {
            "youths_turning_18_in_care": f"distinct youths in care in a quarter of the year aged 18; {_AGE}",
            "youths_care_continues": "of them, youths in care (any age, any municipality) in the next year",
            "care_continues_pct": f"round(100 × youths_care_continues / youths_turning_18_in_care, 1); "
            f"{_ROUNDING}",
            "is_follow_up_complete": f"year < {LAST_YEAR}, the last year delivered",
        },
    },
    "fct_costs_per_inhabitant": {
        "key": ["gemeente_code", "year"],
        "definitions": {
            "cost_eur": "sum of kosten_eur (exact cents) over the rows of the year's newest deliveries",
            "inhabitants": "CBS 03759ned inhabitants on 1 January",
            "cost_per_inhabitant_eur": f"round(cost_eur / inhabitants, 2); {_ROUNDING}",
            "cost_coverage_pct": f"round(100 × rows with a cost / rows, 1); {_ROUNDING}",
        },
    },
    "fct_chain_lead_times": {
        "key": ["gemeente_code", "period_key", "step_order"],
        "definitions": {
            "step": "the step's label",
            "cases": "cases with both milestones of the step (each at its first delivered occurrence), in "
            "the quarter of the later milestone",
            "median_days": "median of the lead times in days (calendar days between the two UTC dates); "
            "continuous: the mean of the two middle values for an even count",
            "p90_days": "continuous 90th percentile: sorted values v, r = (n − 1) × 0.9, "
            "v[floor r] + (r − floor r) × (v[ceil r] − v[floor r]) (DuckDB quantile_cont)",
            "cases_out_of_order": "cases whose later milestone has the earlier date (negative lead time)",
        },
    },
    "fct_chain_waiting_for_guardian": {
        "key": ["gemeente_code", "period_key"],
        "definitions": {
            "cases_waiting": "cases with an uitspraak on or before the quarter's last day and neither "
            "jeugdbeschermer_toegewezen nor einde_maatregel by then (UTC dates), for quarters ending on or "
            "before the newest milestone's date",
            "cases_waiting_over_6_weeks": "of them, cases whose ruling lies more than 42 days before the "
            "quarter's last day",
            "longest_wait_days": "the most days from a ruling to the quarter's last day",
        },
    },
    "fct_education_youth_care": {
        "key": ["gemeente_code", "period_key"],
        "definitions": {
            "pupils": "sum of the pupils sheet's counts of the municipality over the quarter's newest "
            "workbooks (all samenwerkingsverbanden)",
            "pupils_special_education": "of them, pupils of SO, VSO and SBO schools",
            "special_education_pct": f"round(100 × pupils_special_education / pupils, 2); {_ROUNDING}",
            "pupils_with_tlv": "sum of the pupils sheet's TLV counts",
            "thuiszitters": "sum of langdurig relatief and absoluut verzuim (not vrijstelling)",
            "thuiszitters_with_youth_care": "their sum of 'Waarvan met jeugdhulp'",
            "absence_cells_suppressed_at_source": "absence cells delivered hidden ('.')",
            "pupils_with_arrangement": "distinct pupils with an arrangement in the municipality in the "
            "quarter",
            "pupils_with_arrangement_and_youth_care": "of them, pupils in care (any age, any municipality) "
            "in the same quarter",
        },
    },
}
TMSD_MARTS = (
    "fct_youth_care_per_1000",
    "fct_normalising",
    "fct_out_of_home_placements",
    "fct_reentry",
    "fct_referral_routes",
    "fct_trajectory_flow",
    "fct_transition_18",
    "fct_costs_per_inhabitant",
)
CHAIN_MARTS = ("fct_chain_lead_times", "fct_chain_waiting_for_guardian")
EDUCATION_MARTS = ("fct_education_youth_care",)


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


def _bounds(period: str) -> tuple[date, date]:
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
            gemeente=t.municipality.code,
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


# TMSD marts ------------------------------------------------------------------------------------------------


@dataclass
class _YouthQuarter:
    birth_year: int
    categories: set[str]
    local_team: bool


def _tmsd_marts(
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
    first, last = _bounds(period)
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


# chain marts -----------------------------------------------------------------------------------------------


def _chain_marts(milestones: list[Milestone]) -> dict[str, MartRows]:
    cases: dict[str, dict[str, datetime]] = defaultdict(dict)
    gemeente_of: dict[str, str] = {}
    for m in milestones:
        seen = cases[m.case].get(m.milestone)
        cases[m.case][m.milestone] = m.occurred_at if seen is None else min(seen, m.occurred_at)
        gemeente_of[m.case] = m.gemeente
    lead: dict[Key, list[int]] = defaultdict(list)
    for case, steps in cases.items():
        for order, begin, end, _ in CHAIN_STEPS:
            if begin in steps and end in steps:
                done = steps[end].date()
                lead[(gemeente_of[case], period_of(done), order)].append((done - steps[begin].date()).days)
    labels = {order: label for order, _, _, label in CHAIN_STEPS}
    out: dict[str, MartRows] = {name: {} for name in CHAIN_MARTS}
    for key, days in lead.items():
        out["fct_chain_lead_times"][key] = {
            "step": labels[key[2]],
            "cases": len(days),
            "median_days": quantile_cont(days, 0.5),
            "p90_days": quantile_cont(days, 0.9),
            "cases_out_of_order": sum(1 for d in days if d < 0),
        }
    newest = max(m.occurred_at.date() for m in milestones)
    waiting: dict[tuple[str, str], list[int]] = defaultdict(list)
    for case, steps in cases.items():
        if "uitspraak" not in steps:
            continue
        ruled = steps["uitspraak"].date()
        stops = [steps[m].date() for m in ("jeugdbeschermer_toegewezen", "einde_maatregel") if m in steps]
        year, quarter = ruled.year, (ruled.month - 1) // 3 + 1
        while year <= PERIOD_YEARS[1]:
            last = quarter_bounds(year, quarter)[1]
            if last > newest or any(stop <= last for stop in stops):
                break
            waiting[(gemeente_of[case], f"{year}Q{quarter}")].append((last - ruled).days)
            year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    for key, days in waiting.items():
        out["fct_chain_waiting_for_guardian"][key] = {
            "cases_waiting": len(days),
            "cases_waiting_over_6_weeks": sum(1 for d in days if d > 42),
            "longest_wait_days": max(days),
        }
    return out


# education mart --------------------------------------------------------------------------------------------


def _education_mart(workbooks: Iterable[Workbook], in_care: dict[str, set[str]]) -> dict[str, MartRows]:
    pupils: dict[tuple[str, str], list[int]] = {}
    absence: dict[tuple[str, str], list[Any]] = {}
    arranged: dict[tuple[str, str], set[str]] = defaultdict(set)
    for book in workbooks:
        for gemeente, kind, count, tlv in book.pupils:
            entry = pupils.setdefault((gemeente, book.period), [0, 0, 0])
            entry[0] += count
            entry[1] += count if kind in SPECIAL_EDUCATION else 0
            entry[2] += tlv
        for gemeente, kind, absent, with_care in book.absence:
            cell = absence.setdefault((gemeente, book.period), [None, None, 0])
            if absent is None:
                cell[2] += 1
            if kind != "vrijstelling":
                if absent is not None:
                    cell[0] = (cell[0] or 0) + absent
                cell[1] = (cell[1] or 0) + with_care
        for youth, gemeente in book.arrangements:
            arranged[(gemeente, book.period)].add(youth)
    rows: MartRows = {}
    for (gemeente, period), (total, special, tlv) in pupils.items():
        thuis, thuis_care, hidden = absence.get((gemeente, period), [None, None, None])
        youths = arranged.get((gemeente, period))
        rows[(gemeente, period)] = {
            "pupils": total,
            "pupils_special_education": special,
            "special_education_pct": duck_round(100.0 * special / total, 2) if total else None,
            "pupils_with_tlv": tlv,
            "thuiszitters": thuis,
            "thuiszitters_with_youth_care": thuis_care,
            "absence_cells_suppressed_at_source": hidden,
            "pupils_with_arrangement": len(youths) if youths is not None else None,
            "pupils_with_arrangement_and_youth_care": len(youths & in_care[period])
            if youths is not None
            else None,
        }
    return {"fct_education_youth_care": rows}


# the truth and what each defect changes --------------------------------------------------------------------


def _current_tmsd(deliveries: Deliveries) -> dict[tuple[str, str], list[Row]]:
    return {(gemeente, period): rows for gemeente, period, rows in deliveries.tmsd.values()}


def compute(
    deliveries: Deliveries,
    towns: list[Municipality],
    sources: tuple[str, ...] = ("tmsd", "chain", "education"),
    in_care: dict[str, set[str]] | None = None,
) -> tuple[dict[str, MartRows], dict[str, set[str]]]:
    """The marts of `sources` from the deliveries as generated, and the youths in care per quarter (the
    education mart links to them; pass them in to skip TMSD when it is not among the sources)."""
    marts: dict[str, MartRows] = {}
    if "tmsd" in sources or in_care is None:
        tmsd_marts, in_care = _tmsd_marts(_current_tmsd(deliveries), towns)
        marts |= tmsd_marts
    if "chain" in sources:
        marts |= _chain_marts(deliveries.chain)
    if "tmsd" in sources or "education" in sources:
        marts |= _education_mart(deliveries.education.values(), in_care)
    return marts, in_care


def _defect_effect(deliveries: Deliveries, defect: Any) -> tuple[str, Deliveries] | None:
    """What an injected defect does to the delivered data, and the deliveries with it; None: nothing."""
    index = {row - (2 if defect.source == "tmsd" else 5) for row in defect.rows}
    if defect.expect == "quarantine":
        if defect.source == "tmsd":
            tmsd = {name: item for name, item in deliveries.tmsd.items() if name != defect.file}
            return "delivery quarantined: its municipality-quarter is missing", replace(deliveries, tmsd=tmsd)
        if defect.source == "chain":
            partner, month = defect.file.split("_")[1:3]
            kept = [m for m in deliveries.chain if m.delivery != (partner, month)]
            return "delivery quarantined: its milestones are missing", replace(deliveries, chain=kept)
        books = {name: book for name, book in deliveries.education.items() if name != defect.file}
        return "workbook quarantined: its three sheets are missing", replace(deliveries, education=books)
    if defect.kind == "truncated_file":
        gemeente, period, rows = deliveries.tmsd[defect.file]
        tmsd = deliveries.tmsd | {defect.file: (gemeente, period, rows[: len(rows) * 3 // 10])}
        return "landed with a flag, truncated to its first 30% of rows", replace(deliveries, tmsd=tmsd)
    if defect.kind == "suppressed_value" and defect.source == "tmsd":
        gemeente, period, rows = deliveries.tmsd[defect.file]
        hidden = [replace(r, cost=None) if i in index else r for i, r in enumerate(rows)]
        tmsd = deliveries.tmsd | {defect.file: (gemeente, period, hidden)}
        return "landed with a flag; these rows' kosten_eur arrive hidden ('.')", replace(
            deliveries, tmsd=tmsd
        )
    if defect.kind == "suppressed_value" and defect.source == "education":
        book = deliveries.education[defect.file]
        absence = [
            (g, k, None, c) if i in index else (g, k, n, c) for i, (g, k, n, c) in enumerate(book.absence)
        ]
        books = deliveries.education | {defect.file: replace(book, absence=absence)}
        return "landed with a flag; these absence counts arrive hidden ('.')", replace(
            deliveries, education=books
        )
    return None


def truth(deliveries: Deliveries, towns: list[Municipality], defects: list[Any], seed: int) -> dict[str, Any]:
    """The content of truth.json: every mart's rows; each defect's effect on the delivered data; and the
    rows those effects change (`affected`), each with the row as the landed data must show it (`landed`,
    null where the row is missing) — computed once with every effect applied."""
    marts, in_care = compute(deliveries, towns)
    landed, entries, touched = deliveries, [], set()
    for defect in defects:
        effect = _defect_effect(landed, defect)
        entry = {"source": defect.source, "kind": defect.kind, "file": defect.file, "expect": defect.expect}
        if effect is None:
            entries.append(entry | {"effect": "none: the platform repairs, flags or ignores it"})
            continue
        entry["effect"], landed = effect
        entries.append(entry)
        touched.add(defect.source)
    sources = tuple(sorted(touched))
    after, _ = compute(landed, towns, sources, None if "tmsd" in sources else in_care)
    affected = {
        name: [
            {"key": dict(zip(MARTS[name]["key"], key, strict=True)), "landed": after[name].get(key)}
            for key in sorted(marts[name].keys() | rows.keys(), key=_sort_key)
            if marts[name].get(key) != rows.get(key)
        ]
        for name, rows in after.items()
    }
    return {
        "seed": seed,
        "about": __doc__.split("\n\n")[0] if __doc__ else "",
        "marts": {
            name: {
                "key": spec["key"],
                "definitions": spec["definitions"],
                "rows": [
                    dict(zip(spec["key"], key, strict=True)) | marts[name][key]
                    for key in sorted(marts[name], key=_sort_key)
                ],
            }
            for name, spec in MARTS.items()
        },
        "defects": entries,
        "affected": {name: rows for name, rows in affected.items() if rows},
    }


def _sort_key(key: Key) -> tuple[str, ...]:
    return tuple(str(part) for part in key)


def workbook(period: str, sheets: dict[str, list[list[Any]]], bsn_of: Callable[[str, str], str]) -> Workbook:
    """An education workbook's figures from its generated sheets (before any defect touches them)."""
    return Workbook(
        period=period,
        pupils=[(r[3], r[4], r[5], r[6]) for r in sheets["leerlingen"]],
        absence=[(r[2], r[3], r[4], r[5]) for r in sheets["verzuim"]],
        arrangements=[(bsn_of(r[3], r[0]), r[3]) for r in sheets["arrangementen"]],
    )
