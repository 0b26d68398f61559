"""`monitorlink`: run the pipelines once, keep the services up, report on the platform, run single steps.

The command line starts at once: each command imports the heavy libraries (GX, pandas, pyarrow, Kafka,
dbt) only when it runs. Every error ends in one line naming what to do, and a documented exit code.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Annotated

import typer

from monitorlink.cli import pipelines, platform, quality, reports, warehouse
from monitorlink.cli.output import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, console, styled

EPILOG = (
    "Configuration: environment variables, listed in the README's 'Configuration' section. "
    "Exit codes: 0 done, 1 error, 2 wrong usage, 3 a source failed (the others landed), "
    "4 deliveries quarantined (land), 5 a check found something (freshness, disclosure, alerts resolve), "
    "130 interrupted."
)

app = typer.Typer(
    name="monitorlink",
    help="Run the pipelines once, keep the services up, report on the platform, or run a single step.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    """`--version`: the installed package's version."""
    if value:
        console.print(f"monitorlink {metadata.version('monitorlink')}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def root(
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="log at INFO level (tracebacks on errors)")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Options for every command."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _register() -> None:
    """Every command, grouped as the README presents them."""
    commands: dict[str, Callable[..., int]] = {
        "run": pipelines.run,
        "simulate": pipelines.simulate,
        "land": pipelines.land,
        "pull-availability": pipelines.pull_availability,
        "ingest": pipelines.ingest,
        "watch": pipelines.watch,
        "build": pipelines.build,
        "transform": pipelines.transform,
        "backfill": pipelines.backfill,
        "recheck": pipelines.recheck,
        "replay": pipelines.replay,
        "status": reports.status,
        "freshness": reports.freshness,
        "disclosure": reports.disclosure,
        "up": platform.up,
        "down": platform.down,
        "services": platform.services,
        "broker": platform.broker,
        "docs": platform.docs,
        "definitions": platform.definitions,
    }
    for name, function in commands.items():
        app.command(name, epilog=EPILOG)(function)
    groups = {
        "alerts": reports.alerts,
        "quality": quality.quality,
        "dashboards": platform.dashboards,
        "publications": warehouse.publications,
    }
    for name, group in groups.items():
        group.info.epilog = EPILOG
        for command in group.registered_commands:
            command.epilog = EPILOG
        app.add_typer(group, name=name)


_register()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `monitorlink` script: the command's exit code; errors as one line."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        result = app(args=arguments, prog_name="monitorlink", standalone_mode=False)
    except typer.Abort:  # Ctrl-C
        console.print("interrupted")
        return EXIT_INTERRUPTED
    except typer.TyperException as wrong:  # wrong usage: typer says what and shows the usage line
        wrong.show()  # type: ignore[attr-defined]
        return int(getattr(wrong, "exit_code", EXIT_USAGE))
    except Exception as error:  # one line, never a traceback (with -v the log has it)
        if logging.getLogger().isEnabledFor(logging.INFO):
            logging.getLogger("monitorlink").exception("command failed")
        console.print(styled("error:", "bold red", f" {_one_line(error)}"), soft_wrap=True, highlight=False)
        return EXIT_ERROR
    return int(result or 0)


def _one_line(error: Exception) -> str:
    """The error's own message, or its type when it has none; expected errors need no type name."""
    message = str(error).strip() or type(error).__name__
    expected = isinstance(error, (ValueError, FileNotFoundError, TimeoutError)) or _is_platform_error(error)
    return message if expected else f"{type(error).__name__}: {message}"


def _is_platform_error(error: Exception) -> bool:
    """Errors the platform raises on purpose (build failures, services, CBS, Superset, pseudonym key)."""
    return type(error).__module__.split(".")[0] in ("monitorlink", "connectors")


if __name__ == "__main__":
    sys.exit(main())
