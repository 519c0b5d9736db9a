"""`cxkpi demo` and `cxkpi serve`: the dashboard, on the sample or on a warehouse."""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import click

from etl import ROOT, settings
from etl.cli.base import _invoked_as, cli
from etl.cli.load import _load
from etl.cli.sql import EXAMPLE_QUERIES
from etl.errors import CxkpiError


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
    from etl.sample.bundled import generate

    started = time.monotonic()
    counts = generate(out, scale)
    click.echo(
        f"{out}: generated {sum(counts.values()):,} rows in {time.monotonic() - started:.1f}s"
    )
    results = _load(obj, [str(out)], None, build=True, by_source=True)
    failed = [r for r in results if not r.ok]
    if not failed:
        _demo_snapshot(obj["db"])
    click.echo(f"demo built in {time.monotonic() - started:.1f}s: database {obj['db']}")
    click.echo("Ask your own questions, for example:")
    for query in EXAMPLE_QUERIES:
        click.echo(f'  {_invoked_as()} --db {obj["db"]} sql "{query}"')
    if failed or no_serve:
        sys.exit(1 if failed else 0)
    # "ready" only once the dashboard answers: said before, the first click found nothing.
    _serve(obj["db"], DEFAULT_HOST, port, ready=started)


def _demo_snapshot(db: Path) -> None:
    """Freeze the sample's last month once, so the Board snapshots page has one to show."""
    from etl.reporting.snapshot import demo_month, take

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


DEFAULT_HOST = "127.0.0.1"
DASHBOARD = ROOT / "dashboard" / "app.py"


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
    from etl.warehouse.access import configured, parse

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
    ready: float | None = None,
) -> None:
    """Run the Streamlit server on the dashboard, reading db; returns when it stops.

    ready: when the command started (time.monotonic()): print "ready" with the address once
    the server answers a request.

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
    if ready is not None:
        threading.Thread(
            target=_say_ready, args=(f"http://{host}:{port}", ready), daemon=True
        ).start()
    from streamlit.web import cli as streamlit_cli

    # Streamlit's own command line (its flags, not cxkpi's settings): its main() and the
    # server it starts read sys.argv.
    sys.argv = ["streamlit", "run", str(DASHBOARD), *_streamlit_flags(host, port), *sign_in]
    streamlit_cli.main()


#: How long the demo waits for its server to answer before saying it did not.
READY_TIMEOUT_SECONDS = 120


def _say_ready(url: str, started: float, timeout: float = READY_TIMEOUT_SECONDS) -> bool:
    """Poll the server's health address; print "ready" with the URL once it answers."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    click.echo(f"ready in {time.monotonic() - started:.1f}s: open {url}")
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    click.echo(f"the dashboard did not answer at {url} within {timeout:.0f}s", err=True)
    return False


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

    from etl.warehouse.read_only import connect_read_only

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
