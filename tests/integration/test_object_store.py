"""Beyond one machine, end to end: simulated run → lake on S3 → DuckLake on PostgreSQL → published →
the dashboards' queries, on real local servers (moto's S3 server, Debian's PostgreSQL).

`monitorlink run --simulated` goes exactly as `make run` does, with the production variables set: the
lake on object storage (`MONITORLINK_LAKE_URI`), landers serialised by PostgreSQL advisory locks
(`MONITORLINK_LOCK_DSN`), and the warehouse published into one DuckLake per tier, each catalog its own
PostgreSQL database with its own role. Two quarters of Twente keep it short. The expected figures are
the simulator's `truth.json` (never platform code), and what the dashboards read through the DuckLake
must be what the build put in its published file, row for row.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitorlink.cli.main import main
from monitorlink.core.config import PROJECT_ROOT, TIERS, Settings, load_settings
from monitorlink.core.journal import Journal
from monitorlink.core.lake import Lake
from monitorlink.core.object_store import S3Endpoint, lake_location
from monitorlink.dashboards import access as dashboard_access
from monitorlink.dashboards import assets as dashboards
from monitorlink.dashboards import superset_service
from monitorlink.ingest.delivery_log import delivery_log
from monitorlink.warehouse import ducklake
from monitorlink.warehouse.build import connect_readonly
from tests.conftest import environment, free_port
from tests.integration.conftest import UNSET
from tests.integration.test_dashboards import _query
from tests.integration.test_kpi_truth import Expected, _same
from tests.real_services import PostgresServer, S3Server, object_store, postgres  # noqa: F401

pytestmark = pytest.mark.integration

PERIODS = "2025Q3:2025Q4"
#: The dashboards' own queries: every dataset of the published database in the Superset bundle.
DATASETS = PROJECT_ROOT / "infra" / "superset" / "assets" / "datasets" / "monitorlink_published"


@dataclass(frozen=True)
class Platform:
    """The finished run: its environment and settings, the servers, and what it printed."""

    environment: dict[str, str]
    settings: Settings
    store: S3Server
    lake_prefix: str
    reader_dsn: str  # a role that may only read the published tier
    reader_on_restricted: str  # the same role's login to the restricted tier's catalog (refused)
    server: PostgresServer
    superset_metadata: str  # a database of its own for Superset's metadata
    output: str


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory,
    postgres: PostgresServer,  # noqa: F811
    object_store: S3Server,  # noqa: F811
) -> Iterator[Platform]:
    home = tmp_path_factory.mktemp("several-machines")
    suffix = uuid.uuid4().hex[:8]
    variables = {
        **object_store.environment(),
        "MONITORLINK_HOME": str(home),
        "MONITORLINK_DEV_MODE": "1",
        "MONITORLINK_BROKER_PORT": str(free_port()),
        "MONITORLINK_ALERT_NOTIFIERS": "log",
        "MONITORLINK_LAKE_URI": f"s3://{object_store.bucket}/lake-{suffix}",
        "MONITORLINK_WAREHOUSE_BACKEND": "ducklake",
        "MONITORLINK_DUCKLAKE_DATA_URI": f"s3://{object_store.bucket}/warehouse-{suffix}",
    }
    for tier in TIERS:
        role, password = f"{tier}_{suffix}", f"{tier}-{suffix}-password"
        postgres.create_role(role, password)
        postgres.create_database(role, owner=role)
        variables[f"MONITORLINK_DUCKLAKE_{tier.upper()}_DSN"] = postgres.dsn(role, role, password)
    postgres.create_role(f"locks_{suffix}", "locks-password")
    postgres.create_database(f"locks_{suffix}", owner=f"locks_{suffix}")
    variables["MONITORLINK_LOCK_DSN"] = postgres.dsn(f"locks_{suffix}", f"locks_{suffix}", "locks-password")
    reader = (f"dashboards_{suffix}", "dashboards-password")
    postgres.create_role(*reader)
    postgres.create_role(f"superset_{suffix}", "superset-password")
    postgres.create_database(f"superset_{suffix}", owner=f"superset_{suffix}")
    postgres.grant_read_only(f"published_{suffix}", reader[0], owner=f"published_{suffix}")
    sink = io.StringIO()
    with environment(variables, unset=(*UNSET, "AWS_ENDPOINT_URL_S3")), redirect_stdout(sink):
        simulated = main(["simulate", "--periods", PERIODS])
        assert simulated == 0, sink.getvalue()
        code = main(["run", "--simulated"])
        assert code == 0, sink.getvalue()[-3000:]
        settings = load_settings()
    yield Platform(
        variables,
        settings,
        object_store,
        f"lake-{suffix}",
        postgres.dsn(f"published_{suffix}", *reader),
        postgres.dsn(f"restricted_{suffix}", *reader),
        postgres,
        f"superset_{suffix}",
        sink.getvalue(),
    )


def test_the_lake_lives_on_object_storage_only(platform: Platform) -> None:
    keys = platform.store.keys(platform.lake_prefix + "/")
    zones = {key.split("/")[1] for key in keys}
    assert {"raw", "validated", "quarantine", "ops"} <= zones
    # every append is an object of its own: manifests, delivery logs, the outbox, the alert history
    for journal in ("raw/tmsd/manifest/", "raw/tmsd/deliveries/", "raw/availability/deliveries/"):
        assert any(key.startswith(f"{platform.lake_prefix}/{journal}") for key in keys), journal
    assert any("/ops/announced/tmsd/" in key for key in keys)
    assert not (platform.settings.home / "lake").exists()  # nothing fell back to a local folder
    # what the input holds: one TMSD delivery per file in the landing folder, each logged once
    landing = platform.settings.home / "simulation" / "landing" / "tmsd"
    with environment(platform.environment, unset=UNSET):
        logged = delivery_log(Lake(load_settings().lake_root), "tmsd")
    assert sorted(o.name for o in logged) == sorted(p.name for p in landing.iterdir())


def test_a_second_run_on_object_storage_lands_nothing_again(platform: Platform) -> None:
    before = set(platform.store.keys(platform.lake_prefix + "/raw/tmsd/"))
    sink = io.StringIO()
    with environment(platform.environment, unset=UNSET), redirect_stdout(sink):
        assert main(["land", "tmsd"]) in (0, 4), sink.getvalue()
    assert set(platform.store.keys(platform.lake_prefix + "/raw/tmsd/")) == before


def _truth(platform: Platform, mart: str) -> Expected:
    """One mart of the simulator's truth (rows, and the rows its injected defects change)."""
    figures = json.loads((platform.settings.home / "simulation" / "truth.json").read_text(encoding="utf-8"))
    key = figures["marts"][mart]["key"]
    rows = {
        tuple(row[k] for k in key): {c: v for c, v in row.items() if c not in key}
        for row in figures["marts"][mart]["rows"]
    }
    landed = {
        tuple(entry["key"][k] for k in key): entry["landed"] for entry in figures["affected"].get(mart, [])
    }
    return Expected(key, rows, landed)


def _rows(connection: Any, query: str) -> list[dict[str, Any]]:
    relation = connection.sql(query)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def test_the_analysts_ducklake_holds_the_simulators_truth(platform: Platform) -> None:
    mart = "fct_youth_care_per_1000"
    expected = _truth(platform, mart)
    with environment(platform.environment, unset=UNSET), ducklake.reader(load_settings(), "analysts") as lake:
        found = {tuple(r[k] for k in expected.key): r for r in _rows(lake, f"select * from main.{mart}")}
    assert found and expected.keys() == set(found)
    mismatches = [
        f"{key} {column}: truth {value}, DuckLake {found[key][column]}"
        for key in sorted(expected.keys(), key=str)
        for column, value in (expected.row(key) or {}).items()
        if not _same(value, found[key][column])
    ]
    assert mismatches == []


def _dataset_queries() -> dict[str, str]:
    datasets = (yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(DATASETS.glob("*.yaml")))
    return {dataset["table_name"]: dataset["sql"] for dataset in datasets}


def test_every_dashboard_query_reads_the_published_ducklake_as_the_published_file(platform: Platform) -> None:
    """Superset's datasets run read-only on the published DuckLake with the dashboards' own role, and
    return what the build's published file returns: the publication copied every row."""
    queries = _dataset_queries()
    assert len(queries) >= 10
    with environment(platform.environment, unset=UNSET):
        settings = load_settings()
        with ducklake.reader(settings, "published", dsn=platform.reader_dsn) as lake:
            with connect_readonly(settings) as published_file:
                for name, query in queries.items():
                    wrapped = f"select * from ({query}) order by all"
                    assert _rows(lake, wrapped) == _rows(published_file, wrapped), name
                counted = lake.sql("select count(*) from published.pub_youth_care_per_1000").fetchone()
            assert counted is not None and counted[0] > 0
            with pytest.raises(ducklake.DuckLakeError):
                ducklake.reader(settings, "restricted", dsn=platform.reader_on_restricted)


def test_the_run_published_each_tier_once(platform: Platform) -> None:
    with environment(platform.environment, unset=UNSET):
        settings = load_settings()
        for tier in TIERS:
            (publication,) = ducklake.publications(settings, tier)
            assert (publication.message or "").startswith("monitorlink publication"), tier
    # the data files are on the object store, one folder per tier
    data = platform.environment["MONITORLINK_DUCKLAKE_DATA_URI"].removeprefix(
        f"s3://{platform.store.bucket}/"
    )
    for tier in TIERS:
        assert any(key.endswith(".parquet") for key in platform.store.keys(f"{data}/{tier}/")), tier


def test_superset_serves_the_dashboards_from_the_published_ducklake(
    platform: Platform, tmp_path: Path
) -> None:
    """Superset on a dashboard host of its own (an empty home: no warehouse files, no lake), with its
    metadata on PostgreSQL and only the published tier's DSN, a read-only role. Its chart queries
    (through the imported bundle) answer what the DuckLake answers to the same SQL, and the bundle it
    imported is in PostgreSQL."""
    database = platform.superset_metadata
    host = {
        "MONITORLINK_HOME": str(tmp_path / "dashboard-host"),
        "MONITORLINK_SUPERSET_METADATA_URI": platform.server.sqlalchemy_uri(
            database, database, "superset-password"
        ),
        "MONITORLINK_SUPERSET_PORT": str(free_port()),
        "MONITORLINK_DUCKLAKE_PUBLISHED_DSN": platform.reader_dsn,
        "MONITORLINK_DUCKLAKE_ANALYSTS_DSN": "",
        "MONITORLINK_DUCKLAKE_RESTRICTED_DSN": "",
    }
    with environment(platform.environment | host, unset=UNSET):
        settings = load_settings()
        try:
            superset_service.start(settings)
            with superset_service.admin_client(settings) as admin:
                assert main(["dashboards", "import"]) == 0
                ids = dashboard_access.dataset_ids(admin)
                queries = _dataset_queries()
                with ducklake.reader(settings, "published", dsn=platform.reader_dsn) as lake:
                    for name in ("jeugdhulp_per_1000", "wachttijd_norm", "ketendoorlooptijden"):
                        text = _text_columns(lake, queries[name])
                        rows = _query(admin, ids[name], text)
                        got = sorted((tuple(row[c] for c in [*text, "rows"]) for row in rows), key=repr)
                        assert got and got == _grouped(lake, queries[name], text), name
        finally:
            superset_service.stop(settings)
    bundle = {path for path in dashboards.read_assets() if path.startswith("dashboards/")}
    assert platform.server.execute("select count(*) from dashboards", database) == [(len(bundle),)]
    assert not list(settings.superset_home.glob("*.db")), "no SQLite metadata"


def _text_columns(connection: Any, query: str) -> list[str]:
    """A dataset's text columns: those come back from Superset's JSON exactly as DuckDB gives them."""
    relation = connection.sql(query)
    return [c for c, kind in zip(relation.columns, relation.types, strict=True) if kind == "VARCHAR"]


def _grouped(connection: Any, query: str, columns: list[str]) -> list[tuple[Any, ...]]:
    """Rows per combination of `columns`, as a chart grouped by them counts them."""
    grouped = ", ".join(f'"{c}"' for c in columns)
    rows = connection.sql(f"select {grouped}, count(*) from ({query}) group by all").fetchall()
    return sorted(map(tuple, rows), key=repr)


def test_a_log_copied_whole_onto_object_storage_is_read_first_and_rewritten_in_place(
    object_store: S3Server,  # noqa: F811
) -> None:
    """`aws s3 sync var/lake s3://…` copies `deliveries.jsonl` as one object: the journal reads it as
    its oldest records, so a migrated lake is not taken for an empty one (and rolled back)."""
    prefix = f"migrated-{uuid.uuid4().hex[:8]}"
    copied = [{"batch_id": "b1", "outcome": "validated"}, {"batch_id": "b2", "outcome": "quarantined"}]
    body = "".join(json.dumps(record) + "\n" for record in copied).encode()
    object_store.client().put_object(Bucket=object_store.bucket, Key=f"{prefix}/deliveries.jsonl", Body=body)
    with environment(object_store.environment()):
        root = lake_location(f"s3://{object_store.bucket}/{prefix}", S3Endpoint.from_environment())
        journal = Journal(root / "deliveries.jsonl")
        journal.append([{"batch_id": "b3", "outcome": "validated"}])
        assert [r["batch_id"] for r in journal.records()] == ["b1", "b2", "b3"]
        journal.rewrite(lambda r: r | {"outcome": "validated"} if r["batch_id"] == "b2" else r)
        assert [r["outcome"] for r in journal.records()] == ["validated"] * 3
