"""The landing watcher (`monitorlink watch`, started by `make up`): new files in, batch events out.

Every `MONITORLINK_WATCH_INTERVAL_S` seconds it lands whatever is new in each file source's landing
folder and announces every batch not announced yet (the availability ingester's too). So dropping a
delivery into the landing folder is all it takes: the batch event reaches Airflow's asset watcher, and
the `warehouse` DAG rebuilds and publishes. A round that fails (a broker that is down) is logged and
tried again next round, and a source that fails to land holds up no other; nothing is lost, because the
lake is the outbox.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from monitorlink.core.config import Settings
from monitorlink.ingest import events
from monitorlink.ingest.landing import land
from monitorlink.ingest.sources import FILE_SOURCES, SOURCES
from monitorlink.ops import alerts

log = logging.getLogger(__name__)


def watch_once(settings: Settings) -> dict[str, int]:
    """One round: land every file source, then announce every source; returns batch events sent.

    Sources switched off with MONITORLINK_SKIP_SOURCES are left alone.
    """
    for name in FILE_SOURCES:
        if name not in settings.skip_sources:
            _land(settings, name)
    return {
        item.name: len(events.announce(settings, item.name))
        for item in SOURCES
        if item.name not in settings.skip_sources
    }


def _land(settings: Settings, source: str) -> None:
    """Land one source; its failure opens a `pipeline_failure` alert (once) instead of stopping the round.

    One source's trouble (a missing key, an unreadable share) holds up no other, and the alert resolves
    at the first round that lands that source again.
    """
    pipeline = f"{source}/watch"
    try:
        land(settings, source)
    except Exception as error:
        log.exception("%s: landing failed; tried again next round", source)
        alerts.pipeline_failed(settings, pipeline, "land", f"{type(error).__name__}: {error}")
    else:
        alerts.pipeline_succeeded(settings, pipeline)


def watch(settings: Settings, stop: threading.Event | None = None) -> None:
    """Rounds until `stop` is set or SIGTERM/SIGINT arrives."""
    stopping = stop or threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        stopping.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    for source in FILE_SOURCES:  # senders need the folders before the first delivery
        (settings.landing_root / source).mkdir(parents=True, exist_ok=True)
    log.info("watching %s every %.0f s", settings.landing_root, settings.watch_interval_s)
    while not stopping.is_set():
        try:
            sent = {name: count for name, count in watch_once(settings).items() if count}
            if sent:
                log.info("announced batches: %s", sent)
        except Exception:
            log.exception("watch round failed; trying again in %.0f s", settings.watch_interval_s)
        stopping.wait(settings.watch_interval_s)
