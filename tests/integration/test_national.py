"""The national path at reduced size: all 342 municipalities, mergers and the Haaren split rolled up.

`simulate --scale nl` at 2 % of the inhabitants, only the quarters 2020Q4 and 2021Q1: on 1 January 2021
Appingedam, Delfzijl and Loppersum merged into Eemsdelta and Haaren was split over Boxtel, Oisterwijk,
Tilburg and Vught, so 2020Q4 arrives under the old codes and 2021Q1 under the new. `monitorlink run`
lands and builds it. The expected figures are the simulator's `national.json` (its own rows and the
reference files, never platform code) and the reference seeds themselves.
"""

from __future__ import annotations

import csv
import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import duckdb
import pytest

from monitorlink.cli.main import main
from tests.conftest import environment, free_port
from tests.integration.conftest import UNSET

pytestmark = pytest.mark.integration

SEEDS = Path(__file__).resolve().parents[2] / "dbt" / "seeds"
PERIODS = ("2020Q4", "2021Q1")


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    """A national simulation run through `monitorlink run` (availability skipped: it is regional)."""
    home = tmp_path_factory.mktemp("national")
    values = {
        "MONITORLINK_HOME": str(home),
        "MONITORLINK_DEV_MODE": "1",
        "MONITORLINK_BROKER_PORT": str(free_port()),
        "MONITORLINK_ALERT_NOTIFIERS": "log",
    }
    sink = io.StringIO()
    with environment(values, unset=UNSET), redirect_stdout(sink):
        simulated = main(["simulate", "--scale", "nl", "--volume", "0.02", "--periods", ":".join(PERIODS)])
        assert simulated == 0, sink.getvalue()
        code = main(["run", "--simulated", "--skip", "availability"])
    assert code == 0, sink.getvalue()[-3000:]
    truth = json.loads((home / "simulation" / "national.json").read_text(encoding="utf-8"))
    return home, truth, sink.getvalue()


def _youths_in_care(home: Path) -> dict[str, dict[str, int]]:
    """Per quarter and municipality: youths 0–17 in care, from the analysts' (unsuppressed) file."""
    path = home / "warehouse" / "analysts" / "monitorlink.duckdb"
    with duckdb.connect(str(path), read_only=True) as db:
        rows = db.sql(
            "select period_key, gemeente_code, youths_in_care from main.fct_youth_care_per_1000 "
            "where level = 'gemeente' and care_form = 'totaal'"
        ).fetchall()
    out: dict[str, dict[str, int]] = {}
    for period, gemeente, youths in rows:
        out.setdefault(period, {})[gemeente] = youths
    return out


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_municipality_of_today_is_there_and_no_former_code(
    national: tuple[Path, dict[str, Any], str],
) -> None:
    home, truth, _ = national
    counted = _youths_in_care(home)
    today = {row["gm_code"] for row in _seed("gemeenten") if not row["opgeheven_op"]}
    assert len(today) == 342
    assert set(counted) == set(PERIODS)
    present = set().union(*(set(rows) for rows in counted.values()))
    assert present == today, "all 342 municipalities have figures, and only today's codes appear"
    for period in PERIODS:
        # a municipality whose quarter was quarantined (an injected defect) is missing, as in the truth
        assert set(counted[period]) == set(truth["rolled_up"][period]), period


def test_the_old_codes_were_delivered_and_roll_up_to_todays_municipalities(
    national: tuple[Path, dict[str, Any], str],
) -> None:
    home, truth, _ = national
    delivered = truth["delivered"]
    assert {"GM0003", "GM0010", "GM0024", "GM0788"} <= set(delivered["2020Q4"]), "old codes before 2021"
    assert "GM0788" not in delivered["2021Q1"] and "GM1979" in delivered["2021Q1"]
    counted = _youths_in_care(home)
    for period in PERIODS:
        assert counted[period] == truth["rolled_up"][period], period
    eemsdelta = sum(delivered["2020Q4"].get(code, 0) for code in ("GM0003", "GM0010", "GM0024"))
    assert counted["2020Q4"]["GM1979"] == eemsdelta, "Eemsdelta 2020Q4 = its three former municipalities"


def test_haaren_is_split_over_its_four_successors_without_double_counting(
    national: tuple[Path, dict[str, Any], str],
) -> None:
    home, truth, _ = national
    successors = {
        row["gm_code_new"] for row in _seed("gemeente_splitsingen") if row["gm_code_old"] == "GM0788"
    }
    assert successors == {"GM0757", "GM0824", "GM0855", "GM0865"}
    delivered, counted = truth["delivered"]["2020Q4"], _youths_in_care(home)["2020Q4"]
    own = sum(delivered.get(code, 0) for code in successors)
    assert sum(counted[code] for code in successors) == own + delivered["GM0788"]
    assert all(counted[code] >= delivered.get(code, 0) for code in successors)


def test_municipality_totals_add_up_to_the_national_total(national: tuple[Path, dict[str, Any], str]) -> None:
    home, truth, _ = national
    counted = _youths_in_care(home)
    for period in PERIODS:
        assert sum(counted[period].values()) == truth["national"][period], period


def test_populations_roll_up_with_the_split_shares(national: tuple[Path, dict[str, Any], str]) -> None:
    home, _, _ = national
    cbs = json.loads((home / "simulation" / "cbs" / "03759ned.json").read_text(encoding="utf-8"))
    youths = {
        (row["RegioS"].strip(), int(row["Perioden"][:4])): row["BevolkingOp1Januari_1"]
        for row in cbs["rows"]
        if row["Leeftijd"] == "70100"
    }
    share = {row["gm_code_new"]: float(row["share"]) for row in _seed("gemeente_splitsingen")}
    path = home / "warehouse" / "analysts" / "monitorlink.duckdb"
    with duckdb.connect(str(path), read_only=True) as db:
        rows = db.sql(
            "select gemeente_code, youths_0_17 from main.dim_gemeente_year where year = 2020"
        ).fetchall()
    rolled = dict(rows)
    for code in ("GM0757", "GM0824", "GM0855", "GM0865"):
        assert rolled[code] == round(youths[(code, 2020)] + youths[("GM0788", 2020)] * share[code])
    assert rolled["GM1979"] == sum(youths[(code, 2020)] for code in ("GM0003", "GM0010", "GM0024"))
