"""Contracts as code: the parser's schema comes from the contract; suite and dbt must agree with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors import chain, education
from connectors.availability import CONTRACT, EVENT_SCHEMA, fetch_snapshot, snapshot_events
from monitorlink.core.config import PROJECT_ROOT
from monitorlink.core.contracts import (
    load_contract,
    reference_values,
    source_mismatches,
    staging_mismatches,
    suite_mismatches,
)
from tests.conftest import SNAPSHOT_AUG_14

STAGING = PROJECT_ROOT / "dbt" / "models" / "staging" / "availability"


def _suite() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(CONTRACT.suite.read_text(encoding="utf-8"))
    return document


def _staging() -> tuple[str, dict[str, Any]]:
    sql = (STAGING / "stg_availability__events.sql").read_text(encoding="utf-8")
    return sql, yaml.safe_load((STAGING / "_availability__models.yml").read_text(encoding="utf-8"))


def test_parser_schema_and_events_follow_the_contract() -> None:
    assert EVENT_SCHEMA.names == [f.name for f in CONTRACT.fields]
    assert EVENT_SCHEMA.field("measured_at").nullable is False
    event = next(snapshot_events(fetch_snapshot(str(SNAPSHOT_AUG_14))))
    assert list(event) == EVENT_SCHEMA.names
    assert CONTRACT.topic == "availability.v1" and CONTRACT.key == "offer_key"


def test_suite_and_staging_model_agree_with_the_contract() -> None:
    assert suite_mismatches(CONTRACT, _suite()) == []
    assert staging_mismatches(CONTRACT, *_staging()) == []


def test_a_contract_change_the_suite_does_not_follow_is_named() -> None:
    changed = CONTRACT.field("target_group")
    contract = _with_field(changed.__class__(**{**changed.__dict__, "accepted_values": ("jeugd",)}))
    problems = suite_mismatches(contract, _suite())
    assert len(problems) == 1 and problems[0].startswith(
        "target_group: availability.v2 says frozenset({'jeugd'})"
    )


def test_a_suite_rule_on_a_field_the_contract_lacks_is_named() -> None:
    suite = _suite()
    suite["expectations"].append(
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "postcode"}, "meta": {}}
    )
    assert "the suite names 'postcode', which availability.v2 does not have" in suite_mismatches(
        CONTRACT, suite
    )


def test_a_staging_model_that_drops_a_field_or_a_range_is_named() -> None:
    sql, properties = _staging()
    properties["models"][0]["columns"] = [
        c for c in properties["models"][0]["columns"] if c["name"] != "free_places"
    ]
    problems = staging_mismatches(CONTRACT, sql.replace("        waitlist_size,\n", ""), properties)
    assert "waitlist_size: in availability.v2, not selected by the model" in problems
    assert any(
        p.startswith("free_places: availability.v2 says (0, None); the dbt test in_range says None")
        for p in problems
    )


def test_contract_files_name_themselves_and_know_their_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import monitorlink.core.contracts as contracts

    document = yaml.safe_load((contracts.CONTRACTS_DIR / "availability.v2.yaml").read_text(encoding="utf-8"))
    (tmp_path / "availability.v3.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    document["fields"][0]["type"] = "uuid"
    (tmp_path / "broken.v1.yaml").write_text(yaml.safe_dump({**document, "name": "broken"}), encoding="utf-8")
    monkeypatch.setattr(contracts, "CONTRACTS_DIR", tmp_path)
    load_contract.cache_clear()
    try:
        with pytest.raises(
            ValueError, match=r"name and version say availability\.v2, the file name says availability\.v3"
        ):
            load_contract("availability.v3")
        with pytest.raises(ValueError, match="field 'event_id' has unknown type 'uuid'"):
            load_contract("broken.v1")
    finally:
        load_contract.cache_clear()


def _with_field(replacement: Any) -> Any:
    fields = tuple(replacement if f.name == replacement.name else f for f in CONTRACT.fields)
    return CONTRACT.__class__(**{**CONTRACT.__dict__, "fields": fields})


FILE_FEEDS = {
    "tmsd.v1": ("tmsd", "stg_tmsd__trajectories"),
    "chain.v1": ("chain", "stg_chain__milestones"),
    "education_pupils.v1": ("education", "stg_education__pupils"),
    "education_absence.v1": ("education", "stg_education__absence"),
    "education_arrangements.v1": ("education", "stg_education__arrangements"),
    "cbs.v1": ("cbs", "stg_cbs__observations"),
}


def _yaml(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


@pytest.mark.parametrize("contract_id", sorted(FILE_FEEDS))
def test_every_feed_suite_dbt_source_and_staging_model_agree_with_its_contract(contract_id: str) -> None:
    contract = load_contract(contract_id)
    folder, model = FILE_FEEDS[contract_id]
    staging = PROJECT_ROOT / "dbt" / "models" / "staging" / folder
    suite = json.loads(contract.suite.read_text(encoding="utf-8"))
    assert suite["name"] == contract.id
    assert suite_mismatches(contract, suite) == []
    assert source_mismatches(contract, _yaml(staging / f"_{folder}__sources.yml")) == []
    sql = (staging / f"{model}.sql").read_text(encoding="utf-8")
    assert staging_mismatches(contract, sql, _yaml(staging / f"_{folder}__models.yml"), model) == []


def test_a_dropped_source_column_or_a_lost_referential_test_is_named() -> None:
    contract = load_contract("tmsd.v1")
    staging = PROJECT_ROOT / "dbt" / "models" / "staging" / "tmsd"
    sources = _yaml(staging / "_tmsd__sources.yml")
    sources["sources"][0]["tables"][0]["columns"].pop(0)
    assert source_mismatches(contract, sources) == [
        "client_pseudo_id: in tmsd.v1, not documented in the dbt source"
    ]
    models = _yaml(staging / "_tmsd__models.yml")
    gemeente = next(c for c in models["models"][0]["columns"] if c["name"] == "gemeente_code")
    gemeente["data_tests"] = ["not_null"]
    sql = (staging / "stg_tmsd__trajectories.sql").read_text(encoding="utf-8")
    assert staging_mismatches(contract, sql, models, "stg_tmsd__trajectories") == [
        "gemeente_code: tmsd.v1 says 'gemeenten.gm_code'; the dbt test relationships says None"
    ]


def test_the_referential_rule_takes_its_codes_from_the_seed() -> None:
    field = load_contract("tmsd.v1").field("gemeente_code")
    assert field.allowed == reference_values("gemeenten.gm_code")
    # today's 342 municipalities and the 52 codes dissolved since 2019 (Haaren among them)
    assert len(field.allowed) == 342 + 52 and {"GM0153", "GM0788"} <= field.allowed
    regional = load_contract("education_pupils.v1").field("gemeente_code")
    assert regional.allowed == reference_values("twente_gemeenten.gm_code") and len(regional.allowed) == 14


def test_product_categories_in_the_contract_pattern_are_the_seeded_ones() -> None:
    pattern = load_contract("tmsd.v1").field("productcode").pattern
    assert pattern is not None
    in_pattern = set(pattern.split("(?:")[1].split(")")[0].split("|"))
    assert in_pattern == reference_values("ijw_productcategorieen.code")


def test_the_simulator_writes_what_the_contracts_describe(tmp_path: Path) -> None:
    from monitorlink.simulator import chain as chain_sim
    from monitorlink.simulator import education as education_sim
    from monitorlink.simulator import tmsd as tmsd_sim

    tmsd_contract = load_contract("tmsd.v1")
    assert [f.header or f.name for f in tmsd_contract.fields] == tmsd_sim.HEADER
    for sheet, headers in education_sim.SHEETS.items():
        contract = next(c for c in education.contracts if c.delivery and c.delivery.sheet == sheet)
        assert headers == [f.header or f.name for f in contract.fields], sheet
    record = {f.name: None for f in chain.CONTRACT.fields}
    (table,) = chain.parse("keten_VT_2023-01_v1.json", chain_sim.document("VT", "2023-01", [record]))
    assert table.flags == [] and table.problems == []
