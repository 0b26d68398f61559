"""`monitorlink publications` on a real PostgreSQL catalog per tier and a real S3 (moto), through `main`.

Two hand-made `published` tier files with known waiting weeks are published with `ducklake.publish`; the
command line must list both, read the first back by snapshot id, by the time `list` shows and by a bare
date, restore it as a third snapshot, and refuse with one line (never a traceback) what it cannot do: the
file backend (exit 2), a moment before any publication, a catalog never published to, a wrong password,
a restore without --yes off a terminal.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitorlink.cli.main import main
from monitorlink.cli.warehouse import Tier
from monitorlink.core.config import DUCKLAKE_DSN_VARIABLES, TIERS, load_settings
from monitorlink.core.object_store import connect
from monitorlink.warehouse import ducklake
from tests.conftest import environment
from tests.real_services import PostgresServer, S3Server, object_store, postgres  # noqa: F401

pytestmark = pytest.mark.integration

#: Waiting weeks per municipality in the first and the second publication.
FIRST = {"0153": 4, "0164": 6}
SECOND = {"0153": 5, "0164": 7, "0183": 3}
QUERY = "select gemeente, weeks from pub_wait order by gemeente"


@dataclass(frozen=True)
class Lake:
    """The variables that point the command line at three fresh tier catalogs, and what was published."""

    variables: dict[str, str]
    first: int
    second: int
    writer: tuple[str, str]  # the published tier's (role, password)


def write_tier_file(folder: Path, waits: dict[str, int]) -> Path:
    """A published tier file as a build leaves it: the schema `published` with one KPI table."""
    folder.mkdir(parents=True)
    path = folder / "monitorlink.duckdb"
    with connect(str(path)) as connection:
        connection.execute("CREATE SCHEMA published")
        connection.execute("CREATE TABLE published.pub_wait (gemeente VARCHAR, weeks INTEGER)")
        connection.executemany("INSERT INTO published.pub_wait VALUES (?, ?)", sorted(waits.items()))
    return path


def new_lake(server: PostgresServer, store: S3Server, folder: Path) -> Lake:
    """Three catalogs, each owned by its tier's role; only `published` gets two publications."""
    suffix = uuid.uuid4().hex[:8]
    variables = {
        **store.environment(),
        "MONITORLINK_HOME": str(folder / "home"),
        "MONITORLINK_WAREHOUSE_BACKEND": "ducklake",
        "MONITORLINK_DUCKLAKE_DATA_URI": f"s3://{store.bucket}/publications-{suffix}",
    }
    for tier in TIERS:
        role, password, database = f"{tier}_cli_{suffix}", f"{tier}-{suffix}-secret", f"{tier}_cli_{suffix}"
        server.create_role(role, password)
        server.create_database(database, owner=role)
        variables[f"MONITORLINK_DUCKLAKE_{tier.upper()}_DSN"] = server.dsn(database, role, password)
    with environment(variables, unset=("AWS_ENDPOINT_URL_S3",)):
        settings = load_settings()
        (first,) = ducklake.publish(settings, {"published": write_tier_file(folder / "v1", FIRST)}).values()
        (second,) = ducklake.publish(settings, {"published": write_tier_file(folder / "v2", SECOND)}).values()
    return Lake(variables, first, second, (f"published_cli_{suffix}", f"published-{suffix}-secret"))


@pytest.fixture(scope="module")
def make_lake(
    postgres: PostgresServer,  # noqa: F811
    object_store: S3Server,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[], Lake]:
    return lambda: new_lake(postgres, object_store, tmp_path_factory.mktemp("publications"))


@pytest.fixture(scope="module")
def shared_lake(make_lake: Callable[[], Lake]) -> Lake:
    """Two publications that the read-only tests share (the restore test makes its own lake)."""
    return make_lake()


Run = Callable[..., tuple[int, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """`monitorlink publications <words>` → (exit code, stdout); errors must be one line on stdout."""

    def invoke(*words: str) -> tuple[int, str]:
        code = main(["publications", *words])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.out + captured.err
        return code, captured.out

    return invoke


@pytest.fixture
def on(monkeypatch: pytest.MonkeyPatch) -> Callable[[Lake], None]:
    """Point the command line (which reads the environment) at a lake for this test only."""

    def point(lake: Lake) -> None:
        for name, value in lake.variables.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)

    return point


def listed(run: Run, *options: str) -> list[dict[str, object]]:
    code, out = run("list", "--json", *options)
    assert code == 0, out
    result: list[dict[str, object]] = json.loads(out)
    return result


def waits(run: Run, *options: str) -> dict[str, int]:
    """`show --sql QUERY --json` as municipality → weeks."""
    code, out = run("show", "--sql", QUERY, "--json", *options)
    assert code == 0, out
    return {row["gemeente"]: row["weeks"] for row in json.loads(out)}


def error_line(code: int, out: str, expected_code: int = 1) -> str:
    assert code == expected_code, out
    assert len(out.strip().splitlines()) == 1, out
    return out.strip()


def test_the_tier_choice_is_the_configured_tiers() -> None:
    assert tuple(Tier) == TIERS


def test_list_shows_both_publications_newest_first(
    shared_lake: Lake, on: Callable[[Lake], None], run: Run
) -> None:
    on(shared_lake)
    history = listed(run)
    assert [p["snapshot_id"] for p in history] == [shared_lake.second, shared_lake.first]
    assert all(str(p["message"]).startswith("monitorlink publication ") for p in history)
    code, out = run("list")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("# Publications of published (2, newest first)")
    assert lines[1] == "snapshot\ttime (UTC)\tmessage"
    assert [line.split("\t")[0] for line in lines[2:]] == [str(shared_lake.second), str(shared_lake.first)]


def test_show_reads_the_first_publication_by_id_time_and_now(
    shared_lake: Lake, on: Callable[[Lake], None], run: Run
) -> None:
    on(shared_lake)
    assert waits(run) == SECOND, "without --at: the current publication"
    assert waits(run, "--at", str(shared_lake.first)) == FIRST
    newest, oldest = listed(run)
    assert waits(run, "--at", str(oldest["time"])) == FIRST, "the exact time `list --json` gives"
    _, table = run("list")
    first_row = table.splitlines()[-1].split("\t")
    assert first_row[0] == str(shared_lake.first)
    assert waits(run, "--at", first_row[1]) == FIRST, "the UTC time the table shows, pasted as it is"
    day = str(newest["time"])[:10]
    assert waits(run, "--at", day) == SECOND, "a bare date is the end of that day"


def test_show_prints_a_table_off_a_terminal(shared_lake: Lake, on: Callable[[Lake], None], run: Run) -> None:
    on(shared_lake)
    code, out = run("show", "--at", str(shared_lake.first), "--sql", QUERY)
    assert code == 0
    assert out.splitlines() == [
        f"# published at snapshot {shared_lake.first} (2 rows)",
        "gemeente\tweeks",
        *(f"{gemeente}\t{weeks}" for gemeente, weeks in sorted(FIRST.items())),
    ]


def test_what_cannot_be_read_is_one_line_and_exit_1(
    shared_lake: Lake, on: Callable[[Lake], None], run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    on(shared_lake)
    line = error_line(*run("show", "--at", "2000-01-01", "--sql", QUERY))
    assert line.startswith("error: published: ") and "No snapshot found" in line
    assert line.endswith("(`monitorlink publications list --tier published` shows the publications)")
    line = error_line(*run("show", "--sql", "select * from no_such_table"))
    assert line.startswith("error: published: ") and "no_such_table" in line
    line = error_line(*run("list", "--tier", "restricted"))  # a catalog never published to
    assert line.startswith("error: restricted: nothing has been published to this tier's catalog yet")
    monkeypatch.delenv(DUCKLAKE_DSN_VARIABLES["analysts"])  # a machine given only some tiers' catalogs
    line = error_line(*run("list", "--tier", "analysts"))
    assert DUCKLAKE_DSN_VARIABLES["analysts"] in line
    _, password = shared_lake.writer
    dsn = shared_lake.variables["MONITORLINK_DUCKLAKE_PUBLISHED_DSN"]
    monkeypatch.setenv("MONITORLINK_DUCKLAKE_PUBLISHED_DSN", dsn.replace(password, "guessed-password"))
    line = error_line(*run("list"))
    assert "password authentication failed" in line and "guessed-password" not in line


def test_usage_errors_exit_2(shared_lake: Lake, on: Callable[[Lake], None], run: Run) -> None:
    on(shared_lake)
    assert run("show", "--at", "yesterday", "--sql", QUERY)[0] == 2
    assert run("restore", "--at", str(shared_lake.first), "--all-tiers", "--yes")[0] == 2, "ids are per tier"
    assert run("restore", "--at", str(shared_lake.first))[0] == 2, "no terminal to ask on and no --yes"
    assert [p["snapshot_id"] for p in listed(run)] == [shared_lake.second, shared_lake.first]


def test_restore_makes_the_first_current_as_a_third_snapshot(
    make_lake: Callable[[], Lake], on: Callable[[Lake], None], run: Run
) -> None:
    lake = make_lake()
    on(lake)
    code, out = run("restore", "--at", str(lake.first), "--yes")
    assert code == 0, out
    prefix = f"restored published to its state at snapshot {lake.first}: new snapshot "
    assert out.startswith(prefix), out
    restored = int(out.strip().removeprefix(prefix))
    assert restored > lake.second
    assert waits(run) == FIRST
    assert waits(run, "--at", str(lake.second)) == SECOND, "the undone publication stays readable"
    history = listed(run)
    assert [p["snapshot_id"] for p in history] == [restored, lake.second, lake.first]
    assert history[0]["message"] == f"monitorlink restore of snapshot {lake.first}"


def test_the_file_backend_has_no_history_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    monkeypatch.setenv("MONITORLINK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MONITORLINK_WAREHOUSE_BACKEND", raising=False)
    for words in (("list",), ("show", "--sql", QUERY), ("restore", "--at", "1", "--yes")):
        line = error_line(*run(*words), expected_code=2)
        assert line.startswith("error: publication history needs MONITORLINK_WAREHOUSE_BACKEND=ducklake")
    assert not (tmp_path / "home").exists()
