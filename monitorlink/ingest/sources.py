"""The sources the platform reads, in one list: how each arrives and which lake datasets it fills.

Everything that loops over sources (the warehouse's lake inputs, `make run`, the summary, the DAGs'
tests) reads this list, so adding a source is one entry here plus its connector, contract and suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa

from connectors import availability, cbs, chain, education, tmsd
from connectors.base import Connector
from monitorlink.core.contracts import Freshness
from monitorlink.ingest.schemas import INGEST_COLUMNS, dataset_schema


class Arrival(StrEnum):
    """How a source's data reaches the platform; the only thing code may branch on (never a name)."""

    #: events on Kafka, landed by the stream ingester in micro-batches
    EVENTS = "events"
    #: files a supplier drops in the source's landing folder
    FILES = "files"
    #: deliveries the platform fetches from an API (`PulledConnector.pull`)
    API = "api"


@dataclass(frozen=True)
class Source:
    """One source: its name, how it arrives and its connector (deliveries only); its dbt source is `name`."""

    name: str
    arrival: Arrival
    arrives_as: str
    description: str
    connector: Connector | None = None

    @property
    def dbt_selector(self) -> str:
        """The dbt selection of everything this source feeds (its models, tests and marts downstream)."""
        return f"source:{self.name}+"

    @property
    def freshness(self) -> Freshness:
        """The source's freshness policy, from its contracts (which must agree)."""
        contracts = self.connector.contracts if self.connector else (availability.CONTRACT,)
        policies = {contract.freshness for contract in contracts}
        if len(policies) != 1:
            raise ValueError(f"the contracts of {self.name} disagree on its freshness: {policies}")
        return policies.pop()

    @property
    def datasets(self) -> dict[str, pa.Schema]:
        """Lake dataset → schema of its rows in the validated zone."""
        if self.connector is None:
            return {self.name: pa.schema([*availability.EVENT_SCHEMA, *INGEST_COLUMNS])}
        return {c.name: dataset_schema(c) for c in self.connector.contracts}


SOURCES: tuple[Source, ...] = (
    Source(
        "availability",
        Arrival.EVENTS,
        "events on Kafka",
        "free places, waiting lists and waiting times per offer",
    ),
    Source(
        "tmsd", Arrival.FILES, "quarterly CSV files", "youth-care trajectories per municipality-quarter", tmsd
    ),
    Source(
        "chain", Arrival.FILES, "monthly JSON files", "child-protection chain milestones per partner", chain
    ),
    Source(
        "education",
        Arrival.FILES,
        "quarterly XLSX workbooks",
        "pupils, absence and arrangements per SWV",
        education,
    ),
    Source("cbs", Arrival.API, "OData v3/v4 API", "CBS StatLine reference tables", cbs),
)
#: Every source by its name.
SOURCES_BY_NAME = {s.name: s for s in SOURCES}
#: Sources that arrive as files in a landing folder (the watcher's and `land`'s folders).
FILE_SOURCES = {s.name: s for s in SOURCES if s.arrival is Arrival.FILES}
#: Sources landed delivery by delivery (files and API fetches), each with a connector and a delivery log.
DELIVERY_SOURCES = {s.name: s for s in SOURCES if s.arrival in (Arrival.FILES, Arrival.API)}
#: Sources that arrive as events on Kafka.
EVENT_SOURCES = {s.name: s for s in SOURCES if s.arrival is Arrival.EVENTS}


def source(name: str) -> Source:
    """One source by name; the error lists the ones there are."""
    for candidate in SOURCES:
        if candidate.name == name:
            return candidate
    raise ValueError(f"unknown source {name!r}; known: {', '.join(s.name for s in SOURCES)}")


def lake_datasets() -> dict[str, pa.Schema]:
    """Every dataset of the validated zone with its schema."""
    return {name: schema for s in SOURCES for name, schema in s.datasets.items()}
