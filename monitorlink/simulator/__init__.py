"""`monitorlink simulate`: realistic deliveries of every source, with injected defects and a manifest.

Deterministic by seed. Writes the landing folders (`landing/tmsd/*.csv`, `landing/chain/*.json`,
`landing/education/*.xlsx`), the CBS tables the loopback OData server answers from (`cbs/`),
`manifest.json` listing every injected defect with the file, rows, and what the platform must do with
it (quarantine under a rule, flag under a rule, or ignore as a re-delivery) — the tests check each one —
and `truth.json`, every KPI mart's figures as the deliveries show them without defects, with the mart
rows each defect changes (`monitorlink.simulator.truth`).
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from monitorlink.simulator import cbs, chain, education, tmsd, truth, truth_national, truth_rows
from monitorlink.simulator.national import SCALES, municipalities_nl
from monitorlink.simulator.population import (
    FIRST_YEAR,
    LAST_YEAR,
    Municipality,
    municipalities,
    quarter_bounds,
    quarters,
)

#: kind → (what the platform must do, the rule it must name), per source.
DEFECTS: dict[str, dict[str, tuple[str, str]]] = {
    "tmsd": {
        "wrong_delimiter": ("flag", "delimiter_not_semicolon"),
        "cp1252_encoding": ("flag", "encoding_not_utf8"),
        "header_spaces": ("flag", "header_normalised"),
        "renamed_column": ("flag", "column_renamed"),
        "suppressed_value": ("flag", "suppressed_value"),
        "raw_bsn": ("flag", "bsn_pseudonymised"),
        "truncated_file": ("flag", "volume_vs_previous"),
        "duplicated_rows": ("quarantine", "unique_rows"),
        "unknown_gemeente": ("quarantine", "gemeente_code_known"),
        "unknown_product": ("quarantine", "productcode_format"),
        "end_before_start": ("quarantine", "end_not_before_start"),
        "redelivered_file": ("ignore", "redelivery_ignored"),
    },
    "chain": {
        "raw_bsn": ("flag", "bsn_pseudonymised"),
        "duplicated_rows": ("quarantine", "unique_rows"),
        "unknown_gemeente": ("quarantine", "gemeente_code_known"),
        "unknown_milestone": ("quarantine", "milestone_known"),
        "recorded_before_occurred": ("quarantine", "recorded_not_before_occurred"),
        "redelivered_file": ("ignore", "redelivery_ignored"),
    },
    "education": {
        "header_spaces": ("flag", "header_normalised"),
        "renamed_column": ("flag", "column_renamed"),
        "suppressed_value": ("flag", "suppressed_value"),
        "raw_bsn": ("flag", "bsn_pseudonymised"),
        "totals_mismatch": ("flag", "totals_row_matches"),
        "negative_count": ("quarantine", "aantal_leerlingen_in_range"),
        "unknown_gemeente": ("quarantine", "gemeente_code_known"),
        "end_before_start": ("quarantine", "end_not_before_start"),
        "redelivered_file": ("ignore", "redelivery_ignored"),
    },
}
CBS_TABLES = {"03759ned": "v3", "85098NED": "v4"}


@dataclass
class Defect:
    """One injected defect and what the platform must do with it."""

    source: str
    kind: str
    file: str
    expect: str
    rule: str
    rows: list[int] = field(default_factory=list)
    dataset: str | None = None


@dataclass
class _File:
    """A delivery before it is written: a table (or several sheets) that defects can still change."""

    name: str
    header: dict[str, list[str]]
    rows: dict[str, list[list[Any]]]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scale:
    """What to simulate: Twente (the default) or the whole country (`nl`), at a volume (1.0: inhabitants
    as they are; less for a quick national run), and optionally only the deliveries of some quarters."""

    name: str = "twente"
    volume: float = 1.0
    first_period: str = f"{FIRST_YEAR}Q1"
    last_period: str = f"{LAST_YEAR}Q4"

    def __post_init__(self) -> None:
        if self.name not in SCALES:
            raise ValueError(f"scale {self.name!r} is not one of {', '.join(SCALES)}")
        if not 0 < self.volume <= 1:
            raise ValueError(f"volume {self.volume} must be above 0 and at most 1")
        if not _PERIOD.fullmatch(self.first_period) or not _PERIOD.fullmatch(self.last_period):
            raise ValueError(f"periods look like 2021Q1; got {self.first_period}:{self.last_period}")
        if self.first_period > self.last_period:
            raise ValueError(f"the first period {self.first_period} comes after {self.last_period}")

    def delivers(self, name: str) -> bool:
        """Whether a delivery (by file name) falls in the simulated periods; a chain month counts in its
        quarter."""
        found = _NAMED_PERIOD.search(name)
        if found is None:
            return True
        year, month_or_quarter = found.group(1), found.group(2) or found.group(3)
        quarter = month_or_quarter if found.group(2) else str((int(month_or_quarter) - 1) // 3 + 1)
        return self.first_period <= f"{year}Q{quarter}" <= self.last_period


_PERIOD = re.compile(r"(20\d\d)Q[1-4]")
_NAMED_PERIOD = re.compile(r"_(20\d\d)(?:Q([1-4])|-(\d\d))_")


@dataclass(frozen=True)
class SimulationResult:
    """Where the simulation wrote what."""

    root: Path
    files: dict[str, int]
    defects: list[Defect]
    revisions: list[str]
    scale: Scale = Scale()

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def cbs_tables(self) -> Path:
        return self.root / "cbs"


def simulate(
    root: Path,
    key: bytes,
    seed: int = 2026,
    defect_rate: float = 0.005,
    revision_rate: float = 0.05,
    scale: Scale | None = None,
) -> SimulationResult:
    """Write every source's deliveries for Twente 2019–2025 (or the country, `scale`) under `root`; see
    the module docstring."""
    scale = scale or Scale()
    rng = random.Random(f"{seed}:defects")
    towns = (
        municipalities(seed, key) if scale.name == "twente" else municipalities_nl(seed, key, scale.volume)
    )
    chain_sim = chain.simulate(towns, seed, key)
    agb = tmsd.providers(seed)
    trajectories = {m.code: tmsd.simulate(m, chain_sim.measures, agb, seed) for m in towns}
    defects: list[Defect] = []
    tmsd_files, tmsd_rows = _tmsd_files(towns, trajectories)
    files: dict[str, list[_File]] = {
        "tmsd": tmsd_files,
        "chain": [
            _File(
                f"keten_{partner}_{month}_v1.json",
                {"records": list(records[0])},
                {"records": [list(r.values()) for r in records]},
            )
            for (partner, month), records in sorted(chain_sim.records.items())
        ],
        "education": _education_files(towns, seed),
    }
    files = {source: [f for f in items if scale.delivers(f.name)] for source, items in files.items()}
    by_code = {t.code: t for t in towns}
    delivered = truth_rows.Deliveries(
        tmsd={name: item for name, item in tmsd_rows.items() if scale.delivers(name)},
        chain=[m for m in chain_sim.milestones if scale.delivers(f"keten_{m.delivery[0]}_{m.delivery[1]}_")],
        education={
            item.name: truth_rows.workbook(
                item.name.split("_")[3], item.rows, lambda code, pseudonym: by_code[code].bsn_of(pseudonym)
            )
            for item in files["education"]
        },
    )
    revisions, changes = _revise(rng, files["tmsd"], revision_rate)
    for name, change in changes.items():
        gemeente, period, rows = delivered.tmsd.pop(change.base)
        delivered.tmsd[name] = (gemeente, period, truth_rows.revised(rows, change))
    extra: dict[str, list[tuple[str, bytes]]] = {}
    for source, kinds in DEFECTS.items():
        candidates = [f for f in files[source] if not f.options.get("defect") and "_v1." in f.name]
        for kind, (expect, rule) in kinds.items():
            chosen = [f for f in candidates if rng.random() < defect_rate and not f.options.get("defect")]
            eligible = [f for f in candidates if not f.options.get("defect") and _eligible(kind, f)]
            if not eligible:
                continue  # a few quarters only (`--periods`) may have nothing this defect can work on
            chosen = [f for f in chosen if f in eligible] or [rng.choice(eligible)]
            for target in chosen:
                target.options["defect"] = kind
                defect = Defect(source, kind, target.name, expect, rule)
                INJECT[kind](rng, target, defect, towns)
                defects.append(defect)
    landing = root / "landing"
    counts: Counter[str] = Counter()
    for source, items in files.items():
        folder = landing / source
        folder.mkdir(parents=True, exist_ok=True)
        for item in items:
            content = _serialise(source, item)
            (folder / item.name).write_bytes(content)
            counts[source] += 1
            if item.options.get("defect") == "redelivered_file":
                again = item.name.replace("_v1.", "_v2.")
                extra.setdefault(source, []).append((again, content))
                next(d for d in defects if d.file == item.name).file = again
        for name, content in extra.get(source, []):
            (folder / name).write_bytes(content)
            counts[source] += 1
    _cbs_tables(root / "cbs", towns, trajectories)
    result = SimulationResult(root, dict(counts), defects, revisions, scale)
    manifest = {
        "seed": seed,
        "scale": dataclasses.asdict(scale),
        "defect_rate": defect_rate,
        "revision_rate": revision_rate,
        "files": dict(counts),
        "cbs_tables": CBS_TABLES,
        "revisions": revisions,
        "defects": [asdict(d) for d in defects],
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    if scale.name == "twente":
        figures = truth.truth(delivered, towns, defects, seed)
        (root / "truth.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False), encoding="utf-8")
    else:
        figures = truth_national.truth(delivered, defects, key)
        (root / "national.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return result


def _tmsd_files(
    towns: list[Municipality], trajectories: dict[str, list[tmsd.Trajectory]]
) -> tuple[list[_File], dict[str, tuple[str, str, list[truth_rows.Row]]]]:
    """The quarterly deliveries, and by file name the rows each lists as the ground truth sees them."""
    scopes: dict[tuple[str, int, int], list[tmsd.Trajectory]] = {}
    for town in towns:
        for year, quarter in quarters():
            first, _ = quarter_bounds(year, quarter)
            for code, _ in town.codes_on(first):
                scopes.setdefault((code, year, quarter), [])
            for trajectory in tmsd.running(trajectories[town.code], year, quarter):
                scopes[(town.delivery_code(trajectory.person, first), year, quarter)].append(trajectory)
    out = []
    delivered = {}
    for (code, year, quarter), listed in scopes.items():
        running = tmsd.running(listed, year, quarter)
        rows = tmsd.rows(running, year, quarter)
        # Older deliveries came in Windows-1252, as the contract allows.
        options = {"encoding": "cp1252" if year < 2021 else "utf-8"}
        name = f"tmsd_jeugd_{code}_{year}Q{quarter}_v1.csv"
        out.append(_File(name, {"csv": list(tmsd.HEADER)}, {"csv": rows}, options))
        last = quarter_bounds(year, quarter)[1]
        delivered[name] = (code, f"{year}Q{quarter}", truth_rows.tmsd_rows(running, last))
    return out, delivered


def _education_files(towns: list[Municipality], seed: int) -> list[_File]:
    by_code = {t.code: t for t in towns}
    out = []
    for swv, codes in education.SWVS.items():
        members = [by_code[c] for c in codes]
        school_list = education.schools(swv, members, seed)
        for year, quarter in quarters():
            sheets = education.workbook_rows(swv, members, school_list, year, quarter, seed)
            out.append(
                _File(
                    f"onderwijs_jeugd_{swv}_{year}Q{quarter}_v1.xlsx",
                    {k: list(v) for k, v in education.SHEETS.items()},
                    sheets,
                    {"swv": swv, "year": year, "quarter": quarter},
                )
            )
    return out


def _revise(
    rng: random.Random, deliveries: list[_File], rate: float
) -> tuple[list[str], dict[str, truth_rows.Revision]]:
    """Later corrections of earlier quarters: a few late registrations and corrected end dates. Returns
    the revisions' names and, by name, what each changes (row indexes; sampling indexes draws the same
    rows as sampling the rows themselves)."""
    revised = []
    changes = {}
    for item in list(deliveries):
        if rng.random() >= rate or item.name.endswith("2025Q4_v1.csv") or not item.rows["csv"]:
            continue  # (an empty quarter of a small municipality at reduced volume has nothing to revise)
        rows = [list(r) for r in item.rows["csv"]]
        change = truth_rows.Revision(item.name)
        for index in rng.sample(range(len(rows)), k=max(1, len(rows) // 50)):
            row = rows[index]
            if row[11] == "":  # the end was registered late
                ended = date.fromisoformat(row[10]) + timedelta(days=rng.randrange(30, 60))
                row[11] = ended.isoformat()
                row[12] = "01"
                change.ended[index] = ended
        change.late = rng.sample(range(len(rows)), k=max(1, len(rows) // 40))
        late = [list(rows[index]) for index in change.late]
        for row in late:  # trajectories registered late: another product of the same youth
            row[7] = row[7][:2] + "Z" + row[7][3:]
        name = item.name.replace("_v1.csv", "_v2.csv")
        deliveries.append(_File(name, item.header, {"csv": rows + late}, dict(item.options)))
        item.options["defect"] = "revised"  # keep defects off revised quarters: one story per delivery
        revised.append(name)
        changes[name] = change
    return revised, changes


def _serialise(source: str, item: _File) -> bytes:
    if source == "tmsd":
        return tmsd.csv_bytes(
            item.header["csv"],
            item.rows["csv"],
            item.options.get("delimiter", ";"),
            item.options.get("encoding", "utf-8"),
        )
    if source == "chain":
        keys = item.header["records"]
        records = [dict(zip(keys, row, strict=True)) for row in item.rows["records"]]
        partner, month = item.name.split("_")[1:3]
        return chain.document(partner, month, records)
    o = item.options
    return education.workbook_bytes(
        o["swv"], o["year"], o["quarter"], item.rows, item.header, o.get("totals_offset", 0)
    )


def _cbs_tables(
    folder: Path, towns: list[Municipality], trajectories: dict[str, list[tmsd.Trajectory]]
) -> None:
    youths: dict[tuple[str, int, str], set[tuple[str, int]]] = {}
    with_stay = tmsd.FORMS_WITH_STAY
    for town in towns:
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            first, last = date(year, 1, 1), date(year, 12, 31)
            for code, _ in town.codes_on(first):
                for kind in ("T001140", "A048438", "A048437"):
                    youths[(code, year, kind)] = youths.get((code, year, kind), set())
            for t in trajectories[town.code]:
                if t.runs_in(first, last) and t.form in tmsd.FORMS:
                    code, person = town.delivery_code(t.person, first), (town.code, t.person)
                    youths[(code, year, "T001140")].add(person)
                    youths[(code, year, "A048438" if t.form in with_stay else "A048437")].add(person)
    counts = {key: len(persons) for key, persons in youths.items()}
    cbs.write_table(folder, "03759ned", cbs.population_table(towns))
    cbs.write_table(folder, "85098NED", cbs.youth_care_table(counts))


# defects -------------------------------------------------------------------------------------------------


def _main_sheet(item: _File) -> str:
    return next(iter(item.rows))


def _eligible(kind: str, item: _File) -> bool:
    """Some defects need something to work on: rows, a previous quarter, an end date, a cost column."""
    rows = item.rows[_main_sheet(item)]
    if kind == "truncated_file":
        return "Q1_v1" not in item.name and "2019Q" not in item.name and len(rows) > 20
    if kind == "cp1252_encoding":
        return item.options.get("encoding") == "utf-8"
    return len(rows) >= 6


def _first_row(item: _File) -> int:
    """The row number connectors report for the first data row: CSV line, JSON record, or sheet row."""
    return {".csv": 2, ".json": 1}.get(Path(item.name).suffix, 5)


def _pick(
    rng: random.Random,
    item: _File,
    defect: Defect,
    count: int,
    sheet: str | None = None,
    where: Callable[[list[Any]], bool] = lambda row: True,
) -> list[list[Any]]:
    sheet = sheet or _main_sheet(item)
    rows = item.rows[sheet]
    indexes = sorted(rng.sample([i for i, r in enumerate(rows) if where(r)], k=count))
    defect.rows = [i + _first_row(item) for i in indexes]
    defect.dataset = {
        "leerlingen": "education_pupils",
        "verzuim": "education_absence",
        "arrangementen": "education_arrangements",
    }.get(sheet, defect.source)
    return [rows[i] for i in indexes]


def _column(item: _File, sheet: str, *names: str) -> int:
    header = item.header[sheet]
    return next(i for i, h in enumerate(header) if h in names)


def _raw_bsn(rng: random.Random, item: _File, defect: Defect, towns: list[Municipality]) -> None:
    sheet = "arrangementen" if defect.source == "education" else _main_sheet(item)
    column = _column(item, sheet, "client_pseudo_id", "Client pseudo-ID")
    for row in _pick(rng, item, defect, 3, sheet):
        town = next(t for t in towns if t.knows(row[column]))
        row[column] = town.bsn_of(row[column])


def _duplicated_rows(rng: random.Random, item: _File, defect: Defect, towns: list[Municipality]) -> None:
    rows = item.rows[_main_sheet(item)]
    copies = [list(r) for r in _pick(rng, item, defect, 2)]
    defect.rows += [len(rows) + _first_row(item) + i for i in range(len(copies))]
    rows.extend(copies)


def _set(
    column_names: tuple[str, ...],
    value: Callable[[list[Any], int], Any],
    count: int = 2,
    sheet: str | None = None,
) -> Callable[[random.Random, _File, Defect, list[Municipality]], None]:
    def inject(rng: random.Random, item: _File, defect: Defect, towns: list[Municipality]) -> None:
        name = sheet if sheet and sheet in item.rows else _main_sheet(item)
        column = _column(item, name, *column_names)
        for row in _pick(rng, item, defect, count, name):
            row[column] = value(row, column)

    return inject


def _rename_header(
    old: tuple[str, ...], new: str
) -> Callable[[random.Random, _File, Defect, list[Municipality]], None]:
    def inject(rng: random.Random, item: _File, defect: Defect, towns: list[Municipality]) -> None:
        sheet = _main_sheet(item)
        item.header[sheet][_column(item, sheet, *old)] = new

    return inject


def _header_spaces(rng: random.Random, item: _File, defect: Defect, towns: list[Municipality]) -> None:
    sheet = _main_sheet(item)
    item.header[sheet] = [
        f" {h.upper()} " if i % 2 == 0 else f"{h}  " for i, h in enumerate(item.header[sheet])
    ]


def _option(key: str, value: Any) -> Callable[[random.Random, _File, Defect, list[Municipality]], None]:
    def inject(rng: random.Random, item: _File, defect: Defect, towns: list[Municipality]) -> None:
        item.options[key] = value

    return inject


def _truncate(rng: random.Random, item: _File, defect: Defect, towns: list[Municipality]) -> None:
    sheet = _main_sheet(item)
    item.rows[sheet] = item.rows[sheet][: len(item.rows[sheet]) * 3 // 10]


def _end_before_start(rng: random.Random, item: _File, defect: Defect, towns: list[Municipality]) -> None:
    sheet = "arrangementen" if defect.source == "education" else _main_sheet(item)
    start = _column(item, sheet, "startdatum", "Startdatum")
    for row in _pick(rng, item, defect, 1, sheet):
        begin = row[start] if isinstance(row[start], date) else date.fromisoformat(row[start])
        earlier = begin - timedelta(days=30)
        row[start + 1] = earlier if defect.source == "education" else earlier.isoformat()


def _recorded_before(row: list[Any], column: int) -> Any:
    return row[column].replace(row[column][:4], str(int(row[column][:4]) - 1), 1)


INJECT: dict[str, Callable[[random.Random, _File, Defect, list[Municipality]], None]] = {
    "wrong_delimiter": _option("delimiter", ","),
    "cp1252_encoding": _option("encoding", "cp1252"),
    "header_spaces": _header_spaces,
    "renamed_column": lambda rng, item, defect, towns: _rename_header(
        ("kosten_eur", "Aantal met TLV"), "kosten" if defect.source == "tmsd" else "aantal_tlv"
    )(rng, item, defect, towns),
    "suppressed_value": lambda rng, item, defect, towns: _set(
        ("kosten_eur", "Aantal leerlingen"),
        lambda row, c: ".",
        3,
        "verzuim" if defect.source == "education" else None,
    )(rng, item, defect, towns),
    "raw_bsn": _raw_bsn,
    "truncated_file": _truncate,
    "duplicated_rows": _duplicated_rows,
    "unknown_gemeente": _set(("gemeente_code", "Gemeentecode"), lambda row, c: "GM9999"),
    "unknown_product": _set(("productcode",), lambda row, c: "99Z01"),
    "end_before_start": _end_before_start,
    "unknown_milestone": _set(("milestone",), lambda row, c: "zitting"),
    "recorded_before_occurred": _set(("recorded_at",), _recorded_before, 1),
    "negative_count": _set(("Aantal leerlingen",), lambda row, c: -row[c] if row[c] else -3, 1),
    "totals_mismatch": _option("totals_offset", 7),
    "redelivered_file": lambda rng, item, defect, towns: None,
}


def simulation_result(root: Path) -> SimulationResult:
    """A simulation written earlier, read back from its manifest."""
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    defects = [Defect(**entry) for entry in manifest["defects"]]
    scale = Scale(**manifest.get("scale", {}))
    return SimulationResult(root, manifest["files"], defects, manifest["revisions"], scale)
