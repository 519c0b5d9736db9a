"""The command group, its shared options and progress display, and the entry point."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import click

from etl.errors import CxkpiError
from etl.warehouse.publish import resolve_db


class Progress:
    """Progress of a long command: a live bar on a terminal, plain lines otherwise."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.live = not quiet and sys.stderr.isatty()
        self.started = time.monotonic()
        self.subject, self.subject_started = "", self.started
        self.bar = None

    def __enter__(self) -> Progress:
        if self.live:
            from rich.progress import BarColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[rows]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            self.bar.__enter__()
            self.task = self.bar.add_task("starting", total=None, rows="")
        return self

    def __exit__(self, *exc) -> None:
        if self.bar:
            self.bar.__exit__(*exc)

    def total(self, units: int) -> None:
        """Set the amount of work (bytes of input) the bar measures."""
        if self.bar:
            self.bar.update(self.task, total=units)

    def advance(self, units: int) -> None:
        """Mark work done."""
        if self.bar:
            self.bar.advance(self.task, units)

    def stage(self, subject: str, stage: str, rows: int = 0) -> None:
        """Report the stage a file or model is in."""
        now = time.monotonic()
        if subject != self.subject:
            self.subject, self.subject_started = subject, now
        elapsed = now - self.started
        spent = now - self.subject_started
        rate = f"{rows / spent:,.0f} rows/s" if rows and spent > 0 else ""
        if self.bar:
            self.bar.update(
                self.task,
                description=f"{Path(subject).name}: {stage}",
                rows=f"{rows:,} rows {rate}" if rows else "",
            )
        elif not self.quiet:
            click.echo(
                f"[{elapsed:6.1f}s] {subject}: {stage}" + (f" ({rows:,} rows)" if rows else ""),
                err=True,
            )

    def echo(self, line: str) -> None:
        """Print a result line above the bar."""
        if self.bar:
            self.bar.console.print(line, highlight=False, markup=False)
        else:
            click.echo(line)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Database file (default: $CXKPI_DB, else data/cxkpi.duckdb).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress output, only summary lines.")
@click.pass_context
def cli(ctx: click.Context, db: Path | None, quiet: bool) -> None:
    """cxkpi: where your productivity KPIs work against your customers."""
    ctx.obj = {"db": resolve_db(db), "quiet": quiet}


def _engine_options(what: str):
    """--engine, --lake, --master and --conf, shared by load and build."""

    def apply(command):
        for option in reversed(
            (
                click.option(
                    "--engine",
                    type=click.Choice(["duckdb", "spark"]),
                    default="duckdb",
                    show_default=True,
                    help=f"Where {what}: DuckDB on the database file, or Spark on a Parquet lake.",
                ),
                click.option(
                    "--lake",
                    type=click.Path(file_okay=False, path_type=Path),
                    help="With --engine spark: the Parquet lake holding raw/ and meta/"
                    " (docs/scale-out.md).",
                ),
                click.option(
                    "--master",
                    help="With --engine spark: Spark's master URL (default: spark-submit's,"
                    " else local[*]).",
                ),
                click.option(
                    "--conf",
                    "confs",
                    multiple=True,
                    metavar="KEY=VALUE",
                    help="With --engine spark: a Spark setting, e.g. spark.driver.memory=8g"
                    " (repeatable).",
                ),
            )
        ):
            command = option(command)
        return command

    return apply


def _profile(name: str | None):
    from etl.contract.profiles import find

    return find(name) if name else None


def _settings(confs: tuple[str, ...]) -> dict[str, str]:
    """Spark's settings from --conf KEY=VALUE (not cxkpi's, which are etl/settings.py's)."""
    spark_conf = {}
    for conf in confs:
        key, sep, value = conf.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--conf {conf!r}: expected KEY=VALUE")
        spark_conf[key.strip()] = value.strip()
    return spark_conf


def _invoked_as() -> str:
    """How the user ran cxkpi, so printed commands work as pasted (.venv/bin/cxkpi or cxkpi)."""
    program = Path(sys.argv[0])
    if program.name != "cxkpi" or shutil.which("cxkpi") == str(program.resolve()):
        return "cxkpi"
    try:
        return str(program.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(program)


def main(args: list[str] | None = None) -> None:
    """Entry point: user errors print one line and exit 1, never a traceback.

    args: the command line after `cxkpi` (default: the process's own), for running in-process.
    """
    try:
        cli.main(args=args, prog_name="cxkpi", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except CxkpiError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted: nothing was published", err=True)
        sys.exit(130)
