"""Simulated child-protection chain: cases with realistic lead times, recorded late and out of order.

A case starts with a report to Veilig Thuis, a request for investigation, an investigation by the Raad,
a petition, a ruling (OTS, VOTS or voogdij), a guardian assigned by a GI — sometimes only after weeks on
a waiting list — and the end of the measure. About 1 in 100 youths is under a measure at any time. Each
milestone is recorded some days after it happened (now and then months), and delivered in the month it
was recorded, so a case's milestones arrive out of order and spread over partners and months.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from monitorlink.core.pseudonym import pseudonymise
from monitorlink.simulator.population import FIRST_YEAR, LAST_YEAR, WARM_UP_YEARS, Municipality

PARTNER_OF = {
    "melding": "VT",
    "verzoek_onderzoek": "VT",
    "start_onderzoek": "RvdK",
    "rekest": "RvdK",
    "uitspraak": "rechtbank",
    "jeugdbeschermer_toegewezen": "GI",
    "einde_maatregel": "GI",
}
PARTNER_NAMES = {
    "VT": "Veilig Thuis Twente",
    "RvdK": "Raad voor de Kinderbescherming",
    "rechtbank": "Rechtbank Overijssel",
}
GI_NAMES = ("Jeugdbescherming Overijssel", "William Schrikker Stichting", "Leger des Heils J&R")
#: New chain cases per youth per month, before the municipality's care factor.
CASE_RATE = 0.0005


@dataclass(frozen=True)
class Measure:
    """A ruling that TMSD also sees as a child-protection or probation trajectory."""

    municipality: Municipality
    person: int
    maatregel: str
    start: date
    end: date | None


@dataclass(frozen=True)
class Milestone:
    """One delivered milestone of a case, as the simulator made it (the ground truth reads these)."""

    case: str
    gemeente: str
    milestone: str
    occurred_at: datetime
    delivery: tuple[str, str]  # (partner, month) of the file it is delivered in


@dataclass
class ChainSimulation:
    """Milestone records per delivery (partner, month), the measures they imply, and the milestones."""

    records: dict[tuple[str, str], list[dict[str, Any]]]
    measures: list[Measure]
    milestones: list[Milestone] = field(default_factory=list)


def simulate(municipalities: list[Municipality], seed: int, key: bytes) -> ChainSimulation:
    """All chain cases of the region from the warm-up years to the end of the last year."""
    rng = random.Random(f"{seed}:chain")
    result = ChainSimulation({}, [])
    case_number = 0
    first = date(FIRST_YEAR - WARM_UP_YEARS, 1, 1)
    last = date(LAST_YEAR, 12, 31)
    for municipality in municipalities:
        month = first
        while month <= last:
            expected = municipality.youths(month.year) * CASE_RATE * municipality.care_factor
            for _ in range(_poisson(rng, expected)):
                case_number += 1
                start = month + timedelta(days=rng.randrange(28))
                _case(rng, result, municipality, pseudonymise(f"case-{case_number}", key), start, last)
            month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return result


def _case(
    rng: random.Random,
    result: ChainSimulation,
    municipality: Municipality,
    case_id: str,
    start: date,
    last: date,
) -> None:
    person = municipality.person()
    steps: list[tuple[str, date, str | None]] = []
    when = start
    youth_probation = rng.random() < 0.08
    if youth_probation:
        maatregel: str | None = "JR"
        steps.append(("uitspraak", when, maatregel))
    else:
        maatregel = rng.choices(["OTS", "VOTS", "voogdij"], [0.78, 0.12, 0.10])[0]
        steps.append(("melding", when, None))
        when += timedelta(weeks=rng.uniform(2, 10))
        steps.append(("verzoek_onderzoek", when, None))
        when += timedelta(weeks=rng.uniform(1, 8) if maatregel != "VOTS" else rng.uniform(0, 1))
        steps.append(("start_onderzoek", when, None))
        if rng.random() < 0.25:  # investigation ends without a measure
            _deliver(rng, result, municipality, person, case_id, steps, last)
            return
        when += timedelta(weeks=rng.uniform(8, 14) if maatregel != "VOTS" else rng.uniform(0, 2))
        steps.append(("rekest", when, maatregel))
        when += timedelta(weeks=rng.uniform(1, 6) if maatregel != "VOTS" else rng.uniform(0, 1))
        steps.append(("uitspraak", when, maatregel))
    ruling = when
    when += timedelta(weeks=rng.expovariate(1 / 4) if rng.random() < 0.8 else rng.uniform(8, 26))
    steps.append(("jeugdbeschermer_toegewezen", when, maatregel))
    end = ruling + timedelta(days=rng.uniform(9, 36) * 30.4)
    steps.append(("einde_maatregel", end, maatregel))
    _deliver(rng, result, municipality, person, case_id, steps, last)
    assert maatregel is not None
    result.measures.append(Measure(municipality, person, maatregel, ruling, end if end <= last else None))


def _deliver(
    rng: random.Random,
    result: ChainSimulation,
    municipality: Municipality,
    person: int,
    case_id: str,
    steps: list[tuple[str, date, str | None]],
    last: date,
) -> None:
    gi_name = rng.choice(GI_NAMES)
    for milestone, occurred, maatregel in steps:
        occurred_at = datetime(
            occurred.year, occurred.month, occurred.day, rng.randrange(8, 18), rng.randrange(60), tzinfo=UTC
        )
        delay = rng.expovariate(1 / 10) if rng.random() < 0.95 else rng.uniform(40, 120)
        recorded_at = occurred_at + timedelta(days=delay, hours=rng.uniform(0, 8))
        if recorded_at.date() > last or recorded_at.year < FIRST_YEAR:
            continue  # not yet recorded, or recorded before the feed began
        partner = PARTNER_OF[milestone]
        month = f"{recorded_at.year}-{recorded_at.month:02d}"
        code = municipality.delivery_code(person, occurred)
        result.milestones.append(Milestone(case_id, code, milestone, occurred_at, (partner, month)))
        result.records.setdefault((partner, month), []).append(
            {
                "case_pseudo_id": case_id,
                "client_pseudo_id": municipality.pseudonym(person),
                "gemeente_code": code,
                "partner": partner,
                "partner_naam": gi_name if partner == "GI" else PARTNER_NAMES[partner],
                "milestone": milestone,
                "maatregel": maatregel,
                "occurred_at": occurred_at.isoformat(timespec="seconds"),
                "recorded_at": recorded_at.isoformat(timespec="seconds"),
            }
        )


def document(partner: str, month: str, records: list[dict[str, Any]]) -> bytes:
    """One delivery file: the agreed JSON envelope."""
    body = {"schema_version": 1, "partner": partner, "period": month, "records": records}
    return json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; means here are small (tens)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
