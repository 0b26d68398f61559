"""The commands that move data: run everything once, simulate, land, ingest, build, re-process.

Heavy libraries (GX, pandas, pyarrow, Kafka, dbt) load inside the command that needs them, so
`monitorlink --help` and the reporting commands start at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitorlink.cli.output import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_QUARANTINED,
    EXIT_SOURCE_FAILED,
    Stage,
    console,
    stage,
    styled,
)
from monitorlink.core.config import SOURCE_NAMES, Settings, load_settings

if TYPE_CHECKING:
    from monitorlink.ingest.availability import PulledSnapshot
    from monitorlink.ingest.delivery_log import DeliveryOutcome
    from monitorlink.ingest.stream import IngestStats
    from monitorlink.ops import broker
    from monitorlink.simulator import Scale, SimulationResult
    from monitorlink.warehouse.build import BuildResult

SOURCE_LIST = ", ".join(SOURCE_NAMES)


def run(
    simulated: Annotated[
        bool,
        typer.Option(
            "--simulated", help="file sources and CBS from the feed simulator (what `make run` does)"
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="re-publish snapshots already in the lake")] = False,
    only: Annotated[
        list[str] | None, typer.Option("--only", help=f"only this source (repeatable): {SOURCE_LIST}")
    ] = None,
    skip: Annotated[
        list[str] | None,
        typer.Option(
            "--skip",
            help=f"leave this source out (repeatable; adds to MONITORLINK_SKIP_SOURCES): {SOURCE_LIST}",
        ),
    ] = None,
) -> int:
    """Run every pipeline once: land every source, announce, build and publish the warehouse, check alerts.

    A source that fails holds up no other: the rest land and are built, the failure opens a
    `pipeline_failure` alert, and the run ends with exit code 3 after saying what failed and what to do.
    With --simulated the file sources read the simulator's folders and CBS is answered on loopback.
    """
    settings = load_settings()
    selected = _selected(only or [], [*settings.skip_sources, *(skip or [])])
    _warn_dev_mode()
    simulation = _simulation(settings) if simulated else None
    if simulation is not None:
        # a national simulation (`simulate --scale nl`) has CBS figures for every municipality
        regions = "all" if simulation.scale.name == "nl" else settings.cbs_regions
        settings = dataclasses.replace(settings, landing_root=simulation.landing, cbs_regions=regions)
    outcome = _run_sources(settings, selected, simulation, force)
    _print_outcome(settings, outcome)
    if outcome.step_errors:
        return EXIT_ERROR
    return EXIT_SOURCE_FAILED if outcome.failures else EXIT_OK


@dataclasses.dataclass
class _RunOutcome:
    """What `run` did per source, and what failed with the next step to take."""

    selected: list[str]
    failures: dict[str, str] = dataclasses.field(default_factory=dict)
    outcomes: dict[str, list[DeliveryOutcome]] = dataclasses.field(default_factory=dict)
    pulled: list[PulledSnapshot] = dataclasses.field(default_factory=list)
    published: dict[str, int] = dataclasses.field(default_factory=dict)
    stats: IngestStats | None = None
    announced: dict[str, int] = dataclasses.field(default_factory=dict)
    build: BuildResult | None = None
    #: steps after landing that failed (announce, build, alerts, summary), with their error
    step_errors: dict[str, str] = dataclasses.field(default_factory=dict)
    alerts: str = "not checked"


def _selected(only: list[str], skip: list[str]) -> list[str]:
    """The sources to run, in the platform's order; unknown names are a usage error listing the valid ones."""
    for name in [*only, *skip]:
        if name not in SOURCE_NAMES:
            raise typer.BadParameter(f"unknown source {name!r}; the sources are {SOURCE_LIST}")
    return [name for name in SOURCE_NAMES if (not only or name in only) and name not in skip]


def _run_sources(
    settings: Settings, selected: list[str], simulation: SimulationResult | None, force: bool
) -> _RunOutcome:
    """Every selected source, each on its own; then announce, build on what landed, check alerts.

    The broker is needed only by availability, the batch events and the Kafka alert notifier: a broker
    that cannot start fails those, and the file sources still land and are built.
    """
    from monitorlink.ingest.sources import DELIVERY_SOURCES, EVENT_SOURCES
    from monitorlink.simulator.cbs import CbsServer

    outcome = _RunOutcome(selected)
    with contextlib.ExitStack() as stack:
        broker_error = _enter_broker(stack, settings)
        for name in (name for name in selected if name in EVENT_SOURCES):
            work = (
                _failing(broker_error) if broker_error else lambda: _pull_and_land(settings, outcome, force)
            )
            _attempt(settings, outcome, name, work)
        cbs = CbsServer(simulation.cbs_tables) if simulation is not None else nullcontext()
        with cbs as server:
            if server is not None:
                settings = dataclasses.replace(settings, cbs_v3_url=server.v3_url, cbs_v4_url=server.v4_url)
            for name in (name for name in selected if name in DELIVERY_SOURCES):
                _attempt(settings, outcome, name, _lander(settings, outcome, name))
        _after_landing(settings, outcome, broker_error)
    return outcome


def _enter_broker(stack: contextlib.ExitStack, settings: Settings) -> str | None:
    """Start (or find) the broker for this run; its error, if it cannot be had."""
    try:
        stack.enter_context(broker_session(settings))
    except Exception as error:  # a broker that does not start stops no file source
        return f"broker unavailable: {error}"
    return None


def _failing(reason: str) -> Callable[[], None]:
    """Work that can only fail, with `reason` (a source whose prerequisite is missing)."""

    def work() -> None:
        raise RuntimeError(reason)

    return work


def _after_landing(settings: Settings, outcome: _RunOutcome, broker_error: str | None) -> None:
    """Announce, build and check alerts; a step that fails is recorded and ends the run with exit 1."""
    from monitorlink.ingest import events
    from monitorlink.ops import alerts
    from monitorlink.warehouse.build import build

    if broker_error:
        outcome.step_errors["announce"] = broker_error
    else:
        try:
            with stage("announcing batches") as step:
                for name in outcome.selected:
                    outcome.announced[name] = len(events.announce(settings, name))
                step.done(", ".join(f"{name} {count}" for name, count in outcome.announced.items()))
        except Exception as error:  # the lake is the outbox: `monitorlink replay` announces later
            outcome.step_errors["announce"] = str(error) or type(error).__name__
    try:
        outcome.build = build_with_progress(settings, build)
    except Exception as error:
        outcome.step_errors["build"] = str(error) or type(error).__name__
        return
    try:
        with stage("checking alerts") as step:
            outcome.alerts = alert_counts(alerts.check(settings))
            step.done(outcome.alerts)
    except Exception as error:
        outcome.step_errors["alerts"] = str(error) or type(error).__name__


def _attempt(settings: Settings, outcome: _RunOutcome, name: str, work: Callable[[], None]) -> None:
    """One source's work; a failure is recorded with its alert instead of stopping the run."""
    from monitorlink.ops import alerts

    pipeline = f"{name}/run"
    try:
        work()
    except Exception as error:  # any failure of one source: the others still run
        outcome.failures[name] = str(error) or type(error).__name__
        logging.getLogger(__name__).info("%s failed", name, exc_info=True)  # the traceback, with -v
        alerts.pipeline_failed(settings, pipeline, "land", outcome.failures[name])
    else:
        alerts.pipeline_succeeded(settings, pipeline)


def _pull_and_land(settings: Settings, outcome: _RunOutcome, force: bool) -> None:
    """Availability: pull the snapshots, publish their events, land them through the broker."""
    from monitorlink.ingest import availability

    with stage("availability: pulling snapshots") as step:
        pulled = availability.pull(settings)
        step.done(f"{len(pulled)} snapshots, {sum(1 for item in pulled if item.error)} failed")
    with stage("availability: publishing and landing events") as step:
        published = availability.publish(settings, pulled, force=force)
        stats = availability.land(settings, [ref for item in published for ref in item.messages])
        step.done(f"{stats.validated} validated, {stats.quarantined} quarantined")
    outcome.stats = stats
    outcome.pulled = list(pulled)
    outcome.published = {item.raw_path: len(item.messages) for item in published}
    errors = [f"{item.origin}: {item.error}" for item in pulled if item.error]
    if errors:
        raise RuntimeError("; ".join(errors))


def _lander(settings: Settings, outcome: _RunOutcome, name: str) -> Callable[[], None]:
    """The landing of one delivery source, with its progress."""

    def work() -> None:
        outcome.outcomes[name] = land_with_progress(settings, name)

    return work


def land_with_progress(settings: Settings, name: str) -> list[DeliveryOutcome]:
    """Land one delivery source, counting deliveries as they are read."""
    from monitorlink.ingest.landing import land

    with stage(f"{name}: landing") as step:
        outcomes = land(settings, name, on_delivery=lambda count, file: step.update(f"{count} read ({file})"))
        quarantined = sum(1 for item in outcomes if item.outcome == "quarantined")
        step.done(f"{len(outcomes)} new deliveries, {quarantined} quarantined")
    return outcomes


def _node_progress(step: Stage) -> Callable[[int, int], None]:
    """dbt's nodes as a stage's progress: "120 of 318 nodes"."""
    return lambda done, total: step.update(f"{done} of {total} nodes")


def build_with_progress(
    settings: Settings, build: Callable[..., BuildResult], select: str | None = None
) -> BuildResult:
    """dbt build with a node count on a terminal and one line at the end."""
    with stage("building the warehouse (dbt build)") as step:
        result = build(settings, select=select, on_node=_node_progress(step))
        step.done(
            f"{result.nodes_passed} nodes passed, published {result.published_path}"
            + (f" (selection: {result.selected})" if result.selected else "")
        )
    return result


def _print_outcome(settings: Settings, outcome: _RunOutcome) -> None:
    """The summary of what landed and was built, then every failure with the next step (always printed)."""
    from monitorlink.ingest.stream import IngestStats
    from monitorlink.ops.summary import print_run_summary

    if outcome.build is not None:
        try:
            print_run_summary(
                settings,
                outcome.pulled,
                outcome.published,
                outcome.stats or IngestStats(),
                outcome.outcomes,
                outcome.build,
                console,
            )
        except Exception as error:  # a summary that cannot be read must not hide the failures below
            outcome.step_errors["summary"] = str(error) or type(error).__name__
    console.print(
        f"Batch events on {settings.batch_topic}: "
        + (", ".join(f"{name} {count}" for name, count in outcome.announced.items()) or "none")
        + f". Alerts: {outcome.alerts}; open ones: `monitorlink alerts list`, "
        "an overview: `monitorlink status`."
    )
    skipped = [name for name in SOURCE_NAMES if name not in outcome.selected]
    if skipped:
        console.print(f"skipped (--only/--skip, MONITORLINK_SKIP_SOURCES): {', '.join(skipped)}")
    _print_failures(settings, outcome)


def _print_failures(settings: Settings, outcome: _RunOutcome) -> None:
    """Each failed source with its error and next step, each failed step, and what the exit code means."""
    for name, reason in outcome.failures.items():
        console.print(styled(f"{name} failed:", "bold red", f" {reason}"), soft_wrap=True)
        console.print(f"  next: {_next_step(name, settings)}", soft_wrap=True)
    for step, reason in outcome.step_errors.items():
        console.print(styled(f"{step} failed:", "bold red", f" {reason}"), soft_wrap=True)
    if outcome.step_errors:
        console.print(
            f"Not everything was done ({', '.join(outcome.step_errors)} failed). Exit code {EXIT_ERROR}."
        )
    elif outcome.failures:
        console.print(
            f"{len(outcome.failures)} of {len(outcome.selected)} sources failed "
            f"({', '.join(outcome.failures)}); the others landed and were built. "
            f"Exit code {EXIT_SOURCE_FAILED}."
        )


def _next_step(name: str, settings: Settings) -> str:
    """What an operator does about a failed source: fix and retry it alone, or switch it off."""
    from monitorlink.ingest.sources import SOURCES_BY_NAME, Arrival

    arrival = SOURCES_BY_NAME[name].arrival
    where = {
        Arrival.EVENTS: "check the snapshot paths or URLs in MONITORLINK_AVAILABILITY_SNAPSHOTS",
        Arrival.API: f"check that the API answers (MONITORLINK_{name.upper()}_* URLs, proxy, network)",
        Arrival.FILES: f"check the landing folder {settings.landing_root / name}",
    }[arrival]
    retry = "monitorlink pull-availability" if arrival is Arrival.EVENTS else f"monitorlink land {name}"
    return (
        f"{where}, then `{retry}` and `monitorlink transform --source {name}`; "
        f"to run without it: `monitorlink run --skip {name}` or MONITORLINK_SKIP_SOURCES={name}"
    )


@contextlib.contextmanager
def broker_session(settings: Settings) -> Iterator[broker.BrokerState]:
    """The broker for one command: one already running (`make up`) stays; one started here is stopped."""
    from monitorlink.ops import broker

    started_here = settings.embedded_broker and not broker.state(settings).running
    with stage("broker") as step:
        state = broker.require(settings)
        kind = "embedded tansu" if state.embedded else "external cluster"
        step.done(f"{state.bootstrap}, {kind} ({'started here' if started_here else 'already running'})")
    try:
        yield state
    finally:
        if started_here:
            broker.stop(settings)
            console.print(
                "The embedded broker was stopped again (the lake keeps everything); `make up` keeps one up."
            )


def notifying(settings: Settings) -> contextlib.AbstractContextManager[object]:
    """A broker for the alert checks' Kafka notifier, when it is configured."""
    return broker_session(settings) if "kafka" in settings.alert_notifiers else nullcontext()


def alert_counts(transitions: list[dict[str, object]]) -> str:
    """One line for a check's alert transitions: opened per kind, and how many resolved."""
    opened = Counter(str(t["kind"]) for t in transitions if t["event_type"] == "alert_opened")
    resolved = sum(1 for t in transitions if t["event_type"] == "alert_resolved")
    parts = [f"{count} {kind}" for kind, count in sorted(opened.items())]
    return (f"opened {', '.join(parts)}" if parts else "none opened") + f", {resolved} resolved"


def _warn_dev_mode() -> None:
    """Say loudly when pseudonyms use the public development key (fit for simulated data only)."""
    from monitorlink.core import pseudonym

    if pseudonym.dev_mode() and not os.environ.get(pseudonym.KEY_VARIABLE):
        console.print(
            styled(
                "DEV MODE",
                "bold yellow",
                ": pseudonyms use the public development key. "
                f"Fine for simulated data only; set {pseudonym.KEY_VARIABLE} for real deliveries.",
            )
        )


def _simulation(settings: Settings) -> SimulationResult:
    """The simulated deliveries under `<home>/simulation`, made once (the simulator is deterministic)."""
    from monitorlink.core import pseudonym
    from monitorlink.simulator import Scale, simulate, simulation_result

    root = settings.home / "simulation"
    if (root / "manifest.json").exists():
        return simulation_result(root)
    with stage(f"simulating {_described(Scale())} into {root}") as step:
        result = simulate(root, pseudonym.pseudonym_key())
        step.done(f"{sum(result.files.values())} deliveries")
    return result


def simulate(
    out: Annotated[
        Path | None, typer.Option(help="folder to write to (default: $MONITORLINK_HOME/simulation)")
    ] = None,
    seed: Annotated[int, typer.Option(help="same seed, same files")] = 2026,
    defect_rate: Annotated[
        float, typer.Option(help="share of deliveries per defect kind (min. one each)")
    ] = 0.005,
    revision_rate: Annotated[float, typer.Option(help="share of TMSD quarters revised later")] = 0.05,
    scale: Annotated[
        str, typer.Option(help="twente (14 municipalities) or nl (all 342, mergers and the Haaren split)")
    ] = "twente",
    volume: Annotated[
        float, typer.Option(help="share of the inhabitants to simulate, above 0 and at most 1 (quick runs)")
    ] = 1.0,
    periods: Annotated[
        str | None, typer.Option(help="only the deliveries of these quarters, e.g. 2020Q4:2021Q1")
    ] = None,
) -> int:
    """Write realistic deliveries of every source, with injected defects and a manifest of the truth."""
    from monitorlink.core import pseudonym
    from monitorlink.simulator import Scale
    from monitorlink.simulator import simulate as write_simulation

    first, _, last = (periods or "").partition(":")
    try:
        what = Scale(scale, volume, *(p for p in (first, last or first) if p))
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    settings = load_settings()
    _warn_dev_mode()
    root = out or settings.home / "simulation"
    with stage(f"simulating {_described(what)} into {root}") as step:
        result = write_simulation(root, pseudonym.pseudonym_key(), seed, defect_rate, revision_rate, what)
        step.done(f"{sum(result.files.values())} deliveries")
    files = ", ".join(f"{count} {source}" for source, count in result.files.items())
    console.print(
        f"wrote {files} deliveries to {result.landing}, CBS tables to {result.cbs_tables}, "
        f"{len(result.defects)} injected defects and {len(result.revisions)} revisions listed in "
        f"{root / 'manifest.json'}",
        soft_wrap=True,
    )
    return EXIT_OK


def _described(scale: Scale) -> str:
    """`Twente 2019Q1–2025Q4` or `the Netherlands at 10% volume, 2020Q4–2021Q1`."""
    where = "Twente" if scale.name == "twente" else "the Netherlands (342 municipalities)"
    volume = f" at {scale.volume:.0%} volume" if scale.volume < 1 else ""
    return f"{where}{volume}, {scale.first_period}–{scale.last_period}"


def _delivery_source(name: str) -> None:
    """A usage error (exit 2) unless `name` is landed delivery by delivery, listing those that are."""
    from monitorlink.ingest.sources import DELIVERY_SOURCES

    if name not in DELIVERY_SOURCES:
        raise typer.BadParameter(
            f"{name!r} is not a delivery source; those are {', '.join(DELIVERY_SOURCES)}"
        )


def land(
    source: Annotated[str, typer.Argument(help="a delivery source: tmsd, chain, education or cbs")],
    fail_on_quarantine: Annotated[
        bool,
        typer.Option("--fail-on-quarantine", help=f"exit {EXIT_QUARANTINED} when a delivery was quarantined"),
    ] = False,
) -> int:
    """Land new deliveries of a file source from its landing folder (or fetch CBS), then announce them.

    Exits 4 with --fail-on-quarantine when any new delivery was quarantined, and always 4 when every
    new delivery was, so cron notices.
    """
    from monitorlink.ingest import events
    from monitorlink.ops.summary import delivery_outcomes_table

    _delivery_source(source)
    settings = load_settings()
    _warn_dev_mode()
    outcomes = land_with_progress(settings, source)
    console.print(delivery_outcomes_table(source, outcomes))
    with broker_session(settings):
        sent = events.announce(settings, source)
    console.print(f"announced {len(sent)} batches on {settings.batch_topic}")
    quarantined = sum(1 for item in outcomes if item.outcome == "quarantined")
    if quarantined and (fail_on_quarantine or quarantined == len(outcomes)):
        console.print(
            f"{quarantined} of {len(outcomes)} new deliveries were quarantined: "
            "`monitorlink quality report --quarantined`"
        )
        return EXIT_QUARANTINED
    return EXIT_OK


def watch() -> int:
    """Land new files from the landing folders and announce batches, until SIGTERM (the watcher service).

    A round runs every MONITORLINK_WATCH_INTERVAL_S seconds; a source that fails opens an alert.
    """
    from monitorlink.ops import broker
    from monitorlink.ops import watch as watcher

    settings = load_settings()
    _warn_dev_mode()
    broker.require(settings)
    watcher.watch(settings)
    return EXIT_OK


def pull_availability(
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="a snapshot path or URL (repeatable; default: MONITORLINK_AVAILABILITY_SNAPSHOTS)",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="publish even if the same bytes were pulled before")
    ] = False,
) -> int:
    """Pull waiting-time snapshots, publish their events to Kafka and land them; exit 3 if one failed."""
    from monitorlink.ingest import availability

    settings = load_settings()
    with broker_session(settings):
        with stage("pulling snapshots") as step:
            pulled = availability.pull(settings, tuple(source or ()) or None)
            step.done(f"{len(pulled)} snapshots")
        with stage("publishing and landing events") as step:
            published = availability.publish(settings, pulled, force=force)
            stats = availability.land(settings, [ref for item in published for ref in item.messages])
            step.done(f"{stats.validated} validated, {stats.quarantined} quarantined")
    for item in pulled:
        state = "new" if item.is_new else "already in the lake"
        console.print(
            f"{item.origin}: " + (f"failed: {item.error}" if item.error else f"{item.rows} rows, {state}"),
            soft_wrap=True,
        )
    console.print(
        f"published {sum(len(p.messages) for p in published)} events to {settings.availability_topic}; "
        f"landed {stats.validated} validated, {stats.quarantined} quarantined"
    )
    return EXIT_SOURCE_FAILED if any(item.error for item in pulled) else EXIT_OK


def ingest(
    follow: Annotated[
        bool, typer.Option("--follow", help="keep running until SIGTERM (the ingester service)")
    ] = False,
    announce: Annotated[
        bool,
        typer.Option(
            "--announce/--no-announce",
            help="announce the landed micro-batches on the batch topic (with --follow the watcher does)",
        ),
    ] = True,
) -> int:
    """Land availability events from Kafka in the lake (catch up, then stop; or follow) and announce them."""
    from monitorlink.ingest import availability, events
    from monitorlink.ingest.consumer import stop_signals
    from monitorlink.ingest.sources import EVENT_SOURCES
    from monitorlink.ops import broker

    settings = load_settings()
    with stop_signals() as stop:  # from the start: a SIGTERM while the broker comes up stops cleanly too
        broker.require(settings)
        with stage("ingesting availability events") as step:
            stats = availability.ingest(settings, follow=follow, stop=stop)
            step.done(
                f"consumed {stats.consumed}, validated {stats.validated}, quarantined {stats.quarantined}"
            )
    console.print(
        f"consumed {stats.consumed}, validated {stats.validated}, quarantined {stats.quarantined}, "
        f"re-deliveries skipped {stats.redelivered_skipped}"
    )
    if announce and not follow:  # a stopping service leaves announcing to the watcher
        sent = [event for name in EVENT_SOURCES for event in events.announce(settings, name)]
        console.print(f"announced {len(sent)} batches on {settings.batch_topic}")
    return EXIT_OK


def build(
    select: Annotated[
        str | None, typer.Option(help="dbt node selection, e.g. 'source:availability+'")
    ] = None,
) -> int:
    """Build the warehouse with dbt and publish its three files atomically (only if every test passes)."""
    from monitorlink.warehouse.build import build as build_warehouse

    result = build_with_progress(load_settings(), build_warehouse, select)
    console.print(
        f"published {result.published_path} ({result.nodes_passed} nodes passed, {result.seconds:.1f} s)"
    )
    return EXIT_OK


def transform(
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source", help=f"a source whose models to rebuild (repeatable; default all): {SOURCE_LIST}"
        ),
    ] = None,
) -> int:
    """Rebuild what the given sources feed, publish, and check the alerts."""
    from monitorlink.ops import transform as transformer

    chosen = _selected(source or [], []) if source else []
    settings = load_settings()
    with notifying(settings), stage("rebuilding (dbt build)") as step:
        result = transformer.rebuild(settings, chosen, on_node=_node_progress(step))
        step.done(f"{result.nodes_passed} nodes passed")
    console.print(
        f"published {result.published_path} (selection: {result.selected or 'everything'}, "
        f"{result.nodes_passed} nodes passed, {result.seconds:.1f} s); alerts checked"
    )
    return EXIT_OK


def backfill(
    source: Annotated[str, typer.Option(help="a delivery source: tmsd, chain, education or cbs")],
    period_from: Annotated[str, typer.Option("--from", help="first period, e.g. 2024Q1")],
    period_to: Annotated[str, typer.Option("--to", help="last period, e.g. 2024Q4")],
) -> int:
    """Re-process a source's deliveries for a range of periods from the raw zone, then rebuild."""
    from monitorlink.ops import recovery

    outcomes, result = _reprocess(
        source,
        f"{source}: re-processing {period_from}–{period_to} from the raw zone",
        lambda settings: recovery.backfill(settings, source, period_from, period_to),
    )
    console.print(
        f"re-processed {len(outcomes)} deliveries from the raw zone; published {result.published_path} "
        f"(selection: {result.selected or 'everything'}, {result.seconds:.1f} s)"
    )
    return EXIT_OK


def recheck(
    source: Annotated[str, typer.Option(help="a delivery source: tmsd, chain, education or cbs")],
    batch: Annotated[
        list[str] | None, typer.Option(help="only this quarantined batch (repeatable; default: all)")
    ] = None,
) -> int:
    """Check quarantined deliveries again from the raw zone (after a reference fix), then rebuild."""
    from monitorlink.ops import recovery

    outcomes, result = _reprocess(
        source,
        f"{source}: checking quarantined deliveries again",
        lambda settings: recovery.recheck(settings, source, tuple(batch or ())),
    )
    landed = sum(1 for outcome in outcomes if outcome.outcome == "validated")
    console.print(
        f"checked {len(outcomes)} quarantined deliveries again: {landed} landed, {len(outcomes) - landed} "
        f"still quarantined; published {result.published_path} ({result.seconds:.1f} s)"
    )
    return EXIT_OK


def _reprocess(
    source: str, title: str, work: Callable[[Settings], list[DeliveryOutcome]]
) -> tuple[list[DeliveryOutcome], BuildResult]:
    """Land deliveries again from the raw zone (`work`), show them, then rebuild what their source feeds."""
    from monitorlink.ops import transform as transformer
    from monitorlink.ops.summary import delivery_outcomes_table

    _delivery_source(source)
    settings = load_settings()
    _warn_dev_mode()
    with stage(title) as step:
        outcomes = work(settings)
        step.done(f"{len(outcomes)} deliveries")
    console.print(delivery_outcomes_table(source, outcomes))
    with notifying(settings), stage("rebuilding (dbt build)") as step:
        result = transformer.rebuild(settings, [source], on_node=_node_progress(step))
        step.done(f"{result.nodes_passed} nodes passed")
    return outcomes, result


def replay(
    everything: Annotated[
        bool, typer.Option("--all", help="every batch event, not only unbuilt ones")
    ] = False,
) -> int:
    """Re-publish events the broker lost, from the lake (after a broker restart)."""
    from monitorlink.ops import recovery

    settings = load_settings()
    with broker_session(settings), stage("replaying from the lake") as step:
        report = recovery.replay(settings, everything=everything)
        step.done(f"{report.availability_events} availability events")
    console.print(
        f"re-published {report.availability_events} availability events not in the lake to "
        f"{settings.availability_topic}, and batch events "
        + ", ".join(f"{name} {count}" for name, count in report.batch_events.items())
        + f" to {settings.batch_topic}"
    )
    return EXIT_OK
