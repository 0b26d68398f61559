"""What the real waiting-time snapshots say about the norm, read straight from their JSON.

Written from the documents, not from the code under test (`connectors/`, `dbt/`): the KPI definition
`wait_norm` in docs/definitions.md and docs/availability.md —

- an offer's wait is the longest of its intake and treatment waits; a wait is read from its wording where
  the snapshot has one (`iText`/`bText`), else it is the published number (`i`/`b`, weeks);
- a month is 4.345 weeks, a range counts at its midpoint, a bound ("< 4 wk", "> 6 mnd") at its number,
  "geen wachttijd" is 0; a registration stop, "in overleg" and vague words are no figure;
- over the norm when the wait exceeds 4 × 4.345 weeks; a herstelplan is owed when over the norm with a
  concrete figure under a youth-care contract (Samen14 or Jeugdwet);
- the current state is the newest list's offers, each with its newest figure (latest measurement date,
  ties: the later list); offers without a name are told apart by the first clause of their note.

The wordings the shipped snapshots use are all covered; an unknown one raises, so a new snapshot cannot
slip past this reading unnoticed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

WEEKS_PER_MONTH = 4.345
NORM_MONTHS = 4
NORM_WEEKS = NORM_MONTHS * WEEKS_PER_MONTH  # 17.38
STALE_AFTER_DAYS = 7  # dbt var provider_freshness_days, docs/operations.md

#: Wordings that carry no figure (docs/availability.md: registration_stop, by_arrangement, qualitative).
NO_FIGURE = {
    "aanmeldstop",
    "korte aanmeldstop",
    "in overleg",
    "beschikbaarheid maatwerk",
    "langere wachttijd",
    "meestal korte termijn",
}
_UNITS = {
    "wk": 1.0,
    "week": 1.0,
    "weken": 1.0,
    "mnd": WEEKS_PER_MONTH,
    "maand": WEEKS_PER_MONTH,
    "maanden": WEEKS_PER_MONTH,
    "uur": 1 / (7 * 24),
}
_NUMBER = r"(\d+(?:,\d+)?)"
_WORDING = re.compile(
    rf"^(?:[<>≤≥±]|circa|binnen)?\s*{_NUMBER}(?:\s*[–-]\s*{_NUMBER})?\s*({'|'.join(_UNITS)})\b",
    re.IGNORECASE,
)


def weeks_of_wording(text: str) -> float | None:
    """Weeks a published wording stands for (None: no figure); raises on a wording not seen before."""
    lowered = text.strip().lower()
    if lowered in NO_FIGURE:
        return None
    if lowered.startswith("geen wacht"):
        return 0.0
    match = _WORDING.match(lowered)
    if match is None:
        raise ValueError(f"a wording this reading does not know: {text!r}")
    low, high, unit = match.groups()
    numbers = [float(n.replace(",", ".")) for n in (low, high) if n is not None]
    return sum(numbers) / len(numbers) * _UNITS[unit.lower()]


def _wait(text: Any, number: Any) -> float | None:
    if isinstance(text, str) and text.strip():
        return weeks_of_wording(text)
    return float(number) if isinstance(number, int | float) and not isinstance(number, bool) else None


def _groups(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _label(row: dict[str, Any]) -> str:
    if row.get("w"):
        return str(row["w"]).strip()
    return re.split(r"[.;:]\s", str(row.get("s") or "") + " ", maxsplit=1)[0].strip()[:120]


def _measured(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    for fmt in ("%Y-%m-%d", "%Y-%m"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class Offer:
    """One offer of the current state with its newest figure, as the snapshot rows give it."""

    provider: str
    name: str
    location: str | None
    youth: bool
    wait_weeks: float | None
    quality: str
    contract: str
    measured: date | None

    @property
    def identity(self) -> tuple[str, str, str | None]:
        return (self.provider, self.name, self.location)

    @property
    def over_norm(self) -> bool:
        return self.wait_weeks is not None and self.wait_weeks > NORM_WEEKS

    @property
    def herstelplan(self) -> bool:
        youth_contract = any(word in self.contract.lower() for word in ("samen14", "jeugdwet"))
        return self.over_norm and self.quality == "concrete" and youth_contract


def _offers_of(path: Path) -> tuple[str, list[tuple[tuple[Any, ...], Offer]]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    offers = []
    for row in document["rows"]:
        waits = (_wait(row.get("iText"), row.get("i")), _wait(row.get("bText"), row.get("b")))
        figures = [w for w in waits if w is not None]
        # Wmo is the adults' group; a row published for both groups is an offer in each
        for group in dict.fromkeys("jeugd" if g == "Jeugd" else "volwassenen" for g in _groups(row.get("d"))):
            youth = group == "jeugd"
            offer = Offer(
                provider=str(row["p"]).strip(),
                name=_label(row),
                location=str(row["l"]).strip() if row.get("l") else None,
                youth=youth,
                wait_weeks=max(figures) if figures else None,
                quality=str(row.get("k") or "unknown"),
                contract=str(row.get("c") or ""),
                measured=_measured(row.get("date")),
            )
            offers.append(((*offer.identity, group), offer))
    return str(document["generatedAt"]), offers


def current_offers(*snapshots: Path) -> list[Offer]:
    """The newest list's offers (every target group), each with its newest figure across the snapshots."""
    lists = sorted((_offers_of(path) for path in snapshots), key=lambda listed: listed[0])
    newest: dict[tuple[Any, ...], tuple[date, str, Offer]] = {}
    for generated, offers in lists:
        for key, offer in offers:
            rank = (offer.measured or date.min, generated, offer)
            if key not in newest or rank[:2] >= newest[key][:2]:
                newest[key] = rank
    listed = {key for key, _ in lists[-1][1]}
    return [newest[key][2] for key in sorted(listed, key=str)]


def youth_offers(*snapshots: Path) -> list[Offer]:
    """The current youth offers: the population of the KPI wait_norm."""
    return [offer for offer in current_offers(*snapshots) if offer.youth]


def stale_providers(*snapshots: Path) -> dict[str, int]:
    """Provider → days its newest current figure lags the newest figure of anyone, if more than 7."""
    last: dict[str, date] = {}
    for offer in current_offers(*snapshots):
        if offer.measured is not None:
            last[offer.provider] = max(offer.measured, last.get(offer.provider, date.min))
    horizon = max(last.values())
    behind = {provider: (horizon - measured).days for provider, measured in last.items()}
    return {provider: days for provider, days in behind.items() if days > STALE_AFTER_DAYS}
