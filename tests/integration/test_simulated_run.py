"""`monitorlink run --simulated` (what `make run` does): Twente 2019–2025 through every source, twice.

One run is shared by the test session (tests/integration/conftest.py): simulate, land the availability
snapshots through the embedded broker, land every TMSD/chain/education delivery, fetch CBS from the
loopback OData server, build the warehouse.
Then every injected defect in the simulator's manifest is checked one by one, revisions are checked to
replace exactly their municipality-quarter, the lake/warehouse/logs are scanned for BSNs, and a second
run must change nothing.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from openpyxl import load_workbook

from connectors.files import decode
from monitorlink.cli.main import main
from monitorlink.core.config import PROJECT_ROOT, Settings, load_settings
from monitorlink.core.lake import Lake
from monitorlink.core.pseudonym import bsn_tokens
from monitorlink.ingest.delivery_log import DeliveryOutcome, delivery_log
from monitorlink.ops import broker
from monitorlink.ops.alert_store import AlertStore
from monitorlink.simulator import DEFECTS, Defect, SimulationResult, simulation_result
from monitorlink.warehouse import definitions
from monitorlink.warehouse.build import BuildError, build, connect_readonly, run_dbt
from monitorlink.warehouse.disclosure import (
    CLASSES,
    ModelDeclaration,
    declarations,
    descriptions,
    manifest_path,
    scan,
)
from tests.conftest import environment
from tests.integration.conftest import UNSET, SimulatedRun, run_simulated
from tests.warehouse_checks import warehouse_content

pytestmark = pytest.mark.integration


@dataclass
class Run:
    settings: Settings
    simulation: SimulationResult
    output: str
    log_file: Path
    lake: Lake

    def outcome(self, source: str, name: str) -> DeliveryOutcome:
        (found,) = [o for o in delivery_log(self.lake, source) if o.name == name]
        return found

    def rows(self, zone: str, dataset: str, file: str) -> list[dict[str, Any]]:
        files = [str(p) for p in self.lake.parquet_files(zone, dataset)]
        query = "select * from read_parquet($files, union_by_name=true) where _delivery_file = $file"
        relation = duckdb.sql(query, params={"files": files, "file": file})
        return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


@pytest.fixture(scope="module")
def run(simulated_run: SimulatedRun) -> Iterator[Run]:
    """The session's simulated run (tests/integration/conftest.py), with its environment for this module."""
    with environment(simulated_run.environment, unset=UNSET):
        settings = load_settings()
        yield Run(
            settings,
            simulation_result(simulated_run.simulation_root),
            simulated_run.output,
            simulated_run.log_file,
            Lake(settings.lake_root),
        )


def _schemas(db: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        s
        for (s,) in db.sql(
            "select distinct table_schema from information_schema.tables order by 1"
        ).fetchall()
    ]


def test_three_files_hold_their_tiers_and_stand_alone(run: Run) -> None:
    declared = declarations(manifest_path(run.settings.home))
    pseudonyms = "select count(*) from information_schema.columns where column_name like '%pseudo_id'"
    with (
        connect_readonly(run.settings) as published,
        connect_readonly(run.settings, "analysts") as analysts,
        connect_readonly(run.settings, "restricted") as full,
    ):
        assert _schemas(published) == ["published"]
        assert _schemas(analysts) == ["live", "main", "published"]
        assert _schemas(full) == ["live", "main", "published", "restricted"]
        tables = {t for (t,) in published.sql("select table_name from information_schema.tables").fetchall()}
        assert tables == set(declared) and {"pub_reentry", "fct_offer_wait_norm"} <= tables
        assert published.sql(pseudonyms).fetchone() == analysts.sql(pseudonyms).fetchone() == (0,)
        assert full.sql(pseudonyms).fetchone()[0] > 0  # type: ignore[index]
        # the published file holds no view (a view reads the lake by absolute path), so it works anywhere;
        # the analysts' file holds one, the live current state of availability, which reads the lake
        views = "select schema_name, view_name from duckdb_views() where not internal"
        assert published.sql(views).fetchall() == []
        assert analysts.sql(views).fetchall() == [("live", "live_availability_current")]
        assert analysts.sql("select count(*) from main.stg_education__pupils").fetchone()[0] > 0  # type: ignore[index]
        # the unsuppressed marts are in the analysts' file, and they do hold small counts
        small = "select count(*) from main.fct_reentry where youths_reentered_12m between 1 and 9"
        assert analysts.sql(small).fetchone()[0] > 0  # type: ignore[index]


def test_every_published_table_and_column_carries_its_dbt_description(run: Run) -> None:
    documented = descriptions(manifest_path(run.settings.home))
    with connect_readonly(run.settings) as db:
        tables = db.sql("select table_name, comment from duckdb_tables() where not internal").fetchall()
        columns = db.sql(
            "select table_name, column_name, comment from duckdb_columns() where not internal"
        ).fetchall()
    assert tables and all(comment == documented[table][0] != "" for table, comment in tables)
    assert columns and all(comment == documented[t][1][c] != "" for t, c, comment in columns)


def test_every_model_and_built_column_is_documented_in_its_yml(run: Run, tmp_path: Path) -> None:
    """dbt's own check (macro assert_models_documented) against a copy of the restricted warehouse: it
    names every model without a description and every built column its yml does not declare."""
    copy = tmp_path / "documented.duckdb"
    shutil.copyfile(run.settings.restricted_warehouse_path, copy)
    checked = run_dbt(run.settings, ["run-operation", "assert_models_documented"], copy, "documented")
    assert checked.returncode == 0, (checked.stdout + checked.stderr)[-3000:]
    with duckdb.connect(str(copy)) as db:  # and it can fail: a built column no yml declares
        db.execute("alter table main.fct_trajectory_flow add column undeclared_column integer")
    broken = run_dbt(run.settings, ["run-operation", "assert_models_documented"], copy, "documented")
    assert broken.returncode != 0 and "undeclared_column" in broken.stdout + broken.stderr


def test_the_published_file_has_no_small_or_recoverable_count_and_nothing_undeclared(run: Run) -> None:
    declared = declarations(manifest_path(run.settings.home))
    with connect_readonly(run.settings) as db:
        assert scan(db, declared, run.settings.suppression_threshold) == []
        numeric = db.sql(
            "select table_name, column_name from information_schema.columns where data_type like 'DECIMAL%'"
            " or data_type in ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'DOUBLE', 'FLOAT')"
        ).fetchall()
        counts = [(t, c) for t, c in numeric if declared[t].columns[c].disclosure == "person_count"]
        for table, column in counts:
            small = db.sql(f"select count(*) from {table} where {column} between 1 and 9").fetchone()
            assert small == (0,), f"{table}.{column}"
    assert len(counts) >= 25, "every count of every suppressed model was scanned"
    undeclared = [(t, c) for t, c in numeric if declared[t].columns[c].disclosure not in CLASSES]
    assert undeclared == []


def test_the_run_and_the_disclosure_command_report_what_the_gate_covered(
    run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    declared = declarations(manifest_path(run.settings.home))
    counts = sum(len(model.of_class("person_count")) for model in declared.values())
    covered = f"{len(declared)} tables, {counts} person-count columns;"
    assert f"Disclosure control: {covered}" in " ".join(run.output.split())
    assert main(["disclosure"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert covered in printed and "(threshold 10); 0 findings" in printed


def test_removing_one_suppression_is_caught_by_the_scan_and_publishes_nothing(
    run: Run, tmp_path: Path
) -> None:
    """A deliberately broken pub_reentry that publishes one count unsuppressed (its yml untouched)."""
    project = tmp_path / "dbt"
    shutil.copytree(PROJECT_ROOT / "dbt", project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models" / "publication" / "pub_reentry.sql").write_text(
        "select suppressed.* replace (mart.youths_reentered_12m as youths_reentered_12m)\n"
        "from ({{ suppress(ref('fct_reentry')) }}) as suppressed\n"
        "inner join {{ ref('fct_reentry') }} as mart using (gemeente_code, period_key)\n",
        encoding="utf-8",
    )
    broken = dataclasses.replace(run.settings, dbt_project_dir=project)
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(run.settings.restricted_warehouse_path, copy)
    completed = run_dbt(broken, ["run", "--select", "pub_reentry"], copy, "target")
    assert completed.returncode == 0, completed.stdout
    with duckdb.connect(str(copy), read_only=True) as db:
        findings = scan(db, declarations(manifest_path(run.settings.home)), 10)
    assert {(f.table, f.column, f.rule) for f in findings} >= {
        ("pub_reentry", "youths_reentered_12m", "small_count"),
        ("pub_reentry", "youths_reentered_12m", "small_complement"),
    }
    assert {f.table for f in findings} == {"pub_reentry"}

    published_before = run.settings.warehouse_path.read_bytes()
    with pytest.raises(BuildError) as refused:
        build(broken, select="pub_reentry")
    assert "disclosure control refused to publish" in str(refused.value)
    assert "published.pub_reentry.youths_reentered_12m: small_count" in str(refused.value)
    assert run.settings.warehouse_path.read_bytes() == published_before


def test_a_higher_threshold_builds_every_test_and_hides_up_to_it(run: Run, tmp_path: Path) -> None:
    """MONITORLINK_SUPPRESSION_THRESHOLD=15: the dbt unit tests pass (none hard-codes 10) and no
    published count from 1 to 14 is left, where the analysts' file has plenty of 10–14."""
    restricted = tmp_path / "restricted.duckdb"
    shutil.copyfile(run.settings.restricted_warehouse_path, restricted)
    at_15 = dataclasses.replace(
        run.settings,
        suppression_threshold=15,
        warehouse_path=tmp_path / "published.duckdb",
        analysts_warehouse_path=tmp_path / "analysts.duckdb",
        restricted_warehouse_path=restricted,
    )
    build(at_15, select="publication test_type:unit")
    declared = declarations(manifest_path(run.settings.home))
    with connect_readonly(at_15) as at_15_db, connect_readonly(run.settings) as at_10_db:
        assert scan(at_15_db, declared, 15) == []
        assert _counts_between(at_15_db, declared, 10, 14) == 0
        assert _counts_between(at_10_db, declared, 10, 14) > 0, "threshold 10 shows counts of 10–14"


def _counts_between(
    db: duckdb.DuckDBPyConnection, declared: dict[str, ModelDeclaration], low: int, high: int
) -> int:
    """How many person-count cells of the published models lie between low and high."""
    total = 0
    for model in declared.values():
        for column in model.of_class("person_count"):
            query = f"select count(*) from {model.name} where {column.name} between {low} and {high}"
            (found,) = db.sql(query).fetchone() or (0,)
            total += found
    return total


def test_region_rows_say_how_many_municipalities_they_sum(run: Run) -> None:
    """From the simulator's record: a municipality-quarter whose every TMSD file is quarantined is missing."""
    quarantined = {d.file for d in run.simulation.defects if d.source == "tmsd" and d.expect == "quarantine"}
    files: dict[tuple[str, str], set[str]] = {}
    for path in (run.simulation.landing / "tmsd").glob("tmsd_jeugd_*.csv"):
        gemeente, period = path.stem.split("_")[2:4]
        files.setdefault((gemeente, period), set()).add(path.name)
    missing: dict[str, int] = {}
    for (_, period), names in files.items():
        if names <= quarantined:
            missing[period] = missing.get(period, 0) + 1
    assert missing, "the simulation quarantines whole municipality-quarters"
    with connect_readonly(run.settings) as db:
        rows = db.sql(
            "select period_key, gemeenten_in_total, gemeenten_expected, is_complete"
            " from pub_youth_care_per_1000 where level = 'regio' and care_form = 'totaal'"
        ).fetchall()
    assert rows and all(expected == 14 for _, _, expected, _ in rows)
    assert {period: 14 - total for period, total, _, _ in rows if total != 14} == missing
    assert all(complete == (period not in missing) for period, _, _, complete in rows)


def test_the_docs_site_has_lineage_from_every_source_to_the_marts_and_every_definition(run: Run) -> None:
    assert main(["docs"]) == 0
    manifest = json.loads((run.settings.home / "dbt" / "docs" / "manifest.json").read_text(encoding="utf-8"))
    parents: dict[str, list[str]] = manifest["parent_map"]

    def upstream(node: str) -> set[str]:
        seen: set[str] = set()
        pending = [node]
        while pending:
            for parent in parents.get(pending.pop(), []):
                if parent not in seen:
                    seen.add(parent)
                    pending.append(parent)
        return seen

    marts = {
        uid: node for uid, node in manifest["nodes"].items() if node["name"].startswith(("fct_", "pub_"))
    }
    reached = set().union(*(upstream(uid) for uid in marts))
    assert {s for s in manifest["sources"]} <= reached, "every source feeds some mart"
    assert all(any(p.startswith("source.") for p in upstream(uid)) for uid in marts), (
        "every mart has a source"
    )
    kpis = [node for node in marts.values() if "kpi" in node["config"].get("meta", {})]
    assert len(kpis) == len(definitions.kpi_models())
    assert (run.settings.home / "dbt" / "docs" / "index.html").exists()


#: The newest data each source holds after the run, with the last day it covers: the simulator delivers
#: Twente 2019–2025 (TMSD and education quarters, chain months, CBS years: `monitorlink/simulator`), and
#: the newest figure in the shipped availability snapshots is dated 14 Aug 2026 (snapshot_2026-08-14.json).
NEWEST_DATA = {
    "availability": ("2026-08-14", "2026-08-14"),
    "tmsd": ("2025Q4", "2025-12-31"),
    "chain": ("2025-12", "2025-12-31"),
    "education": ("2025Q4", "2025-12-31"),
    "cbs": ("2025JJ00", "2025-12-31"),
}


def _contract_policies() -> dict[str, tuple[int, int, int]]:
    """Source → (every, grace, lag) days, read from the contract YAML files themselves (lag defaults to 0)."""
    policies = {}
    for path in (PROJECT_ROOT / "contracts").glob("*.yaml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        source = "education" if document["name"].startswith("education_") else document["name"]
        policy = document["freshness"]
        policies[source] = (policy["every_days"], policy["grace_days"], policy.get("lag_days", 0))
    return policies


def test_right_after_the_run_only_the_data_clock_can_make_a_source_late(
    run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every source landed minutes ago, so the landing clock finds none late; the data clock judges the
    newest period of each (NEWEST_DATA) against every + lag + grace from its contract, by hand here: the
    simulated 2025 data and the August snapshots are late by now, CBS's yearly figures not (until
    2027-09-01). `freshness` exits 5 when a source is late, 0 when none is."""
    before = datetime.now(UTC)
    code = main(["freshness", "--json"])
    after = datetime.now(UTC)
    results = {r["source"]: r for r in json.loads(capsys.readouterr().out)}
    policies = _contract_policies()
    assert {
        name: (r["every_days"], r["grace_days"], r["lag_days"]) for name, r in results.items()
    } == policies
    assert all(r["age_hours"] < 1 for r in results.values()), "every source landed within the hour"
    assert {name: (r["newest_period"], r["data_until"]) for name, r in results.items()} == NEWEST_DATA
    late = {}
    for name, result in results.items():
        every, grace, lag = policies[name]
        ended = datetime.combine(date.fromisoformat(NEWEST_DATA[name][1]) + timedelta(days=1), time(), UTC)
        oldest, youngest = ((moment - ended).total_seconds() / 86_400 for moment in (after, before))
        assert youngest - 0.05 <= result["data_age_days"] <= oldest + 0.05, name
        limit = every + lag + grace
        assert (youngest > limit) == (oldest > limit), f"{name} is on the edge of its policy: try again"
        late[name] = youngest > limit
        assert result["late"] == late[name], name
        reason = result["late_reason"]
        if late[name]:
            assert reason.startswith(f"newest data ends {NEWEST_DATA[name][1]}, "), reason
            assert f"(policy: every {every} + lag {lag} + grace {grace})" in reason, reason
            assert "no delivery" not in reason and "never landed" not in reason, reason
        else:
            assert reason is None, reason
    assert code == (5 if any(late.values()) else 0)
    with connect_readonly(run.settings) as db:
        sources = db.sql("select source, deliveries from fct_source_freshness order by source").fetchall()
        stale = db.sql("select count(*) from fct_availability_provider_freshness where is_stale").fetchone()
    assert [s for s, _ in sources] == ["availability", "cbs", "chain", "education", "tmsd"]
    assert dict(sources)["tmsd"] == sum(o.outcome == "validated" for o in delivery_log(run.lake, "tmsd"))
    assert stale is not None and stale[0] > 0, "the real snapshots have providers that stopped updating"


def _plain_table(output: str, title: str) -> list[dict[str, str]]:
    """The rows of one table as the CLI prints tables off a terminal: a `# title` line, a tab-separated
    header line, then one tab-separated line per row."""
    lines = output.splitlines()
    (start,) = [i for i, line in enumerate(lines) if line.startswith(f"# {title}")]
    header = lines[start + 1].split("\t")
    rows = []
    for line in lines[start + 2 :]:
        cells = line.split("\t")
        if len(cells) != len(header):
            break
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def test_the_summary_shows_every_source_and_the_broker_is_stopped_again(run: Run) -> None:
    """Off a terminal the run prints one line per stage and its tables as tab-separated lines; the counts
    are the simulator's (its files, and the files its manifest says must be quarantined)."""
    assert "snapshot_2026-08-14.json" in run.output and "152" in run.output
    manifest = json.loads((run.simulation.root / "manifest.json").read_text(encoding="utf-8"))
    quarantined = {
        source: {
            d["file"] for d in manifest["defects"] if d["source"] == source and d["expect"] == "quarantine"
        }
        for source in ("tmsd", "chain", "education", "cbs")
    }
    assert all(quarantined[source] for source in run.simulation.files), "every file source has some"
    for source, files in run.simulation.files.items():
        counts = f"{files} new deliveries, {len(quarantined[source])} quarantined"
        stage = rf"^{source}: landing: {counts} \(\d+\.\d s\)$"
        assert re.search(stage, run.output, re.MULTILINE), stage
    assert "│" not in run.output and "┃" not in run.output, "no box-drawn tables off a terminal"
    rows = {row["source"]: row for row in _plain_table(run.output, "Deliveries per source")}
    assert list(rows) == ["tmsd", "chain", "education", "cbs"]
    assert {source: int(row["quarantined"]) for source, row in rows.items()} == {
        source: len(files) for source, files in quarantined.items()
    }
    assert {source: int(rows[source]["new"]) for source in run.simulation.files} == run.simulation.files
    for source in run.simulation.files:
        rules = {d["rule"] for d in manifest["defects"] if d["file"] in quarantined[source]}
        assert all(f"{rule} ×" in rows[source]["rules (deliveries)"] for rule in rules), rows[source]
    assert "gemeente_code_known ×" in rows["tmsd"]["rules (deliveries)"]
    assert "DEV MODE" in run.output
    assert "Headline KPIs, Twente" in run.output and "per 1,000" in run.output
    assert not broker.state(run.settings).running


def test_every_delivery_of_the_simulation_was_processed(run: Run) -> None:
    for source, count in run.simulation.files.items():
        logged = delivery_log(run.lake, source)
        assert len(logged) == count, source
        assert {o.name for o in logged} == {p.name for p in (run.simulation.landing / source).iterdir()}
    cbs = delivery_log(run.lake, "cbs")
    assert [o.outcome for o in cbs] == ["validated", "validated"]


def _defects(run: Run, source: str, kind: str) -> list[Defect]:
    found = [d for d in run.simulation.defects if d.source == source and d.kind == kind]
    assert found, f"the simulator injected no {kind} into {source}"
    return found


CASES = [(source, kind) for source, kinds in DEFECTS.items() for kind in kinds]


@pytest.mark.parametrize(("source", "kind"), CASES, ids=[f"{s}-{k}" for s, k in CASES])
def test_each_injected_defect_is_quarantined_flagged_or_ignored_under_its_rule(
    run: Run, source: str, kind: str
) -> None:
    for defect in _defects(run, source, kind):
        outcome = run.outcome(source, defect.file)
        if defect.expect == "ignore":
            assert outcome.outcome == "redelivery_ignored"
            assert outcome.duplicate_of == defect.file.replace("_v2.", "_v1.")
            continue
        dataset = defect.dataset or next(iter(outcome.rows))
        if defect.expect == "quarantine":
            assert outcome.outcome == "quarantined", outcome
            assert defect.rule in outcome.critical
            assert any(defect.rule in sample for sample in outcome.samples[defect.rule])
            rows = run.rows("quarantine", dataset, defect.file)
            failing = {r["_source_row"] for r in rows if defect.rule in r["failed_rules"]}
            assert failing == set(defect.rows), (defect, failing)
            assert all(r["reasons"] for r in rows)
            assert run.rows("validated", dataset, defect.file) == []
        else:
            assert outcome.outcome == "validated", outcome
            assert defect.rule in outcome.warnings
            rows = run.rows("validated", dataset, defect.file)
            flagged = {r["_source_row"] for r in rows if defect.rule in r["_quality_flags"]}
            expected = set(defect.rows) or {r["_source_row"] for r in rows}
            assert flagged == expected, (defect, sorted(flagged)[:10])


def test_a_raw_bsn_lands_as_the_pseudonym_the_source_should_have_sent(run: Run) -> None:
    defect = _defects(run, "tmsd", "raw_bsn")[0]
    outcome = run.outcome("tmsd", defect.file)
    assert outcome.pseudonymised == len(defect.rows)
    landed = {r["_source_row"]: r["client_pseudo_id"] for r in run.rows("validated", "tmsd", defect.file)}
    text = decode((run.simulation.landing / "tmsd" / defect.file).read_bytes())[0].splitlines()
    delivered = {line: text[line - 1].split(";")[0] for line in defect.rows}
    assert all(len(bsn_tokens(value)) == 1 for value in delivered.values()), "the input did carry BSNs"
    raw = run.lake.manifest("tmsd")
    (record,) = [r for r in raw if r.name == defect.file]
    assert record.redacted_values == len(defect.rows) and record.received_sha256 == outcome.received_sha256
    stored = decode((run.settings.lake_root / record.path).read_bytes())[0].splitlines()
    for line, value in delivered.items():
        assert landed[line] == stored[line - 1].split(";")[0] != value
        assert len(landed[line]) == 64


def _text_of(path: Path) -> str:
    if path.suffix == ".parquet":
        relation = duckdb.sql("select * from read_parquet($p)", params={"p": str(path)})
        return "\n".join(" ".join(map(str, row)) for row in relation.fetchall())
    if path.suffix == ".xlsx":
        book = load_workbook(path, read_only=True)
        return "\n".join(
            " ".join(map(str, row)) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
        )
    return path.read_bytes().decode("utf-8", errors="replace")


def test_no_bsn_is_anywhere_in_the_lake_the_warehouse_or_the_logs(run: Run) -> None:
    seeded = [d for d in run.simulation.defects if d.kind == "raw_bsn"]
    assert {d.source for d in seeded} == {"tmsd", "chain", "education"}
    landing_hits = sum(len(bsn_tokens(_text_of(run.simulation.landing / d.source / d.file))) for d in seeded)
    assert landing_hits >= 3 * len(seeded), "the scan finds BSNs where they are (the inputs)"

    hits: dict[str, list[str]] = {}
    for path in Path(str(run.settings.lake_root)).rglob("*"):
        if path.is_file() and (found := bsn_tokens(_text_of(path))):
            hits[str(path)] = found
    for warehouse in (
        run.settings.warehouse_path,
        run.settings.analysts_warehouse_path,
        run.settings.restricted_warehouse_path,
    ):
        with duckdb.connect(str(warehouse), read_only=True) as db:
            tables = db.sql("select table_schema, table_name from information_schema.tables").fetchall()
            for schema, table in tables:
                rows = db.sql(f'select * from "{schema}"."{table}"').fetchall()
                if found := bsn_tokens("\n".join(" ".join(map(str, row)) for row in rows)):
                    hits[f"{warehouse} {schema}.{table}"] = found
    logs = [
        run.log_file,
        *(run.settings.home / "dbt" / "logs").glob("*.log"),
        *(run.settings.run_dir).glob("*.log"),
    ]
    for path in logs:
        if found := bsn_tokens(path.read_text(encoding="utf-8", errors="replace")):
            hits[str(path)] = found
    if found := bsn_tokens(run.output):
        hits["run output"] = found
    assert hits == {}


def test_a_revision_replaces_exactly_its_municipality_quarter(run: Run) -> None:
    assert run.simulation.revisions
    latest: dict[tuple[str, str], tuple[int, int]] = {}
    for outcome in delivery_log(run.lake, "tmsd"):
        if outcome.outcome == "validated" and outcome.scope and outcome.period and outcome.version:
            key = (outcome.scope, outcome.period)
            if key not in latest or outcome.version > latest[key][0]:
                latest[key] = (outcome.version, outcome.rows["tmsd"])
    with connect_readonly(run.settings, "restricted") as db:
        current = {
            (scope, period): (version, rows)
            for scope, period, version, rows in db.sql(
                "select delivery_scope, delivery_period, max(delivery_version), count(*)"
                " from restricted.int_tmsd__trajectories_current group by 1, 2"
            ).fetchall()
        }
        history = db.sql(
            "select count(distinct delivery_version) from restricted.stg_tmsd__trajectories"
            " where delivery_file = $v1 or delivery_file = $v2",
            params={
                "v1": run.simulation.revisions[0].replace("_v2", "_v1"),
                "v2": run.simulation.revisions[0],
            },
        ).fetchone()
    assert current == latest
    revised = {tuple(name.split("_")[2:4]) for name in run.simulation.revisions}
    assert all(current[key][0] == 2 for key in revised)  # type: ignore[index]
    assert sum(version == 2 for version, _ in current.values()) == len(revised)
    assert history == (2,), "the revised version stays in the history"


def test_running_again_on_the_same_inputs_changes_nothing(run: Run) -> None:
    # The alerts are checked after each build, so the second build is the first to see those the first
    # run opened: fct_open_alerts (and its staging table in the analysts' file) differ and hold exactly those.
    alert_tables = ("published.fct_open_alerts", "main.stg_operations__alerts")
    paths = (
        run.settings.warehouse_path,
        run.settings.analysts_warehouse_path,
        run.settings.restricted_warehouse_path,
    )
    before = {path: warehouse_content(path) for path in paths}
    assert all(alert_tables[0] in content for content in before.values())
    opened = set(AlertStore(run.settings).open_alerts())
    logged = {source: len(delivery_log(run.lake, source)) for source in ("tmsd", "chain", "education", "cbs")}
    second = run_simulated(run.log_file.with_name("second-run.log"))
    assert "0 (same bytes already ingested)" in second
    assert {source: len(delivery_log(run.lake, source)) for source in logged} == logged
    after = {path: warehouse_content(path) for path in paths}
    for content in (*before.values(), *after.values()):
        for table in alert_tables:
            content.pop(table, None)
    assert after == before
    with connect_readonly(run.settings) as db:
        in_warehouse = {alert for (alert,) in db.sql("select alert_id from fct_open_alerts").fetchall()}
    assert opened and in_warehouse == opened
    assert json.loads((run.simulation.root / "manifest.json").read_text())["seed"] == 2026
