"""A delivery between its bytes and the lake: name → parse → pseudonymise → type, every problem a failure.

The first half of landing a delivery, apart from the processor that decides and writes (`deliveries`):
what a file name says it covers, the connector's parse (any exception of a parser becomes the rule
`file_readable`), BSNs replaced by keyed pseudonyms in pseudonym columns and masked anywhere else, and
every value in its contract type. Nothing here touches the lake.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import pyarrow as pa

from connectors.base import Connector, ParsedTable
from connectors.files import SUPPRESSED, bsns_in_text, to_contract_type
from monitorlink.core.contracts import Contract, Field
from monitorlink.core.pseudonym import (
    BSN_MASK,
    MissingPseudonymKey,
    bsn_tokens,
    is_bsn,
    mask_bsns,
    pseudonym_key,
    pseudonymise,
)
from monitorlink.core.rules import RuleFailure


@dataclass(frozen=True)
class DeliveryName:
    """What a file name says a delivery covers; a higher version revises the same scope and period."""

    scope: str
    period: str
    version: int


def parse_name(contract: Contract, name: str) -> DeliveryName | None:
    """The scope, period and version in a file name, or None when it does not follow the contract."""
    assert contract.delivery is not None, f"{contract.id} is not a file feed"
    match = re.match(contract.delivery.file_pattern, name)
    if match is None:
        return None
    return DeliveryName(match["scope"], match["period"], int(match["version"]))


#: A typed column: an Arrow array, or the Python values when Arrow cannot hold them (an integer beyond
#: 64 bits from a workbook: the gate quarantines it, the record keeps it).
Column: TypeAlias = pa.Array | list[Any]


@dataclass
class PreparedTable:
    """One contract's rows of a delivery in contract types, column by column, each row with the rules it
    broke so far. Integer fields are held as int64 until written, so a value beyond int32 reaches the gate
    (and its range rule) instead of failing here."""

    contract: Contract
    columns: dict[str, Column]
    row_numbers: list[int]
    row_failures: list[list[RuleFailure]]
    batch_failures: list[RuleFailure]

    @property
    def num_rows(self) -> int:
        """How many rows the delivery holds for this contract."""
        return len(self.row_numbers)

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts in contract field order: what the gate (a pandas frame) and the quarantine
        records (JSON) take."""
        names = [f.name for f in self.contract.fields]
        values = [_python_values(self.columns[name]) for name in names]
        return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


@dataclass
class PreparedDelivery:
    """A delivery between reading and landing: its tables, identifier replacements and failures."""

    name: str
    origin: str
    content: bytes
    sha256: str
    delivery: DeliveryName | None
    tables: list[PreparedTable]
    replacements: dict[str, str] = field(default_factory=dict)
    delivery_failures: list[RuleFailure] = field(default_factory=list)

    def failures(self) -> Iterator[tuple[str, int | None, RuleFailure]]:
        """Every failure with the dataset and file row it concerns (None for the delivery as a whole)."""
        for failure in self.delivery_failures:
            yield "", None, failure
        for table in self.tables:
            for failure in table.batch_failures:
                yield table.contract.name, None, failure
            for number, failures in zip(table.row_numbers, table.row_failures, strict=True):
                for failure in failures:
                    yield table.contract.name, number, failure

    @property
    def is_rejected(self) -> bool:
        return any(failure.is_critical for _, _, failure in self.failures())


def prepare(connector: Connector, name: str, content: bytes, origin: str, digest: str) -> PreparedDelivery:
    """Parse a delivery, pseudonymise and type its rows; every problem becomes a failure, never an error.

    Only a missing pseudonym key raises: without it no delivery of a person-level feed may land.
    """
    delivery = parse_name(connector.contracts[0], name)
    prepared = PreparedDelivery(name, origin, content, digest, delivery, [])
    if delivery is None:
        pattern = connector.contracts[0].delivery.file_pattern  # type: ignore[union-attr]
        reason = f"file name does not match {pattern}; scope, period and version are unknown"
        prepared.delivery_failures.append(RuleFailure("file_name_matches_contract", reason, "file", name))
    try:
        parsed = connector.parse(name, content)
    except ValueError as error:
        reason = f"the file could not be read: {error}"
        prepared.delivery_failures.append(RuleFailure("file_readable", reason, "file", name))
        parsed = []
    except MissingPseudonymKey:
        raise
    except Exception as error:
        # Any other error is a parser meeting bytes it cannot read (csv's field limit, a corrupt zip
        # member, recursion): quarantine this file rather than hold up every delivery after it.
        reason = f"the file could not be read ({type(error).__name__}): {error}"
        prepared.delivery_failures.append(RuleFailure("file_readable", reason, "file", name))
        parsed = []
    # Only feeds with pseudonym columns need the key (read per delivery, so a missing one stops it).
    needs_key = any(f.pseudonym for c in connector.contracts for f in c.fields)
    key = pseudonym_key() if needs_key else b""
    for table in parsed:
        prepared.tables.append(typed_table(table, key, prepared.replacements))
    return prepared


def typed_table(parsed: ParsedTable, key: bytes, replacements: dict[str, str]) -> PreparedTable:
    """A parsed table's rows in contract types: BSNs pseudonymised (pseudonym columns) or masked (text).

    Column by column: the values every delivery is full of (plain text, whole and decimal numbers, ISO and
    Dutch dates, J/N) are typed by Arrow kernels; any other value — one that looks like a BSN, holds a
    control character, or does not fit the common forms — goes through `typed_value` one by one, exactly
    as every value once did, so failures and their reasons are the same.
    """
    count = parsed.num_rows
    failures: list[list[RuleFailure]] = [[] for _ in range(count)]
    columns: dict[str, Column] = {}
    for f in parsed.contract.fields:
        if count < VECTOR_ROWS:
            columns[f.name] = _typed_values(_python_column(parsed, f, count), f, key, replacements, failures)
            continue
        raw, originals, odd = _delivered_column(parsed, f, count)
        columns[f.name] = _typed_column(raw, originals, odd, f, key, replacements, failures)
    return PreparedTable(
        parsed.contract, columns, parsed.row_numbers, failures, parsed.flags + parsed.problems
    )


#: Values Arrow's kernels must not type, because Python and Arrow could read them differently: a
#: control character or a Unicode space (`str.strip` and Arrow's trim differ on some), or nine digits
#: standing alone (a possible BSN). Python's `\\b` and `\\d` are wider than ASCII, so non-ASCII text is
#: searched with Unicode digits and an ASCII-only notion of a word character: a superset of what
#: `bsn_tokens` can find. ASCII text (nearly all of it) takes the cheaper exact ASCII pattern.
_UNUSUAL = (
    r"[\x{00}-\x{1f}\x{7f}-\x{9f}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
)
_BSN_ASCII = r"(?:^|[^A-Za-z0-9_])[0-9]{9}(?:$|[^A-Za-z0-9_])"
_BSN_UNICODE = r"(?:^|[^A-Za-z0-9_])\p{Nd}{9}(?:$|[^A-Za-z0-9_])"
#: Below this many rows a table is typed value by value: the kernels' fixed cost per column (about a
#: millisecond) then exceeds what they save (measured on chain documents and workbook sheets).
VECTOR_ROWS = 200
_WHOLE = r"^-?[0-9]{1,15}$"
_DECIMAL = r"^-?[0-9]{1,15}(?:\.[0-9]{1,15})?$"
_ISO_DATE = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$"
_DUTCH_DATE = r"^[0-9]{2}-[0-9]{2}-[1-9][0-9]{3}$"
_TRUE = ["j", "ja", "true", "1", "y", "yes"]
_FALSE = ["n", "nee", "false", "0", "no"]
#: Whole numbers a float holds exactly: typed directly, with the result `to_contract_type` gives.
_EXACT_INT = 2**53


def _python_column(parsed: ParsedTable, f: Field, count: int) -> list[Any]:
    """A field's delivered values as Python objects (None where the field was not delivered)."""
    if parsed.arrow is None:
        return [row.get(f.name) for row in parsed.rows]
    if f.name in parsed.arrow.column_names:
        values: list[Any] = parsed.arrow.column(f.name).to_pylist()
        return values
    return [None] * count


def _typed_values(
    values: list[Any], f: Field, key: bytes, replacements: dict[str, str], failures: list[list[RuleFailure]]
) -> Column:
    """A small table's field typed value by value (`typed_value`), failures added to their rows."""
    typed = []
    for index, value in enumerate(values):
        result, found = typed_value(value, f, key, replacements)
        typed.append(result)
        if found:
            failures[index].extend(found)
    return _column(typed, f)


def _delivered_column(
    parsed: ParsedTable, f: Field, count: int
) -> tuple[pa.Array, list[Any] | None, set[int]]:
    """A field's delivered values as an Arrow string column, null where a value is not plain text; the
    Python values when they came as Python objects (JSON, workbook cells); and the rows whose value is
    not plain text (a number, a list, a string with a lone surrogate), to be typed one by one."""
    if parsed.arrow is not None:
        if f.name in parsed.arrow.column_names:
            return parsed.arrow.column(f.name).combine_chunks(), None, set()
        return pa.nulls(count, pa.string()), None, set()
    values = [row.get(f.name) for row in parsed.rows]
    text = [value if type(value) is str and _is_text(value) else None for value in values]
    odd = {index for index, value in enumerate(values) if value is not None and text[index] is None}
    return pa.array(text, pa.string()), values, odd


def _is_text(value: str) -> bool:
    """Whether a string is text UTF-8 can hold (JSON can carry a lone surrogate, which is no character)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _typed_column(
    raw: pa.Array,
    originals: list[Any] | None,
    odd: set[int],
    f: Field,
    key: bytes,
    replacements: dict[str, str],
    failures: list[list[RuleFailure]],
) -> Column:
    """One field typed: Arrow kernels for the common forms, `typed_value` for the rest (see typed_table)."""
    import pyarrow.compute as pc

    text = pc.utf8_trim(raw, " ")
    value = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    # A lone "." is suppressed in every field, text included: `typed_value` compares with `is`, and
    # CPython keeps one object per one-character string, so a text "." has always read as suppressed.
    suppressed = pc.fill_null(pc.equal(value, SUPPRESSED), False)
    typed, fits = _typed_common(value, f)
    if pc.any(suppressed).as_py():
        typed = pc.if_else(suppressed, pa.scalar(None, typed.type), typed)
    special = _one_by_one(raw, screened=originals is None)
    unfit = pc.and_(pc.is_valid(value), pc.invert(pc.or_(pc.fill_null(fits, False), suppressed)))
    one_by_one = odd | set(pc.indices_nonzero(pc.or_(special, unfit)).to_pylist())
    for index in pc.indices_nonzero(suppressed).to_pylist():
        if index not in one_by_one:
            reason = "value suppressed ('.') by the source; read as empty"
            failures[index].append(RuleFailure("suppressed_value", reason, f.name, ".", "warning"))
    if not one_by_one:
        return typed
    if originals is not None and _all_plain_numbers(originals, one_by_one, f):
        patched = typed.to_pylist()
        for index in one_by_one:
            patched[index] = originals[index] if f.type != "double" else float(originals[index])
        return _column(patched, f)
    patched = typed.to_pylist()
    for index in sorted(one_by_one):
        delivered = originals[index] if originals is not None else raw[index].as_py()
        patched[index], found = typed_value(delivered, f, key, replacements)
        failures[index].extend(found)
    return _column(patched, f)


def _one_by_one(raw: pa.Array, *, screened: bool) -> pa.Array:
    """Which delivered values must be typed one by one (see `_UNUSUAL`, `_BSN_ASCII`).

    `screened`: the values come from a CSV file the reader already searched for unusual characters
    (`connectors.files._plain_lines`); only a tab can be left, so only a tab is looked for.
    """
    import pyarrow.compute as pc

    special = pc.match_substring(raw, "\t") if screened else pc.match_substring_regex(raw, _UNUSUAL)
    special = pc.or_(special, pc.match_substring_regex(raw, _BSN_ASCII))
    ascii_only = pc.string_is_ascii(raw)
    if not pc.all(ascii_only).as_py():
        wider = pc.and_(pc.invert(ascii_only), pc.match_substring_regex(raw, _BSN_UNICODE))
        special = pc.or_(special, wider)
    return pc.fill_null(special, False)


def _typed_common(value: pa.Array, f: Field) -> tuple[pa.Array, pa.Array]:
    """The common written forms of `f`'s type, typed by Arrow, and which values were (null: empty)."""
    import pyarrow.compute as pc

    kind = f.type
    if kind == "string":
        return value, pc.is_valid(value)
    if kind in ("int32", "int64"):
        fits = pc.match_substring_regex(value, _WHOLE)
        return pc.cast(pc.if_else(fits, value, None), pa.int64()), fits
    if kind == "double":
        dutch = pc.replace_substring(pc.replace_substring(value, ".", ""), ",", ".")
        written = pc.if_else(pc.match_substring(value, ","), dutch, value)
        fits = pc.match_substring_regex(written, _DECIMAL)
        return pc.cast(pc.if_else(fits, written, None), pa.float64()), fits
    if kind == "bool":
        lower = pc.utf8_lower(value)
        yes, no = pc.is_in(lower, pa.array(_TRUE)), pc.is_in(lower, pa.array(_FALSE))
        typed = pc.if_else(yes, True, pc.if_else(no, False, pa.scalar(None, pa.bool_())))
        return typed, pc.or_(yes, no)
    if kind == "date":
        return _dates(value)
    return pa.nulls(len(value), f.arrow_type), _falses(len(value))


def _dates(value: pa.Array) -> tuple[pa.Array, pa.Array]:
    """ISO and Dutch (dd-mm-yyyy) dates; a value counts only if it reads back as written, because
    Arrow's strptime rolls 2023-02-30 over into March where Python refuses it."""
    import pyarrow.compute as pc

    typed = pa.nulls(len(value), pa.date32())
    fits = _falses(len(value))
    for pattern, form in ((_ISO_DATE, "%Y-%m-%d"), (_DUTCH_DATE, "%d-%m-%Y")):
        candidate = pc.if_else(pc.match_substring_regex(value, pattern), value, None)
        parsed = pc.strptime(candidate, format=form, unit="s", error_is_null=True)
        same = pc.fill_null(pc.equal(pc.strftime(parsed, format=form), candidate), False)
        typed = pc.if_else(same, pc.cast(parsed, pa.date32()), typed)
        fits = pc.or_(fits, same)
    return typed, fits


def _all_plain_numbers(originals: list[Any], indexes: set[int], f: Field) -> bool:
    """Whether every value left is a number a workbook or JSON gave in a numeric, non-pseudonym field,
    whose type `to_contract_type` only confirms (no bool, a whole number for integers, finite)."""
    if f.pseudonym or f.type not in ("int32", "int64", "double"):
        return False
    for index in indexes:
        v = originals[index]
        if f.type == "double":
            if not ((type(v) is int and abs(v) < _EXACT_INT) or (type(v) is float and math.isfinite(v))):
                return False
        elif not (type(v) is int and abs(v) < _EXACT_INT):
            return False
    return True


def _column(values: list[Any], f: Field) -> Column:
    """Python values as an Arrow column of the field's type (int64 for integers), or the list itself
    when Arrow cannot hold one of them."""
    wide = pa.int64() if f.type in ("int32", "int64") else f.arrow_type
    try:
        return pa.array(values, wide)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return values


def _python_values(column: Column) -> list[Any]:
    """A typed column's values as Python objects."""
    return column if isinstance(column, list) else column.to_pylist()


def typed_value(
    value: Any, f: Field, key: bytes, replacements: dict[str, str]
) -> tuple[Any, list[RuleFailure]]:
    """One delivered value in the contract's type, and the rules it broke: a BSN in a pseudonym column is
    pseudonymised, one in text masked; a value that does not fit is None with a `type_<field>` failure."""
    failures: list[RuleFailure] = []
    if f.pseudonym and value is not None and is_bsn(str(value).strip()):
        bsn = str(value).strip()
        value = replacements[bsn] = pseudonymise(bsn, key)
        reason = "a citizen service number was delivered; replaced by its keyed pseudonym"
        failures.append(RuleFailure("bsn_pseudonymised", reason, f.name, None, "warning"))
    elif isinstance(value, str) and (found := bsn_tokens(value)):
        for bsn in found:
            replacements.setdefault(bsn, BSN_MASK)
        value = mask_bsns(value)
        reason = f"a citizen service number in {f.name} was removed ({BSN_MASK})"
        failures.append(RuleFailure("bsn_removed", reason, f.name, None, "warning"))
    try:
        typed = to_contract_type(value, f)
    except ValueError as error:
        reason = f"value does not fit the contract type {f.type}: {error}"
        failures.append(RuleFailure(f"type_{f.name}", reason, f.name, _shown(value)))
        typed = None
    if typed is SUPPRESSED:
        reason = "value suppressed ('.') by the source; read as empty"
        failures.append(RuleFailure("suppressed_value", reason, f.name, ".", "warning"))
        typed = None
    return typed, failures


def mask_bsns_outside_rows(prepared: PreparedDelivery) -> None:
    """Numbers the rows did not show (a file that could not be read, an envelope field) are masked in
    the raw copy too; a workbook's connector searches its own cells."""
    if prepared.content.startswith(b"PK"):
        return
    for bsn in bsns_in_text(prepared.content):
        prepared.replacements.setdefault(bsn, BSN_MASK)


def _shown(value: Any) -> Any:
    """A value as it may appear in a reason: plain text or number, never a long blob or a BSN."""
    if isinstance(value, int | float):
        return BSN_MASK if is_bsn(str(value)) else value
    return mask_bsns(str(value)[:80]).encode("utf-8", "backslashreplace").decode("utf-8")


def _falses(count: int) -> pa.Array:
    """A boolean column of `count` False values (typed even when empty, so kernels accept it)."""
    return pa.repeat(pa.scalar(False, pa.bool_()), count)
