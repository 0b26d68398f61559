"""The source names DAG files read from the config are the sources the pipeline describes (config.py
promises this test: DAG files must not import the pipeline code just to learn the names)."""

from __future__ import annotations

from monitorlink.core.config import SOURCE_NAMES
from monitorlink.ingest.sources import SOURCES, source


def test_the_names_the_dags_know_are_the_sources_the_pipeline_describes() -> None:
    assert [s.name for s in SOURCES] == list(SOURCE_NAMES)
    assert all(source(name).name == name for name in SOURCE_NAMES)
