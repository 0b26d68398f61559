"""Read the waiting-time wording providers publish ("9 mnd", "4–6 wk", "2 tot 3 maanden", "aanmeldstop").

Providers do not publish numbers, they publish sentences. The region steers on weeks, so every wording is
turned into one figure in weeks plus a *kind* that says how the figure was obtained. Wording that carries
no figure but is a known, meaningful answer ("in overleg", "aanmeldstop") gets a kind and no weeks;
wording that cannot be read at all gets the kind ``unparseable`` so the quality gate can quarantine it
instead of guessing.

Conventions (the same as the published snapshots use, so our figures match theirs):
- a month counts 4.345 weeks, a year 52.14 weeks, a day 1/7 week;
- a range ("4–6 wk") counts as its midpoint; a bound ("< 4 wk", "≥ 20 wk") counts as the bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

WEEKS_PER_UNIT: dict[str, float] = {
    "hour": 1 / (7 * 24),
    "day": 1 / 7,
    "week": 1.0,
    "month": 4.345,
    "year": 52.14,
}

_UNIT_WORDS: dict[str, str] = {
    "uur": "hour",
    "uren": "hour",
    "u": "hour",
    "dag": "day",
    "dagen": "day",
    "d": "day",
    "werkdagen": "day",
    "werkdag": "day",
    "wk": "week",
    "wkn": "week",
    "week": "week",
    "weken": "week",
    "w": "week",
    "mnd": "month",
    "mnden": "month",
    "maand": "month",
    "maanden": "month",
    "m": "month",
    "jaar": "year",
    "jr": "year",
    "jaren": "year",
}

_NUMBER_WORDS: dict[str, float] = {
    "half": 0.5,
    "een": 1,
    "één": 1,
    "anderhalf": 1.5,
    "twee": 2,
    "drie": 3,
    "vier": 4,
    "vijf": 5,
    "zes": 6,
    "zeven": 7,
    "acht": 8,
    "negen": 9,
    "tien": 10,
    "elf": 11,
    "twaalf": 12,
}


class WaitKind(StrEnum):
    """How a figure in weeks was obtained from the wording; the quality gate accepts all but UNPARSEABLE."""

    EXACT = "exact"
    APPROXIMATE = "approximate"
    RANGE = "range"
    AT_MOST = "at_most"
    AT_LEAST = "at_least"
    NO_WAIT = "no_wait"
    REGISTRATION_STOP = "registration_stop"
    BY_ARRANGEMENT = "by_arrangement"
    QUALITATIVE = "qualitative"
    UNPARSEABLE = "unparseable"


@dataclass(frozen=True)
class WaitReading:
    """One wording read: the figure in weeks (None where the wording has none) and how it was read."""

    weeks: float | None
    kind: WaitKind


_QUALIFIERS: dict[str, WaitKind] = {
    "<": WaitKind.AT_MOST,
    "≤": WaitKind.AT_MOST,
    "<=": WaitKind.AT_MOST,
    "max": WaitKind.AT_MOST,
    "max.": WaitKind.AT_MOST,
    "maximaal": WaitKind.AT_MOST,
    "binnen": WaitKind.AT_MOST,
    "minder dan": WaitKind.AT_MOST,
    "korter dan": WaitKind.AT_MOST,
    "uiterlijk": WaitKind.AT_MOST,
    "tot": WaitKind.AT_MOST,
    "hooguit": WaitKind.AT_MOST,
    ">": WaitKind.AT_LEAST,
    "≥": WaitKind.AT_LEAST,
    ">=": WaitKind.AT_LEAST,
    "min": WaitKind.AT_LEAST,
    "min.": WaitKind.AT_LEAST,
    "minimaal": WaitKind.AT_LEAST,
    "minstens": WaitKind.AT_LEAST,
    "meer dan": WaitKind.AT_LEAST,
    "langer dan": WaitKind.AT_LEAST,
    "ruim": WaitKind.AT_LEAST,
    "vanaf": WaitKind.AT_LEAST,
    "tenminste": WaitKind.AT_LEAST,
    "ten minste": WaitKind.AT_LEAST,
    "±": WaitKind.APPROXIMATE,
    "+/-": WaitKind.APPROXIMATE,
    "circa": WaitKind.APPROXIMATE,
    "ca.": WaitKind.APPROXIMATE,
    "ca": WaitKind.APPROXIMATE,
    "ongeveer": WaitKind.APPROXIMATE,
    "gemiddeld": WaitKind.APPROXIMATE,
    "rond": WaitKind.APPROXIMATE,
    "zo'n": WaitKind.APPROXIMATE,
}

# Wording without a figure that still answers the question. Checked only when no figure was found.
_PHRASES: tuple[tuple[str, WaitKind], ...] = (
    (
        r"aanmeldstop|cli[eë]ntenstop|wachtlijst (?:is )?gesloten|geen aanmeldingen",
        WaitKind.REGISTRATION_STOP,
    ),
    (
        r"geen wacht(?:tijd|lijst)|^direct\b|per direct|direct (?:plek|beschikbaar)|^geen$|plek vrij|"
        r"vrije plek",
        WaitKind.NO_WAIT,
    ),
    (r"in overleg|maatwerk|op aanvraag|navragen|contact opnemen|bel ", WaitKind.BY_ARRANGEMENT),
    (r"(?:lange|langere|korte|kortere) (?:wachttijd|termijn)|wisselend|beperkt|kort$", WaitKind.QUALITATIVE),
)

_NUM = r"\d+(?:[.,]\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_UNIT = "|".join(sorted((re.escape(u) for u in _UNIT_WORDS), key=len, reverse=True))
_QUAL = "|".join(sorted((re.escape(q) for q in _QUALIFIERS), key=len, reverse=True))
_SEP = r"–|—|-|tot(?: en met)?|à|a|t/m"
_FIGURE = re.compile(
    rf"^(?:(?P<qual>{_QUAL})\s*)?(?P<n1>{_NUM})\s*(?:(?P<u1>{_UNIT})\.?\s*)?"
    rf"(?:(?:{_SEP})\s*(?P<n2>{_NUM})\s*)?(?P<u2>{_UNIT})\.?(?=$|[\s,;:(/])(?P<rest>.*)$"
)


def _number(token: str) -> float:
    return _NUMBER_WORDS[token] if token in _NUMBER_WORDS else float(token.replace(",", "."))


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower().replace("\u00a0", " "))


def _read_figure(text: str) -> WaitReading | None:
    match = _FIGURE.match(text)
    if match is None:
        return None
    unit_high = _UNIT_WORDS[match["u2"]]
    unit_low = _UNIT_WORDS[match["u1"]] if match["u1"] else unit_high
    low = _number(match["n1"]) * WEEKS_PER_UNIT[unit_low]
    if match["n2"] is not None:
        high = _number(match["n2"]) * WEEKS_PER_UNIT[unit_high]
        return WaitReading(round((low + high) / 2, 3), WaitKind.RANGE)
    kind = _QUALIFIERS[match["qual"]] if match["qual"] else WaitKind.EXACT
    return WaitReading(round(low, 3), kind)


def read_wait_wording(text: str | None) -> WaitReading | None:
    """Read one published wording; None when there is no wording at all (not the same as unreadable)."""
    if text is None or not text.strip():
        return None
    normalised = _normalise(text)
    figure = _read_figure(normalised)
    if figure is not None:
        return figure
    for pattern, kind in _PHRASES:
        if re.search(pattern, normalised):
            return WaitReading(0.0 if kind is WaitKind.NO_WAIT else None, kind)
    return WaitReading(None, WaitKind.UNPARSEABLE)
