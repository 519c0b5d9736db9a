"""`cxkpi serve` checks sign-in and the access file before it serves anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cxkpi

AUTH = """\
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "a-test-only-cookie-secret"
client_id = "cxkpi"
client_secret = "secret"
server_metadata_url = "http://localhost:9/.well-known/openid-configuration"
"""
ACCESS = """\
contact: Maria Lopez
grants:
  - email: head@example.com
    role: executive
    departments: [BIL]
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "secrets.toml").write_text(AUTH)
    (tmp_path / "access.yml").write_text(ACCESS)
    return tmp_path


def serve(db: Path, *options: str) -> str:
    """What a refused `cxkpi serve` says (it must stop at once, without a traceback)."""
    result = run_cxkpi("--db", str(db), "serve", "--port", "1", *options)
    said = result.stdout + result.stderr
    assert result.returncode != 0, said
    assert "Traceback" not in said and "You can now view" not in said
    return said


def test_no_network_without_sign_in(sample_db):
    said = serve(sample_db, "--host", "0.0.0.0")
    assert "refusing to serve 0.0.0.0 without sign-in" in said
    assert "--unsafe-no-sign-in" in said


def test_an_access_file_without_sign_in_is_refused(sample_db, folder):
    said = serve(sample_db, "--access", str(folder / "access.yml"))
    assert f"{folder / 'access.yml'}: an access file needs sign-in" in said


def test_sign_in_without_an_access_file_is_refused(sample_db, folder, monkeypatch):
    monkeypatch.delenv("CXKPI_ACCESS", raising=False)
    said = serve(sample_db, "--secrets", str(folder / "secrets.toml"))
    assert "no access file says who may see what: pass --access FILE" in said


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('client_secret = "secret"\n', ""), "[auth] lacks client_secret"),
        (
            ("8501/oauth2callback", "8501/callback"),
            "[auth] redirect_uri must be the dashboard's address",
        ),
    ],
)
def test_sign_in_settings_must_be_complete(sample_db, folder, change, expected):
    secrets = folder / "secrets.toml"
    secrets.write_text(AUTH.replace(*change))
    said = serve(sample_db, "--secrets", str(secrets), "--access", str(folder / "access.yml"))
    assert f"{secrets}: {expected}" in said


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("role: executive", "role: exec"), "access.yml:4: unknown role 'exec'"),
        (("[BIL]", "[BILL]"), "access.yml:5: unknown department 'BILL': the warehouse has ACC"),
    ],
)
def test_a_mistake_in_the_access_file_stops_serve_with_its_line(
    sample_db, folder, change, expected
):
    access = folder / "access.yml"
    access.write_text(ACCESS.replace(*change))
    said = serve(sample_db, "--secrets", str(folder / "secrets.toml"), "--access", str(access))
    assert expected in said


def test_access_check_resolves_a_person_and_names_a_mistake(sample_db, folder):
    access = str(folder / "access.yml")
    checked = run_cxkpi(
        "--db", str(sample_db), "access", "check", access, "--email", "HEAD@example.com"
    )
    assert checked.returncode == 0, checked.stderr
    assert "  line 3: email head@example.com -> executive, BIL only\n" in checked.stdout
    assert "every one named is among the 13 in" in checked.stdout
    assert checked.stdout.endswith(
        "HEAD@example.com: executive, BIL only, by access.yml:3 (email head@example.com)\n"
    )
    stranger = run_cxkpi("--db", str(sample_db), "access", "check", access, "--email", "x@y.org")
    assert stranger.stdout.endswith("x@y.org: no access (the page tells them to ask Maria Lopez)\n")
    (folder / "access.yml").write_text(ACCESS.replace("[BIL]", "[BILL]"))
    wrong = run_cxkpi("--db", str(sample_db), "access", "check", access)
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    assert "access.yml:5: unknown department 'BILL'" in wrong.stderr
