"""The simulated region: municipalities, their youths, and the person pool every feed draws from.

Figures are rounded public orders of magnitude (population 2023, share aged 0–17), good enough for
realistic proportions, not for publication. Every person is a synthetic BSN (valid 11-check) whose
pseudonym is computed with the platform's own key, so one youth links across TMSD, chain and education
exactly as real pseudonymised deliveries would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from monitorlink.core.pseudonym import is_bsn, pseudonymise

#: gm_code → (name, inhabitants ~2023, share aged 0–17, care-use factor)
TWENTE: dict[str, tuple[str, int, float, float]] = {
    "GM0141": ("Almelo", 73_900, 0.205, 1.20),
    "GM0147": ("Borne", 24_200, 0.205, 0.95),
    "GM1774": ("Dinkelland", 26_700, 0.210, 0.80),
    "GM0153": ("Enschede", 161_000, 0.175, 1.15),
    "GM0158": ("Haaksbergen", 24_500, 0.195, 0.95),
    "GM0163": ("Hellendoorn", 36_100, 0.215, 0.90),
    "GM0164": ("Hengelo", 81_900, 0.190, 1.05),
    "GM1735": ("Hof van Twente", 35_300, 0.195, 0.90),
    "GM0168": ("Losser", 22_800, 0.185, 0.95),
    "GM0173": ("Oldenzaal", 32_000, 0.200, 1.00),
    "GM1742": ("Rijssen-Holten", 38_600, 0.245, 0.75),
    "GM0183": ("Tubbergen", 21_500, 0.225, 0.75),
    "GM1700": ("Twenterand", 34_000, 0.215, 0.95),
    "GM0189": ("Wierden", 24_600, 0.220, 0.90),
}
FIRST_YEAR, LAST_YEAR = 2019, 2025
WARM_UP_YEARS = 2  # trajectories and cases that started before the first delivered quarter


def quarters(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> list[tuple[int, int]]:
    """(year, quarter) pairs in order."""
    return [(year, q) for year in range(first_year, last_year + 1) for q in range(1, 5)]


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a quarter."""
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


@dataclass
class Municipality:
    """One municipality's simulated youths, as a pool of synthetic BSNs with cached pseudonyms."""

    code: str
    name: str
    inhabitants: int
    youth_share: float
    care_factor: float
    key: bytes
    rng: random.Random
    #: before a merger or split, the codes this municipality's youths were delivered under (national scale)
    history: History | None = None
    #: BSNs handed out by every pool (national scale), so no two municipalities share a youth
    taken: set[str] | None = None
    _bsns: list[str] = field(default_factory=list)
    _pseudonyms: dict[int, str] = field(default_factory=dict)
    _bsn_of: dict[str, str] = field(default_factory=dict)

    def youths(self, year: int) -> int:
        """Youths aged 0–17 in a year: a slow decline, as in most of Twente."""
        return round(self.inhabitants * self.youth_share * (1 - 0.004 * (year - 2023)))

    @cached_property
    def pool_size(self) -> int:
        return self.youths(FIRST_YEAR) * 2  # youths come and go over seven years

    def bsn(self, person: int) -> str:
        """The synthetic BSN of person number `person` (deterministic)."""
        while len(self._bsns) <= person:
            bsn = _new_bsn(self.rng)
            if self.taken is not None:
                while bsn in self.taken:
                    bsn = _new_bsn(self.rng)
                self.taken.add(bsn)
            self._bsns.append(bsn)
        return self._bsns[person]

    def delivery_code(self, person: int, day: date) -> str:
        """The municipality code a delivery about `day` carries for this person.

        Before a merger or split the person's data came from the former municipality they lived in; each
        person belongs to one former part for good, in proportion to the parts' addresses.
        """
        if self.history is None or day >= self.history.until:
            return self.code
        return self.history.part_of(person)

    def codes_on(self, day: date) -> list[tuple[str, float]]:
        """The codes this municipality's inhabitants were counted under on `day`, with their shares."""
        if self.history is None or day >= self.history.until:
            return [(self.code, 1.0)]
        return list(self.history.shares)

    def pseudonym(self, person: int) -> str:
        """The pseudonym a correct delivery carries for this person."""
        if person not in self._pseudonyms:
            self._pseudonyms[person] = pseudonymise(self.bsn(person), self.key)
            self._bsn_of[self._pseudonyms[person]] = self.bsn(person)
        return self._pseudonyms[person]

    def knows(self, pseudonym: str) -> bool:
        """Whether this pool handed out the pseudonym."""
        return pseudonym in self._bsn_of

    def bsn_of(self, pseudonym: str) -> str:
        """The BSN behind a pseudonym this pool handed out (to seed deliveries with raw BSNs)."""
        return self._bsn_of[pseudonym]

    def person(self) -> int:
        """A random person of the pool."""
        return self.rng.randrange(self.pool_size)


@dataclass(frozen=True)
class History:
    """The former municipalities (or parts of one) a municipality's youths lived in until `until`."""

    until: date
    shares: tuple[tuple[str, float], ...]  # (code, share of the inhabitants), adding up to 1

    def part_of(self, person: int) -> str:
        """The former part person number `person` lived in: a fixed, evenly spread draw per person."""
        draw = ((person + 1) * 0x9E3779B1 % 2**32) / 2**32
        for code, share in self.shares:
            draw -= share
            if draw < 0:
                return code
        return self.shares[-1][0]


def _new_bsn(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(10) for _ in range(8)]
        check = sum(w * d for w, d in zip(range(9, 1, -1), digits, strict=True)) % 11
        candidate = "".join(map(str, digits)) + str(check)
        if check < 10 and candidate[0] != "0" and is_bsn(candidate):
            return candidate


def municipalities(seed: int, key: bytes) -> list[Municipality]:
    """The 14 Twente municipalities, each with its own random stream derived from the seed."""
    return [
        Municipality(code, name, inhabitants, share, factor, key, random.Random(f"{seed}:{code}"))
        for code, (name, inhabitants, share, factor) in TWENTE.items()
    ]
