"""`cxkpi themes check FILE`: what an edited theme taxonomy would take from the comments."""

from __future__ import annotations

from pathlib import Path

import click

from etl.cli.base import cli


@cli.group()
def themes() -> None:
    """The theme taxonomy survey comments are assigned to (docs/methodology.md)."""


@themes.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--examples", default=3, show_default=True, help="Example comments per theme.")
@click.pass_obj
def themes_check(obj: dict, file: Path, examples: int) -> None:
    """Check a taxonomy FILE and theme the warehouse's comments with it, changing nothing.

    Each theme shows the comments it would take, their share of all comments, its F1 on the
    labelled comments (if they cover it) and its clearest examples, redacted; then the comments
    no theme would take. A build uses the taxonomy that CXKPI_THEMES names.
    """
    from etl import cells
    from etl.analyses.comments import preview
    from etl.analyses.thresholds import MIN_F1
    from etl.contract.themes import read
    from etl.warehouse.read_only import connect_read_only

    taxonomy = read(file)
    con = connect_read_only(obj["db"])
    try:
        comments = con.sql(
            "SELECT response_id, department_id, comment FROM stg_nps_responses"
            " WHERE comment IS NOT NULL AND trim(comment) <> '' ORDER BY response_id"
        ).pl()
    finally:
        con.close()
    click.echo(
        f"{file}: {len(taxonomy.themes)} theme(s); {comments.height:,} comments in {obj['db']}"
    )
    if not comments.height:
        click.echo("no comments to theme yet: load survey answers with a comment column")
        return
    found, unmatched = preview(taxonomy, comments, examples)
    for row in found.iter_rows(named=True):
        f1 = row["f1"]
        quality = (
            "not measured (no labelled comments)"
            if f1 is None
            else f"F1 {f1:.2f}" + ("" if f1 >= MIN_F1 else " (unreliable)")
        )
        click.echo(
            f"\n{row['theme_id']} - {cells.escape(row['theme_label'])}: {row['comments']:,}"
            f" comments ({row['share']:.1%}), {quality}"
        )
        for text in row["examples"]:
            click.echo(f'  "{cells.escape(text)}"')
    click.echo(
        f"\nunmatched: {unmatched:,} comments ({unmatched / comments.height:.1%}) take no theme"
    )
