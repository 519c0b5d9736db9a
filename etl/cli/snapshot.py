"""`cxkpi snapshot`: a month frozen for the board, with its pack."""

from __future__ import annotations

from pathlib import Path

import click

from etl.cli.base import Progress, cli


@cli.command()
@click.option("--month", required=True, help="The month to freeze, as YYYY-MM (e.g. 2026-10).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the PDF and HTML pack (default: snapshots/ beside the database).",
)
@click.option(
    "--by",
    metavar="NAME",
    default=None,
    help="Who takes the snapshot, as the pack and the dashboard name them (e.g. the board"
    " secretary); or $CXKPI_SNAPSHOT_BY. Never the login account: without either, no name.",
)
@click.pass_obj
def snapshot(obj: dict, month: str, out: Path | None, by: str | None) -> None:
    """Freeze a finished month's figures and write its board pack (PDF and HTML).

    The frozen figures never change: late data and rebuilds change the live views only.
    Taking the same month again adds version 2 (3, ...) and says what changed. A month with
    no data, or whose data is still loading, is refused.
    """
    from etl.reporting.formats import format_moment, parse_month
    from etl.reporting.snapshot import take

    try:
        first_day = parse_month(month)
    except ValueError as error:
        raise click.BadParameter(str(error).split(": ", 1)[1], param_hint="--month") from None
    with Progress(obj["quiet"]) as progress:
        taken = take(
            obj["db"],
            first_day,
            out_dir=out,
            by=by,
            on_stage=lambda stage: progress.stage(month, stage),
        )
    click.echo(
        f"{taken.snapshot_id}: {taken.month:%B %Y} version {taken.version}, frozen"
        f" {format_moment(taken.taken_at)}{f' by {taken.by}' if taken.by else ''},"
        f" fingerprint {taken.fingerprint[:16]}"
    )
    if not taken.by:
        click.echo("  frozen by: no name recorded (pass --by NAME or set CXKPI_SNAPSHOT_BY)")
    click.echo(f"  board pack: {taken.pdf_path} ({taken.pages} pages)")
    click.echo(f"  same as HTML: {taken.html_path}")
    for line in taken.changes:
        click.echo(f"  {line}")
