"""Simulated TMSD deliveries: every youth-care trajectory that ran in a municipality-quarter.

About 1 in 9 youths uses youth care in a year, most without stay; a few percent of trajectories are with
stay; child-protection and probation trajectories come from the simulated chain's measures, so the two
sources agree. Inflow has a trend (up to 2022, slowly down after) and seasonality (a summer dip), each
municipality its own level. Trajectories cross quarters and the 18th birthday; some youths come back.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, timedelta

from monitorlink.simulator.chain import Measure
from monitorlink.simulator.population import (
    FIRST_YEAR,
    LAST_YEAR,
    WARM_UP_YEARS,
    Municipality,
    quarter_bounds,
)

#: Column order of a delivery (the contract's field names; `reden_beëindiging` as municipalities write it).
HEADER = [
    "client_pseudo_id",
    "geboortejaar",
    "geslacht",
    "gemeente_code",
    "wijk_code",
    "verwijzer",
    "hulpvorm",
    "productcode",
    "aanbieder_agb",
    "segment",
    "startdatum",
    "einddatum",
    "reden_beëindiging",
    "crisis",
    "kosten_eur",
]
#: hulpvorm → (share of new trajectories, product categories, segments, mean days, cost per quarter)
FORMS: dict[str, tuple[float, tuple[str, ...], tuple[int, ...], float, float]] = {
    "wijkteam": (0.30, ("45",), (1, 2), 120, 600.0),
    "ambulant": (0.53, ("43", "45", "51", "54"), (2, 3, 7), 240, 1_900.0),
    "daghulp": (0.07, ("46",), (4,), 300, 5_500.0),
    "pleegzorg": (0.035, ("40",), (5,), 700, 4_800.0),
    "gezinsgericht": (0.012, ("40",), (5,), 600, 16_000.0),
    "gesloten": (0.003, ("41",), (6,), 150, 48_000.0),
    "overig verblijf": (0.03, ("41", "52"), (5, 6), 330, 24_000.0),
}
#: The forms of FORMS that are youth care with stay (CBS: jeugdhulp met verblijf).
FORMS_WITH_STAY = frozenset({"pleegzorg", "gezinsgericht", "gesloten", "overig verblijf"})
MEASURE_FORMS = {"OTS": "OTS", "VOTS": "voorlopige OTS", "voogdij": "voogdij", "JR": "jeugdreclassering"}
REFERRERS = (
    ["gemeente", "huisarts", "jeugdarts", "medisch specialist", "GI", "overig"],
    [0.47, 0.30, 0.05, 0.10, 0.02, 0.06],
)
#: New trajectories per youth per quarter, before trend, season and the municipality's factor.
INFLOW_RATE = 0.012
SEASON = {1: 1.05, 2: 1.0, 3: 0.85, 4: 1.10}


@dataclass
class Trajectory:
    """One trajectory, as TMSD knows it."""

    municipality: Municipality
    person: int
    birth_year: int
    sex: str
    district: str | None
    referrer: str
    form: str
    product: str
    provider: str
    segment: int
    start: date
    end: date | None
    end_reason: str | None
    crisis: bool
    cost_per_quarter: float | None

    def runs_in(self, first: date, last: date) -> bool:
        return self.start <= last and (self.end is None or self.end >= first)


def providers(seed: int) -> list[str]:
    """Sixty AGB codes; a few large providers do most of the work."""
    rng = random.Random(f"{seed}:providers")
    return [f"{rng.randrange(10**7, 10**8):08d}" for _ in range(60)]


def simulate(
    municipality: Municipality, measures: list[Measure], agb_codes: list[str], seed: int
) -> list[Trajectory]:
    """All trajectories of one municipality, warm-up years included."""
    rng = random.Random(f"{seed}:tmsd:{municipality.code}")
    weights = [1 / (rank + 1) for rank in range(len(agb_codes))]
    trajectories: list[Trajectory] = []
    for year in range(FIRST_YEAR - WARM_UP_YEARS, LAST_YEAR + 1):
        trend = 1 + 0.03 * (min(year, 2022) - 2019) - 0.015 * max(0, year - 2022)
        for quarter in range(1, 5):
            first, _ = quarter_bounds(year, quarter)
            expected = (
                municipality.youths(year) * INFLOW_RATE * trend * SEASON[quarter] * municipality.care_factor
            )
            for _ in range(round(rng.gauss(expected, expected**0.5))):
                start = first + timedelta(days=rng.randrange(90))
                trajectories.append(_trajectory(rng, municipality, start, agb_codes, weights))
    for measure in measures:
        if measure.municipality is municipality:
            trajectories.append(_measure_trajectory(rng, measure, agb_codes))
    return trajectories


def _trajectory(
    rng: random.Random, municipality: Municipality, start: date, agb_codes: list[str], weights: list[float]
) -> Trajectory:
    form = rng.choices(list(FORMS), [spec[0] for spec in FORMS.values()])[0]
    _, categories, segments, mean_days, cost = FORMS[form]
    age = min(17, max(0, round(rng.triangular(0, 18, 12))))
    days = rng.lognormvariate(0, 0.7) * mean_days
    end = start + timedelta(days=max(14, days))
    return Trajectory(
        municipality=municipality,
        person=municipality.person(),
        birth_year=start.year - age,
        sex=rng.choices(["M", "V", "X"], [0.53, 0.46, 0.01])[0],
        district=f"WK{municipality.code[2:]}{rng.randrange(1, 12):02d}" if rng.random() < 0.8 else None,
        referrer=rng.choices(*REFERRERS)[0],
        form=form,
        product=f"{rng.choice(categories)}{rng.choice('ABC')}{rng.randrange(100):02d}",
        provider=rng.choices(agb_codes, weights)[0],
        segment=rng.choice(segments),
        start=start,
        end=end if end <= date(LAST_YEAR, 12, 31) else None,
        end_reason=rng.choice(["01", "01", "01", "02", "03", "04", "05", "99"]),
        crisis=rng.random() < 0.03,
        cost_per_quarter=round(rng.gauss(cost, cost * 0.2), 2),
    )


def _measure_trajectory(rng: random.Random, measure: Measure, agb_codes: list[str]) -> Trajectory:
    form = MEASURE_FORMS[measure.maatregel]
    municipality = measure.municipality
    age = min(17, max(0, round(rng.triangular(0, 18, 11))))
    return Trajectory(
        municipality=municipality,
        person=measure.person,
        birth_year=measure.start.year - age,
        sex=rng.choices(["M", "V"], [0.52, 0.48])[0],
        district=None,
        referrer="rechter" if measure.maatregel != "JR" else "GI",
        form=form,
        product=f"{'48' if measure.maatregel == 'JR' else '47'}{rng.choice('AB')}{rng.randrange(10):02d}",
        provider=agb_codes[rng.randrange(3)],
        segment=6,
        start=measure.start,
        end=measure.end,
        end_reason="01",
        crisis=measure.maatregel == "VOTS",
        cost_per_quarter=None,
    )


def running(trajectories: list[Trajectory], year: int, quarter: int) -> list[Trajectory]:
    """The trajectories that ran in a quarter, in the order its delivery lists them."""
    first, last = quarter_bounds(year, quarter)
    return sorted((t for t in trajectories if t.runs_in(first, last)), key=lambda t: (t.start, t.person))


def rows(trajectories: list[Trajectory], year: int, quarter: int) -> list[list[str]]:
    """The delivery rows of one quarter: what ran in it, with the end date only once it has passed."""
    first, last = quarter_bounds(year, quarter)
    out = []
    for t in running(trajectories, year, quarter):
        ended = t.end is not None and t.end <= last
        cost = "" if t.cost_per_quarter is None else f"{t.cost_per_quarter:.2f}".replace(".", ",")
        out.append(
            [
                t.municipality.pseudonym(t.person),
                str(t.birth_year),
                t.sex,
                t.municipality.delivery_code(t.person, first),
                t.district or "",
                t.referrer,
                t.form,
                t.product,
                t.provider,
                str(t.segment),
                t.start.isoformat(),
                t.end.isoformat() if ended and t.end else "",
                (t.end_reason or "") if ended else "",
                "J" if t.crisis else "N",
                cost,
            ]
        )
    return out


def csv_bytes(
    header: list[str], body: list[list[str]], delimiter: str = ";", encoding: str = "utf-8"
) -> bytes:
    """A delivery file as municipalities write it."""
    sink = io.StringIO(newline="")
    writer = csv.writer(sink, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(body)
    return sink.getvalue().encode(encoding)
