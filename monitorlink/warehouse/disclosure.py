"""The publish gate: scan a warehouse's `published` schema against the disclosure declarations.

Every column of every published model declares its class in the model's yml (`config.meta.disclosure`,
see docs/disclosure.md); macro `suppress` applies the rules when dbt builds. This module checks the
result independently, in Python, on the data itself: a build is published only when the scan finds
nothing, so a mistake in the SQL (or a model that skips `suppress`) fails the build instead of leaking.
The same scan is what the tests run on the published file of a real `make run`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

PUBLISHED_SCHEMA = "published"
CLASSES = ("dimension", "safe", "person_count", "derived", "withheld")
#: How many example rows a finding quotes.
EXAMPLES = 3


@dataclass(frozen=True)
class ColumnDeclaration:
    """One column's disclosure class, what it is computed from or part of, and its description."""

    name: str
    disclosure: str | None
    description: str
    part_of: str | None = None
    derived_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """Cells that add up to a published or knowable total; `total_where` picks the total's row."""

    by: tuple[str, ...]
    total_where: str | None = None


@dataclass(frozen=True)
class ModelDeclaration:
    """A published model as its yml declares it."""

    name: str
    description: str
    columns: dict[str, ColumnDeclaration]
    groups: tuple[Group, ...] = ()
    linked: tuple[tuple[str, ...], ...] = ()

    def of_class(self, disclosure: str) -> list[ColumnDeclaration]:
        return [column for column in self.columns.values() if column.disclosure == disclosure]


@dataclass(frozen=True)
class Finding:
    """One way the published schema breaks the rules, with where and a few example rows."""

    table: str
    column: str | None
    rule: str
    detail: str

    def __str__(self) -> str:
        where = f"{PUBLISHED_SCHEMA}.{self.table}" + (f".{self.column}" if self.column else "")
        return f"{where}: {self.rule} — {self.detail}"


@dataclass(frozen=True)
class Coverage:
    """What a scan covered: published tables, their person-count columns, and how many cells are hidden."""

    tables: int
    count_columns: int
    count_cells: int
    hidden_cells: int

    def __str__(self) -> str:
        return (
            f"{self.tables} tables, {self.count_columns} person-count columns;"
            f" {self.hidden_cells:,} of {self.count_cells:,} count cells hidden"
        )


def manifest_path(home: Path) -> Path:
    """The manifest of the newest build (where `monitorlink.warehouse.build` points dbt's target)."""
    return home / "dbt" / "target" / "manifest.json"


def declarations(manifest: Path) -> dict[str, ModelDeclaration]:
    """Every model dbt builds into the published schema, from `manifest.json`."""
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    return {
        node["name"]: _model_declaration(node)
        for node in nodes
        if node["resource_type"] in ("model", "seed") and node["schema"] == PUBLISHED_SCHEMA
    }


def descriptions(manifest: Path) -> dict[str, tuple[str, dict[str, str]]]:
    """Every model's and seed's description and its columns' descriptions, by relation name."""
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    return {
        node["name"]: (
            " ".join(str(node.get("description") or "").split()),
            {name: " ".join(str(c.get("description") or "").split()) for name, c in node["columns"].items()},
        )
        for node in nodes
        if node["resource_type"] in ("model", "seed")
    }


def _model_declaration(node: dict[str, Any]) -> ModelDeclaration:
    meta = node.get("config", {}).get("meta", {}) or {}
    columns = {}
    for name, column in node.get("columns", {}).items():
        column_meta = {**(column.get("meta") or {}), **((column.get("config") or {}).get("meta") or {})}
        columns[name] = ColumnDeclaration(
            name=name,
            disclosure=column_meta.get("disclosure"),
            description=str(column.get("description") or ""),
            part_of=column_meta.get("part_of"),
            derived_from=tuple(column_meta.get("from") or ()),
        )
    return ModelDeclaration(
        name=node["name"],
        description=str(node.get("description") or ""),
        columns=columns,
        groups=tuple(
            Group(tuple(group["by"]), group.get("total_where"))
            for group in meta.get("suppression_groups", [])
        ),
        linked=tuple(tuple(counts) for counts in meta.get("linked_counts", [])),
    )


def scan(
    connection: duckdb.DuckDBPyConnection,
    declared: dict[str, ModelDeclaration],
    threshold: int,
) -> list[Finding]:
    """Everything in the published schema that a reader must not see; empty when it may be published.

    Checks: every table is a declared published model and every column declares a class and a
    description; no person count is 1 up to the threshold; no derived value shows while a count it is
    computed from is hidden; no part of a total leaves a rest of 1 up to the threshold; no group of
    cells with a total, and no set of linked counts, has exactly one hidden cell.
    """
    catalog = _current_database(connection)
    findings: list[Finding] = []
    for table, columns in _published_tables(connection, catalog).items():
        model = declared.get(table)
        if model is None:
            findings.append(
                Finding(table, None, "undeclared_table", "no published model declares this table")
            )
            continue
        findings += _column_findings(model, columns)
        relation = f'"{catalog}"."{PUBLISHED_SCHEMA}"."{table}"'
        findings += _value_findings(connection, relation, model, threshold)
    return findings


def coverage(connection: duckdb.DuckDBPyConnection, declared: dict[str, ModelDeclaration]) -> Coverage:
    """Count the published tables, their person-count columns and cells, and the hidden ones among them."""
    tables = _published_tables(connection, _current_database(connection))
    columns = [
        (table, column.name)
        for table in tables
        if table in declared
        for column in declared[table].of_class("person_count")
    ]
    cells = hidden = 0
    for table, column in columns:
        total, empty = connection.execute(
            f'select count(*), count(*) filter (where "{column}" is null) from {PUBLISHED_SCHEMA}."{table}"'
        ).fetchone() or (0, 0)
        cells, hidden = cells + total, hidden + empty
    return Coverage(len(tables), len(columns), cells, hidden)


def _current_database(connection: duckdb.DuckDBPyConnection) -> str:
    (name,) = connection.execute("select current_database()").fetchone() or ("",)
    return str(name)


def _published_tables(connection: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[str]]:
    rows = connection.execute(
        "select table_name, column_name from information_schema.columns"
        " where table_catalog = $catalog and table_schema = $schema order by table_name, ordinal_position",
        {"catalog": catalog, "schema": PUBLISHED_SCHEMA},
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def _column_findings(model: ModelDeclaration, columns: list[str]) -> Iterator[Finding]:
    if not model.description.strip():
        yield Finding(model.name, None, "undocumented", "the model has no description")
    for name in columns:
        column = model.columns.get(name)
        if column is None or column.disclosure not in CLASSES or column.disclosure == "withheld":
            declared_as = column.disclosure if column else None
            yield Finding(model.name, name, "undeclared_column", f"disclosure class {declared_as!r}")
        elif not column.description.strip():
            yield Finding(model.name, name, "undocumented", "the column has no description")


def _value_findings(
    connection: duckdb.DuckDBPyConnection, relation: str, model: ModelDeclaration, threshold: int
) -> Iterator[Finding]:
    keys = ", ".join(column.name for column in model.of_class("dimension")) or "1"
    small = f"between 1 and {threshold - 1}"
    for count in model.of_class("person_count"):
        yield from _violations(
            connection, relation, keys, model, count.name, "small_count", f"{count.name} {small}"
        )
        if count.part_of:
            total = count.part_of
            rest = f"{count.name} is not null and ({total} is null or {total} - {count.name} {small})"
            yield from _violations(connection, relation, keys, model, count.name, "small_complement", rest)
    for derived in model.of_class("derived"):
        hidden = " or ".join(f"{source} is null" for source in derived.derived_from) or "false"
        yield from _violations(
            connection,
            relation,
            keys,
            model,
            derived.name,
            "derived_from_hidden",
            f"{derived.name} is not null and ({hidden})",
        )
    for linked in model.linked:
        lone = " + ".join(f"({count} is null)::int" for count in linked) + " = 1"
        yield from _violations(connection, relation, keys, model, "+".join(linked), "recoverable_cell", lone)
    for group in model.groups:
        for count in model.of_class("person_count"):
            yield from _group_findings(connection, relation, model, group, count.name, threshold)


def _group_findings(
    connection: duckdb.DuckDBPyConnection,
    relation: str,
    model: ModelDeclaration,
    group: Group,
    count: str,
    threshold: int,
) -> Iterator[Finding]:
    by = ", ".join(group.by)
    lone = connection.execute(
        f"select {by} from {relation} group by {by}"
        f" having count(*) > 1 and count(*) filter (where {count} is null) = 1 order by {by}"
    ).fetchall()
    if lone:
        yield Finding(
            model.name,
            count,
            "recoverable_cell",
            f"{len(lone)} groups by {by} with exactly one hidden cell, e.g. {_examples(group.by, lone)}",
        )
    if group.total_where:
        rests = connection.execute(
            f"select {by} from (select *,"
            f" max({count}) filter (where {group.total_where}) over (partition by {by}) as _total,"
            f" count(*) filter (where ({group.total_where}) and {count} is null)"
            f" over (partition by {by}) as _total_hidden from {relation})"
            f" where not coalesce({group.total_where}, false) and {count} is not null"
            f" and (_total_hidden > 0 or _total - {count} between 1 and {threshold - 1}) order by {by}"
        ).fetchall()
        if rests:
            yield Finding(
                model.name,
                count,
                "small_complement",
                f"{len(rests)} cells beside a total ({group.total_where}) that is hidden or leaves"
                f" a small rest, e.g. {_examples(group.by, rests)}",
            )


def _violations(
    connection: duckdb.DuckDBPyConnection,
    relation: str,
    keys: str,
    model: ModelDeclaration,
    column: str,
    rule: str,
    condition: str,
) -> Iterator[Finding]:
    rows = connection.execute(f"select {keys} from {relation} where {condition} order by all").fetchall()
    if rows:
        names = tuple(column.name for column in model.of_class("dimension"))
        yield Finding(model.name, column, rule, f"{len(rows)} rows, e.g. {_examples(names, rows)}")


def _examples(names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    return "; ".join(
        ", ".join(f"{name}={value}" for name, value in zip(names, row, strict=False))
        for row in rows[:EXAMPLES]
    )
