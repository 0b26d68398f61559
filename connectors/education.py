"""Education–youth care: one XLSX workbook per samenwerkingsverband per quarter, three sheets.

`onderwijs_jeugd_<SWV>_<yyyy>Q<q>_v<n>.xlsx` with sheets `leerlingen`, `verzuim` and `arrangementen`.
They are made for people: merged title rows above the header, Dutch headers, a totals row at the bottom
and notes below it. The header row is found by matching the contract's headers (not by position), rows
stop at the totals row, and the totals are checked against the rows above them (a warning if they differ).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from typing import Any
from zipfile import BadZipFile

from connectors.base import ParsedTable
from connectors.files import (
    map_columns,
    normalise_header,
    redact_text,
    redact_tokens,
    to_contract_type,
)
from monitorlink.core.contracts import Contract, load_contract
from monitorlink.core.pseudonym import bsn_tokens, mask_bsns
from monitorlink.core.rules import RuleFailure

PUPILS = load_contract("education_pupils.v1")
ABSENCE = load_contract("education_absence.v1")
ARRANGEMENTS = load_contract("education_arrangements.v1")
source = "education"
contracts: tuple[Contract, ...] = (PUPILS, ABSENCE, ARRANGEMENTS)
#: How far down a sheet the header may be (title rows, logos, a blank line).
HEADER_SEARCH_ROWS = 15


def parse(name: str, content: bytes) -> list[ParsedTable]:
    """One table per sheet of the workbook; a missing sheet is a critical problem of that table."""
    from openpyxl import load_workbook  # imported here: every other process names this module cheaply
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as error:
        raise ValueError(f"not an XLSX workbook ({error})") from error
    tables = []
    for contract in contracts:
        sheet_name = contract.delivery.sheet if contract.delivery else None
        if sheet_name not in workbook.sheetnames:
            table = ParsedTable(contract)
            reason = f"sheet {sheet_name!r} is missing (found {workbook.sheetnames})"
            table.problems.append(RuleFailure("sheet_present", reason, "sheet", sheet_name))
            tables.append(table)
            continue
        rows = [tuple(row) for row in workbook[sheet_name].iter_rows(values_only=True)]
        tables.append(read_sheet(rows, contract))
    workbook.close()
    return tables


def header_row(rows: Sequence[Sequence[Any]], contract: Contract) -> int | None:
    """Index of the row that holds the contract's headers: the first with most required headers in it."""
    wanted = {normalise_header(f.header or f.name) for f in contract.fields if f.required}
    best, best_hits = None, 0
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = {normalise_header(str(cell)) for cell in row if cell is not None}
        hits = len(wanted & found)
        if hits > best_hits:
            best, best_hits = index, hits
    return best if best_hits * 2 >= len(wanted) else None


def read_sheet(rows: Sequence[Sequence[Any]], contract: Contract) -> ParsedTable:
    """Rows under the detected header until the totals row or a blank line; totals are checked, not kept."""
    start = header_row(rows, contract)
    if start is None:
        table = ParsedTable(contract)
        reason = f"no header row with the contract's columns in the first {HEADER_SEARCH_ROWS} rows"
        table.problems.append(RuleFailure("columns_match_contract", reason, "sheet", contract.name))
        return table
    headers = [str(cell) if cell is not None else "" for cell in rows[start]]
    mapping, table = map_columns(headers, contract)
    for offset, cells in enumerate(rows[start + 1 :], start=start + 2):
        if _is_totals(cells):
            _check_totals(table, cells, mapping, offset)
            break
        if not any(cell not in (None, "") for cell in cells):
            break  # a blank line ends the table; notes such as "Bron: …" follow it
        table.rows.append({f.name: cells[i] if i < len(cells) else None for i, f in mapping.items()})
        table.row_numbers.append(offset)
    return table


def _is_totals(cells: Sequence[Any]) -> bool:
    return any(isinstance(cell, str) and cell.strip().lower().startswith("totaal") for cell in cells[:2])


def _check_totals(table: ParsedTable, cells: Sequence[Any], mapping: dict[int, Any], row: int) -> None:
    """A totals row that disagrees with the rows above it means rows went missing or were added."""
    for index, f in mapping.items():
        if f.type != "int64" or index >= len(cells) or cells[index] in (None, ""):
            continue
        try:
            stated = to_contract_type(cells[index], f)
            values = [to_contract_type(r.get(f.name), f) for r in table.rows]
        except ValueError:
            continue
        counted = sum(v for v in values if isinstance(v, int))
        if isinstance(stated, int) and stated != counted:
            reason = f"totals row {row} says {stated}, the rows above add up to {counted}"
            table.flags.append(RuleFailure("totals_row_matches", reason, f.name, stated, "warning"))


def redact(content: bytes, replacements: Mapping[str, str]) -> bytes:
    """The workbook with every delivered citizen service number replaced: its pseudonym where it fills an
    identifier cell, the mask where it stands in any other text. Bytes that are no workbook (a text file
    named .xlsx, quarantined as unreadable) are redacted as text; a workbook without any number in its
    texts is kept byte for byte, and one that does not open cannot be searched and is kept as received.
    """
    if not content.startswith(b"PK"):
        return redact_text(content, replacements)
    if not (replacements or _holds_bsn(content)):
        return content
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content))
    except Exception:  # any way a damaged workbook fails to open (the parser quarantined it already)
        return content
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                text = str(cell.value).strip() if cell.value is not None else ""
                if text in replacements:
                    cell.value = replacements[text]
                elif isinstance(cell.value, str):
                    cell.value = mask_bsns(redact_tokens(cell.value, replacements))
    sink = io.BytesIO()
    workbook.save(sink)
    return sink.getvalue()


def _holds_bsn(content: bytes) -> bool:
    """Whether any XML part of the workbook (shared strings, sheets) holds a 9-digit valid BSN."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = [name for name in archive.namelist() if name.endswith(".xml")]
            return any(bsn_tokens(archive.read(name).decode("utf-8", "replace")) for name in parts)
    except (BadZipFile, OSError, ValueError, zlib.error):
        return False
