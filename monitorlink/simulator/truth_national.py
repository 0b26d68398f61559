"""The truth of a national simulation: youths in care per municipality and quarter, and how they roll up.

Beside `manifest.json`, `simulate --scale nl` writes `national.json` instead of the regional marts'
truth. It is computed from the simulator's own rows (each quarter's newest TMSD delivery, with the
effect of every injected defect, as in `truth`) and from the reference files, never with platform code:

- `delivered`: per quarter and delivered municipality code, the distinct youths aged 0–17 (the quarter's
  year minus the youngest birth year delivered for them) with a row;
- `rolled_up`: the same per municipality as it is today. A merged code counts in full for the code it
  merged into (`gemeente_herindelingen`); a split code's youths go each to one successor: the one whose
  band of `gemeente_splitsingen` shares (successors by code, in order) holds the fraction
  `int(first 8 hex digits of the pseudonym, 16) / 2^32` — the rule docs/simulator.md documents;
- `national`: the distinct youths of all deliveries of the quarter, which the municipalities add up to.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
from collections import defaultdict
from typing import Any

from monitorlink.core.config import PROJECT_ROOT
from monitorlink.simulator.truth import landed_deliveries
from monitorlink.simulator.truth_rows import Deliveries

SEEDS = PROJECT_ROOT / "dbt" / "seeds"


def truth(deliveries: Deliveries, defects: list[Any], key: bytes) -> dict[str, Any]:
    """The content of national.json (see the module docstring)."""
    landed = landed_deliveries(deliveries, defects)
    ages: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for gemeente, period, rows in landed.tmsd.values():
        youths = ages[(period, gemeente)]
        for row in rows:
            youths[row.youth] = max(youths.get(row.youth, row.birth_year), row.birth_year)
    merged, split = _mergers(), _splits()
    delivered: dict[str, dict[str, int]] = defaultdict(dict)
    rolled_up: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    national: dict[str, int] = defaultdict(int)
    for (period, gemeente), youths in sorted(ages.items()):
        in_age = [bsn for bsn, born in youths.items() if 0 <= int(period[:4]) - born <= 17]
        delivered[period][gemeente] = len(in_age)
        national[period] += len(in_age)
        for bsn in in_age:
            if gemeente in split:
                # the pseudonym as the contract defines it (HMAC-SHA256 of the BSN, hex), computed here
                pseudonym = hmac.new(key, bsn.encode("ascii"), hashlib.sha256).hexdigest()
                today = successor(split[gemeente], pseudonym)
            else:
                today = merged.get(gemeente, gemeente)
            rolled_up[period][today] += 1
    return {
        "about": __doc__.split("\n\n")[0] if __doc__ else "",
        "delivered": dict(delivered),
        "rolled_up": {period: dict(counts) for period, counts in rolled_up.items()},
        "national": dict(national),
    }


def successor(shares: list[tuple[str, float]], pseudonym: str) -> str:
    """The successor a youth of a split municipality belongs to (the documented rule)."""
    draw = int(pseudonym[:8], 16) / 2**32
    bound = 0.0
    for code, share in shares:
        bound += share
        if draw < bound:
            return code
    return shares[-1][0]


def _mergers() -> dict[str, str]:
    with (SEEDS / "gemeente_herindelingen.csv").open(encoding="utf-8", newline="") as handle:
        return {row["gm_code_old"]: row["gm_code_new"] for row in csv.DictReader(handle)}


def _splits() -> dict[str, list[tuple[str, float]]]:
    out: dict[str, list[tuple[str, float]]] = defaultdict(list)
    with (SEEDS / "gemeente_splitsingen.csv").open(encoding="utf-8", newline="") as handle:
        for row in sorted(csv.DictReader(handle), key=lambda r: (r["gm_code_old"], r["gm_code_new"])):
            out[row["gm_code_old"]].append((row["gm_code_new"], float(row["share"])))
    return dict(out)
