"""`monitorlink` command line: run the pipelines once, manage the embedded services, run single steps."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import http.server
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from pathlib import Path

from rich.console import Console
from rich.table import Table

from connectors.cbs import CbsError
from monitorlink.core import pseudonym, services
from monitorlink.core.config import Settings, load_settings
from monitorlink.core.lake import Lake
from monitorlink.dashboards import access as dashboard_access
from monitorlink.dashboards import assets as dashboards
from monitorlink.dashboards import superset_service
from monitorlink.dashboards.superset_api import SupersetApiError
from monitorlink.ingest import availability, events
from monitorlink.ingest import landing as deliveries
from monitorlink.ingest.delivery_log import DeliveryOutcome
from monitorlink.ingest.sources import DELIVERY_SOURCES, SOURCES
from monitorlink.ops import alerts, broker, orchestration, quality_report, recovery, status, transform, watch
from monitorlink.ops.alert_store import AlertStore
from monitorlink.ops.status import SERVICES
from monitorlink.ops.summary import delivery_outcomes_table, print_run_summary
from monitorlink.simulator import SimulationResult, simulate, simulation_result
from monitorlink.simulator.cbs import CbsServer
from monitorlink.warehouse import definitions, disclosure
from monitorlink.warehouse.build import BuildError, BuildResult, build, connect_readonly
from monitorlink.warehouse.build import docs as warehouse_docs

# Tables stay readable in logs and CI, where there is no terminal to measure.
console = Console(width=None if sys.stdout.isatty() else 120)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    """Everything once: every source into the lake, warehouse build, summary.

    With `--simulated` the file sources read the simulator's landing folders and CBS is answered by the
    loopback OData server over the simulated tables (`make run`); without it, the configured landing
    folder and CBS endpoints are used. Leaves the machine as it found it: a broker this run started is
    stopped again (the lake holds everything); one that was already running (`make up`) keeps running.
    """
    _warn_dev_mode()
    simulation = _simulation(settings) if args.simulated else None
    if simulation is not None:
        settings = dataclasses.replace(settings, landing_root=simulation.landing)
    with _broker_session(settings) as state:
        console.print(
            f"broker: {state.bootstrap} ({'embedded tansu' if state.embedded else 'external cluster'})"
        )
        pulled = availability.pull(settings)
        published = availability.publish(settings, pulled, force=args.force)
        stats = availability.land(settings, [ref for item in published for ref in item.messages])
        with CbsServer(simulation.cbs_tables) if simulation else nullcontext() as server:
            if server is not None:
                settings = dataclasses.replace(settings, cbs_v3_url=server.v3_url, cbs_v4_url=server.v4_url)
            outcomes = {name: deliveries.land(settings, name) for name in DELIVERY_SOURCES}
        announced = {item.name: len(events.announce(settings, item.name)) for item in SOURCES}
        result = build(settings)
        alert_events = alerts.check(settings)
    print_run_summary(
        settings,
        pulled,
        {item.raw_path: len(item.messages) for item in published},
        stats,
        outcomes,
        result,
        console,
    )
    console.print(
        f"Batch events on {settings.batch_topic}: "
        + ", ".join(f"{name} {count}" for name, count in announced.items())
        + f". Alerts: {_alert_counts(alert_events)}; open ones: `monitorlink alerts list`, "
        "an overview: `monitorlink status`."
    )
    return 1 if any(item.error for item in pulled) else 0


@contextlib.contextmanager
def _broker_session(settings: Settings) -> Iterator[broker.BrokerState]:
    """The broker for one command: one already running (`make up`) stays; one started here is stopped."""
    started_here = settings.embedded_broker and not broker.state(settings).running
    state = broker.require(settings)
    try:
        yield state
    finally:
        if started_here:
            broker.stop(settings)
            console.print(
                "The embedded broker was stopped again (the lake keeps everything); `make up` keeps one up."
            )


def _alert_counts(transitions: list[dict[str, object]]) -> str:
    opened = Counter(str(t["kind"]) for t in transitions if t["event_type"] == "alert_opened")
    resolved = sum(1 for t in transitions if t["event_type"] == "alert_resolved")
    parts = [f"{count} {kind}" for kind, count in sorted(opened.items())]
    return (f"opened {', '.join(parts)}" if parts else "none opened") + f", {resolved} resolved"


def _warn_dev_mode() -> None:
    if pseudonym.dev_mode() and not os.environ.get(pseudonym.KEY_VARIABLE):
        console.print(
            "[bold yellow]DEV MODE[/bold yellow]: pseudonyms use the public development key. "
            f"Fine for simulated data only; set {pseudonym.KEY_VARIABLE} for real deliveries."
        )


def _simulation(settings: Settings) -> SimulationResult:
    """The simulated deliveries under `<home>/simulation`, made once (the simulator is deterministic)."""
    root = settings.home / "simulation"
    if (root / "manifest.json").exists():
        return simulation_result(root)
    console.print(f"simulating Twente 2019–2025 into {root} …")
    return simulate(root, pseudonym.pseudonym_key())


def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    _warn_dev_mode()
    root = Path(args.out) if args.out else settings.home / "simulation"
    result = simulate(root, pseudonym.pseudonym_key(), args.seed, args.defect_rate, args.revision_rate)
    files = ", ".join(f"{count} {source}" for source, count in result.files.items())
    console.print(
        f"wrote {files} deliveries to {result.landing}, CBS tables to {result.cbs_tables}, "
        f"{len(result.defects)} injected defects and {len(result.revisions)} revisions listed in "
        f"{root / 'manifest.json'}"
    )
    return 0


def _land(settings: Settings, args: argparse.Namespace) -> int:
    _warn_dev_mode()
    outcomes = deliveries.land(settings, args.source)
    console.print(delivery_outcomes_table(args.source, outcomes))
    with _broker_session(settings):
        sent = events.announce(settings, args.source)
    console.print(f"announced {len(sent)} batches on {settings.batch_topic}")
    return 0


def _watch(settings: Settings, args: argparse.Namespace) -> int:
    _warn_dev_mode()
    broker.require(settings)
    watch.watch(settings)
    return 0


def _notifying(settings: Settings) -> contextlib.AbstractContextManager[object]:
    """A broker for the alert checks' Kafka notifier, when it is configured."""
    return _broker_session(settings) if "kafka" in settings.alert_notifiers else nullcontext()


def _transform(settings: Settings, args: argparse.Namespace) -> int:
    with _notifying(settings):
        result = transform.rebuild(settings, args.source)
    console.print(
        f"published {result.published_path} (selection: {result.selected or 'everything'}, "
        f"{result.nodes_passed} nodes passed, {result.seconds:.1f} s); alerts checked"
    )
    return 0


def _alerts(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "check":
        with _notifying(settings):
            transitions = alerts.check(settings)
        console.print(f"alerts: {_alert_counts(transitions)}")
        return 0
    if args.action == "resolve":
        if not args.key:
            raise ValueError("alerts resolve needs the alert id (see `monitorlink alerts list`)")
        resolved = AlertStore(settings).acknowledge(args.key)
        console.print(f"resolved {args.key}" if resolved else f"{args.key} is not open")
        return 0 if resolved else 1
    open_alerts = sorted(AlertStore(settings).open_alerts().values(), key=lambda a: a.key)
    if args.json:
        _print_json([{"alert_id": a.key, **dataclasses.asdict(a)} for a in open_alerts])
        return 0
    table = Table(title=f"Open alerts ({len(open_alerts)})")
    for column in ("kind", "subject", "since (UTC)", "what"):
        table.add_column(column)
    for alert in open_alerts:
        table.add_row(alert.kind, alert.subject, alert.opened_at[:16], alert.summary)
    console.print(table)
    return 0


def _backfill(settings: Settings, args: argparse.Namespace) -> int:
    _warn_dev_mode()
    outcomes = recovery.backfill(settings, args.source, args.period_from, args.period_to)
    result = _show_and_rebuild(settings, args.source, outcomes)
    console.print(
        f"re-processed {len(outcomes)} deliveries from the raw zone; published {result.published_path} "
        f"(selection: {result.selected or 'everything'}, {result.seconds:.1f} s)"
    )
    return 0


def _recheck(settings: Settings, args: argparse.Namespace) -> int:
    _warn_dev_mode()
    outcomes = recovery.recheck(settings, args.source, tuple(args.batch))
    result = _show_and_rebuild(settings, args.source, outcomes)
    landed = sum(1 for outcome in outcomes if outcome.outcome == "validated")
    console.print(
        f"checked {len(outcomes)} quarantined deliveries again: {landed} landed, {len(outcomes) - landed} "
        f"still quarantined; published {result.published_path} ({result.seconds:.1f} s)"
    )
    return 0


def _show_and_rebuild(settings: Settings, source: str, outcomes: list[DeliveryOutcome]) -> BuildResult:
    """Deliveries landed again from the raw zone: show them, then rebuild what their source feeds."""
    console.print(delivery_outcomes_table(source, outcomes))
    with _notifying(settings):
        return transform.rebuild(settings, [source])


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    with _broker_session(settings):
        report = recovery.replay(settings, everything=args.all)
    console.print(
        f"re-published {report.availability_events} availability events not in the lake to "
        f"{settings.availability_topic}, and batch events "
        + ", ".join(f"{name} {count}" for name, count in report.batch_events.items())
        + f" to {settings.batch_topic}"
    )
    return 0


def _status(settings: Settings, args: argparse.Namespace) -> int:
    current = status.status(settings)
    if args.json:
        _print_json(dataclasses.asdict(current))
        return 0
    table = Table(title=f"monitorlink status at {current.checked_at} — lake {settings.lake_root}")
    columns = (
        "source",
        "batches",
        "quarantined",
        "last batch (UTC)",
        "age / SLA (h)",
        "rows",
        "unannounced",
        "alerts",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("source", "last batch (UTC)") else "right")
    for row in current.sources:
        age = "never" if row.age_hours is None else f"{row.age_hours:g} / {row.sla_hours:g}"
        table.add_row(
            row.source,
            str(row.batches),
            str(row.quarantined_batches),
            (row.last_landed_at or "")[:19].replace("T", " "),
            f"[red]{age} LATE[/red]" if row.late else age,
            str(row.last_rows),
            str(row.unannounced),
            str(row.open_alerts),
        )
    console.print(table)
    alerts_line = (
        ", ".join(f"{kind} {count}" for kind, count in sorted(current.open_alerts.items())) or "none"
    )
    console.print(f"open alerts: {alerts_line}")
    console.print(
        f"ingester lag: {current.ingester_pending_events} availability events in the raw zone not landed"
    )
    running = ", ".join(f"{name} {'up' if up else 'down'}" for name, up in current.services.items())
    console.print(f"services: {running}")
    if current.dag_runs:
        runs = Table(title="Last DAG runs (Airflow)")
        for column in ("dag", "run type", "state", "started (UTC)", "ended (UTC)"):
            runs.add_column(column)
        for run in current.dag_runs:
            runs.add_row(
                run["dag_id"],
                run["run_type"],
                run["state"],
                str(run["start_date"] or "")[:19],
                str(run["end_date"] or "")[:19],
            )
        console.print(runs)
    else:
        console.print("no DAG runs yet (Airflow runs them after `make up`)")
    return 0


def _broker(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "start":
        state = broker.start(settings)
    elif args.action == "stop":
        console.print("broker stopped" if broker.stop(settings) else "broker was not running")
        return 0
    else:
        state = broker.state(settings)
    kind = "embedded tansu" if state.embedded else "external cluster (MONITORLINK_KAFKA_BOOTSTRAP)"
    console.print(
        f"broker {state.bootstrap}: {kind}, running={state.running}, healthy={state.healthy}, pid={state.pid}"
        + (f", log {state.log_file}" if state.log_file else "")
    )
    return 0 if state.healthy or args.action == "status" else 1


def _ingest(settings: Settings, args: argparse.Namespace) -> int:
    broker.require(settings)
    stats = availability.ingest(settings, follow=args.follow)
    console.print(
        f"consumed {stats.consumed}, validated {stats.validated}, quarantined {stats.quarantined}, "
        f"re-deliveries skipped {stats.redelivered_skipped}"
    )
    return 0


def _pull(settings: Settings, args: argparse.Namespace) -> int:
    """Pull, publish and land: an embedded broker keeps its topics in memory, so a pull that started
    one waits until its events are in the lake before stopping it again."""
    with _broker_session(settings):
        pulled = availability.pull(settings, tuple(args.source) or None)
        published = availability.publish(settings, pulled, force=args.force)
        stats = availability.land(settings, [ref for item in published for ref in item.messages])
    for item in pulled:
        state = "new" if item.is_new else "already in the lake"
        console.print(
            f"{item.origin}: " + (f"failed: {item.error}" if item.error else f"{item.rows} rows, {state}")
        )
    console.print(
        f"published {sum(len(p.messages) for p in published)} events to {settings.availability_topic}; "
        f"landed {stats.validated} validated, {stats.quarantined} quarantined"
    )
    return 1 if any(item.error for item in pulled) else 0


def _build(settings: Settings, args: argparse.Namespace) -> int:
    result = build(settings, select=args.select)
    console.print(
        f"published {result.published_path} ({result.nodes_passed} nodes passed, {result.seconds:.1f} s)"
    )
    return 0


def _disclosure(settings: Settings, args: argparse.Namespace) -> int:
    """Scan the published file against the newest build's declarations (what the publish gate does)."""
    manifest = disclosure.manifest_path(settings.home)
    if not manifest.exists():
        raise FileNotFoundError(f"{manifest} does not exist yet: run `make run` first")
    declared = disclosure.declarations(manifest)
    with connect_readonly(settings) as connection:
        findings = disclosure.scan(connection, declared, settings.suppression_threshold)
        covered = disclosure.coverage(connection, declared)
    for finding in findings:
        console.print(str(finding), soft_wrap=True)
    console.print(
        f"{settings.warehouse_path}: {covered} (threshold {settings.suppression_threshold});"
        f" {len(findings)} findings",
        soft_wrap=True,
    )
    return 1 if findings else 0


def _freshness(settings: Settings, args: argparse.Namespace) -> int:
    results = status.freshness(settings)
    if args.json:
        _print_json([dataclasses.asdict(result) for result in results])
    else:
        table = Table(title="Source freshness (each source's contract: expected every N days, plus grace)")
        for column in ("source", "last landed (UTC)", "age (h)", "every (d)", "grace (d)", "late"):
            table.add_column(column, justify="left" if column in ("source", "last landed (UTC)") else "right")
        for result in results:
            table.add_row(
                result.source,
                result.last_landed_at or "never",
                "" if result.age_hours is None else str(result.age_hours),
                str(result.every_days),
                str(result.grace_days),
                "LATE" if result.late else "no",
            )
        console.print(table)
    return 1 if any(result.late for result in results) else 0


def _definitions(settings: Settings, args: argparse.Namespace) -> int:
    page = definitions.write()
    console.print(f"wrote {page} ({len(definitions.kpi_models())} KPI definitions from the dbt project)")
    return 0


def _docs(settings: Settings, args: argparse.Namespace) -> int:
    site = warehouse_docs(settings)
    console.print(f"dbt docs site (lineage, models, KPI definitions) generated in {site}")
    if not args.serve:
        return 0
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    with http.server.ThreadingHTTPServer((orchestration.AIRFLOW_HOST, args.port), handler) as server:
        console.print(f"serving on http://{orchestration.AIRFLOW_HOST}:{args.port} — Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


def _service_status(settings: Settings, args: argparse.Namespace) -> int:
    for name in args.names:
        current = services.status(settings.run_dir, name)
        console.print(f"{name}: running={current.running} pid={current.pid} log={current.log_file}")
    return 0


def _print_json(data: object) -> None:
    """Plain JSON on stdout for machines: no colours, no wrapping."""
    print(json.dumps(data, default=str, ensure_ascii=False, indent=2))


def _quality_report(settings: Settings, args: argparse.Namespace) -> int:
    lake = Lake(settings.lake_root)
    if args.batch:
        rows = [
            row
            for name in quality_report.datasets(lake, args.dataset)
            for row in quality_report.quarantined_rows(lake, name, args.batch)
        ]
        if args.json:
            _print_json([dataclasses.asdict(row) for row in rows])
            return 0
        table = Table(title=f"Quarantined rows of batch {args.batch}")
        for column in ("where (partition@offset or file:row)", "event_id", "reasons"):
            table.add_column(column)
        for row in rows:
            table.add_row(row.location, row.event_id or "", "\n".join(row.reasons))
        console.print(table)
        return 0
    batches = quality_report.batches(lake, args.dataset)[: args.limit]
    if args.json:
        _print_json([dataclasses.asdict(batch) for batch in batches])
        return 0
    table = Table(title=f"Quality per batch (newest first, {len(batches)} shown) — lake {lake.root}")
    columns = ("dataset", "batch / delivery", "landed at (UTC)", "validated", "quarantined", "rules", "flags")
    for column in columns:
        table.add_column(column, justify="right" if column in ("validated", "quarantined") else "left")
    for batch in batches:
        rules = "\n".join(f"{rule} ×{count}" for rule, count in batch.rules.items())
        flags = "\n".join(f"{rule} ×{count}" for rule, count in batch.flags.items())
        landed = f"{batch.landed_at:%Y-%m-%d %H:%M:%S}"
        name = batch.batch_id + (f"\n{batch.delivery}" if batch.delivery else "")
        table.add_row(batch.dataset, name, landed, str(batch.validated), str(batch.quarantined), rules, flags)
    console.print(table)
    console.print("Reasons of one batch: monitorlink quality report --batch <batch>")
    return 0


def _up(settings: Settings, args: argparse.Namespace) -> int:
    for current in orchestration.up(settings):
        console.print(f"{current.name}: running (pid {current.pid}), log {current.log_file}")
    port = orchestration.airflow_port()
    console.print(
        f"Airflow UI: http://{orchestration.AIRFLOW_HOST}:{port} — user admin, password in "
        f"{orchestration.admin_password_file(settings)}\n"
        f"Dashboards (Superset): {superset_service.url(settings)} — user admin, password in "
        f"{superset_service.admin_password_file(settings)}; a municipality's user: "
        "`monitorlink dashboards add-user <name> --for <gemeente>`\n"
        f"broker: {settings.bootstrap_servers}\nstop everything with `make down`"
    )
    return 0


def _dashboards(settings: Settings, args: argparse.Namespace) -> int:
    with superset_service.admin_client(settings) as client:
        if args.action == "import":
            count = dashboards.import_assets(client, settings)
            roles = dashboard_access.apply(client, settings)
            console.print(
                f"imported {count} asset files from {dashboards.ASSETS}; roles with row-level security: "
                f"{len(roles)} ({roles[0]} and {len(roles) - 1} municipalities)"
            )
        elif args.action == "export":
            changed = dashboards.export_assets(client)
            console.print(
                f"exported into {dashboards.ASSETS}: "
                + (", ".join(changed) if changed else "nothing changed")
                + ("\nreview with `git diff infra/superset/assets` and commit" if changed else "")
            )
        else:
            if not args.username or not args.who:
                raise ValueError("add-user needs a user name and --for <municipality code or name | regio>")
            role = dashboard_access.role_for(settings, args.who)
            password = dashboard_access.add_user(client, args.username, role)
            console.print(f"user {args.username} ({role}) can log in at {superset_service.url(settings)}")
            print(f"password: {password}")
    return 0


def _down(settings: Settings, args: argparse.Namespace) -> int:
    stopped = orchestration.down(settings)
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs test that checks the README's commands exist)."""
    root = argparse.ArgumentParser(prog="monitorlink", description=__doc__)
    root.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    commands = root.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run every pipeline once and print a summary")
    run.add_argument("--force", action="store_true", help="re-publish snapshots already in the lake")
    run.add_argument(
        "--simulated",
        action="store_true",
        help="file sources and CBS from the feed simulator (what `make run` does)",
    )
    run.set_defaults(handler=_run)

    broker_cmd = commands.add_parser("broker", help="manage the embedded Kafka-protocol broker")
    broker_cmd.add_argument("action", choices=["start", "stop", "status"])
    broker_cmd.set_defaults(handler=_broker)

    pull = commands.add_parser(
        "pull-availability", help="pull waiting-time snapshots, publish their events and land them"
    )
    pull.add_argument("--source", action="append", default=[], help="path or URL (repeatable)")
    pull.add_argument(
        "--force", action="store_true", help="publish even if the same bytes were pulled before"
    )
    pull.set_defaults(handler=_pull)

    ingest = commands.add_parser("ingest", help="land availability events from Kafka in the lake")
    ingest.add_argument("--follow", action="store_true", help="keep running until SIGTERM (the service)")
    ingest.set_defaults(handler=_ingest)

    simulate_cmd = commands.add_parser(
        "simulate", help="write realistic deliveries of every source, with injected defects and a manifest"
    )
    simulate_cmd.add_argument("--out", help="folder to write to (default: $MONITORLINK_HOME/simulation)")
    simulate_cmd.add_argument("--seed", type=int, default=2026, help="same seed, same files (default 2026)")
    simulate_cmd.add_argument(
        "--defect-rate", type=float, default=0.005, help="share of deliveries per defect kind (min. one each)"
    )
    simulate_cmd.add_argument(
        "--revision-rate", type=float, default=0.05, help="share of TMSD quarters revised later"
    )
    simulate_cmd.set_defaults(handler=_simulate)

    land = commands.add_parser(
        "land", help="land new deliveries of a file source from its landing folder, or fetch CBS"
    )
    land.add_argument("source", choices=list(DELIVERY_SOURCES))
    land.set_defaults(handler=_land)

    commands.add_parser(
        "watch", help="land new files from the landing folders and announce batches, until SIGTERM"
    ).set_defaults(handler=_watch)

    transform_cmd = commands.add_parser(
        "transform", help="rebuild what the given sources feed (all without --source), publish, check alerts"
    )
    transform_cmd.add_argument("--source", action="append", default=[], choices=[s.name for s in SOURCES])
    transform_cmd.set_defaults(handler=_transform)

    alerts_cmd = commands.add_parser("alerts", help="open alerts; check them now; resolve one by hand")
    alerts_cmd.add_argument("action", choices=["list", "check", "resolve"], nargs="?", default="list")
    alerts_cmd.add_argument("key", nargs="?", help="the alert id to resolve")
    alerts_cmd.add_argument("--json", action="store_true", help="machine-readable output")
    alerts_cmd.set_defaults(handler=_alerts)

    backfill_cmd = commands.add_parser(
        "backfill", help="re-process a source's deliveries for a range of periods from the raw zone"
    )
    backfill_cmd.add_argument("--source", required=True, choices=list(DELIVERY_SOURCES))
    backfill_cmd.add_argument("--from", dest="period_from", required=True, help="first period, e.g. 2024Q1")
    backfill_cmd.add_argument("--to", dest="period_to", required=True, help="last period, e.g. 2024Q4")
    backfill_cmd.set_defaults(handler=_backfill)

    recheck_cmd = commands.add_parser(
        "recheck", help="check quarantined deliveries again from the raw zone (after a reference fix)"
    )
    recheck_cmd.add_argument("--source", required=True, choices=list(DELIVERY_SOURCES))
    recheck_cmd.add_argument(
        "--batch", action="append", default=[], help="only this quarantined batch (repeatable; default: all)"
    )
    recheck_cmd.set_defaults(handler=_recheck)

    replay_cmd = commands.add_parser(
        "replay", help="re-publish events the broker lost, from the lake (after a broker restart)"
    )
    replay_cmd.add_argument("--all", action="store_true", help="every batch event, not only unbuilt ones")
    replay_cmd.set_defaults(handler=_replay)

    status_cmd = commands.add_parser("status", help="per source: last batch, age vs SLA, alerts; DAG runs")
    status_cmd.add_argument("--json", action="store_true", help="machine-readable output")
    status_cmd.set_defaults(handler=_status)

    build_cmd = commands.add_parser("build", help="build the warehouse with dbt and publish it atomically")
    build_cmd.add_argument("--select", help="dbt node selection, e.g. 'source:availability+'")
    build_cmd.set_defaults(handler=_build)

    commands.add_parser(
        "disclosure", help="scan the published file for small or recoverable counts (docs/disclosure.md)"
    ).set_defaults(handler=_disclosure)

    quality = commands.add_parser("quality", help="what the quality gate decided, from the lake")
    quality.add_argument("action", choices=["report"])
    quality.add_argument("--dataset", help="only this dataset (default: all)")
    quality.add_argument("--batch", help="list the quarantined rows of one batch with their reasons")
    quality.add_argument("--limit", type=int, default=50, help="newest N batches (default 50)")
    quality.add_argument("--json", action="store_true", help="machine-readable output")
    quality.set_defaults(handler=_quality_report)

    freshness = commands.add_parser(
        "freshness", help="is every source as fresh as its contract says (exit 1 when one is late)"
    )
    freshness.add_argument("--json", action="store_true", help="machine-readable output")
    freshness.set_defaults(handler=_freshness)

    commands.add_parser(
        "definitions", help="regenerate docs/definitions.md from the KPI definitions in the dbt project"
    ).set_defaults(handler=_definitions)

    docs_cmd = commands.add_parser("docs", help="generate the dbt docs site from the warehouse")
    docs_cmd.add_argument("--serve", action="store_true", help="serve it on 127.0.0.1 until Ctrl-C")
    docs_cmd.add_argument("--port", type=int, default=8081, help="port to serve on (default 8081)")
    docs_cmd.set_defaults(handler=_docs)

    commands.add_parser("up", help="start broker, ingester, Airflow and Superset on 127.0.0.1").set_defaults(
        handler=_up
    )
    commands.add_parser("down", help="stop everything `up` started").set_defaults(handler=_down)

    dashboards_cmd = commands.add_parser(
        "dashboards", help="Superset dashboards as code: import the repository's assets, export, add users"
    )
    dashboards_cmd.add_argument("action", choices=["import", "export", "add-user"])
    dashboards_cmd.add_argument("username", nargs="?", help="add-user: the login name")
    dashboards_cmd.add_argument(
        "--for", dest="who", help="add-user: a municipality code or name (sees its own rows), or `regio`"
    )
    dashboards_cmd.set_defaults(handler=_dashboards)

    services_cmd = commands.add_parser("services", help="show the services monitorlink started")
    services_cmd.add_argument("names", nargs="*", default=list(SERVICES))
    services_cmd.set_defaults(handler=_service_status)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `monitorlink` script."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(load_settings(), args))
    except (
        BuildError,
        services.ServiceError,
        TimeoutError,
        FileNotFoundError,
        ValueError,
        pseudonym.MissingPseudonymKey,
        CbsError,
        superset_service.SupersetError,
        SupersetApiError,
    ) as error:
        console.print(f"[bold red]error:[/bold red] {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
