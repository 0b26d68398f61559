"""The truth of the chain and education marts, from the milestones and workbooks the simulator delivered."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from monitorlink.simulator.chain import Milestone
from monitorlink.simulator.population import quarter_bounds
from monitorlink.simulator.truth_definitions import (
    CHAIN_MARTS,
    CHAIN_STEPS,
    PERIOD_YEARS,
    SPECIAL_EDUCATION,
)
from monitorlink.simulator.truth_rows import (
    Key,
    MartRows,
    Workbook,
    duck_round,
    period_of,
    quantile_cont,
)


def chain_marts(milestones: list[Milestone]) -> dict[str, MartRows]:
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


def education_mart(workbooks: Iterable[Workbook], in_care: dict[str, set[str]]) -> dict[str, MartRows]:
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
