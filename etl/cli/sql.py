"""`cxkpi sql`: ad-hoc SQL over the documented views, through the guard."""

from __future__ import annotations

import sys

import click

from etl.cli.base import cli

EXAMPLE_QUERIES = (
    "SELECT month, nps, nps_n, nps_ci_low, nps_ci_high FROM organisation_month ORDER BY month",
    "SELECT department_name, month, aht_seconds, fcr_rate, fcr_rate_n, nps, nps_note"
    " FROM department_month WHERE department_id = 'BIL' ORDER BY month",
    "SELECT department_name, verdict, explanation FROM department_value ORDER BY verdict",
    "SELECT explanation FROM kpi_conflicts WHERE flagged AND productivity_metric = 'aht_seconds'",
)


@cli.command()
@click.argument("query")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=None,
    help="Rows printed at most (default 1000, or $CXKPI_SQL_MAX_ROWS).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds before the query is stopped (default 30, or $CXKPI_SQL_TIMEOUT).",
)
@click.option(
    "--raw",
    is_flag=True,
    help="With --format csv: cells exactly as stored, even those a spreadsheet would run as "
    "formulas (starting with = + - @); by default they get a leading apostrophe.",
)
@click.pass_obj
def sql(
    obj: dict, query: str, fmt: str, max_rows: int | None, timeout: float | None, raw: bool
) -> None:
    """Run one read-only query over the analyst views ('-' reads it from standard input).

    The same guard as the dashboard's SQL workbench: one SELECT over the documented views
    (docs/data-dictionary.md), no files, URLs, settings or raw tables, with a time, memory
    and row limit. A refusal is one line on standard error and exit status 1. The table
    shows control characters escaped (\\x1b); CSV neutralises formula cells unless --raw;
    JSON keeps values exact.
    """
    from etl import cells
    from etl.warehouse.sandbox import Limits, Sandbox

    if raw and fmt != "csv":
        raise click.UsageError("--raw applies to --format csv only (JSON is always exact)")
    if query == "-":
        query = sys.stdin.read()
    limits = Limits.from_env(max_rows=max_rows, timeout_seconds=timeout)
    with Sandbox(obj["db"], limits) as sandbox:
        result = sandbox.run(query)
    frame, shown = result.frame, limits.max_rows
    # color=True: otherwise click strips escape sequences from the values it prints.
    if fmt == "csv":
        csv = cells.for_csv(frame, raw).write_csv()
        click.echo(csv, nl=False, color=True)
    elif fmt == "json":
        click.echo(frame.write_json(), color=True)
    else:
        import polars as pl

        with pl.Config(
            tbl_rows=shown,
            tbl_cols=-1,
            fmt_str_lengths=60,
            tbl_width_chars=200,
            tbl_hide_dataframe_shape=True,
        ):
            table = str(cells.for_terminal(frame))
        click.echo(cells.escape_lines(table))
        click.echo(
            f"{frame.height} row(s) in {result.seconds:.2f}s"
            + (f", first {shown} shown" if result.truncated else "")
        )
    if result.truncated and fmt != "table":
        click.echo(f"note: only the first {shown} rows; raise --max-rows for more", err=True)
