"""The commands that run the platform's services and its documentation: broker, up/down, dashboards, docs."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.server
from enum import StrEnum
from typing import Annotated

import typer

from monitorlink.cli.output import EXIT_ERROR, EXIT_OK, console, print_json, stage
from monitorlink.cli.reports import Json
from monitorlink.core.config import load_settings
from monitorlink.core.services import SERVICE_NAMES


class BrokerAction(StrEnum):
    """What `broker` does."""

    start = "start"
    stop = "stop"
    status = "status"


def broker(
    action: Annotated[BrokerAction, typer.Argument(help="start, stop or status")] = BrokerAction.status,
    as_json: Json = False,
) -> int:
    """Manage the embedded Kafka-protocol broker (tansu) on 127.0.0.1."""
    from monitorlink.ops import broker as embedded

    settings = load_settings()
    if action is BrokerAction.stop:
        console.print("broker stopped" if embedded.stop(settings) else "broker was not running")
        return EXIT_OK
    state = embedded.start(settings) if action is BrokerAction.start else embedded.state(settings)
    kind = "embedded tansu" if state.embedded else "external cluster (MONITORLINK_KAFKA_BOOTSTRAP)"
    if as_json:
        print_json(dataclasses.asdict(state))
    else:
        console.print(
            f"broker {state.bootstrap}: {kind}, running={state.running}, healthy={state.healthy}, "
            f"pid={state.pid}" + (f", log {state.log_file}" if state.log_file else ""),
            soft_wrap=True,
        )
    return EXIT_OK if state.healthy or action is BrokerAction.status else EXIT_ERROR


def up() -> int:
    """Start on 127.0.0.1 and keep running: broker, ingester, landing watcher, Airflow and Superset.

    Each service is started only if it is not running yet; `make down` (or `monitorlink down`) stops them.
    """
    from monitorlink.dashboards import superset_service
    from monitorlink.ops import orchestration

    settings = load_settings()
    with stage("starting broker, ingester, watcher, Airflow and Superset") as step:
        started = orchestration.up(settings, on_step=step.note)
        step.done(", ".join(current.name for current in started))
    for current in started:
        console.print(f"{current.name}: running (pid {current.pid}), log {current.log_file}", soft_wrap=True)
    console.print(
        f"Airflow UI: http://{orchestration.AIRFLOW_HOST}:{orchestration.airflow_port()} — user admin, "
        "password in "
        f"{orchestration.admin_password_file(settings)}\n"
        f"Dashboards (Superset): {superset_service.url(settings)} — user admin, password in "
        f"{superset_service.admin_password_file(settings)}; a municipality's user: "
        "`monitorlink dashboards add-user <name> --for <gemeente>`\n"
        f"broker: {settings.bootstrap_servers}\nstop everything with `make down`",
        soft_wrap=True,
    )
    return EXIT_OK


def down() -> int:
    """Stop everything `up` started."""
    from monitorlink.ops import orchestration

    stopped = orchestration.down(load_settings())
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return EXIT_OK


def services(
    names: Annotated[
        list[str] | None,
        typer.Argument(help=f"services to show (default all): {', '.join(SERVICE_NAMES)}"),
    ] = None,
    as_json: Json = False,
) -> int:
    """Show the services monitorlink started: running or not, pid, log file."""
    from monitorlink.core import services as processes

    settings = load_settings()
    found = [processes.status(settings.run_dir, name) for name in names or SERVICE_NAMES]
    if as_json:
        print_json([dataclasses.asdict(current) for current in found])
        return EXIT_OK
    for current in found:
        console.print(
            f"{current.name}: running={current.running} pid={current.pid} log={current.log_file}",
            soft_wrap=True,
        )
    return EXIT_OK


dashboards = typer.Typer(
    help="Superset dashboards as code: import the repository's assets, export changes, add users."
)


@dashboards.command("import")
def import_dashboards() -> int:
    """Post infra/superset/assets to Superset (idempotent by uuid) and apply the row-level security roles."""
    from monitorlink.dashboards import access, assets, superset_service

    settings = load_settings()
    with superset_service.admin_client(settings) as client:
        count = assets.import_assets(client, settings)
        roles = access.apply(client, settings)
    console.print(
        f"imported {count} asset files from {assets.ASSETS}; roles with row-level security: "
        f"{len(roles)} ({roles[0]} and {len(roles) - 1} municipalities)"
    )
    return EXIT_OK


@dashboards.command("superset-env")
def superset_env() -> int:
    """Print, as shell `export` lines, the environment Superset's processes need (config file, home,
    metadata, and with the DuckLake backend how to attach the published tier): for starting Superset
    without `monitorlink up`, e.g. `eval "$(monitorlink dashboards superset-env)"` in a container."""
    import shlex

    from monitorlink.dashboards import superset_service

    for name, value in sorted(superset_service.environment(load_settings()).items()):
        print(f"export {name}={shlex.quote(value)}")
    return EXIT_OK


@dashboards.command("export")
def export_dashboards() -> int:
    """Export what was changed in Superset's UI back into infra/superset/assets, for review and commit."""
    from monitorlink.dashboards import assets, superset_service

    with superset_service.admin_client(load_settings()) as client:
        changed = assets.export_assets(client)
    console.print(
        f"exported into {assets.ASSETS}: "
        + (", ".join(changed) if changed else "nothing changed")
        + ("\nreview with `git diff infra/superset/assets` and commit" if changed else "")
    )
    return EXIT_OK


@dashboards.command("add-user")
def add_user(
    username: Annotated[str, typer.Argument(help="the login name")],
    who: Annotated[
        str, typer.Option("--for", help="a municipality code or name (sees its own rows), or `regio`")
    ],
) -> int:
    """Add a Superset user who sees one municipality's rows (or the whole region); prints the password."""
    from monitorlink.dashboards import access, superset_service

    settings = load_settings()
    role = access.role_for(settings, who)
    with superset_service.admin_client(settings) as client:
        password = access.add_user(client, username, role)
    console.print(f"user {username} ({role}) can log in at {superset_service.url(settings)}")
    print(f"password: {password}")
    return EXIT_OK


def definitions() -> int:
    """Regenerate docs/definitions.md from the KPI definitions in the dbt project."""
    from monitorlink.warehouse import definitions as kpis

    page = kpis.write()
    console.print(f"wrote {page} ({len(kpis.kpi_models())} KPI definitions from the dbt project)")
    return EXIT_OK


def docs(
    serve: Annotated[bool, typer.Option("--serve", help="serve it on 127.0.0.1 until Ctrl-C")] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to serve on")] = 8081,
) -> int:
    """Generate the dbt docs site (lineage, models, KPI definitions) from the warehouse; or serve it."""
    from monitorlink.ops import orchestration
    from monitorlink.warehouse.build import docs as warehouse_docs

    with stage("generating the dbt docs site") as step:
        site = warehouse_docs(load_settings())
        step.done(str(site))
    if not serve:
        return EXIT_OK
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    with http.server.ThreadingHTTPServer((orchestration.AIRFLOW_HOST, port), handler) as server:
        console.print(f"serving on http://{orchestration.AIRFLOW_HOST}:{port} — Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return EXIT_OK
