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

from dataclasses import replace
from typing import Any

from monitorlink.simulator import truth_youth_care
from monitorlink.simulator.population import Municipality
from monitorlink.simulator.truth_chain_education import chain_marts, education_mart
from monitorlink.simulator.truth_definitions import (
    MARTS,
)
from monitorlink.simulator.truth_rows import (
    Deliveries,
    Key,
    MartRows,
    Row,
)


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
        tmsd_marts, in_care = truth_youth_care.tmsd_marts(_current_tmsd(deliveries), towns)
        marts |= tmsd_marts
    if "chain" in sources:
        marts |= chain_marts(deliveries.chain)
    if "tmsd" in sources or "education" in sources:
        marts |= education_mart(deliveries.education.values(), in_care)
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


def landed_deliveries(deliveries: Deliveries, defects: list[Any]) -> Deliveries:
    """The deliveries as the platform must land them: with the effect of every injected defect."""
    for defect in defects:
        effect = _defect_effect(deliveries, defect)
        if effect is not None:
            deliveries = effect[1]
    return deliveries


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
