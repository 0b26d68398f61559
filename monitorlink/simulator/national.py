"""The whole country: every municipality of 1 January 2025, with the former municipalities of 2019–2024.

`monitorlink simulate --scale nl` simulates each of today's 342 municipalities (dbt seed `gemeenten`,
inhabitants on 1 January 2024) as the regional simulation simulates Twente. Before a merger or a split a
municipality's youths were delivered under the code of the former municipality they lived in: each
youth belongs to one former part, in proportion to the addresses each part brought into today's
municipality (`data/herindeling_adressen.csv`, from the address-based conversion matrices of
github.com/reidhin/grenswijzigen; provenance in docs/simulator.md). So Haaren (dissolved 2021) is
delivered as one file per quarter made of the youths of the Haaren parts of Boxtel, Oisterwijk, Tilburg
and Vught, and the platform has to roll it up again without counting a youth twice.
"""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

from monitorlink.core.config import PROJECT_ROOT
from monitorlink.simulator.population import TWENTE, History, Municipality

SEED_FILE = PROJECT_ROOT / "dbt" / "seeds" / "gemeenten.csv"
PARTS_FILE = Path(__file__).parent / "data" / "herindeling_adressen.csv"
#: Share of inhabitants aged 0–17 outside Twente: about 19 % nationally (CBS, 1 January 2024).
YOUTH_SHARE = 0.19
#: At a reduced volume no municipality falls below this many simulated inhabitants, so each still delivers.
MIN_INHABITANTS = 1_500
SCALES = ("twente", "nl")


def municipalities_nl(seed: int, key: bytes, volume: float = 1.0) -> list[Municipality]:
    """Today's municipalities, inhabitants times `volume`, each with its history and its own random stream.

    Twente keeps its regional youth share and care level; elsewhere the share is national and the care
    level is drawn per municipality (0.8–1.2). BSNs are unique across the country.
    """
    histories = _histories()
    taken: set[str] = set()
    towns = []
    with SEED_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["opgeheven_op"]:
                continue
            code = row["gm_code"]
            rng = random.Random(f"{seed}:{code}")
            _, _, share, factor = TWENTE.get(code, ("", 0, YOUTH_SHARE, 0.8 + 0.4 * rng.random()))
            inhabitants = max(round(int(row["inwoners_2024"]) * volume), MIN_INHABITANTS)
            towns.append(
                Municipality(
                    code, row["naam"], inhabitants, share, factor, key, rng, histories.get(code), taken
                )
            )
    return towns


def _histories() -> dict[str, History]:
    """Per municipality formed or enlarged since 2019: the former parts and their shares of addresses."""
    until: dict[str, date] = {}
    parts: dict[str, list[tuple[str, int]]] = {}
    with PARTS_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            until[row["gm_code_new"]] = date.fromisoformat(row["ingangsdatum"])
            parts.setdefault(row["gm_code_new"], []).append((row["gm_code_part"], int(row["adressen"])))
    return {
        code: History(until[code], tuple((part, n / sum(count for _, count in listed)) for part, n in listed))
        for code, listed in parts.items()
    }
