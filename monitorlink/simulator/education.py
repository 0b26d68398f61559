"""Simulated education–youth care workbooks: one per samenwerkingsverband per quarter, made for people.

Each sheet has a merged title row, a subtitle, a blank line, Dutch headers, the rows, a totals row and a
source note — the layout the connector must see through. About 4% of pupils are in special education
((V)SO/SBO, all with a TLV); thuiszitters are a few per thousand, about half of them with youth care.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from openpyxl import Workbook

from monitorlink.simulator.population import Municipality, quarter_bounds

#: Samenwerkingsverbanden (simulated codes) and the municipalities they serve.
NORTH = ("GM0141", "GM1700", "GM0189", "GM0163", "GM1742", "GM0183")
SOUTH = ("GM0153", "GM0164", "GM0158", "GM0168", "GM0173", "GM1774", "GM1735", "GM0147")
SWVS = {"PO2301": NORTH, "VO2301": NORTH, "PO2302": SOUTH, "VO2302": SOUTH}
SHEETS = {
    "leerlingen": [
        "Samenwerkingsverband",
        "Peildatum",
        "BRIN",
        "Gemeentecode",
        "Onderwijssoort",
        "Aantal leerlingen",
        "Aantal met TLV",
    ],
    "verzuim": [
        "Samenwerkingsverband",
        "Schooljaar",
        "Gemeentecode",
        "Soort verzuim",
        "Aantal leerlingen",
        "Waarvan met jeugdhulp",
    ],
    "arrangementen": [
        "Client pseudo-ID",
        "Samenwerkingsverband",
        "BRIN",
        "Gemeentecode",
        "Type",
        "Startdatum",
        "Einddatum",
    ],
}
ABSENCE = {"langdurig relatief verzuim": 0.0025, "absoluut verzuim": 0.0007, "vrijstelling": 0.0030}


@dataclass
class School:
    brin: str
    gemeente: str
    kind: str
    pupils: int


def schools(swv: str, towns: list[Municipality], seed: int) -> list[School]:
    """The schools of one samenwerkingsverband: regular ones per municipality, a few special ones."""
    rng = random.Random(f"{seed}:schools:{swv}")
    primary = swv.startswith("PO")
    out = []
    for town in towns:
        pupils = town.youths(2023) * (0.44 if primary else 0.33)
        size = 210 if primary else 850
        for _ in range(max(1, round(pupils * 0.96 / size))):
            out.append(
                School(_brin(rng), town.code, "PO" if primary else "VO", round(rng.gauss(size, size * 0.25)))
            )
    special = sum(s.pupils for s in out) * 0.04 / 0.96
    kinds = ("SBO", "SO") if primary else ("VSO",)
    for kind in kinds:
        for _ in range(3):
            out.append(School(_brin(rng), rng.choice(towns).code, kind, round(special / (3 * len(kinds)))))
    return out


def _brin(rng: random.Random) -> str:
    return f"{rng.randrange(10, 100)}{chr(65 + rng.randrange(26))}{chr(65 + rng.randrange(26))}"


def workbook_rows(
    swv: str, towns: list[Municipality], school_list: list[School], year: int, quarter: int, seed: int
) -> dict[str, list[list[Any]]]:
    """The rows of the three sheets for one quarter."""
    rng = random.Random(f"{seed}:education:{swv}:{year}Q{quarter}")
    first, last = quarter_bounds(year, quarter)
    school_year = f"{year}-{year + 1}" if first.month >= 8 else f"{year - 1}-{year}"
    pupils = []
    for school in school_list:
        count = max(5, round(school.pupils * (1 - 0.004 * (year - 2023)) * rng.uniform(0.97, 1.03)))
        tlv = count if school.kind in ("SBO", "SO", "VSO") else 0
        pupils.append([swv, first, school.brin, school.gemeente, school.kind, count, tlv])
    absence = []
    for town in towns:
        enrolled = town.youths(year) * (0.44 if swv.startswith("PO") else 0.33)
        for kind, rate in ABSENCE.items():
            count = max(0, round(rng.gauss(enrolled * rate, (enrolled * rate) ** 0.5)))
            absence.append([swv, school_year, town.code, kind, count, round(count * rng.uniform(0.4, 0.6))])
    arrangements = []
    for town in towns:
        for _ in range(max(1, round(town.youths(year) * 0.0025 * rng.uniform(0.8, 1.2)))):
            start = first - timedelta(days=rng.randrange(0, 200))
            end = start + timedelta(days=rng.randrange(60, 400))
            school = rng.choice([s for s in school_list if s.gemeente == town.code] or school_list)
            arrangements.append(
                [
                    town.pseudonym(town.person()),
                    swv,
                    school.brin,
                    town.code,
                    rng.choice(["OZA", "OJA"]),
                    start,
                    end if end <= last else None,
                ]
            )
    return {"leerlingen": pupils, "verzuim": absence, "arrangementen": arrangements}


def workbook_bytes(
    swv: str,
    year: int,
    quarter: int,
    sheets: dict[str, list[list[Any]]],
    headers: dict[str, list[str]] | None = None,
    totals_offset: int = 0,
) -> bytes:
    """An XLSX workbook laid out for people: title, subtitle, blank, header, rows, totals, source note."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        header = (headers or SHEETS)[title]
        sheet.append([f"Monitor onderwijs–jeugdhulp Twente — {title}"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
        sheet.append([f"Samenwerkingsverband {swv}, {year} kwartaal {quarter}"])
        sheet.append([])
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        numeric = [i for i, h in enumerate(SHEETS[title]) if h.startswith(("Aantal", "Waarvan"))]
        if numeric:
            totals: list[Any] = ["Totaal"] + [None] * (len(header) - 1)
            for i in numeric:
                totals[i] = sum(r[i] for r in rows if isinstance(r[i], int)) + totals_offset
            sheet.append(totals)
        sheet.append([])
        sheet.append(["Bron: DUO en samenwerkingsverband; bewerking Kennispunt Twente"])
    sink = io.BytesIO()
    book.save(sink)
    return _stable(sink.getvalue(), quarter_bounds(year, quarter)[1])


def _stable(workbook: bytes, as_of: date) -> bytes:
    """The same workbook with the save time openpyxl stamps in (zip entries, document properties) set
    to the quarter's end, so one seed gives byte-identical files and the lake sees no new delivery."""
    stamp = as_of.strftime("%Y-%m-%dT00:00:00Z")
    source, sink = zipfile.ZipFile(io.BytesIO(workbook)), io.BytesIO()
    with source, zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data
                )
            target.writestr(
                zipfile.ZipInfo(entry.filename, (as_of.year, as_of.month, as_of.day, 0, 0, 0)), data
            )
    return sink.getvalue()
