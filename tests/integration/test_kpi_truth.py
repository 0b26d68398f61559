"""Every KPI mart against the simulator's independent truth (`truth.json`, monitorlink.simulator.truth).

The session's `monitorlink run --simulated` simulates Twente, lands every delivery and builds the
warehouse the normal way. The simulator computed each mart's figures from its own objects (trajectories,
milestones, workbook figures, populations), never from the files or with platform code. Here every row
of every KPI mart in the analysts' file (unsuppressed) must equal the truth, cell by cell. The only rows
allowed to differ are those `truth.json` lists as `affected` by an injected defect (a quarantined
delivery, a truncated file that lands with a flag, cells delivered hidden); they must equal what the
landed data show instead (`landed`; null where the row must be missing). Then every published count
must equal the same figure or be hidden under a rule of docs/disclosure.md.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import pytest

from monitorlink.core.config import Settings
from monitorlink.warehouse.build import connect_readonly
from monitorlink.warehouse.disclosure import ModelDeclaration, declarations, manifest_path
from tests.conftest import environment
from tests.integration.conftest import SimulatedRun

pytestmark = pytest.mark.integration

Key = tuple[Any, ...]
#: How many mismatches a failure quotes.
QUOTED = 20


@dataclass
class Expected:
    """One mart as the truth has it: key columns, rows by key, and the rows defects change."""

    key: list[str]
    rows: dict[Key, dict[str, Any]]
    landed: dict[Key, dict[str, Any] | None]

    def row(self, key: Key) -> dict[str, Any] | None:
        """What the warehouse must show for a key: the truth, or the landed figures where a defect acts."""
        return self.landed[key] if key in self.landed else self.rows.get(key)

    def keys(self) -> set[Key]:
        return {k for k in self.rows.keys() | self.landed.keys() if self.row(k) is not None}


@dataclass
class Truth:
    settings: Settings
    marts: dict[str, Expected]
    defects: list[dict[str, Any]]


@pytest.fixture(scope="module")
def truth(simulated_run: SimulatedRun) -> Iterator[Truth]:
    with environment(simulated_run.environment):
        figures = json.loads((simulated_run.simulation_root / "truth.json").read_text(encoding="utf-8"))
        marts = {}
        for name, mart in figures["marts"].items():
            key = mart["key"]
            landed = {
                tuple(entry["key"][k] for k in key): entry["landed"]
                for entry in figures.get("affected", {}).get(name, [])
            }
            rows = {
                tuple(row[k] for k in key): {c: v for c, v in row.items() if c not in key}
                for row in mart["rows"]
            }
            marts[name] = Expected(key, rows, landed)
        yield Truth(simulated_run.settings, marts, figures["defects"])


def _same(expected: Any, found: Any) -> bool:
    """Counts and flags exactly; rates, medians and money to the last representable digit."""
    if expected is None or found is None:
        return expected is None and found is None
    if isinstance(expected, bool) or isinstance(found, bool):
        return bool(expected) == bool(found) and isinstance(expected, bool) == isinstance(found, bool)
    if isinstance(expected, int) and isinstance(found, int):
        return expected == found
    if isinstance(expected, (int, float)):
        return math.isclose(float(found), float(expected), rel_tol=1e-12, abs_tol=1e-9)
    return bool(expected == found)


def _rows(db: duckdb.DuckDBPyConnection, table: str) -> list[dict[str, Any]]:
    relation = db.sql(f"select * from {table}")
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def _where(mart: str, key_columns: list[str], key: Key) -> str:
    return f"{mart} " + ", ".join(f"{c}={v}" for c, v in zip(key_columns, key, strict=True))


def _fail_if_any(mismatches: list[str], what: str) -> None:
    if mismatches:
        shown = "\n  ".join(mismatches[:QUOTED])
        pytest.fail(f"{len(mismatches)} {what}; the first {min(QUOTED, len(mismatches))}:\n  {shown}")


def test_every_kpi_mart_equals_the_simulators_truth_cell_by_cell(truth: Truth) -> None:
    mismatches: list[str] = []
    compared: dict[str, int] = {}
    with connect_readonly(truth.settings, "analysts") as db:
        for mart, expected in truth.marts.items():
            found = {tuple(row[k] for k in expected.key): row for row in _rows(db, mart)}
            cells = 0
            for key in sorted(expected.keys() | found.keys(), key=str):
                want, got = expected.row(key), found.get(key)
                where = _where(mart, expected.key, key)
                if want is None or got is None:
                    mismatches.append(f"{where}: row expected {want is not None}, found {got is not None}")
                    continue
                for column, value in want.items():
                    cells += 1
                    if not _same(value, got[column]):
                        mismatches.append(
                            f"{where} column {column}: expected {value!r}, found {got[column]!r}"
                        )
            compared[mart] = cells
    print("compared cells per mart:", json.dumps(compared))
    assert compared.keys() == truth.marts.keys()
    assert all(cells > 0 for cells in compared.values()), compared
    _fail_if_any(mismatches, "mart cells differ from the simulator's truth")


def test_only_defects_the_platform_quarantines_or_lands_flagged_with_changed_cells_may_change_rows(
    truth: Truth,
) -> None:
    """The truth allows differences only where a defect acts: a quarantine, a truncated file, hidden cells."""
    acting = {(d["source"], d["kind"]) for d in truth.defects if not d["effect"].startswith("none")}
    expectations = {(d["source"], d["kind"]): d["expect"] for d in truth.defects}
    allowed = {kind for source, kind in acting if expectations[(source, kind)] != "quarantine"}
    assert allowed <= {"truncated_file", "suppressed_value"}, allowed
    assert any(expectations[k] == "quarantine" for k in acting)
    changed = sum(len(expected.landed) for expected in truth.marts.values())
    total = sum(len(expected.rows) for expected in truth.marts.values())
    assert 0 < changed < total / 4, (changed, total)


def _publication(mart: str) -> str:
    return mart.replace("fct_", "pub_", 1)


def _flags(db: duckdb.DuckDBPyConnection, model: ModelDeclaration) -> list[dict[str, Any]]:
    """The published rows, each with `_total_<i>` for the total row of suppression group i."""
    totals = [
        f"coalesce({group.total_where}, false) as _total_{i}"
        for i, group in enumerate(model.groups)
        if group.total_where
    ]
    relation = db.sql(f"select *{''.join(', ' + t for t in totals)} from {model.name}")
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def _small(value: Any, threshold: int) -> bool:
    return value is not None and 1 <= value <= threshold - 1


def test_every_published_count_equals_the_truth_or_is_hidden_under_a_documented_rule(truth: Truth) -> None:
    """docs/disclosure.md: a hidden count is 1 … threshold − 1 (rule 1), arrives hidden (2), is part of a
    hidden or nearly whole total (4, 5), shares a suppression group with another hidden cell (6), or has a
    hidden partner among its linked counts (7, 8); a derived value is hidden exactly when one of its counts
    is (3). Everything visible equals the truth."""
    threshold = truth.settings.suppression_threshold
    declared = declarations(manifest_path(truth.settings.home))
    mismatches: list[str] = []
    compared: dict[str, int] = {}
    with connect_readonly(truth.settings) as db:
        for mart, expected in truth.marts.items():
            model = declared.get(_publication(mart))
            if model is None:  # published as it is (it counts no persons): every cell must equal the truth
                assert mart in declared, f"{mart} is neither published nor suppressed"
                model = declared[mart]
            rows = _flags(db, model)
            by_key = {tuple(row[k] for k in expected.key): row for row in rows}
            groups = defaultdict(list)
            for i, group in enumerate(model.groups):
                for key, row in by_key.items():
                    groups[(i, tuple(row[c] for c in group.by))].append(key)
            cells = 0
            for key in sorted(expected.keys() | by_key.keys(), key=str):
                want, got = expected.row(key), by_key.get(key)
                where = _where(model.name, expected.key, key)
                if want is None or got is None:
                    mismatches.append(f"{where}: row expected {want is not None}, found {got is not None}")
                    continue
                for column, value in want.items():
                    declaration = model.columns.get(column)
                    if declaration is None or declaration.disclosure in ("withheld", "dimension"):
                        continue
                    cells += 1
                    shown = got[column]
                    if shown is not None:
                        if not _same(value, shown):
                            mismatches.append(f"{where} column {column}: expected {value!r}, found {shown!r}")
                        elif declaration.disclosure == "derived" and any(
                            got[c] is None for c in declaration.derived_from
                        ):
                            mismatches.append(
                                f"{where} column {column}: shown beside a hidden count (rule 3)"
                            )
                        elif declaration.disclosure == "person_count" and _small(shown, threshold):
                            mismatches.append(f"{where} column {column}: small count {shown} shown (rule 1)")
                        continue
                    if declaration.disclosure == "derived":
                        if value is not None and not any(got[c] is None for c in declaration.derived_from):
                            mismatches.append(
                                f"{where} column {column}: hidden while its counts are shown; "
                                f"expected {value!r} (rule 3)"
                            )
                        continue
                    if declaration.disclosure != "person_count":
                        if value is not None:
                            mismatches.append(f"{where} column {column}: expected {value!r}, found None")
                        continue
                    if not _hidden_for_a_reason(
                        model, expected, by_key, groups, key, column, value, threshold
                    ):
                        mismatches.append(
                            f"{where} column {column}: hidden without a documented reason; expected {value!r}"
                        )
            compared[model.name] = cells
    print("compared published cells per table:", json.dumps(compared))
    assert all(cells > 0 for cells in compared.values()), compared
    _fail_if_any(mismatches, "published cells differ from the truth or are hidden without a rule")


def _hidden_for_a_reason(
    model: ModelDeclaration,
    expected: Expected,
    by_key: dict[Key, dict[str, Any]],
    groups: dict[tuple[int, Key], list[Key]],
    key: Key,
    column: str,
    value: Any,
    threshold: int,
) -> bool:
    """Whether a hidden count of the truth `value` is hidden under one of the rules of docs/disclosure.md."""
    row = by_key[key]
    truth_row = expected.row(key) or {}
    if value is None or _small(value, threshold):  # rules 2 and 1
        return True
    total = model.columns[column].part_of
    if total and (row[total] is None or _small((truth_row.get(total) or 0) - value, threshold)):  # rule 4
        return True
    for i, group in enumerate(model.groups):
        members = groups[(i, tuple(row[c] for c in group.by))]
        if group.total_where and not row[f"_total_{i}"]:  # rule 5: against the group's total row
            for other in members:
                if by_key[other][f"_total_{i}"]:
                    whole = (expected.row(other) or {}).get(column)
                    if by_key[other][column] is None or _small((whole or 0) - value, threshold):
                        return True
        if any(other != key and by_key[other][column] is None for other in members):  # rule 6
            return True
    return any(  # rules 7 and 8
        column in linked and any(row[c] is None for c in linked if c != column) for linked in model.linked
    )
