"""What `make run` prints: what was pulled, landed and quarantined, the KPI, and where to look.

Figures come from the lake and the *published* warehouse, not from in-memory counters, so the summary
shows what an analyst will find when they open the same files.
"""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from monitorlink.core.config import Settings
from monitorlink.core.lake import Lake
from monitorlink.ingest.availability import PulledSnapshot
from monitorlink.ingest.delivery_log import DeliveryOutcome, delivery_log
from monitorlink.ingest.stream import IngestStats
from monitorlink.ops import quality_report
from monitorlink.warehouse import disclosure
from monitorlink.warehouse.build import BuildResult, connect_readonly


def snapshot_table(pulled: list[PulledSnapshot], published: dict[str, int]) -> Table:
    """One line per pulled snapshot: rows in it and events published from it this run."""
    table = Table(title="Availability snapshots pulled")
    for column in ("snapshot", "rows", "events published", "raw zone"):
        table.add_column(column, justify="right" if column in ("rows", "events published") else "left")
    for item in pulled:
        sent = published.get(item.raw_path)
        note = str(sent) if sent is not None else "0 (same bytes already ingested)"
        if item.error is not None:
            note = f"0 — failed: {item.error}"
        table.add_row(item.origin.rsplit("/", 1)[-1], str(item.rows), note, item.raw_path)
    return table


def ingestion_table(lake: Lake, dataset: str, stats: IngestStats) -> Table:
    """This run's ingestion, and the lake's totals per zone and quarantine rule (rules in rows, as
    `monitorlink quality report` counts them)."""
    table = Table(title=f"Ingestion of {dataset} (this run / lake total)")
    table.add_column("what")
    table.add_column("this run", justify="right")
    table.add_column("lake total", justify="right")
    landed = quality_report.report(lake, dataset)
    table.add_row("events consumed", str(stats.consumed), "")
    table.add_row("validated → lake", str(stats.validated), str(sum(batch.validated for batch in landed)))
    table.add_row("quarantined", str(stats.quarantined), str(sum(batch.quarantined for batch in landed)))
    table.add_row("re-deliveries skipped", str(stats.redelivered_skipped), "")
    for count in quality_report.rule_counts(landed):
        if count.kind == "quarantine":
            table.add_row(
                f"  quarantine rule (rows): {count.rule}",
                str(stats.rules.get(count.rule, 0)),
                str(count.rows),
            )
    return table


def delivery_outcomes_table(source: str, outcomes: list[DeliveryOutcome]) -> Table:
    """What this run decided per delivery of one source (only deliveries new to the lake)."""
    table = Table(title=f"{source}: {len(outcomes)} new deliveries")
    for column in ("delivery", "outcome", "rows", "critical rules", "warnings"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for outcome in outcomes:
        table.add_row(
            outcome.name,
            outcome.outcome,
            str(sum(outcome.rows.values())),
            _counts(outcome.critical),
            _counts(outcome.warnings),
        )
    return table


def sources_table(lake: Lake, this_run: dict[str, list[DeliveryOutcome]]) -> Table:
    """Per file/API source: deliveries and rows this run and in the lake, and every rule that fired,
    counted in deliveries as `monitorlink quality report` counts them (its rules table)."""
    table = Table(title="Deliveries per source (this run / lake total, from the delivery logs)")
    columns = (
        "source",
        "new",
        "validated",
        "quarantined",
        "re-deliveries",
        "rows validated",
        "rules (deliveries)",
        "flags (deliveries)",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("source", *columns[-2:]) else "right")
    for name in this_run:
        logged = delivery_log(lake, name)
        verdicts = Counter(o.outcome for o in logged)
        counts = quality_report.rule_counts(quality_report.report(lake, source=name))
        table.add_row(
            name,
            str(len(this_run[name])),
            str(verdicts["validated"]),
            str(verdicts["quarantined"]),
            str(verdicts["redelivery_ignored"]),
            str(sum(sum(o.rows.values()) for o in logged if o.outcome == "validated")),
            *(
                _counts({c.rule: c.deliveries for c in counts if c.kind == kind})
                for kind in ("quarantine", "flag")
            ),
        )
    return table


def _counts(counts: dict[str, int]) -> str:
    """Counts per rule on one line, most first: `rule ×count, …`."""
    return ", ".join(
        f"{rule} ×{count}" for rule, count in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    )


#: The headline figures, as the tested dbt model `fct_headline_kpis` defines them (one row).
HEADLINES = """
select period_key, per_1000, youths_in_care, gemeenten_in_total, gemeenten_expected,
       national_year, national_per_1000_year, begin_stand, instroom, uitstroom, eind_stand,
       avg_duration_days_ended, youths_placed_out_of_home, guardian_period_key,
       cases_waiting_for_guardian, school_period_key, thuiszitters, thuiszitters_with_youth_care
from main.fct_headline_kpis
"""


def headline_table(settings: Settings) -> Table:
    """Region-wide KPIs, each with the period it is about, from the analysts' (unsuppressed) warehouse.

    A quarter's count is never set beside CBS's yearly benchmark without saying which year and that a
    yearly count is higher by construction.
    """
    with connect_readonly(settings, "analysts") as connection:
        row = connection.sql(HEADLINES).fetchone()
    table = Table(title="Headline KPIs, Twente (analysts' warehouse; definitions: docs/definitions.md)")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    if row is None:
        table.add_row("no data yet", "")
        return table
    (period, per_1000, youths, in_total, expected, national_year, national) = row[:7]
    (begin, inflow, outflow, end, duration, placed) = row[7:13]
    (guardian_period, waiting, school_period, thuiszitters, with_care) = row[13:]
    coverage = "" if in_total == expected else f", {in_total} of {expected} municipalities: incomplete"
    table.add_row(
        f"youths 0–17 in youth care in quarter {period}{coverage}",
        f"{youths:,} ({per_1000} per 1,000)" if per_1000 is not None else f"{youths:,} (no CBS population)",
    )
    table.add_row(
        f"national benchmark, CBS year {national_year} (a yearly count: higher than any quarter's)",
        f"{national} per 1,000" if national is not None else "n/a",
    )
    table.add_row(
        f"trajectories in quarter {period}: begin + in − out = end",
        f"{begin:,} + {inflow:,} − {outflow:,} = {end:,}",
    )
    table.add_row(
        f"average duration of trajectories ended in {period}", f"{duration:.0f} days" if duration else "n/a"
    )
    table.add_row(f"youths placed out of home in quarter {period}", f"{placed:,}")
    table.add_row(
        f"child-protection cases waiting for a guardian at the end of {guardian_period}",
        f"{waiting:,}" if waiting is not None else "n/a",
    )
    table.add_row(
        f"thuiszitters in quarter {school_period} (of whom with youth care)",
        f"{thuiszitters:,} ({with_care:,})" if thuiszitters is not None else "n/a",
    )
    return table


def norm_table(settings: Settings) -> Table:
    """The KPI from the published warehouse: offers over the waiting-time norm, per provider."""
    with connect_readonly(settings) as connection:
        rows = connection.sql(
            """
            select provider_name,
                   count(*) as youth_offers,
                   count(*) filter (where has_wait_figure) as with_figure,
                   count(*) filter (where is_over_norm) as over_norm,
                   count(*) filter (where herstelplan_required) as herstelplan,
                   max(wait_weeks) as longest_wait_weeks
            from fct_offer_wait_norm
            group by provider_name
            having count(*) filter (where is_over_norm) > 0
            order by over_norm desc, longest_wait_weeks desc, provider_name
            """
        ).fetchall()
        totals = connection.sql(
            "select count(*), count(*) filter (where has_wait_figure), count(*) filter (where is_over_norm),"
            " count(*) filter (where herstelplan_required), any_value(norm_months) from fct_offer_wait_norm"
        ).fetchone()
        newest = connection.sql(
            "select full_state_feed, strftime(published_at, '%Y-%m-%d %H:%M'), source_name,"
            " youth_offers_listed from fct_availability_lists"
            " where is_newest order by published_at desc limit 1"
        ).fetchone()
    assert totals is not None
    based_on = (
        f"\ncurrent youth offers of the newest list: {newest[0]} of {newest[1]} UTC ({newest[2]},"
        f" {newest[3]} youth offers listed)"
        if newest
        else "\ncurrent youth offers (no full list pulled yet: direct events only)"
    )
    table = Table(
        title=f"Youth offers over the waiting-time norm ({settings.wait_norm_months:g} months), per provider"
        f"{based_on}"
    )
    for column in (
        "provider",
        "youth offers",
        "with figure",
        "over norm",
        "herstelplan",
        "longest wait (wk)",
    ):
        table.add_column(column, justify="left" if column == "provider" else "right")
    for provider, offers, with_figure, over, herstelplan, longest in rows:
        table.add_row(provider, str(offers), str(with_figure), str(over), str(herstelplan), f"{longest:.1f}")
    table.add_section()
    table.add_row("all providers", *(str(value) for value in totals[:4]), "")
    return table


def disclosure_line(settings: Settings) -> str:
    """What the publish gate covered in the published file (it refuses to publish on any finding)."""
    declared = disclosure.declarations(disclosure.manifest_path(settings.home))
    with connect_readonly(settings) as connection:
        covered = disclosure.coverage(connection, declared)
    return f"{covered} (threshold {settings.suppression_threshold}); `monitorlink disclosure` scans again"


def print_run_summary(
    settings: Settings,
    pulled: list[PulledSnapshot],
    published: dict[str, int],
    stats: IngestStats,
    outcomes: dict[str, list[DeliveryOutcome]],
    build: BuildResult,
    console: Console | None = None,
) -> None:
    """The whole `make run` report."""
    console = console or Console()
    lake = Lake(settings.lake_root)
    console.print(snapshot_table(pulled, published))
    console.print(ingestion_table(lake, "availability", stats))
    console.print(sources_table(lake, outcomes))
    console.print(headline_table(settings))
    console.print(norm_table(settings))
    console.print(
        f"\n[bold]Warehouse[/bold] published at {build.published_path} "
        f"({build.nodes_passed} dbt nodes passed in {build.seconds:.1f} s); analysts' file (unsuppressed) "
        f"{settings.analysts_warehouse_path}, restricted file (person level) "
        f"{settings.restricted_warehouse_path}: who may open which, docs/disclosure.md\n"
        f"[bold]Disclosure control[/bold]: {disclosure_line(settings)}\n"
        f"[bold]Lake[/bold] at {settings.lake_root} (raw/, validated/, quarantine/)\n"
        f'[bold]Query it[/bold]: .venv/bin/python -c "import duckdb; '
        f"print(duckdb.connect('{build.published_path}', read_only=True)"
        f".sql('select * from published.pub_reentry limit 5'))\"\n"
        f"[bold]Quarantine reasons[/bold]: `monitorlink quality report`, the delivery logs "
        f"{lake.root}/raw/<source>/deliveries.jsonl and {lake.root}/quarantine/**/*.validation.json\n"
        "[bold]Operators[/bold]: `make up` starts the broker, the ingester, the landing watcher, Airflow "
        "and Superset with the dashboards (http://127.0.0.1:8088) on 127.0.0.1",
        markup=True,  # the bold labels; the rest is paths and counts of this platform
    )
