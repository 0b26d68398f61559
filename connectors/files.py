"""Reading delivered files the way they really arrive: encoding, delimiter, Dutch headers, Dutch numbers.

Shared by the file connectors (TMSD, chain, education). Everything here is lenient about *form* and strict
about *content*: a cp1252 file, a comma-separated file or a header with stray spaces is read and flagged
(a warning the analyst can see), while a value that does not fit the contract is reported, never guessed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from connectors.base import ParsedTable
from monitorlink.core.contracts import Contract, Field
from monitorlink.core.pseudonym import BSN_MASK, bsn_tokens
from monitorlink.core.rules import RuleFailure

#: The CBS/TMSD way of saying "suppressed": a lone dot (sometimes padded).
SUPPRESSED = "."


#: Single-byte code pages older deliveries come in: Windows-1252, and DOS Latin-1 (cp850, which agrees
#: with cp437 on the Dutch letters) from exports of older case systems.
LEGACY_ENCODINGS = ("cp1252", "cp850")
#: The accented letters Dutch text is made of; any other non-ASCII character counts against a decoding.
_DUTCH_LETTERS = frozenset("àáâäèéêëìíîïòóôöùúûüçñ")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
#: Line ends as the csv module counts them (`newline=""`): CR LF, a lone CR or a lone LF.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: Characters on which Python's csv reader and `str.strip` could differ from Arrow's reader and trim
#: (controls, NUL, Unicode spaces): a file holding one is read by the csv module, as it always was.
_UNUSUAL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)


def decode(content: bytes) -> tuple[str, str]:
    """Text and the encoding it was in: UTF-8 (with or without BOM) or, failing that, a legacy code page.

    UTF-8 is tried first and strictly. This never fails: cp850 reads any bytes. Between cp1252 and cp850
    the one that reads as Dutch wins: `ë` is 0xEB in cp1252 but 0x89 in cp850, where cp1252 would show
    `‰` — a header `reden_beëindiging` would no longer match its column. A tie is cp1252.
    """
    with contextlib.suppress(UnicodeDecodeError):  # a BOM before bytes that are no UTF-8 proves nothing
        if content.startswith(b"\xef\xbb\xbf"):
            return content[3:].decode("utf-8"), "utf-8-sig"
        return content.decode("utf-8"), "utf-8"
    texts = {}
    for encoding in LEGACY_ENCODINGS:  # cp1252 leaves five bytes undefined; cp850 defines all 256
        with contextlib.suppress(UnicodeDecodeError):
            texts[encoding] = content.decode(encoding)
    best = max(texts, key=lambda encoding: _reads_as_dutch(texts[encoding]))
    return texts[best], best


def _reads_as_dutch(text: str) -> int:
    """Dutch accented letters minus other non-ASCII characters (typographic marks, box drawing).

    Only the non-ASCII characters are looked at (found by one regular-expression scan), because a loop
    over every character of a large file cost more than reading it.
    """
    foreign = _NON_ASCII.findall(text)
    dutch = sum(1 for character in foreign if character in _DUTCH_LETTERS)
    return dutch - (len(foreign) - dutch)


def sniff_delimiter(text: str, expected: str = ";") -> str:
    """The delimiter of a CSV text, judged on its header line; `expected` when the header is ambiguous."""
    header = text.split("\n", 1)[0]
    counts = {candidate: header.count(candidate) for candidate in (";", ",", "\t", "|")}
    best = max(counts, key=lambda candidate: counts[candidate])
    return best if counts[best] > counts.get(expected, 0) else expected


def normalise_header(header: str) -> str:
    """`' Aantal  met TLV '` → `aantal_met_tlv`: case, accents, spacing and punctuation do not matter."""
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def map_columns(headers: Sequence[str], contract: Contract) -> tuple[dict[int, Field], ParsedTable]:
    """Which delivered column is which contract field, with flags for whatever had to be interpreted.

    A header matches a field by its name, its Dutch `header`, or a name an earlier version used
    (`renamed_from`, flagged `column_renamed`). Headers that only match after normalising are flagged
    `header_normalised`; unknown columns `unexpected_column`; a missing required field is critical.
    """
    table = ParsedTable(contract)
    by_key: dict[str, tuple[Field, bool]] = {}
    for f in contract.fields:
        for spelling in (f.name, f.header or f.name):
            by_key[normalise_header(spelling)] = (f, False)
        for old in f.renamed_from:
            by_key[normalise_header(old)] = (f, True)
    mapping: dict[int, Field] = {}
    for index, header in enumerate(headers):
        match = by_key.get(normalise_header(header or ""))
        if match is None:
            if header:
                table.flags.append(
                    RuleFailure(
                        "unexpected_column",
                        "column not in the contract; kept in the raw zone only",
                        "header",
                        header,
                        "warning",
                    )
                )
            continue
        f, renamed = match
        mapping[index] = f
        if renamed:
            reason = f"column {header!r} is the old name of {f.name!r}; read as {f.name}"
            table.flags.append(RuleFailure("column_renamed", reason, "header", header, "warning"))
        elif header not in (f.name, f.header):
            reason = f"header {header!r} read as {f.header or f.name!r} (spacing or case differs)"
            table.flags.append(RuleFailure("header_normalised", reason, "header", header, "warning"))
    found = {f.name for f in mapping.values()}
    for f in contract.fields:
        if f.required and f.name not in found:
            reason = f"required column {f.header or f.name!r} is missing from the delivery"
            table.problems.append(RuleFailure("columns_match_contract", reason, "header", f.name))
    return mapping, table


def read_csv(content: bytes, contract: Contract) -> ParsedTable:
    """A `;`-CSV delivery (any encoding/delimiter we can recognise) as rows under contract field names.

    A file without quotes or unusual characters, whose every row has the header's number of fields (all
    simulated and nearly all real deliveries), is read column by column with Arrow (`ParsedTable.arrow`);
    any other file row by row with the csv module, which names the line of every malformed row.
    """
    text, encoding = decode(content)
    delimiter = sniff_delimiter(text)
    plain = _plain_lines(text, delimiter)
    if plain is None:
        return _read_rows(text, encoding, delimiter, contract)
    headers, body, numbers = plain
    mapping, table = map_columns(headers, contract)
    _form_flags(table, encoding, delimiter)
    table.arrow = _arrow_columns(body, delimiter, len(headers), mapping)
    table.row_numbers = numbers
    return table


def _form_flags(table: ParsedTable, encoding: str, delimiter: str) -> None:
    """Warnings about how the file was written (not what it says): its encoding and its delimiter."""
    if encoding in LEGACY_ENCODINGS:
        table.flags.append(
            RuleFailure(
                "encoding_not_utf8",
                f"file is {encoding}, not UTF-8; read as {encoding}",
                "encoding",
                encoding,
                "warning",
            )
        )
    if delimiter != ";":
        table.flags.append(
            RuleFailure(
                "delimiter_not_semicolon",
                f"file is separated by {delimiter!r}, not ';'",
                "delimiter",
                delimiter,
                "warning",
            )
        )


def _read_rows(text: str, encoding: str, delimiter: str, contract: Contract) -> ParsedTable:
    """The csv module's reading, row by row: quotes, ragged rows (each named by its line), odd bytes."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers = next(reader, [])
    mapping, table = map_columns(headers, contract)
    _form_flags(table, encoding, delimiter)
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(headers):
            table.problems.append(_row_shape_problem(reader.line_num, len(cells), len(headers)))
        table.rows.append({f.name: cells[i] if i < len(cells) else None for i, f in mapping.items()})
        table.row_numbers.append(reader.line_num)
    return table


def _plain_lines(text: str, delimiter: str) -> tuple[list[str], list[str], list[int]] | None:
    """Header cells, the non-blank body lines and their line numbers, when a plain split reads the file
    exactly as the csv module would: no quote, no unusual character, no field over the csv module's size
    limit, every non-blank line with the header's number of fields. None otherwise.

    A blank line (only spaces, tabs and delimiters) is skipped, as the row reader skips a row of blanks.
    """
    if '"' in text or _UNUSUAL.search(text):
        return None
    lines = _LINE_BREAK.split(text)
    if not lines[0].strip() or max(map(len, lines)) > csv.field_size_limit():
        return None
    width = lines[0].count(delimiter)
    blank = delimiter + " \t"
    numbers = [number for number, line in enumerate(lines[1:], start=2) if line.strip(blank)]
    body = [lines[number - 1] for number in numbers]
    if any(line.count(delimiter) != width for line in body):
        return None
    return lines[0].split(delimiter), body, numbers


def _arrow_columns(body: list[str], delimiter: str, width: int, mapping: dict[int, Field]) -> pa.Table:
    """The body lines as Arrow string columns under contract field names (a later duplicate wins)."""
    import pyarrow.csv as pacsv

    names = [str(index) for index in range(width)]
    wanted = {str(index): f.name for index, f in sorted(mapping.items())}
    if not body or not wanted:
        return pa.table({name: pa.array([None] * len(body), pa.string()) for name in wanted.values()})
    parsed = pacsv.read_csv(
        io.BytesIO("\n".join(body).encode("utf-8")),
        read_options=pacsv.ReadOptions(column_names=names),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, quote_char=False, double_quote=False, newlines_in_values=False
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(wanted, pa.string()),
            include_columns=list(wanted),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    columns = {name: parsed.column(index).combine_chunks() for index, name in wanted.items()}
    return pa.table(columns)


def _row_shape_problem(line_number: int, cells: int, headers: int) -> RuleFailure:
    """A row with another number of fields than the header: a truncated file, a stray delimiter or quote."""
    reason = (
        f"line {line_number} has {cells} fields where the header has {headers} "
        "(a truncated file, a stray delimiter or an unclosed quote)"
    )
    return RuleFailure("row_fields_match_header", reason, "line", line_number)


def read_records(records: Iterable[Mapping[str, Any]], contract: Contract, first_row: int = 1) -> ParsedTable:
    """JSON records (one object per row) as rows under contract field names, keys mapped like headers."""
    table = ParsedTable(contract)
    mapping: dict[str, Field] | None = None
    for number, record in enumerate(records, start=first_row):
        if mapping is None:
            keys = list(record)
            columns, table = map_columns(keys, contract)
            mapping = {keys[i]: f for i, f in columns.items()}
        table.rows.append({f.name: record.get(key) for key, f in mapping.items()})
        table.row_numbers.append(number)
    if mapping is None:
        _, table = map_columns([], contract)
    return table


def to_contract_type(value: Any, f: Field) -> Any:
    """One delivered value as the contract's type; raises ValueError for a value that does not fit.

    Understands what Dutch deliveries contain: decimal commas ("1.234,50"), dates as dd-mm-yyyy or ISO,
    whole numbers written as "12" or 12.0, J/N booleans. Empty text is None; a lone "." is `SUPPRESSED`.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
        if value == SUPPRESSED and f.type != "string":
            return SUPPRESSED
    kind = f.type
    if isinstance(value, dict | list):
        raise ValueError("expected one value, not a JSON list or object")
    if kind == "string":
        text = value if isinstance(value, str) else _number_text(value)
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as error:
                raise ValueError("holds a lone surrogate (\\ud800–\\udfff), which is no character") from error
        return text
    if kind in ("int32", "int64"):
        number = _number(value)
        if number != int(number):
            raise ValueError("expected a whole number")
        return int(number)
    if kind == "double":
        return _number(value)
    if kind == "bool":
        return _boolean(value)
    if kind == "date":
        return _date(value)
    if kind == "timestamp":
        return _timestamp(value)
    raise ValueError(f"no reader for type {kind}")


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _number(value: Any) -> float:
    """A finite number: `inf`, `nan`, `1e400` or an integer beyond a float are values, not numbers."""
    if isinstance(value, bool):
        raise ValueError("expected a number")
    if isinstance(value, int | float):
        text = str(value)
    else:
        text = str(value).replace(" ", "")
        if "," in text:  # Dutch: '.' groups thousands, ',' is the decimal mark
            text = text.replace(".", "").replace(",", ".")
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("j", "ja", "true", "1", "y", "yes"):
        return True
    if text in ("n", "nee", "false", "0", "no"):
        return False
    raise ValueError("expected J/N")


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y%m%d"):
        try:
            return datetime.strptime(text[:10] if pattern == "%Y-%m-%d" else text, pattern).date()
        except ValueError:
            continue
    raise ValueError("expected a date (yyyy-mm-dd or dd-mm-yyyy)")


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def redact_tokens(text: str, replacements: Mapping[str, str]) -> str:
    """`text` with each standalone token in `replacements` swapped."""
    if not replacements:
        return text
    pattern = re.compile(r"\b(" + "|".join(re.escape(token) for token in replacements) + r")\b")
    return pattern.sub(lambda match: replacements[match.group(1)], text)


def bsns_in_text(content: bytes) -> set[str]:
    """Every valid BSN in a text file's bytes, in whatever encoding it came."""
    return set(bsn_tokens(decode(content)[0]))


def mask_bsns_in_text(content: bytes) -> tuple[bytes, int]:
    """A text file with every valid BSN in it masked (for files kept whole, such as snapshots), and how
    many distinct numbers were masked; bytes without one come back unchanged."""
    found = bsns_in_text(content)
    if not found:
        return content, 0
    return redact_text(content, dict.fromkeys(found, BSN_MASK)), len(found)


def redact_text(content: bytes, replacements: Mapping[str, str]) -> bytes:
    """The same text file with each standalone token in `replacements` swapped, in its own encoding."""
    if not replacements:
        return content
    text, encoding = decode(content)
    redacted = redact_tokens(text, replacements)
    prefix = b"\xef\xbb\xbf" if encoding == "utf-8-sig" else b""
    return prefix + redacted.encode("utf-8" if encoding == "utf-8-sig" else encoding)
