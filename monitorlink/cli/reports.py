"""The commands that report: status, alerts, freshness, disclosure. They read; they never create a lake.

Each refuses a home without a lake with one line saying where it looked, so a mistyped
`MONITORLINK_HOME` is noticed instead of showing an empty, normal-looking platform.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from monitorlink.cli.output import EXIT_CHECK_FAILED, EXIT_OK, console, print_json, styled, table
from monitorlink.core.config import Settings, load_settings, require_lake

JSON_HELP = "machine-readable output (nothing cut, no colours)"
Json = Annotated[bool, typer.Option("--json", help=JSON_HELP)]


def existing_platform() -> Settings:
    """The settings, after checking their lake exists (reports create nothing)."""
    settings = load_settings()
    require_lake(settings)
    return settings


def status(as_json: Json = False) -> int:
    """Per source: batches, newest landing and data against the policy, alerts; services, DAG runs."""
    from monitorlink.ops import status as platform_status

    settings = existing_platform()
    current = platform_status.status(settings)
    if as_json:
        print_json(dataclasses.asdict(current))
        return EXIT_OK
    columns = (
        "source",
        "batches",
        "quarantined",
        "last landed (UTC)",
        "landed age / policy (h)",
        "newest data",
        "data age / policy (d)",
        "rows",
        "unannounced",
        "alerts",
    )
    right = ("batches", "quarantined", "landed age / policy (h)", "data age / policy (d)", "rows")
    sources = table(f"monitorlink status at {current.checked_at} — lake {settings.lake_root}", columns, right)
    for row in current.sources:
        landed = "never" if row.age_hours is None else f"{row.age_hours:g} / {row.sla_hours:g}"
        data = "" if row.data_age_days is None else f"{row.data_age_days:g} / {row.data_sla_days}"
        sources.add_row(
            row.source,
            str(row.batches),
            str(row.quarantined_batches),
            (row.last_landed_at or "")[:19].replace("T", " "),
            landed,
            "" if row.newest_period is None else f"{row.newest_period} (until {row.data_until})",
            data,
            str(row.last_rows),
            str(row.unannounced),
            str(row.open_alerts),
        )
    console.print(sources)
    for row in current.sources:
        if row.late_reason:
            console.print(styled(f"{row.source} is LATE", "red", f": {row.late_reason}"), soft_wrap=True)
    alerts_line = (
        ", ".join(f"{kind} {count}" for kind, count in sorted(current.open_alerts.items())) or "none"
    )
    console.print(f"open alerts: {alerts_line} (`monitorlink alerts list`)")
    console.print(
        f"ingester lag: {current.ingester_pending_events} availability events in the raw zone not landed"
    )
    console.print(
        "services: " + ", ".join(f"{name} {'up' if up else 'down'}" for name, up in current.services.items())
    )
    if not current.dag_runs:
        console.print("no DAG runs yet (Airflow runs them after `make up`)")
        return EXIT_OK
    runs = table("Last DAG runs (Airflow)", ("dag", "run type", "state", "started (UTC)", "ended (UTC)"))
    for run in current.dag_runs:
        runs.add_row(
            run["dag_id"],
            run["run_type"],
            run["state"],
            str(run["start_date"] or "")[:19],
            str(run["end_date"] or "")[:19],
        )
    console.print(runs)
    return EXIT_OK


alerts = typer.Typer(
    help="Open alerts: list them (the default), check the conditions now, resolve one by its id."
)


@alerts.callback(invoke_without_command=True)
def _alerts_default(context: typer.Context, as_json: Json = False) -> int | None:
    """Without a subcommand: list the open alerts."""
    if context.invoked_subcommand is None:
        return list_alerts(as_json)
    return None


@alerts.command("list")
def list_alerts(as_json: Json = False) -> int:
    """The open alerts with the id `alerts resolve` takes, oldest first."""
    from monitorlink.ops.alert_store import AlertStore

    settings = existing_platform()
    open_alerts = sorted(AlertStore(settings).open_alerts().values(), key=lambda a: (a.opened_at, a.key))
    if as_json:
        print_json([{"alert_id": a.key, **dataclasses.asdict(a)} for a in open_alerts])
        return EXIT_OK
    listing = table(f"Open alerts ({len(open_alerts)})", ("id", "kind", "subject", "since (UTC)", "what"))
    for alert in open_alerts:
        listing.add_row(alert.key, alert.kind, alert.subject, alert.opened_at[:16], alert.summary)
    console.print(listing)
    if open_alerts:
        console.print(
            "resolve one by hand: `monitorlink alerts resolve <id>` (it opens again if its condition holds)"
        )
    return EXIT_OK


@alerts.command("check")
def check_alerts(as_json: Json = False) -> int:
    """Check every alert condition now against the warehouse and the lake; open and resolve alerts."""
    from monitorlink.cli.pipelines import alert_counts, notifying
    from monitorlink.ops import alerts as alert_checks

    settings = existing_platform()
    with notifying(settings):
        transitions = alert_checks.check(settings)
    if as_json:
        print_json(transitions)
    else:
        console.print(f"alerts: {alert_counts(transitions)}")
    return EXIT_OK


@alerts.command("resolve")
def resolve_alert(
    alert_id: Annotated[str, typer.Argument(help="the id `monitorlink alerts list` shows")],
) -> int:
    """Resolve one open alert by hand (exit 5 when no open alert has that id)."""
    from monitorlink.ops.alert_store import AlertStore

    store = AlertStore(existing_platform())
    if store.acknowledge(alert_id):
        console.print(f"resolved {alert_id}")
        return EXIT_OK
    known = ", ".join(sorted(store.open_alerts())) or "none"
    console.print(f"{alert_id} is not an open alert; open ones: {known}", soft_wrap=True)
    return EXIT_CHECK_FAILED


def freshness(as_json: Json = False) -> int:
    """Is every source as fresh as its contract says? Exit 5 when one is late."""
    from monitorlink.ops import status as platform_status

    results = platform_status.freshness(existing_platform())
    if as_json:
        print_json([dataclasses.asdict(result) for result in results])
    else:
        columns = (
            "source",
            "last landed (UTC)",
            "landed age (h)",
            "newest data",
            "data age (d)",
            "policy (d)",
            "late",
        )
        title = "Source freshness: landing and newest data against each contract (every N days + lag + grace)"
        listing = table(title, columns, ("landed age (h)", "data age (d)"))
        for result in results:
            listing.add_row(
                result.source,
                result.last_landed_at or "never",
                "" if result.age_hours is None else f"{result.age_hours:g}",
                "" if result.newest_period is None else f"{result.newest_period} (until {result.data_until})",
                "" if result.data_age_days is None else f"{result.data_age_days:g}",
                f"every {result.every_days} + lag {result.lag_days} + grace {result.grace_days}",
                f"LATE: {result.late_reason}" if result.late else "no",
            )
        console.print(listing)
    return EXIT_CHECK_FAILED if any(result.late for result in results) else EXIT_OK


def disclosure(as_json: Json = False) -> int:
    """Scan the published file for small or recoverable counts, as the publish gate does (exit 5: found)."""
    from monitorlink.warehouse import disclosure as control
    from monitorlink.warehouse.build import connect_readonly

    settings = existing_platform()
    manifest = control.manifest_path(settings.home)
    if not manifest.exists():
        raise FileNotFoundError(f"{manifest} does not exist yet: run `make run` first")
    declared = control.declarations(manifest)
    with connect_readonly(settings) as connection:
        findings = control.scan(connection, declared, settings.suppression_threshold)
        covered = control.coverage(connection, declared)
    if as_json:
        print_json(
            {
                "file": str(settings.warehouse_path),
                "coverage": covered,
                "findings": [str(f) for f in findings],
            }
        )
    else:
        for finding in findings:
            console.print(str(finding), soft_wrap=True)
        console.print(
            f"{settings.warehouse_path}: {covered} (threshold {settings.suppression_threshold}); "
            f"{len(findings)} findings",
            soft_wrap=True,
        )
    return EXIT_CHECK_FAILED if findings else EXIT_OK
