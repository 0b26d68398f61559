"""Superset for real: the simulated platform, Superset from its own environment, the bundle imported,
roles with row-level security, chart queries as a municipality, a publish during queries, and every
dashboard opened in headless Chromium with its numbers compared to the warehouse.

Expected values come from the warehouse file itself (DuckDB queries written here), never from Superset.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from monitorlink.cli.main import main
from monitorlink.core import services
from monitorlink.core.config import Settings, load_settings
from monitorlink.dashboards import access as dashboard_access
from monitorlink.dashboards import assets as dashboards
from monitorlink.dashboards import superset_service
from monitorlink.dashboards.superset_api import SupersetApiError, SupersetClient
from monitorlink.ops import orchestration
from monitorlink.warehouse.build import connect_readonly, publish
from tests.availability_truth import youth_offers
from tests.conftest import SNAPSHOT_AUG_06, SNAPSHOT_AUG_14, environment, free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

CHROMIUM = Path(os.environ.get("MONITORLINK_CHROMIUM", "/usr/bin/chromium"))
MUNICIPALITY = "GM0153"  # Enschede
ALLOWED = {MUNICIPALITY, dashboard_access.REGION_CODE, dashboard_access.NATIONAL_CODE, None}


@dataclass
class Platform:
    settings: Settings
    admin: SupersetClient
    municipality_password: str


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    home = tmp_path_factory.mktemp("dashboards")
    ports = {
        name: str(free_port())
        for name in ("MONITORLINK_BROKER_PORT", "MONITORLINK_SUPERSET_PORT", "MONITORLINK_AIRFLOW_PORT")
    }
    with environment({"MONITORLINK_HOME": str(home), "MONITORLINK_DEV_MODE": "1", **ports}):
        settings = load_settings()
        try:
            assert main(["run", "--simulated"]) == 0
            superset_service.start(settings)
            with superset_service.admin_client(settings) as admin:
                assert main(["dashboards", "import"]) == 0
                role = dashboard_access.role_for(settings, MUNICIPALITY)
                password = dashboard_access.add_user(admin, "enschede", role)
                dashboard_access.add_user(admin, "twente", dashboard_access.REGION_ROLE, password)
                yield Platform(settings, admin, password)
        finally:
            superset_service.stop(settings)
            main(["broker", "stop"])


def _query(client: SupersetClient, dataset_id: int, columns: list[str], **extra: Any) -> list[dict[str, Any]]:
    """A chart-data query as Superset's charts send it (RLS applies), grouped by `columns`."""
    body = {
        "datasource": {"id": dataset_id, "type": "table"},
        "queries": [
            {
                "columns": columns,
                "metrics": [{"expressionType": "SQL", "sqlExpression": "COUNT(*)", "label": "rows"}],
                "row_limit": 100000,
                **extra,
            }
        ],
        "result_format": "json",
        "result_type": "full",
    }
    return list(client.post("/api/v1/chart/data", body)["result"][0]["data"])


def test_dataset_columns_match_what_the_warehouse_answers(platform: Platform) -> None:
    """The contract between dbt and the dashboards: each dataset's SQL, run on the published file,
    yields exactly the columns the dataset (and so its charts) expect."""
    with connect_readonly(platform.settings) as connection:
        for path, data in dashboards.read_assets().items():
            if path.startswith("datasets/"):
                answered = connection.sql(data["sql"]).columns
                assert sorted(answered) == sorted(c["column_name"] for c in data["columns"]), path


def test_hidden_counts_read_as_a_dash_never_as_zero(platform: Platform) -> None:
    """Every `<count>_shown` column is — exactly where disclosure control hid the count."""
    dashes = 0
    with connect_readonly(platform.settings) as connection:
        for path, data in dashboards.read_assets().items():
            if not path.startswith("datasets/"):
                continue
            columns = {c["column_name"] for c in data["columns"]}
            for shown in sorted(c for c in columns if c.endswith(dashboards.SHOWN)):
                base = shown.removesuffix(dashboards.SHOWN)
                query = f"""
                    select count(*) filter (where {base} is null and {shown} <> '—')
                         + count(*) filter (where {base} is not null and ({shown} = '—' or {shown} = '0')
                                            and {base} <> 0),
                           count(*) filter (where {shown} = '—')
                    from ({data["sql"]})"""
                wrong, hidden = connection.sql(query).fetchone() or (0, 0)
                assert wrong == 0, f"{path}: {shown}"
                dashes += hidden
    assert dashes > 0, "the simulated region has hidden cells; none read as —"


def test_importing_twice_changes_nothing_and_export_reproduces_the_repository(platform: Platform) -> None:
    before = dashboards.exported_assets(platform.admin)
    counts = {
        kind: platform.admin.get(f"/api/v1/{kind}/")["count"] for kind in ("chart", "dashboard", "dataset")
    }
    dashboards.import_assets(platform.admin, platform.settings)
    assert dashboards.exported_assets(platform.admin) == before
    assert {kind: platform.admin.get(f"/api/v1/{kind}/")["count"] for kind in counts} == counts
    repository = {p: d for p, d in dashboards.read_assets().items() if p != "metadata.yaml"}
    exported = {data["uuid"]: data for data in before.values()}
    for path, data in repository.items():
        assert exported[data["uuid"]] == data, f"export differs from {path}"


def test_a_municipality_sees_only_its_own_rows_in_every_dataset(platform: Platform) -> None:
    ids = dashboard_access.dataset_ids(platform.admin)
    municipal = dashboard_access.municipal_datasets()
    assert len(municipal) >= 12
    with SupersetClient(
        superset_service.url(platform.settings), "enschede", platform.municipality_password
    ) as user:
        for name in municipal:
            everything = {
                row["gemeente_code"] for row in _query(platform.admin, ids[name], ["gemeente_code"])
            }
            seen = {row["gemeente_code"] for row in _query(user, ids[name], ["gemeente_code"])}
            assert seen <= ALLOWED, f"{name}: rows of {sorted(map(str, seen - ALLOWED))}"
            assert seen == everything & ALLOWED, f"{name}: Enschede misses rows it may see"
        flow = {row["gemeente_code"] for row in _query(user, ids["jeugdhulp_stroom"], ["gemeente_code"])}
        assert flow == {MUNICIPALITY}
        # The dashboards' municipality filter lists only its own name.
        names = {row["gemeente_naam"] for row in _query(user, ids["gemeenten"], ["gemeente_naam"])}
        assert names == {"Enschede"}
    with SupersetClient(
        superset_service.url(platform.settings), "twente", platform.municipality_password
    ) as region:
        codes = {row["gemeente_code"] for row in _query(region, ids["gemeenten"], ["gemeente_code"])}
    with connect_readonly(platform.settings) as connection:
        expected = {
            code for (code,) in connection.execute("select gemeente_code from dim_gemeente").fetchall()
        }
    assert codes == expected and len(codes) == 14


def test_nothing_is_anonymous(platform: Platform) -> None:
    base = superset_service.url(platform.settings)
    assert httpx.get(f"{base}/api/v1/dashboard/", timeout=10).status_code == 401
    with pytest.raises(SupersetApiError, match="401"):
        SupersetClient(base, "enschede", "wrong password")


def test_publishing_while_charts_query_fails_no_query(platform: Platform) -> None:
    """Atomic publish (rename over the file) while queries run: every query answers, old or new file."""
    ids = dashboard_access.dataset_ids(platform.admin)
    stop = threading.Event()
    failures: list[str] = []
    answered = 0

    def query_loop() -> None:
        nonlocal answered
        with superset_service.admin_client(platform.settings) as client:
            while not stop.is_set():
                for name in ("jeugdhulp_per_1000", "wachttijd_norm", "gemeenten"):
                    try:
                        assert _query(client, ids[name], ["gemeente_code"])
                        answered += 1
                    except (SupersetApiError, AssertionError) as error:
                        failures.append(f"{name}: {error}")

    def wait_for_queries(beyond: int) -> None:
        """Publish only while queries are answered, so each swap lands among running queries."""
        wait_until(
            lambda: answered >= beyond + 2 or bool(failures), 60, f"two chart queries answered after {beyond}"
        )

    threads = [threading.Thread(target=query_loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    published = platform.settings.warehouse_path
    for number in range(10):
        wait_for_queries(answered)
        copy = published.with_name(f"republish-{number}.duckdb")
        shutil.copyfile(published, copy)
        publish(copy, published)
    wait_for_queries(answered)
    stop.set()
    for thread in threads:
        thread.join()
    assert answered > 10
    assert failures == []


def _expected_over_norm() -> int:
    """Youth offers over the norm, from the shipped snapshots' JSON (what `make run` pulls)."""
    return sum(offer.over_norm for offer in youth_offers(SNAPSHOT_AUG_06, SNAPSHOT_AUG_14))


def _expected_per_1000(settings: Settings) -> str:
    query = """
        select per_1000 from pub_youth_care_per_1000
        where gemeente_code = $code and care_form = 'totaal'
          and period_key = (select max(period_key) from pub_youth_care_per_1000)
    """
    with connect_readonly(settings) as connection:
        row = connection.execute(query, {"code": MUNICIPALITY}).fetchone()
    assert row is not None
    return "—" if row[0] is None else f"{row[0]:.1f}"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is missing: `make browser` installs it")
def test_every_dashboard_renders_in_chromium_with_the_warehouse_numbers(platform: Platform) -> None:
    from playwright.sync_api import sync_playwright

    from tests.dashboard_browser import DashboardBrowser

    shots = platform.settings.home / "screenshots"
    base = superset_service.url(platform.settings)
    slugs = sorted(str(d["slug"]) for p, d in dashboards.read_assets().items() if p.startswith("dashboards/"))
    with sync_playwright() as playwright:
        admin = DashboardBrowser(playwright, CHROMIUM, base, shots)
        admin.login(superset_service.ADMIN_USER, superset_service.admin_password(platform.settings))
        for slug in slugs:
            charts = admin.open(slug)
            assert charts >= 1, slug
            assert admin.errors() == [], slug
        admin.open("wachttijden")
        over_norm = admin.big_number("Jeugdaanbod boven de wachttijdnorm")
        assert over_norm == str(_expected_over_norm())
        admin.close()

        user = DashboardBrowser(playwright, CHROMIUM, base, shots / "enschede")
        user.login("enschede", platform.municipality_password)
        user.open("jeugdhulp")
        assert user.errors() == []
        rows = user.table_rows("Per 1.000 jongeren, nieuwste kwartaal (totaal)")
        names = {row[0] for row in rows}
        assert names == {"Enschede", "Twente (regio)"}, names
        (enschede,) = [row for row in rows if row[0] == "Enschede"]
        assert enschede[2] == _expected_per_1000(platform.settings)
        user.close()
    assert {path.stem for path in shots.glob("*.png")} >= set(slugs)


def _alive(process: psutil.Process) -> bool:
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_up_serves_the_dashboards_and_down_leaves_no_process_or_port(platform: Platform) -> None:
    """What `make up` / `make down` do (last in this module: it stops the module's Superset)."""
    settings = platform.settings
    assert main(["up"]) == 0
    names = (
        "broker",
        orchestration.INGESTER,
        orchestration.WATCHER,
        orchestration.AIRFLOW,
        superset_service.SERVICE,
    )
    started = [services.status(settings.run_dir, name) for name in names]
    assert all(current.running for current in started), started
    tree = [psutil.Process(current.pid) for current in started if current.pid is not None]
    tree += [child for process in tree for child in process.children(recursive=True)]
    ports = [settings.broker_port, settings.superset_port, orchestration.airflow_port()]
    assert all(_listening(port) for port in ports)
    assert superset_service.healthy(settings)

    assert main(["down"]) == 0
    assert [process.pid for process in tree if _alive(process)] == []
    assert [port for port in ports if _listening(port)] == []
