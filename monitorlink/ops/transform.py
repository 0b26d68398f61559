"""Transformation on batch events: rebuild what the changed sources feed, publish, then check alerts.

The warehouse DAG (`dags/warehouse.py`) calls `rebuild` with the sources its triggering asset events name;
`monitorlink transform` does the same by hand. No event names no source: a full build.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from monitorlink.core.config import Settings
from monitorlink.ingest.sources import source
from monitorlink.ops import alerts
from monitorlink.warehouse.build import BuildResult, OnNode, build

log = logging.getLogger(__name__)


#: The operations marts (fct_delivery_quality, fct_quarantine_rules, fct_open_alerts) read the delivery
#: logs and the alert store, which every landing and every alert check changes: every rebuild takes them.
OPERATIONS_SELECTOR = "source:operations+"


def selection(sources: Iterable[str]) -> str | None:
    """dbt's `--select` for the given sources and the operations marts (None, a full build, when none)."""
    selectors = sorted({source(name).dbt_selector for name in sources})
    return " ".join([*selectors, OPERATIONS_SELECTOR]) if selectors else None


def rebuild(settings: Settings, sources: Iterable[str], on_node: OnNode | None = None) -> BuildResult:
    """Rebuild and publish what `sources` feed (everything when none), then run the alert checks.

    `on_node` hears of each dbt node as it ends (the command line's progress).
    """
    chosen = selection(sources)
    result = build(settings, select=chosen, on_node=on_node)
    log.info("published %s (selection: %s) in %.1f s", result.published_path, chosen or "all", result.seconds)
    alerts.check(settings)
    return result
