"""Inputs seeded with valid citizen service numbers (BSN) in every text and identifier field: afterwards
no valid BSN may be anywhere the platform writes — lake, warehouses, logs, quarantine records, Kafka.

The truth is the seeding itself: the numbers are drawn here, put into simulated deliveries of every feed
(a cell that is only the number, and the number inside a text), landed through the real paths, and then
every file under the platform's home is read as what it is (Parquet cell by cell, DuckDB table by table,
workbooks cell by cell, everything else as text) and searched for any 9-digit token passing the 11-check.
"""

from __future__ import annotations

import io
import json
import logging
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from connectors import cbs
from connectors.availability import parse_snapshot, snapshot_events
from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.core.pseudonym import bsn_tokens, is_bsn
from monitorlink.ingest import availability
from monitorlink.ingest.deliveries import DeliveryProcessor
from monitorlink.ingest.sources import source
from monitorlink.ingest.stream import Ingester, Message
from monitorlink.simulator import SimulationResult
from monitorlink.simulator.cbs import CbsServer
from monitorlink.warehouse.build import build
from tests.conftest import SNAPSHOT_AUG_14, topic_messages
from tests.faults.conftest import Budget
from tests.faults.figures import Figures, record

pytestmark = pytest.mark.integration

#: Deliveries seeded per file feed (each with a BSN in every text cell of its first rows).
DELIVERIES_PER_FEED = 3


def valid_bsns(rng: random.Random) -> Iterator[str]:
    """Endless distinct valid BSNs: eight random digits and the check digit the 11-check asks for."""
    seen: set[str] = set()
    while True:
        digits = [rng.randrange(10) for _ in range(8)]
        check = sum(weight * digit for weight, digit in zip(range(9, 1, -1), digits, strict=True)) % 11
        candidate = "".join(map(str, digits)) + str(check)
        if check < 10 and is_bsn(candidate) and candidate not in seen:
            seen.add(candidate)
            yield candidate


class Seeder:
    """Puts a fresh BSN into text values: alone (an identifier) or inside a sentence (free text)."""

    def __init__(self, seed: int) -> None:
        self.numbers = valid_bsns(random.Random(seed))
        self.seeded: set[str] = set()

    def value(self, alone: bool) -> str:
        bsn = next(self.numbers)
        self.seeded.add(bsn)
        return bsn if alone else f"client {bsn} gebeld"

    def json_texts(self, value: Any, depth: int = 0) -> Any:
        """Every text leaf of a JSON document replaced, alternating a bare number and a sentence."""
        if isinstance(value, dict):
            return {key: self.json_texts(item, depth + 1) for key, item in value.items()}
        if isinstance(value, list):
            return [self.json_texts(item, depth + 1) for item in value[:4]] + value[4:]
        return self.value(alone=depth % 2 == 0) if isinstance(value, str) else value


def seeded_csv(content: bytes, seeder: Seeder) -> bytes:
    """The first data rows of a `;`-CSV with every cell a BSN, alone or in a text."""
    lines = content.decode("utf-8", "replace").splitlines()
    width = len(lines[0].split(";"))
    for index in range(1, min(len(lines), 4)):
        lines[index] = ";".join(seeder.value(alone=(index + column) % 2 == 0) for column in range(width))
    return ("\r\n".join(lines) + "\r\n").encode()


def seeded_workbook(content: bytes, seeder: Seeder) -> bytes:
    """A workbook with every text cell below each sheet's header a BSN, alone or in a text."""
    workbook = load_workbook(io.BytesIO(content))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(min_row=2, max_row=5):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = seeder.value(alone=cell.column % 2 == 0)
    sink = io.BytesIO()
    workbook.save(sink)
    return sink.getvalue()


def tolerated_csv(content: bytes, seeder: Seeder) -> bytes:
    """A TMSD delivery that still lands: a bare BSN as the client id (pseudonymised) and one inside the
    district code (a warning), so the warehouse has seeded rows to be searched too."""
    lines = content.decode("utf-8").splitlines()
    header = lines[0].split(";")
    for index in range(1, min(len(lines), 6)):
        cells = lines[index].split(";")
        cells[header.index("client_pseudo_id")] = seeder.value(alone=True)
        cells[header.index("wijk_code")] = seeder.value(alone=False)
        lines[index] = ";".join(cells)
    return ("\r\n".join(lines) + "\r\n").encode()


def _landable_tmsd(simulation: SimulationResult) -> list[Path]:
    """TMSD files in UTF-8 with the contract's header, which land when their values are right."""
    files = sorted((simulation.landing / "tmsd").glob("*2024Q*"))
    return [f for f in files if f.read_bytes().startswith(b"client_pseudo_id;")][:DELIVERIES_PER_FEED]


def _land_file_feeds(settings: Settings, simulation: SimulationResult, seeder: Seeder) -> None:
    lake = Lake(settings.lake_root)
    processor = DeliveryProcessor(lake, source("tmsd").connector)  # type: ignore[arg-type]
    landed = processor.process(
        (f.name.replace("_v1", "_v7"), tolerated_csv(f.read_bytes(), seeder), str(f))
        for f in _landable_tmsd(simulation)
    )
    assert [outcome.outcome for outcome in landed] == ["validated"] * len(landed) != []
    for name, seed in (("tmsd", seeded_csv), ("education", seeded_workbook)):
        files = sorted((simulation.landing / name).iterdir())[:DELIVERIES_PER_FEED]
        processor = DeliveryProcessor(lake, source(name).connector)  # type: ignore[arg-type]
        processor.process((f.name, seed(f.read_bytes(), seeder), str(f)) for f in files)
    chain_files = sorted((simulation.landing / "chain").iterdir())[:DELIVERIES_PER_FEED]
    processor = DeliveryProcessor(lake, source("chain").connector)  # type: ignore[arg-type]
    processor.process(
        (f.name, json.dumps(seeder.json_texts(json.loads(f.read_bytes()))).encode(), str(f))
        for f in chain_files
    )
    with CbsServer(simulation.cbs_tables) as server:
        bundles = [
            (
                cbs.bundle_name(table, api),
                cbs.fetch(table, api, server.v3_url if api == "v3" else server.v4_url),
            )
            for table, api in settings.cbs_tables
        ]
    processor = DeliveryProcessor(lake, cbs)
    processor.process(
        (name, json.dumps(seeder.json_texts(json.loads(content))).encode(), "cbs")
        for name, content in bundles
    )


def _land_availability(settings: Settings, tmp_path: Path, seeder: Seeder) -> None:
    """A snapshot pulled through the real path (raw zone → Kafka → ingester), and direct events a
    provider sent with numbers in their texts (to the ingester as messages)."""
    document = json.loads(SNAPSHOT_AUG_14.read_text(encoding="utf-8"))
    document["rows"] = [seeder.json_texts(row) for row in document["rows"][:6]]
    snapshot = tmp_path / "snapshot_bsn.json"
    snapshot.write_text(json.dumps(document), encoding="utf-8")
    tolerated = json.loads(SNAPSHOT_AUG_14.read_text(encoding="utf-8"))
    tolerated["generatedAt"] = "2026-08-15T10:00:00Z"
    for row in tolerated["rows"][6:12]:  # a note and a provider name: free text, so these rows land
        row |= {"s": seeder.value(alone=False), "p": seeder.value(alone=False)}
    landing = tmp_path / "snapshot_bsn_landing.json"
    landing.write_text(json.dumps(tolerated), encoding="utf-8")
    pulled = availability.pull(settings, (str(snapshot), str(landing)))
    published = availability.publish(settings, pulled)
    availability.land(settings, [ref for item in published for ref in item.messages], 120)
    figures = list(snapshot_events(parse_snapshot("direct", SNAPSHOT_AUG_14.read_bytes())))[:4]
    direct = [seeder.json_texts({**event, "schema_version": 2}) for event in figures]
    ingester = Ingester(Lake(settings.lake_root), availability.feed(settings))
    ingester.process([Message("direct", 0, i, None, json.dumps(e).encode()) for i, e in enumerate(direct)])


def found_bsns(home: Path) -> dict[str, set[str]]:
    """Every valid BSN in every file under `home`, by file, each file read as what it is."""
    found: dict[str, set[str]] = {}
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        tokens = set(bsn_tokens(" ".join(_texts(path))))
        if tokens:
            found[str(path.relative_to(home))] = tokens
    return found


def _texts(path: Path) -> Iterator[str]:
    if path.suffix == ".parquet":
        for column in pq.read_table(path).columns:
            yield " ".join(str(value) for value in column.to_pylist())
    elif path.suffix == ".duckdb":
        yield from _duckdb_texts(path)
    elif path.suffix == ".xlsx":
        try:
            workbook = load_workbook(path, read_only=True)
        except Exception:  # a workbook that does not open holds nothing readable
            return
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                yield " ".join(str(value) for value in row)
    else:
        yield path.read_bytes().decode("utf-8", "replace")


def _duckdb_texts(path: Path) -> Iterator[str]:
    with duckdb.connect(str(path), read_only=True) as db:
        tables = db.sql("select table_schema, table_name from information_schema.tables").fetchall()
        for schema, table in tables:
            rows = db.sql(f'select * from "{schema}"."{table}"').fetchall()
            yield " ".join(str(value) for row in rows for value in row)


def test_no_seeded_citizen_service_number_survives_anywhere(
    kafka_settings: Settings,
    simulation: SimulationResult,
    tmp_path: Path,
    budget: Budget,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    seeder = Seeder(seed=14)
    _land_file_feeds(kafka_settings, simulation, seeder)
    _land_availability(kafka_settings, tmp_path, seeder)
    if budget.full:  # a dbt build costs a minute: the warehouses are searched in `make faults`
        build(kafka_settings)
    places = found_bsns(kafka_settings.home)
    topics = (kafka_settings.availability_topic, kafka_settings.batch_topic)
    places |= {f"topic {t}": set(bsn_tokens(json.dumps(topic_messages(kafka_settings, t)))) for t in topics}
    places["log records"] = set(bsn_tokens(caplog.text))
    places = {where: tokens for where, tokens in places.items() if tokens}
    figures = Figures(
        check="BSN seeding",
        subject="every feed" + (" + warehouses" if budget.full else ""),
        tried=len(seeder.seeded),
        bsns_found=len(set().union(*places.values())) if places else 0,
        examples=[f"{where}: {sorted(tokens)[:3]}" for where, tokens in list(places.items())[:5]],
    )
    record(figures)
    assert len(seeder.seeded) > 100, "the seeding reached the inputs"
    assert figures.failures() == {}, places
