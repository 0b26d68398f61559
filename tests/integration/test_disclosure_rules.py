"""The disclosure rules as dbt applies them (macro `suppress`), on hand-made marts with hand-worked answers.

The published models are built by real dbt from marts written here, so each rule's outcome is known from
the rows themselves (the arithmetic is in each test's docstring). A dbt unit test cannot see a model's
yml declarations, which is why these live in pytest.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from monitorlink.core.config import PROJECT_ROOT, Settings, load_settings
from monitorlink.warehouse.build import run_dbt
from monitorlink.warehouse.disclosure import declarations, manifest_path, scan

pytestmark = pytest.mark.integration

#: The marts the four published models below read, with every column their yml declares.
COLUMNS = {
    "fct_reentry": "gemeente_code varchar, period_key varchar, youths_care_ended bigint,"
    " youths_reentered_12m bigint, reentry_pct double, is_follow_up_complete boolean, definition_version int",
    "fct_youth_care_per_1000": "level varchar, gemeente_code varchar, period_key varchar, care_form varchar,"
    " youths_in_care bigint, youths_0_17 double, per_1000 double, national_per_1000_year double,"
    " gemeenten_in_total bigint, gemeenten_expected bigint, is_complete boolean, definition_version int",
    "fct_trajectory_flow": "gemeente_code varchar, period_key varchar, begin_stand bigint, instroom bigint,"
    " uitstroom bigint, eind_stand bigint, avg_duration_days_ended double, begin_vs_previous_end bigint,"
    " definition_version int",
    "fct_normalising": "gemeente_code varchar, period_key varchar, youths_local_team_only bigint,"
    " youths_referred_care bigint, local_team_only_per_1000 double, referred_care_per_1000 double,"
    " definition_version int",
}

Rows = list[dict[str, Any]]


def _care(gemeente: str, period: str, form: str, youths: int, per_1000: float) -> dict[str, Any]:
    level = "regio" if gemeente == "Twente" else "gemeente"
    return {
        "level": level,
        "gemeente_code": gemeente,
        "period_key": period,
        "care_form": form,
        "youths_in_care": youths,
        "per_1000": per_1000,
    }


def _reentry(
    gemeente: str, period: str, ended: int | None, reentered: int | None, pct: float | None
) -> dict[str, Any]:
    return {
        "gemeente_code": gemeente,
        "period_key": period,
        "youths_care_ended": ended,
        "youths_reentered_12m": reentered,
        "reentry_pct": pct,
    }


MARTS: dict[str, Rows] = {
    "fct_youth_care_per_1000": [
        _care("GM0141", "2023Q1", "totaal", 3, 1.0),
        _care("GM0147", "2023Q1", "totaal", 12, 4.0),
        _care("GM0153", "2023Q1", "totaal", 15, 5.0),
        _care("GM0158", "2023Q1", "totaal", 40, 8.0),
        _care("Twente", "2023Q1", "totaal", 70, 6.0),
        _care("GM0153", "2023Q2", "totaal", 30, 10.0),
        _care("GM0153", "2023Q2", "jeugdhulp met verblijf", 25, 8.3),
        _care("GM0153", "2023Q2", "jeugdhulp zonder verblijf", 28, 9.3),
        _care("GM0153", "2023Q2", "jeugdbescherming", 0, 0.0),
        _care("GM0141", "2023Q3", "totaal", 5, 1.7),
        _care("GM0147", "2023Q3", "totaal", 7, 2.3),
        _care("GM0153", "2023Q3", "totaal", 30, 10.0),
    ],
    "fct_reentry": [
        _reentry("GM0141", "2023Q1", 12, 11, 91.7),
        _reentry("GM0147", "2023Q1", 40, 3, 7.5),
        _reentry("GM0153", "2023Q1", 25, 10, 40.0),
        _reentry("GM0158", "2023Q1", 5, 0, 0.0),
        _reentry("GM0141", "2023Q4", None, None, None),
        _reentry("GM0147", "2023Q4", 40, 20, 50.0),
        _reentry("GM0153", "2023Q4", 25, 10, 40.0),
        _reentry("GM0158", "2023Q4", 60, 30, 50.0),
        _reentry("GM0147", "2024Q1", 40, 3, 7.5),
        _reentry("GM0153", "2024Q2", 25, 7, 28.0),
    ],
    "fct_trajectory_flow": [
        {
            "gemeente_code": "GM0141",
            "period_key": "2023Q1",
            "begin_stand": 40,
            "instroom": 6,
            "uitstroom": 12,
            "eind_stand": 34,
            "avg_duration_days_ended": 120.0,
            "begin_vs_previous_end": 0,
        },
    ],
    "fct_normalising": [
        {
            "gemeente_code": "GM0147",
            "period_key": "2023Q1",
            "youths_local_team_only": 4,
            "youths_referred_care": 50,
            "local_team_only_per_1000": 1.0,
            "referred_care_per_1000": 12.5,
        },
    ],
}


def _build(settings: Settings, marts: dict[str, Rows]) -> dict[str, Rows]:
    """Write the marts into a fresh DuckDB file, let dbt build their published models, read those back."""
    database = settings.home / "rules.duckdb"
    database.parent.mkdir(parents=True, exist_ok=True)
    database.unlink(missing_ok=True)
    with duckdb.connect(str(database)) as db:
        for mart, rows in marts.items():
            db.execute(f"create table {mart} ({COLUMNS[mart]})")
            for row in rows:
                names = ", ".join(row)
                db.execute(
                    f"insert into {mart} ({names}) values ({', '.join('?' * len(row))})", list(row.values())
                )
    models = [mart.replace("fct_", "pub_", 1) for mart in marts]
    completed = run_dbt(settings, ["run", "--select", *models], database, "target")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    with duckdb.connect(str(database), read_only=True) as db:
        return {model: _rows(db, f"published.{model}") for model in models}


def _rows(db: duckdb.DuckDBPyConnection, relation: str) -> Rows:
    result = db.sql(f"select * from {relation}")
    return [dict(zip(result.columns, row, strict=True)) for row in result.fetchall()]


def _environment(tmp: Path, threshold: int) -> Iterator[Settings]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MONITORLINK_HOME", str(tmp))
        patch.setenv("MONITORLINK_SUPPRESSION_THRESHOLD", str(threshold))
        yield load_settings()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Rows]]:
    for settings in _environment(tmp_path_factory.mktemp("rules-10"), 10):
        yield _build(settings, MARTS)


def _pick(rows: Rows, columns: list[str], **where: Any) -> list[tuple[Any, ...]]:
    return [
        tuple(row[c] for c in columns)
        for row in rows
        if all(row[key] == value for key, value in where.items())
    ]


def test_a_lone_hidden_municipality_takes_the_smallest_other_and_the_region_row_stays(
    published: dict[str, Rows],
) -> None:
    """2023Q1 totaal: GM0141 has 3 (primary). Twente's 70 is published, so 70 − 12 − 15 − 40 would give
    it back: the smallest visible municipality (GM0147, 12) is hidden too, with both rates."""
    rows = published["pub_youth_care_per_1000"]
    assert sorted(
        _pick(rows, ["gemeente_code", "youths_in_care", "per_1000", "is_suppressed"], period_key="2023Q1")
    ) == [
        ("GM0141", None, None, True),
        ("GM0147", None, None, True),
        ("GM0153", 15, 5.0, False),
        ("GM0158", 40, 8.0, False),
        ("Twente", 70, 6.0, False),
    ]


def test_a_category_whose_rest_of_the_total_is_small_is_hidden(published: dict[str, Rows]) -> None:
    """GM0153 2023Q2: totaal 30. With stay 25 leaves 5 youths without it, without stay 28 leaves 2: both
    hidden. Child protection 0 leaves 30 and shows (a zero discloses no one)."""
    rows = published["pub_youth_care_per_1000"]
    assert sorted(_pick(rows, ["care_form", "youths_in_care"], period_key="2023Q2")) == [
        ("jeugdbescherming", 0),
        ("jeugdhulp met verblijf", None),
        ("jeugdhulp zonder verblijf", None),
        ("totaal", 30),
    ]


def test_two_hidden_cells_need_no_third(published: dict[str, Rows]) -> None:
    """2023Q3 totaal: 5 and 7 are both primary; 30 stays."""
    rows = published["pub_youth_care_per_1000"]
    assert sorted(_pick(rows, ["gemeente_code", "youths_in_care"], period_key="2023Q3")) == [
        ("GM0141", None),
        ("GM0147", None),
        ("GM0153", 30),
    ]


def test_every_count_is_protected_with_its_complement_and_its_rate(published: dict[str, Rows]) -> None:
    """2023Q1: GM0141 12 ended, 11 re-entered → 1 did not: re-entered and rate hidden. GM0147 3 re-entered
    → hidden. GM0153 25 and 10 → shown. GM0158 5 ended → hidden, and its 0 re-entered with it; the lone
    hidden ended count takes the smallest other ended count (GM0141, 12) with it."""
    rows = published["pub_reentry"]
    columns = ["gemeente_code", "youths_care_ended", "youths_reentered_12m", "reentry_pct", "is_suppressed"]
    assert sorted(_pick(rows, columns, period_key="2023Q1")) == [
        ("GM0141", None, None, None, True),
        ("GM0147", 40, None, None, True),
        ("GM0153", 25, 10, 40.0, False),
        ("GM0158", None, None, None, True),
    ]


def test_a_cell_that_arrives_hidden_stays_hidden_and_protects_nothing(published: dict[str, Rows]) -> None:
    """2023Q4: GM0141's counts arrive hidden (empty, as TMSD delivers cells under 10) and stay empty. As
    the lone hidden cell of the quarter it takes the smallest other (GM0153, 25 ended) with it; but its
    value is in no total the platform computes, so 25 would be the total minus the visible cells: a second
    cell hidden by the platform is needed (GM0147, 40). Their re-entered counts go with their totals."""
    rows = published["pub_reentry"]
    columns = ["gemeente_code", "youths_care_ended", "youths_reentered_12m", "reentry_pct"]
    assert sorted(_pick(rows, columns, period_key="2023Q4")) == [
        ("GM0141", None, None, None),
        ("GM0147", None, None, None),
        ("GM0153", None, None, None),
        ("GM0158", 60, 30, 50.0),
    ]


def test_a_hidden_flow_count_takes_a_second_one_with_it(published: dict[str, Rows]) -> None:
    """begin 40 + in 6 − out 12 = end 34: in (6) is hidden, so the smallest visible count (out, 12) goes
    with it, and with out the average duration of ended trajectories. The quality column stays out."""
    (row,) = published["pub_trajectory_flow"]
    assert (row["begin_stand"], row["instroom"], row["uitstroom"], row["eind_stand"]) == (40, None, None, 34)
    assert row["avg_duration_days_ended"] is None and row["is_suppressed"] is True
    assert "begin_vs_previous_end" not in row


def test_local_team_and_referred_never_show_one_without_the_other(published: dict[str, Rows]) -> None:
    """They add up to the youths in care published elsewhere: 4 local-team-only youths are hidden, so the
    50 referred ones and both rates go too."""
    (row,) = published["pub_normalising"]
    assert [
        row[c]
        for c in (
            "youths_local_team_only",
            "youths_referred_care",
            "local_team_only_per_1000",
            "referred_care_per_1000",
        )
    ] == [None, None, None, None]


def test_the_threshold_is_a_setting(tmp_path: Path) -> None:
    """At threshold 5, 3 re-entered (2024Q1) is hidden and 7 (2024Q2) is shown; at 10 both are hidden."""
    marts = {"fct_reentry": [row for row in MARTS["fct_reentry"] if row["period_key"] >= "2024"]}
    at = {}
    for threshold in (5, 10):
        for settings in _environment(tmp_path / str(threshold), threshold):
            at[threshold] = _pick(
                _build(settings, marts)["pub_reentry"], ["period_key", "youths_reentered_12m"]
            )
    assert sorted(at[5]) == [("2024Q1", None), ("2024Q2", 7)]
    assert sorted(at[10]) == [("2024Q1", None), ("2024Q2", None)]


def test_a_column_without_a_disclosure_class_fails_the_build(settings: Settings, tmp_path: Path) -> None:
    """One declaration removed from a suppressed model and one from a published mart: dbt stops on both,
    naming the model and the column."""
    project = tmp_path / "dbt"
    shutil.copytree(PROJECT_ROOT / "dbt", project, ignore=shutil.ignore_patterns("target", "logs"))
    yml = project / "models" / "publication" / "_publication__models.yml"
    yml.write_text(
        yml.read_text(encoding="utf-8").replace(
            "config: {meta: {disclosure: person_count, part_of: youths_care_ended}}", "config: {meta: {}}"
        ),
        encoding="utf-8",
    )
    core = project / "models" / "marts" / "core" / "_core__marts.yml"
    core.write_text(
        core.read_text(encoding="utf-8").replace(
            '"e.g. 2023H1"\n        config: {meta: {disclosure: dimension}}', '"e.g. 2023H1"'
        ),
        encoding="utf-8",
    )
    broken = dataclasses.replace(settings, dbt_project_dir=project)
    database = tmp_path / "broken.duckdb"
    with duckdb.connect(str(database)) as db:
        db.execute(f"create table fct_reentry ({COLUMNS['fct_reentry']})")
    completed = run_dbt(broken, ["run", "--select", "pub_reentry", "dim_period"], database, "target")
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert "column youths_reentered_12m declares no disclosure class" in output
    assert "published model dim_period: column half_year declares no disclosure class" in output


def test_random_marts_full_of_small_counts_leave_nothing_for_the_gate(tmp_path: Path) -> None:
    """Stress: 40 quarters × 14 municipalities × 6 forms of care plus region rows, and re-entry for the
    same, with a third of the counts under 10 (seeded). Whatever chains of secondary suppression that
    causes, the published models must pass the gate's scan — the rules' rounds reach a fixed point."""
    rng = random.Random(2026)
    forms = [
        "totaal",
        "jeugdhulp zonder verblijf",
        "jeugdhulp met verblijf",
        "jeugdbescherming",
        "jeugdreclassering",
        "door lokaal team",
    ]
    municipalities = [f"GM{code:04d}" for code in range(100, 114)]

    def count() -> int:
        return rng.choice([0, rng.randint(1, 9), rng.randint(10, 40), rng.randint(40, 400)])

    care, reentry = [], []
    for period in [f"{year}Q{quarter}" for year in range(2015, 2025) for quarter in range(1, 5)]:
        for gemeente in municipalities:
            total = count()
            care.append(_care(gemeente, period, "totaal", total, 1.0))
            care += [_care(gemeente, period, form, rng.randint(0, total), 1.0) for form in forms[1:]]
            ended = count()
            reentry.append(_reentry(gemeente, period, ended, rng.randint(0, ended), 1.0))
        for form in forms:
            care.append(_care("Twente", period, form, 14 * 200, 1.0))
    for settings in _environment(tmp_path, 10):
        _build(settings, {"fct_youth_care_per_1000": care, "fct_reentry": reentry})
        manifest = manifest_path(settings.home)
        with duckdb.connect(str(settings.home / "rules.duckdb"), read_only=True) as db:
            declared = declarations(manifest)
            assert (
                scan(db, {name: declared[name] for name in ("pub_youth_care_per_1000", "pub_reentry")}, 10)
                == []
            )
            hidden = db.sql(
                "select count(*) filter (where is_suppressed) from published.pub_reentry"
            ).fetchone()
    assert hidden is not None and hidden[0] > 100, "the data did put the rules to work"
