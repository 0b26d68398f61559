"""Mutations of delivered bytes for the fuzzing check, and the hypothesis strategies that draw them.

A fuzz input is a seed (a real or simulated delivery) plus a list of mutations. Each mutation is a small
frozen dataclass, so hypothesis draws only a few numbers and choices and the bytes are built when the
input is processed: a 200 KB field or 100,000-deep nesting never sits in hypothesis' example data.
Positions are fractions of the content's length, so one mutation fits seeds of any size, and a mutation
that does not fit its content (a JSON edit on bytes that are no longer JSON) leaves it unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import struct
import zipfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from hypothesis import strategies as st
from openpyxl import load_workbook

T = TypeVar("T")


def any_of(choices: Sequence[T]) -> st.SearchStrategy[T]:
    """One of `choices`, about equally often. Hypothesis' `sampled_from` (and a small integer) favours
    the first ones, inside a larger strategy so much that 1,000 inputs miss some choices altogether; a
    64-bit number scrambled by `random.Random` does not."""
    options = list(choices)
    return st.integers(0, 2**64 - 1).map(lambda n: random.Random(n).choice(options))


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """Strategies drawn in proportion to their weights (`st.one_of` gives each the same share)."""
    return any_of([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(lambda s: s)


#: Where a mutation acts, as a fraction of the content's length.
POSITIONS = st.floats(min_value=0.0, max_value=1.0)
#: Encodings files really arrive in besides UTF-8 (DOS code pages, Windows, UTF-16 with its BOM).
ENCODINGS = ("cp437", "cp850", "cp1252", "latin-1", "utf-16", "utf-16-le", "utf-16-be")
BOMS = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}
#: JSON tokens that are valid JSON (or what Python's parser accepts) but rarely what a field expects.
CONFUSING_JSON = (
    "1e400", "-1e400", "NaN", "Infinity", "-Infinity", "-1", "0", "-0.0", "1.5", "7",
    str(2**63), str(2**64), str(-(2**63) - 1), "9" * 400, "9" * 5000,
    "true", "false", "null", '""', '"."', '" "', "[]", "{}", "[1, 2]", '{"a": 1}', '[{"a": []}]',
    '"\\ud800"', '"x\\udfff"', '"\\u0000"', '"2026-02-30"', '"9999-12-31T23:59:59Z"', '"0000-00-00"',
    '"inf"', '"nan"', '"1e400"', '"-5"', '"J"', '"Totaal"', '"111222333"',
)  # fmt: skip
#: Cell texts of the same kind for CSV and XLSX: not numbers, numbers beyond int64, odd dates, a BSN.
CONFUSING_TEXT = (
    "", " ", ".", "inf", "-inf", "nan", "NaN", "1e400", "-1", "-0", "9" * 19, "-" + "9" * 19, "9" * 400,
    "1.234.567,89", "1,2,3", "12abc", "0x1F", "J", "ja", "2023-02-30", "31-12-9999", "00000000",
    "Totaal", "=1/0", "#DIV/0!", "111222333", '"', "a;b", "\t",
)  # fmt: skip
#: A member that expands entities past every sane limit (expat must refuse it, not run out of memory).
XML_BOMB = (
    '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY l0 "lol">'
    + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    + "]><w>&l9;</w>"
).encode()


class Mutation(ABC):
    """One change to a delivery's bytes."""

    @abstractmethod
    def apply(self, content: bytes) -> bytes:
        """The mutated bytes; a mutation that does not fit the content returns it unchanged."""

    @abstractmethod
    def describe(self) -> str:
        """A few words for the figures' examples, enough to rebuild the input (never a large payload)."""


def _index(at: float, length: int) -> int:
    return min(int(at * length), length)


# bytes ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlipBytes(Mutation):
    """Bit rot or a bad transfer: `count` bytes from a position XOR-ed with `mask`."""

    at: float
    count: int
    mask: int

    def apply(self, content: bytes) -> bytes:
        data = bytearray(content)
        start = _index(self.at, len(data))
        for index in range(start, min(start + self.count, len(data))):
            data[index] ^= self.mask
        return bytes(data)

    def describe(self) -> str:
        return f"flip {self.count} byte(s) at {self.at:.4f} with 0x{self.mask:02x}"


@dataclass(frozen=True)
class InsertBytes(Mutation):
    """Stray bytes in the middle of a file (a control character, half a UTF-8 sequence)."""

    at: float
    data: bytes

    def apply(self, content: bytes) -> bytes:
        index = _index(self.at, len(content))
        return content[:index] + self.data + content[index:]

    def describe(self) -> str:
        return f"insert {self.data!r} at {self.at:.4f}"


@dataclass(frozen=True)
class DeleteBytes(Mutation):
    """A lost stretch of bytes."""

    at: float
    length: int

    def apply(self, content: bytes) -> bytes:
        index = _index(self.at, len(content))
        return content[:index] + content[index + self.length :]

    def describe(self) -> str:
        return f"delete {self.length} byte(s) at {self.at:.4f}"


@dataclass(frozen=True)
class Truncate(Mutation):
    """A file cut off anywhere, down to empty (`at` 0)."""

    at: float

    def apply(self, content: bytes) -> bytes:
        return content[: _index(self.at, len(content))]

    def describe(self) -> str:
        return f"truncate at {self.at:.4f}" + (" (empty)" if self.at == 0 else "")


@dataclass(frozen=True)
class Reencode(Mutation):
    """The same text saved in another encoding; characters it lacks become '?'."""

    encoding: str

    def apply(self, content: bytes) -> bytes:
        return _text(content).encode(self.encoding, errors="replace")

    def describe(self) -> str:
        return f"re-encode as {self.encoding}"


@dataclass(frozen=True)
class ChangeBom(Mutation):
    """Add a BOM (UTF-8 or UTF-16 ones, whatever the content's encoding), double it, or remove it."""

    change: str

    def apply(self, content: bytes) -> bytes:
        bare = content
        for bom in BOMS.values():
            bare = bare.removeprefix(bom)
        if self.change == "remove":
            return bare
        if self.change == "double":
            return BOMS["utf-8"] * 2 + bare
        return BOMS[self.change] + content

    def describe(self) -> str:
        return f"BOM: {self.change}"


@dataclass(frozen=True)
class HugeField(Mutation):
    """More than 200 KB of one character at a position, optionally after a stray double quote."""

    at: float
    size: int
    fill: str
    quoted: bool

    def apply(self, content: bytes) -> bytes:
        index = _index(self.at, len(content))
        field = (b'"' if self.quoted else b"") + (self.fill * self.size).encode()
        return content[:index] + field + content[index:]

    def describe(self) -> str:
        quote = 'a stray " and ' if self.quoted else ""
        return f"insert {quote}{self.size:,} x {self.fill!r} at {self.at:.4f}"


def _text(content: bytes) -> str:
    """Text as a delivery's reader would most likely see it; Latin-1 reads any bytes at all."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


def byte_mutations() -> st.SearchStrategy[Mutation]:
    """Mutations that know nothing of the format: they apply to any delivery."""
    return st.one_of(
        st.builds(FlipBytes, POSITIONS, st.integers(1, 8), st.integers(1, 255)),
        st.builds(InsertBytes, POSITIONS, st.binary(min_size=1, max_size=8)),
        st.builds(DeleteBytes, POSITIONS, st.integers(1, 64)),
        st.builds(Truncate, POSITIONS),
        st.builds(Reencode, any_of(ENCODINGS)),
        st.builds(ChangeBom, any_of(("utf-8", "utf-16-le", "utf-16-be", "double", "remove"))),
        st.builds(HugeField, POSITIONS, st.integers(200_001, 300_000), any_of("xé9;"), st.booleans()),
    )


# delimited text -------------------------------------------------------------------------------------


@dataclass
class _Csv:
    """A CSV delivery taken apart: its lines, delimiter and the encoding to put it back in."""

    lines: list[str]
    delimiter: str
    encoding: str

    @classmethod
    def read(cls, content: bytes) -> _Csv:
        try:
            text, encoding = content.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            text, encoding = content.decode("latin-1"), "cp1252"
        header = text.split("\n", 1)[0]
        delimiter = max(";,\t|", key=header.count)
        return cls(text.split("\n"), delimiter, encoding)

    def cells(self, line: int) -> list[str]:
        return self.lines[line].rstrip("\r").split(self.delimiter)

    def set_cells(self, line: int, cells: Sequence[str]) -> None:
        ending = "\r" if self.lines[line].endswith("\r") else ""
        self.lines[line] = self.delimiter.join(cells) + ending

    def bytes(self) -> bytes:
        return "\n".join(self.lines).encode(self.encoding, errors="replace")


@dataclass(frozen=True)
class SwapDelimiter(Mutation):
    """Another delimiter in the header, the body or everywhere (a re-saved or hand-edited file)."""

    new: str
    scope: str

    def apply(self, content: bytes) -> bytes:
        table = _Csv.read(content)
        for line in range(len(table.lines)):
            if self.scope == "all" or (line == 0) == (self.scope == "header"):
                table.lines[line] = table.lines[line].replace(table.delimiter, self.new)
        return table.bytes()

    def describe(self) -> str:
        return f"delimiter {self.new!r} in the {self.scope}"


#: What happens to a header: typos, case, spacing, another column's name, an unknown one, gone.
HEADER_CHANGES: dict[str, Callable[[str, str], str]] = {
    "misspell": lambda header, other: header[: len(header) // 2] + header[len(header) // 2 + 1 :],
    "upper": lambda header, other: header.upper(),
    "pad": lambda header, other: f"  {header} ",
    "blank": lambda header, other: "",
    "duplicate": lambda header, other: other,
    "unknown": lambda header, other: "kolom_onbekend",
    "accent": lambda header, other: header.replace("e", "ë"),
}


@dataclass(frozen=True)
class ChangeHeader(Mutation):
    """One header of a CSV changed (see `HEADER_CHANGES`), or removed so every column shifts."""

    column: int
    change: str

    def apply(self, content: bytes) -> bytes:
        table = _Csv.read(content)
        headers = table.cells(0)
        index = self.column % len(headers)
        if self.change == "drop":
            del headers[index]
        else:
            other = headers[(index + 1) % len(headers)]
            headers[index] = HEADER_CHANGES[self.change](headers[index], other)
        table.set_cells(0, headers)
        return table.bytes()

    def describe(self) -> str:
        return f"header {self.column}: {self.change}"


@dataclass(frozen=True)
class SetCsvCell(Mutation):
    """One cell of a data line replaced by a value that tests the contract's types."""

    row: float
    column: int
    value: str

    def apply(self, content: bytes) -> bytes:
        table = _Csv.read(content)
        if len(table.lines) < 2:
            return content
        line = 1 + _index(self.row, len(table.lines) - 2)
        cells = table.cells(line)
        cells[self.column % len(cells)] = self.value
        table.set_cells(line, cells)
        return table.bytes()

    def describe(self) -> str:
        return f"cell (line at {self.row:.4f}, column {self.column}) = {_short(self.value)}"


@dataclass(frozen=True)
class ReplaceRows(Mutation):
    """The body replaced by generated rows, written with proper quoting under the original header."""

    rows: tuple[tuple[str, ...], ...]

    def apply(self, content: bytes) -> bytes:
        table = _Csv.read(content)
        sink = io.StringIO()
        csv.writer(sink, delimiter=table.delimiter, lineterminator="\n").writerows(self.rows)
        table.lines = [table.lines[0], *sink.getvalue().split("\n")]
        return table.bytes()

    def describe(self) -> str:
        return f"{len(self.rows)} generated row(s), first {list(self.rows[0]) if self.rows else []}"[:240]


def csv_mutations(columns: Sequence[Sequence[str]]) -> st.SearchStrategy[Mutation]:
    """Mutations of a `;`-CSV; `columns` are the values seen per column, for rows within the contract."""
    cell = st.one_of(any_of(CONFUSING_TEXT), st.text(max_size=30))
    within = st.tuples(*(any_of(list(values) or [""]) for values in columns))
    outside = st.lists(cell, max_size=len(columns) + 2).map(tuple)
    return st.one_of(
        st.builds(SwapDelimiter, any_of(",\t|;"), any_of(("header", "body", "all"))),
        st.builds(ChangeHeader, st.integers(0, 40), any_of([*HEADER_CHANGES, "drop"])),
        st.builds(SetCsvCell, POSITIONS, st.integers(0, 40), cell),
        st.builds(ReplaceRows, st.lists(st.one_of(within, outside), max_size=6).map(tuple)),
    )


# JSON -----------------------------------------------------------------------------------------------

#: Stands in for the node being replaced until the document is text again.
_MARKER = "\ue000fuzz\ue000"
JsonPath = tuple[str | int, ...]


def _paths(node: Any, path: JsonPath = ()) -> list[JsonPath]:
    """Every node of a document, the root first, depth first."""
    found = [path]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*path, index))
    return found


#: What `_load` returns for content that is no longer JSON (a JSON `null` loads as None).
_NOT_JSON = object()


def _load(content: bytes) -> Any:
    """The document, or `_NOT_JSON` (then a JSON mutation does not apply)."""
    try:
        return json.loads(_text(content))
    except (ValueError, RecursionError):
        return _NOT_JSON


def _dump(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1)


def _replace_node(content: bytes, at: float, raw: str) -> bytes:
    """The document with one node (chosen by position in depth-first order) replaced by raw JSON text.

    A document an earlier mutation nested too deep for Python to walk is left as it is.
    """
    document = _load(content)
    if document is _NOT_JSON:
        return content
    try:
        paths = _paths(document)
        path = paths[_index(at, len(paths) - 1)]
        if not path:
            return raw.encode("utf-8", errors="surrogatepass")
        _parent(document, path)[path[-1]] = _MARKER
        text = _dump(document).replace(json.dumps(_MARKER, ensure_ascii=False), raw, 1)
    except RecursionError:
        return content
    return text.encode("utf-8", errors="surrogatepass")


def _parent(document: Any, path: JsonPath) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


@dataclass(frozen=True)
class SetJsonValue(Mutation):
    """Type confusion: one node (a value, a list, an object, the root) replaced by other raw JSON."""

    at: float
    raw: str

    def apply(self, content: bytes) -> bytes:
        return _replace_node(content, self.at, self.raw)

    def describe(self) -> str:
        return f"JSON node at {self.at:.4f} = {_short(self.raw)}"


@dataclass(frozen=True)
class NestJsonValue(Mutation):
    """One node replaced by lists (`[`) or objects (`{`) nested `depth` deep."""

    at: float
    depth: int
    opener: str

    def apply(self, content: bytes) -> bytes:
        if self.opener == "[":
            raw = "[" * self.depth + "]" * self.depth
        else:
            raw = '{"a":' * self.depth + "1" + "}" * self.depth
        return _replace_node(content, self.at, raw)

    def describe(self) -> str:
        return f"JSON node at {self.at:.4f} = {self.opener} nested {self.depth:,} deep"


@dataclass(frozen=True)
class HugeJsonString(Mutation):
    """One node replaced by a string of more than 200 KB."""

    at: float
    size: int

    def apply(self, content: bytes) -> bytes:
        return _replace_node(content, self.at, json.dumps("x" * self.size))

    def describe(self) -> str:
        return f"JSON node at {self.at:.4f} = a string of {self.size:,} characters"


@dataclass(frozen=True)
class ChangeJsonKey(Mutation):
    """One object key misspelled, upper-cased, emptied or dropped (a renamed or missing field)."""

    at: float
    change: str

    def apply(self, content: bytes) -> bytes:
        document = _load(content)
        try:
            keys = [path for path in _paths(document) if path and isinstance(path[-1], str)]
            if not keys:
                return content
            path = keys[_index(self.at, len(keys) - 1)]
            parent, old = _parent(document, path), str(path[-1])
            items = [(key, value) for key, value in parent.items() if key != old or self.change != "drop"]
            parent.clear()
            for key, value in items:
                parent[HEADER_CHANGES[self.change](key, "kolom") if key == old else key] = value
            text = _dump(document)
        except RecursionError:
            return content
        return text.encode("utf-8", errors="surrogatepass")

    def describe(self) -> str:
        return f"JSON key at {self.at:.4f}: {self.change}"


def json_values() -> st.SearchStrategy[str]:
    """Arbitrary JSON as text, NaN and infinities included (Python's parser reads them)."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
    values = st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )
    return values.map(json.dumps)


def json_mutations() -> st.SearchStrategy[Mutation]:
    """Mutations of a JSON document that keep it JSON: type confusion, nesting, huge text, keys."""
    return weighted(
        (4, st.builds(SetJsonValue, POSITIONS, st.one_of(any_of(CONFUSING_JSON), json_values()))),
        (1, st.builds(NestJsonValue, POSITIONS, any_of((1_000, 10_000, 100_000)), any_of("[{"))),
        (1, st.builds(HugeJsonString, POSITIONS, st.integers(200_001, 300_000))),
        (2, st.builds(ChangeJsonKey, POSITIONS, any_of(["misspell", "upper", "blank", "drop"]))),
    )


# XLSX (a zip of XML members) --------------------------------------------------------------------------


def _members(content: bytes) -> list[zipfile.ZipInfo] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return None


def _rezip(
    content: bytes, change: Callable[[str, bytes], bytes | None], compression: int | None = None
) -> bytes:
    """The archive written again with `change(name, data)` applied to each member (None drops it).

    CRCs are computed afresh, so what a reader meets is the changed member, not a checksum error.
    """
    sink = io.BytesIO()
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(sink, "w") as target:
            for info in source.infolist():
                data = change(info.filename, source.read(info))
                if data is not None:
                    target.writestr(info.filename, data, compression or info.compress_type)
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, KeyError):
        return content  # a member that was already broken: this mutation does not apply
    return sink.getvalue()


def _member(members: list[zipfile.ZipInfo], at: float) -> zipfile.ZipInfo:
    return members[_index(at, len(members) - 1)]


@dataclass(frozen=True)
class DropMember(Mutation):
    """A member missing from the workbook (`xl/workbook.xml`, a sheet, the content types)."""

    name: str

    def apply(self, content: bytes) -> bytes:
        return _rezip(content, lambda name, data: None if name == self.name else data)

    def describe(self) -> str:
        return f"drop zip member {self.name}"


@dataclass(frozen=True)
class FlipInMember(Mutation):
    """Bytes flipped inside one member's stored data: a CRC error or a broken deflate stream."""

    member: float
    at: float
    mask: int

    def apply(self, content: bytes) -> bytes:
        members = _members(content)
        if not members:
            return content
        info = _member(members, self.member)
        if info.header_offset + 30 > len(content):
            return content
        name_length, extra_length = struct.unpack(
            "<HH", content[info.header_offset + 26 : info.header_offset + 30]
        )
        start = info.header_offset + 30 + name_length + extra_length
        index = start + _index(self.at, max(info.compress_size - 1, 0))
        if index >= len(content):
            return content
        return content[:index] + bytes([content[index] ^ self.mask]) + content[index + 1 :]

    def describe(self) -> str:
        return f"flip a byte at {self.at:.4f} of zip member #{self.member:.4f} with 0x{self.mask:02x}"


@dataclass(frozen=True)
class BreakCrc(Mutation):
    """One member's CRC in the central directory no longer matches its (intact) data."""

    member: float

    def apply(self, content: bytes) -> bytes:
        members = _members(content)
        end = content.rfind(b"PK\x05\x06")
        if not members or end < 0:
            return content
        wanted = _member(members, self.member).filename.encode()
        position = struct.unpack("<I", content[end + 16 : end + 20])[0]
        while content[position : position + 4] == b"PK\x01\x02":
            name_length, extra_length, comment_length = struct.unpack(
                "<HHH", content[position + 28 : position + 34]
            )
            if content[position + 46 : position + 46 + name_length] == wanted:
                crc = bytes(b ^ 0xFF for b in content[position + 16 : position + 20])
                return content[: position + 16] + crc + content[position + 20 :]
            position += 46 + name_length + extra_length + comment_length
        return content

    def describe(self) -> str:
        return f"wrong CRC for zip member #{self.member:.4f}"


@dataclass(frozen=True)
class MutateMember(Mutation):
    """A mutation applied to one member's uncompressed XML, written back with a correct CRC."""

    member: float
    mutation: Mutation

    def apply(self, content: bytes) -> bytes:
        members = _members(content)
        if not members:
            return content
        target = _member(members, self.member).filename
        return _rezip(content, lambda name, data: self.mutation.apply(data) if name == target else data)

    def describe(self) -> str:
        return f"zip member #{self.member:.4f}: {self.mutation.describe()}"


@dataclass(frozen=True)
class ReplaceWith(Mutation):
    """Content of another kind entirely, for a member or a whole file: the seed is gone."""

    kind: str

    def apply(self, content: bytes) -> bytes:
        return REPLACEMENTS[self.kind]

    def describe(self) -> str:
        return f"replaced by {self.kind}"


@dataclass(frozen=True)
class NestXml(Mutation):
    """Elements nested `depth` deep inserted at a position (inside a tag or between two)."""

    at: float
    depth: int

    def apply(self, content: bytes) -> bytes:
        index = _index(self.at, len(content))
        return content[:index] + b"<a>" * self.depth + b"</a>" * self.depth + content[index:]

    def describe(self) -> str:
        return f"XML nested {self.depth:,} deep at {self.at:.4f}"


@dataclass(frozen=True)
class Recompress(Mutation):
    """Every member deflated (the simulator stores them), so later flips hit a compressed stream."""

    def apply(self, content: bytes) -> bytes:
        return _rezip(content, lambda name, data: data, zipfile.ZIP_DEFLATED)

    def describe(self) -> str:
        return "deflate every zip member"


def _zip_of(members: dict[str, bytes]) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return sink.getvalue()


REPLACEMENTS = {
    "a CSV text": b"client_pseudo_id;geboortejaar\naaaa;2012\n",
    "an HTML error page": b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>",
    "a JSON document": b'{"schemaVersion": 1, "rows": []}',
    "an empty zip": _zip_of({}),
    "a zip of one text file": _zip_of({"readme.txt": b"not a workbook"}),
    "an XML bomb": XML_BOMB,
    "no bytes": b"",
}


@dataclass(frozen=True)
class SetSheetCell(Mutation):
    """One cell of a sheet set to a value of another type, or to text that tests the contract."""

    sheet: float
    row: float
    column: float
    value: Any

    def apply(self, content: bytes) -> bytes:
        try:
            workbook = load_workbook(io.BytesIO(content))
        except Exception:  # openpyxl raises whatever its parsers raise; then there is no sheet to edit
            return content
        if not workbook.worksheets:
            return content
        sheet = workbook.worksheets[_index(self.sheet, len(workbook.worksheets) - 1)]
        row = 1 + _index(self.row, sheet.max_row + 1)
        column = 1 + _index(self.column, sheet.max_column)
        for merged in sheet.merged_cells.ranges:  # a merged title row takes its value in its first cell
            if (row, column) in merged.cells:
                row, column = merged.min_row, merged.min_col
        sheet.cell(row=row, column=column, value=self.value)
        sink = io.BytesIO()
        workbook.save(sink)
        return sink.getvalue()

    def describe(self) -> str:
        where = f"sheet {self.sheet:.4f}, row {self.row:.4f}, column {self.column:.4f}"
        return f"cell ({where}) = {type(self.value).__name__} {_short(repr(self.value))}"


def cell_values(headers: Sequence[str]) -> st.SearchStrategy[Any]:
    """Values a person can type into a cell, including headers with typos and numbers beyond int64."""
    words = [*headers, *(change(h, "x") for h in headers for change in HEADER_CHANGES.values())]
    return st.one_of(
        any_of(CONFUSING_TEXT),
        any_of(words),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        st.booleans(),
        st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31)),
        st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=30),
        st.integers(200_001, 250_000).map(lambda size: "x" * size),
    )


def workbook_mutations(members: Sequence[str], headers: Sequence[str]) -> st.SearchStrategy[Mutation]:
    """Mutations of an XLSX: corrupt or missing members, text named .xlsx, cells of the wrong type."""
    inner = st.one_of(
        byte_mutations(),
        st.builds(NestXml, POSITIONS, any_of((1_000, 10_000, 100_000))),
        any_of(["an XML bomb", "no bytes", "a JSON document"]).map(ReplaceWith),
    )
    return st.one_of(
        st.builds(DropMember, any_of(["xl/workbook.xml", *members])),
        st.builds(FlipInMember, POSITIONS, POSITIONS, st.integers(1, 255)),
        st.builds(BreakCrc, POSITIONS),
        st.builds(MutateMember, POSITIONS, inner),
        st.builds(ReplaceWith, any_of(sorted(REPLACEMENTS))),
        st.just(Recompress()),
        st.builds(SetSheetCell, POSITIONS, POSITIONS, POSITIONS, cell_values(headers)),
    )


# inputs -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One fuzz input: a seed by name and the mutations applied to it in order (format-aware first)."""

    seed: str
    mutations: tuple[Mutation, ...]

    def build(self, content: bytes) -> bytes:
        """The input's bytes from its seed's (which the caller may have personalised first)."""
        for mutation in self.mutations:
            content = mutation.apply(content)
        return content

    def describe(self) -> str:
        return f"{self.seed}: " + ("; ".join(m.describe() for m in self.mutations) or "unmutated")


def cases(seeds: Sequence[str], structural: st.SearchStrategy[Mutation]) -> st.SearchStrategy[Case]:
    """A seed, up to three format-aware mutations, then up to two byte-level ones."""
    return st.builds(
        _case,
        any_of(list(seeds)),
        st.lists(structural, max_size=3),
        st.lists(byte_mutations(), max_size=2),
    )


def _case(seed: str, structural: list[Mutation], raw: list[Mutation]) -> Case:
    return Case(seed, (*structural, *raw))


def _short(text: str, limit: int = 60) -> str:
    """A value as shown in a description: long ones cut, with their length."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}… ({len(text):,} characters)"


def xlsx_headers(content: bytes) -> list[str]:
    """Text cells of a workbook's first rows: its headers (and titles), for header typos in cells."""
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    words = {
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(max_row=8, values_only=True)
        for cell in row
        if isinstance(cell, str) and not re.search(r"\d", cell)
    }
    workbook.close()
    return sorted(words)
