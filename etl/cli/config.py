"""`cxkpi access check` and `cxkpi profile list|check`: the files a person writes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from etl.cli.base import _profile, cli
from etl.cli.serve import _check_departments


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
    from etl.warehouse.access import parse

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
    from etl.contract.profiles import SHIPPED, listing, parse, user_folder

    for path, kind, hidden in listing():
        found = parse(path)
        note = f"{kind}, hidden by yours of the same name" if hidden else kind
        click.echo(f"{found.name}: {found.source.name} - {found.description}  ({note}: {path})")
    click.echo(f"(your profiles go in {user_folder()}, or set $CXKPI_PROFILES; shipped: {SHIPPED})")


@profile.command("check")
@click.argument("name")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rows", default=5, show_default=True, help="Mapped rows to preview.")
@click.pass_obj
def profile_check(obj: dict, name: str, file: Path | None, rows: int) -> None:
    """Check a profile; with FILE, compare it with the export and preview mapped rows."""
    from etl.loading.profile_check import check

    ok = True
    for line, good in check(_profile(name), file, rows, obj["db"]):
        click.echo(line)
        ok = ok and good
    sys.exit(0 if ok else 1)
