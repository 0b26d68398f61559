"""The publish gate's scan (`warehouse.disclosure`) on hand-made published tables, and the threshold setting.

Each table below breaks exactly one rule, with values chosen by hand, so the finding it must give is known
without running the code; a table that keeps every rule must give none.
"""

from __future__ import annotations

import duckdb
import pytest

from monitorlink.core.config import load_settings
from monitorlink.warehouse.disclosure import ColumnDeclaration, Finding, Group, ModelDeclaration, scan

THRESHOLD = 10


def _model(
    name: str,
    columns: dict[str, str],
    groups: tuple[Group, ...] = (),
    linked: tuple[tuple[str, ...], ...] = (),
    part_of: dict[str, str] | None = None,
    derived: dict[str, tuple[str, ...]] | None = None,
) -> ModelDeclaration:
    return ModelDeclaration(
        name=name,
        description=f"{name}, made by hand",
        columns={
            column: ColumnDeclaration(
                column,
                disclosure,
                description=f"{column}, made by hand",
                part_of=(part_of or {}).get(column),
                derived_from=(derived or {}).get(column, ()),
            )
            for column, disclosure in columns.items()
        },
        groups=groups,
        linked=linked,
    )


REENTRY = _model(
    "reentry",
    {
        "gemeente": "dimension",
        "period": "dimension",
        "ended": "person_count",
        "reentered": "person_count",
        "pct": "derived",
    },
    groups=(Group(("period",)),),
    part_of={"reentered": "ended"},
    derived={"pct": ("reentered", "ended")},
)
FLOW = _model(
    "flow",
    {
        "gemeente": "dimension",
        "begin_stand": "person_count",
        "instroom": "person_count",
        "uitstroom": "person_count",
        "eind_stand": "person_count",
    },
    linked=(("begin_stand", "instroom", "uitstroom", "eind_stand"),),
)
CARE = _model(
    "care",
    {"gemeente": "dimension", "care_form": "dimension", "youths": "person_count"},
    groups=(Group(("gemeente",), "care_form = 'totaal'"),),
)
DECLARED = {model.name: model for model in (REENTRY, FLOW, CARE)}


def _findings(*statements: str, declared: dict[str, ModelDeclaration] = DECLARED) -> list[Finding]:
    with duckdb.connect() as db:
        db.execute("create schema published")
        for statement in statements:
            db.execute(statement)
        return scan(db, declared, THRESHOLD)


def _rules(findings: list[Finding]) -> list[tuple[str, str | None, str]]:
    return sorted((f.table, f.column, f.rule) for f in findings)


def _reentry(rows: str) -> str:
    return (
        "create table published.reentry as select * from (values "
        + rows
        + ") as t(gemeente, period, ended, reentered, pct)"
    )


def test_a_table_that_keeps_every_rule_passes() -> None:
    assert (
        _findings(
            _reentry(
                "('A', 'Q1', 25, 10, 40.0), ('B', 'Q1', null, null, null), ('C', 'Q1', null, null, null)"
            ),
            "create table published.flow as select 'A' gemeente, 40 begin_stand, null::int instroom,"
            " null::int uitstroom, 34 eind_stand",
            "create table published.care as select * from (values ('A', 'totaal', 30),"
            " ('A', 'met verblijf', 0)) as t(gemeente, care_form, youths)",
        )
        == []
    )


def test_a_small_count_in_any_count_column_is_found() -> None:
    findings = _findings(_reentry("('A', 'Q1', 25, 3, 12.0), ('B', 'Q1', 40, 20, 50.0)"))
    assert _rules(findings) == [("reentry", "reentered", "small_count")]
    assert "1 rows, e.g. gemeente=A, period=Q1" in str(findings[0])


def test_a_count_whose_rest_of_its_total_is_small_is_found() -> None:
    # 12 ended, 11 re-entered → 1 did not re-enter
    assert _rules(_findings(_reentry("('A', 'Q1', 12, 11, 91.7)"))) == [
        ("reentry", "reentered", "small_complement")
    ]


def test_a_count_shown_beside_its_hidden_total_is_found() -> None:
    rows = "('A', 'Q1', null, 0, null), ('B', 'Q1', null, null, null), ('C', 'Q1', null, null, null)"
    findings = _findings(_reentry(rows))
    assert _rules(findings) == [("reentry", "reentered", "small_complement")]


def test_a_rate_shown_while_its_count_is_hidden_is_found() -> None:
    findings = _findings(_reentry("('A', 'Q1', 25, null, 12.0), ('B', 'Q1', 40, null, null)"))
    assert _rules(findings) == [("reentry", "pct", "derived_from_hidden")]


def test_a_lone_hidden_cell_of_a_group_is_found() -> None:
    findings = _findings(_reentry("('A', 'Q1', null, null, null), ('B', 'Q1', 40, 20, 50.0)"))
    assert ("reentry", "ended", "recoverable_cell") in _rules(findings)
    assert "groups by period with exactly one hidden cell, e.g. period=Q1" in str(
        next(f for f in findings if f.rule == "recoverable_cell" and f.column == "ended")
    )


def test_one_hidden_count_of_linked_counts_is_found() -> None:
    # begin 40 + in ? − out 12 = end 34 gives in = 6
    findings = _findings(
        "create table published.flow as select 'A' gemeente, 40 begin_stand, null::int instroom,"
        " 12 uitstroom, 34 eind_stand"
    )
    assert _rules(findings) == [("flow", "begin_stand+instroom+uitstroom+eind_stand", "recoverable_cell")]


def test_a_category_whose_rest_of_the_total_row_is_small_is_found() -> None:
    # totaal 30, met verblijf 25 → 5 youths with other care only
    findings = _findings(
        "create table published.care as select * from (values ('A', 'totaal', 30), ('A', 'met verblijf', 25),"
        " ('A', 'zonder verblijf', 12)) as t(gemeente, care_form, youths)"
    )
    assert _rules(findings) == [("care", "youths", "small_complement")]
    assert "1 cells beside a total" in str(findings[0])


def test_tables_and_columns_nobody_declared_are_found() -> None:
    findings = _findings(
        "create table published.flow as select 'A' gemeente, 40 begin_stand, 6 instroom, 12 uitstroom,"
        " 34 eind_stand, 3 helper_count",
        "create table published.secret as select 3 as youths",
    )
    assert ("flow", "helper_count", "undeclared_column") in _rules(findings)
    assert ("secret", None, "undeclared_table") in _rules(findings)


def test_a_withheld_or_undescribed_column_in_the_file_is_found() -> None:
    declared = {
        "flow": _model(
            "flow",
            {"gemeente": "dimension", "begin_stand": "withheld", "instroom": "safe"},
        )
    }
    declared["flow"].columns["instroom"] = ColumnDeclaration("instroom", "safe", description=" ")
    findings = _findings(
        "create table published.flow as select 'A' gemeente, 40 begin_stand, 12 instroom", declared=declared
    )
    assert _rules(findings) == [
        ("flow", "begin_stand", "undeclared_column"),
        ("flow", "instroom", "undocumented"),
    ]


@pytest.mark.parametrize("value", ["1", "0", "-5"])
def test_a_threshold_that_switches_protection_off_is_refused_naming_the_variable(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITORLINK_SUPPRESSION_THRESHOLD", value)
    with pytest.raises(ValueError, match=rf"^MONITORLINK_SUPPRESSION_THRESHOLD={value} would switch"):
        load_settings()


def test_a_threshold_that_is_no_number_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORLINK_SUPPRESSION_THRESHOLD", "ten")
    with pytest.raises(
        ValueError, match="MONITORLINK_SUPPRESSION_THRESHOLD must be a whole number, not 'ten'"
    ):
        load_settings()


@pytest.mark.parametrize("value", ["2", "5", "15"])
def test_any_threshold_from_two_is_a_setting(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORLINK_SUPPRESSION_THRESHOLD", value)
    assert load_settings().suppression_threshold == int(value)
