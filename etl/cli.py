"""The cxkpi command line: demo, load, build, validate, sql, snapshot and serve."""

from __future__ import annotations

import shutil
import socket
import sys
import time
from pathlib import Path

import click

from etl import settings
from etl.errors import CxkpiError
from etl.warehouse import resolve_db

EXAMPLE_QUERIES = (
    "SELECT month, nps, nps_n, nps_ci_low, nps_ci_high FROM organisation_month ORDER BY month",
    "SELECT department_name, month, aht_seconds, fcr_rate, fcr_rate_n, nps, nps_note"
    " FROM department_month WHERE department_id = 'BIL' ORDER BY month",
    "SELECT department_name, verdict, explanation FROM department_value ORDER BY verdict",
    "SELECT explanation FROM kpi_conflicts WHERE flagged AND productivity_metric = 'aht_seconds'",
)


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


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--source", help="Treat every file as this source (default: from the folder name).")
@click.option("--no-build", is_flag=True, help="Load the raw layer only; do not rebuild views.")
@click.option(
    "--profile",
    metavar="NAME|PATH",
    help="Read foreign exports through a mapping profile (docs/profiles.md).",
)
@_engine_options("files are read and checked")
@click.pass_obj
def load(
    obj: dict,
    paths: tuple[str, ...],
    source: str | None,
    no_build: bool,
    profile: str | None,
    engine: str,
    lake: Path | None,
    master: str | None,
    confs: tuple[str, ...],
) -> None:
    """Load export files or folders (<folder>/<source>/*.csv|*.parquet) into the warehouse.

    With --profile, the files are foreign exports (CSV, TSV, XLSX, Parquet) that the profile
    maps to its contract source. With --engine spark, Spark loads the files into the lake's
    raw layer, and then (unless --no-build) builds and publishes as `build --engine spark`.
    """
    if engine == "spark":
        results = _load_on_spark(obj, paths, source, not no_build, profile, lake, master, confs)
    elif lake or master or confs:
        raise click.UsageError("--lake, --master and --conf go with --engine spark")
    else:
        results = _load(obj, paths, source, build=not no_build, profile=profile)
    sys.exit(0 if all(r.ok for r in results) else 1)


def _load_on_spark(obj: dict, paths, source, build: bool, profile, lake, master, confs):
    from etl import lake as lakes
    from etl import spark, spark_load

    if profile:
        raise click.UsageError(
            "--profile goes with the DuckDB engine: load foreign exports with DuckDB, then"
            " `cxkpi lake export` (docs/scale-out.md)"
        )
    if lake is None:
        raise click.UsageError("--engine spark needs --lake DIR (docs/scale-out.md)")
    conf = _settings(confs)
    settings.check(settings.LOAD)
    files = _collect(paths, source)
    with lakes.writing(lake), Progress(obj["quiet"]) as progress:
        progress.stage("Spark", "starting")
        with spark.running(master, conf) as session:
            results = spark_load.load_files(
                session,
                lake,
                files,
                report=progress.stage,
                on_result=lambda result: progress.echo(result.summary()),
            )
            if build:
                _spark_build(obj, lake, session, progress)
    return results


def _load(obj: dict, paths, source: str | None, build: bool, profile: str | None = None):
    from etl import load as loading
    from etl import models
    from etl.lake import refuse_load
    from etl.warehouse import writing

    settings.check(settings.LOAD)  # before any file: a bad value may only show on a late row
    mapping = _profile(profile)
    files = _collect(paths, source, mapping)
    noted = [
        loading.journal_entry(path, mapping.source.name if mapping else src) for path, src in files
    ]
    results = []
    with Progress(obj["quiet"]) as progress, writing(obj["db"], files=noted) as con:
        refuse_load(con, obj["db"])
        progress.total(sum(p.stat().st_size for p, _ in files if p.exists()))
        for path, src in files:
            result = loading.load_file(con, path, src, report=progress.stage, profile=mapping)
            progress.advance(path.stat().st_size if path.exists() else 0)
            progress.echo(result.summary())
            results.append(result)
        if build:
            built = models.build(con, on_model=lambda name: progress.stage(name, "building"))
            progress.stage("the models' tests", "running")
            models.refuse_failures(con, f"{obj['db']}: the loaded data")
            progress.echo(f"{obj['db']}: built {len(built)} models")
    return results


def _collect(paths, source, profile=None):
    from etl.load import collect

    try:
        return collect(paths, source, profile)
    except CxkpiError as error:
        raise click.UsageError(str(error)) from None


def _profile(name: str | None):
    from etl.profiles import find

    return find(name) if name else None


@cli.command()
@_engine_options("the models run")
@click.pass_obj
def build(
    obj: dict, engine: str, lake: Path | None, master: str | None, confs: tuple[str, ...]
) -> None:
    """Rebuild the staging views and marts from the raw layer, and test them.

    The tests the models' YAML declares run on the result; if one fails, nothing is
    published and the previous build stays.

    With --engine spark, Spark builds the marts from the lake's Parquet into LAKE/marts, and
    the database file becomes the dashboard's copy of them (raw tables read from the lake).
    """
    from etl import models
    from etl.lake import published_from
    from etl.warehouse import writing

    if engine == "spark":
        _build_on_spark(obj, lake, master, _settings(confs))
        return
    if lake or master or confs:
        raise click.UsageError("--lake, --master and --conf go with --engine spark")
    if not obj["db"].exists():
        raise CxkpiError(f"{obj['db']}: no database yet; run `cxkpi load` first")
    with Progress(obj["quiet"]) as progress, writing(obj["db"]) as con:
        source = published_from(con)
        if source:
            raise CxkpiError(
                f"{obj['db']}: published from the lake {source}; build it again with"
                f" --engine spark --lake {source} (its marts come from Spark)"
            )
        built = models.build(con, on_model=lambda name: progress.stage(name, "building"))
        progress.stage("the models' tests", "running")
        models.refuse_failures(con, f"{obj['db']}: the built models")
    click.echo(f"{obj['db']}: built {len(built)} models and passed their tests")


def _settings(confs: tuple[str, ...]) -> dict[str, str]:
    """Spark's settings from --conf KEY=VALUE (not cxkpi's, which are etl/settings.py's)."""
    spark_conf = {}
    for conf in confs:
        key, sep, value = conf.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--conf {conf!r}: expected KEY=VALUE")
        spark_conf[key.strip()] = value.strip()
    return spark_conf


def _build_on_spark(obj: dict, lake: Path | None, master: str | None, conf: dict) -> None:
    from etl import lake as lakes
    from etl import spark

    if lake is None:
        raise click.UsageError("--engine spark needs --lake DIR (docs/scale-out.md)")
    lakes.check(lake)
    with lakes.writing(lake), Progress(obj["quiet"]) as progress:
        progress.stage("Spark", "starting")
        with spark.running(master, conf) as session:
            _spark_build(obj, lake, session, progress)


def _spark_build(obj: dict, lake: Path, session, progress: Progress) -> None:
    """Build the marts on Spark and publish them into --db (the caller holds the lake)."""
    from etl import lake as lakes
    from etl import spark
    from etl.warehouse import writing

    marts = spark.build(
        session,
        lake,
        on_model=lambda name: progress.stage(name, "building on Spark"),
        published=_published_waves(obj["db"]),
    )
    progress.echo(f"{lake}: Spark built {len(marts)} marts into {lake / 'marts'}")
    with writing(obj["db"]) as con:
        built = lakes.publish(
            con, lake, marts, obj["db"], lambda name: progress.stage(name, "publishing")
        )
    progress.echo(f"{obj['db']}: published {len(built)} models from {lake}")


def _published_waves(db: Path) -> list[tuple]:
    """The employee-survey counts the warehouse's board snapshots published (none yet: [])."""
    import duckdb

    if not db.exists():
        return []
    with duckdb.connect(str(db), read_only=True) as con:
        present = con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE table_name = 'meta_published_engagement'"
        ).fetchall()
        return con.execute("FROM meta_published_engagement").fetchall() if present else []


@cli.group()
def lake() -> None:
    """The Parquet lake that `build --engine spark` reads (docs/scale-out.md)."""


@lake.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def lake_export(obj: dict, folder: Path) -> None:
    """Write the warehouse's raw and meta tables to FOLDER as Parquet, split by month."""
    import duckdb

    from etl import lake as lakes

    if not obj["db"].exists():
        raise CxkpiError(f"{obj['db']}: no database yet; run `cxkpi load` first")
    con = duckdb.connect(str(obj["db"]), read_only=True)
    try:
        source = lakes.published_from(con)
        if source:
            raise CxkpiError(f"{obj['db']}: published from the lake {source} already")
        with lakes.writing(folder):
            written = lakes.export(con, folder)
    finally:
        con.close()
    for table, rows in written.items():
        click.echo(f"{table}: {rows} rows")
    click.echo(f"{folder}: exported {len(written)} tables from {obj['db']}")


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--source", help="Treat every file as this source (default: from the folder name).")
@click.option("--show", default=5, show_default=True, help="Problems to list per file.")
@click.option(
    "--profile",
    metavar="NAME|PATH",
    help="Read foreign exports through a mapping profile (docs/profiles.md).",
)
@click.pass_obj
def validate(
    obj: dict, paths: tuple[str, ...], source: str | None, show: int, profile: str | None
) -> None:
    """Check files against the input contract without loading anything."""
    from etl.check import check_files

    mapping = _profile(profile)
    files = _collect(paths, source, mapping)
    ok = True
    for result, problems in check_files(files, obj["db"], show, mapping):
        click.echo(result.summary())
        for line in problems:
            click.echo(f"  {line}")
        if result.rows_quarantined > len(problems):
            click.echo(f"  ... and {result.rows_quarantined - len(problems)} more")
        ok = ok and result.ok
    sys.exit(0 if ok else 1)


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
    from etl.sandbox import Limits, Sandbox

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


@cli.command()
@click.option("--scale", default=None, help="Interactions per year, e.g. 400k (default), 1M, 10M.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data/sample"),
    show_default=True,
    help="Where sample files go.",
)
@click.option("--port", default=8501, show_default=True, help="Port the dashboard serves on.")
@click.option("--no-serve", is_flag=True, help="Stop after building; do not serve the dashboard.")
@click.pass_obj
def demo(obj: dict, scale: str | None, out: Path, port: int, no_serve: bool) -> None:
    """Generate sample data, load it, build, snapshot its last month and serve the dashboard.

    The sample is seeded (the same every time); its last month is frozen as a board snapshot
    with its PDF pack once, so the Board snapshots page has one to show.
    """
    from etl.sample import generate

    started = time.monotonic()
    counts = generate(out, scale)
    click.echo(
        f"{out}: generated {sum(counts.values()):,} rows in {time.monotonic() - started:.1f}s"
    )
    results = _load(obj, [str(out)], None, build=True)
    failed = [r for r in results if not r.ok]
    if not failed:
        _demo_snapshot(obj["db"])
    click.echo(f"demo ready in {time.monotonic() - started:.1f}s: database {obj['db']}")
    click.echo("Ask your own questions, for example:")
    for query in EXAMPLE_QUERIES:
        click.echo(f'  {_invoked_as()} --db {obj["db"]} sql "{query}"')
    if failed or no_serve:
        sys.exit(1 if failed else 0)
    _serve(obj["db"], DEFAULT_HOST, port)


def _demo_snapshot(db: Path) -> None:
    """Freeze the sample's last month once, so the Board snapshots page has one to show."""
    from etl.snapshot import demo_month, take

    month = demo_month(db)
    if month is None:
        return
    try:
        taken = take(db, month)
    except CxkpiError as error:
        click.echo(f"board snapshot skipped: {error}", err=True)
        return
    click.echo(f"{taken.snapshot_id}: board pack {taken.pdf_path} ({taken.pages} pages)")


#: The dashboard binds the loopback address unless told otherwise (Streamlit binds every one).
DEFAULT_HOST = "127.0.0.1"
DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


@cli.command()
@click.option("--port", default=8501, show_default=True, help="Port to serve on.")
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Address to bind; 0.0.0.0 opens the dashboard to the network (needs sign-in).",
)
@click.option(
    "--sql-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds before a SQL workbench query is stopped (default 30, or $CXKPI_SQL_TIMEOUT).",
)
@click.option(
    "--secrets",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Streamlit secrets file whose [auth] section configures sign-in"
    " (default: .streamlit/secrets.toml here, then in your home folder).",
)
@click.option(
    "--access",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Access file: who may see what once signed in (docs/access.md); or $CXKPI_ACCESS.",
)
@click.option(
    "--unsafe-no-sign-in",
    is_flag=True,
    help="Serve an address other than loopback WITHOUT sign-in: anyone who reaches it sees"
    " every department and can query the warehouse.",
)
@click.pass_obj
def serve(
    obj: dict,
    port: int,
    host: str,
    sql_timeout: float | None,
    secrets: Path | None,
    access: Path | None,
    unsafe_no_sign_in: bool,
) -> None:
    """Serve the dashboard (headless) until interrupted.

    Without sign-in configured it serves this machine only (127.0.0.1); with an [auth]
    section in Streamlit's secrets, people sign in and the access file decides what each
    may see (docs/access.md).
    """
    if sql_timeout is not None:  # the option wins over $CXKPI_SQL_TIMEOUT
        settings.SQL_TIMEOUT.hand_over(sql_timeout)
    _serve(obj["db"], host, port, secrets, access, unsafe_no_sign_in)


#: Addresses only this machine can reach.
LOOPBACK = ("127.0.0.1", "::1", "localhost")
#: The keys st.login needs in [auth] for one OpenID Connect provider.
AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")


def _sign_in(
    db: Path, host: str, secrets: Path | None, access: Path | None, unsafe: bool
) -> list[str]:
    """Check sign-in and access before serving; returns Streamlit flags for them.

    Hands $CXKPI_ACCESS and $CXKPI_UNSAFE_OPEN to the dashboard. Refuses to serve beyond this
    machine without sign-in unless told so loudly, and refuses an access file with any mistake.
    """
    import tomllib

    if secrets is not None and not secrets.is_file():
        raise CxkpiError(f"{secrets}: no such secrets file")
    files = (
        [secrets]
        if secrets
        else [
            p
            for p in (Path.home() / ".streamlit/secrets.toml", Path(".streamlit/secrets.toml"))
            if p.is_file()
        ]
    )
    auth, auth_file = None, None
    for file in files:
        try:
            found = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise CxkpiError(f"{file}: cannot read the secrets ({error})") from None
        if "auth" in found:
            auth, auth_file = found["auth"], file
    from etl.access import configured, parse

    access = access or configured()
    if auth is None:
        if access is not None:
            raise CxkpiError(
                f"{access}: an access file needs sign-in, and no [auth] section was found in"
                f" {', '.join(map(str, files)) or '.streamlit/secrets.toml'} (docs/access.md)"
            )
        if host not in LOOPBACK and not unsafe:
            raise CxkpiError(
                f"refusing to serve {host} without sign-in: anyone who reaches it would see every"
                " department and could query the warehouse. Configure sign-in (docs/access.md),"
                " serve 127.0.0.1, or pass --unsafe-no-sign-in"
            )
        # Set either way, so a value left in the environment cannot say otherwise.
        settings.UNSAFE_OPEN.hand_over(host not in LOOPBACK)
        if host not in LOOPBACK:
            click.echo(f"WARNING: serving {host} without sign-in: anyone who reaches it sees all")
        return [item for f in files for item in ("--secrets.files", str(f.resolve()))]
    missing = [k for k in AUTH_KEYS if not str(auth.get(k, "")).strip()]
    if missing:
        raise CxkpiError(f"{auth_file}: [auth] lacks {', '.join(missing)} (docs/access.md)")
    if not str(auth["redirect_uri"]).rstrip("/").endswith("/oauth2callback"):
        raise CxkpiError(
            f"{auth_file}: [auth] redirect_uri must be the dashboard's address followed by"
            f" /oauth2callback (Streamlit's sign-in callback), not {auth['redirect_uri']!r}"
        )
    if access is None:
        raise CxkpiError(
            f"sign-in is configured in {auth_file}, but no access file says who may see what:"
            " pass --access FILE (docs/access.md)"
        )
    rules = parse(access)
    _check_departments(rules, db)
    settings.UNSAFE_OPEN.hand_over(False)
    settings.ACCESS.hand_over(access.resolve())
    click.echo(
        f"sign-in: {auth['server_metadata_url']}; access: {len(rules.grants)} grant(s) in"
        f" {access}, questions to {rules.contact}"
    )
    # Tables lose their own CSV buttons: downloads are the workbench's, for analysts. (Streamlit
    # hides controls, not data; what a reader may see is enforced by the views they read.)
    return ["--secrets.files", str(Path(auth_file).resolve()), "--client.disableDataExport", "true"]


def _serve(
    db: Path,
    host: str,
    port: int,
    secrets: Path | None = None,
    access: Path | None = None,
    unsafe: bool = False,
) -> None:
    """Run the Streamlit server on the dashboard, reading db; returns when it stops.

    The dashboard runs in this process, so its settings are handed over in the environment
    (etl/settings.py says why), and checked here first: a bad value stops serve in one line.
    """
    sign_in = _sign_in(db, host, secrets, access, unsafe)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the server will: a port a stopped server left in TIME_WAIT is free to use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise CxkpiError(
                f"cannot serve on {host}:{port}: {error.strerror}; try --port"
            ) from None
    if not db.exists():
        click.echo(f"note: {db} does not exist yet; the dashboard will say how to create it")
    settings.DB.hand_over(db.resolve())  # --db, else $CXKPI_DB, as the commands resolved it
    settings.check(settings.DASHBOARD)
    click.echo(f"cxkpi dashboard: http://{host}:{port}  (database {db}; Ctrl+C stops it)")
    from streamlit.web import cli as streamlit_cli

    # Streamlit's own command line (its flags, not cxkpi's settings): its main() and the
    # server it starts read sys.argv.
    sys.argv = ["streamlit", "run", str(DASHBOARD), *_streamlit_flags(host, port), *sign_in]
    streamlit_cli.main()


def _streamlit_flags(host: str, port: int) -> list[str]:
    """A product, not a developer tool: no deploy button, no file watching, no telemetry."""
    options = {
        "server.address": host,
        "server.port": port,
        "server.headless": "true",
        "server.runOnSave": "false",
        "server.fileWatcherType": "none",
        "browser.gatherUsageStats": "false",
        "browser.serverAddress": host,
        "client.toolbarMode": "minimal",
        "client.showErrorDetails": "none",
        "global.developmentMode": "false",
        "logger.level": "warning",
        "theme.primaryColor": "#0e5e6f",
    }
    return [item for key, value in options.items() for item in (f"--{key}", str(value))]


def _check_departments(rules, db: Path) -> int | None:
    """Check the access file's departments against the warehouse; how many it knows (None:
    no warehouse or views yet, so the dashboard checks on every page run instead)."""
    if not db.exists():
        return None
    import duckdb

    from etl.query import connect_read_only

    con = connect_read_only(db)
    try:
        known = dict(
            con.sql("SELECT value, label FROM filter_values WHERE filter = 'department'").fetchall()
        )
    except duckdb.CatalogException:
        return None
    finally:
        con.close()
    rules.check_departments(known)
    return len(known)


@cli.group()
def access() -> None:
    """The access file: who may see what once people sign in (docs/access.md)."""


@access.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--email", help="Say what a person signing in with this e-mail would get.")
@click.option("--group", "groups", multiple=True, help="A group of that person (repeatable).")
@click.pass_obj
def access_check(obj: dict, file: Path, email: str | None, groups: tuple[str, ...]) -> None:
    """Check an access file against the warehouse; with --email, resolve one person."""
    from etl.access import parse

    rules = parse(file)
    click.echo(f"{file}: {len(rules.grants)} grant(s), questions to {rules.contact}")
    for grant in rules.grants:
        where = f", {', '.join(grant.departments)} only" if grant.departments else ""
        click.echo(f"  line {grant.line}: {grant.match} {grant.value} -> {grant.role.name}{where}")
    known = _check_departments(rules, obj["db"])
    click.echo(
        f"departments: every one named is among the {known} in {obj['db']}"
        if known is not None
        else f"departments: not checked, no built warehouse at {obj['db']}"
    )
    if email or groups:
        claims = {"email": email, "email_verified": True} if email else {}
        found = rules.resolve({**claims, rules.groups_claim: list(groups)})
        who = email or ", ".join(groups)
        if found is None:
            click.echo(f"{who}: no access (the page tells them to ask {rules.contact})")
        else:
            click.echo(f"{who}: {found.describe()}, by {found.because}")


@cli.group()
def profile() -> None:
    """Mapping profiles for foreign exports: list them, check one against a file."""


@profile.command("list")
def profile_list() -> None:
    """The profiles found by name (your folder, then those shipped with cxkpi)."""
    from etl.profiles import SHIPPED, available, parse, user_folder

    for path in available():
        found = parse(path)
        click.echo(f"{found.name}: {found.source.name} - {found.description}  ({path})")
    click.echo(f"(your profiles go in {user_folder()}, or set $CXKPI_PROFILES; shipped: {SHIPPED})")


@profile.command("check")
@click.argument("name")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rows", default=5, show_default=True, help="Mapped rows to preview.")
def profile_check(name: str, file: Path | None, rows: int) -> None:
    """Check a profile; with FILE, compare it with the export and preview mapped rows."""
    from etl.profiles import check

    ok = True
    for line, good in check(_profile(name), file, rows):
        click.echo(line)
        ok = ok and good
    sys.exit(0 if ok else 1)


@cli.command()
@click.option("--month", required=True, help="The month to freeze, as YYYY-MM (e.g. 2026-10).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the PDF and HTML pack (default: snapshots/ beside the database).",
)
@click.option("--by", default=None, help="Who takes the snapshot (default: the login name).")
@click.pass_obj
def snapshot(obj: dict, month: str, out: Path | None, by: str | None) -> None:
    """Freeze a finished month's figures and write its board pack (PDF and HTML).

    The frozen figures never change: late data and rebuilds change the live views only.
    Taking the same month again adds version 2 (3, ...) and says what changed. A month with
    no data, or whose data is still loading, is refused.
    """
    from etl.snapshot import parse_month, take

    try:
        first_day = parse_month(month)
    except CxkpiError as error:
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
        f" {taken.taken_at:%Y-%m-%d %H:%M}, fingerprint {taken.fingerprint[:16]}"
    )
    click.echo(f"  board pack: {taken.pdf_path} ({taken.pages} pages)")
    click.echo(f"  same as HTML: {taken.html_path}")
    for line in taken.changes:
        click.echo(f"  {line}")


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


if __name__ == "__main__":  # spark-submit runs this file (docs/scale-out.md)
    main()
