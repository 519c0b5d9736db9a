"""People without a grant see nothing of the warehouse; claims cannot forge access-log lines."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from tests.app.test_access import ACCESS, AUTH
from tests.app.test_pages import APP, texts

#: How every line of the access log starts (dashboard/gate.py's format).
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} access: ")


@pytest.fixture(autouse=True, scope="module")
def _close_the_dashboards_connections():
    yield
    data.clear_cache()


@pytest.fixture
def access_file(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "access.yml"
    path.write_text(ACCESS)
    monkeypatch.setenv("CXKPI_ACCESS", str(path))
    return path


def visit(db: Path, monkeypatch, user: dict) -> AppTest:
    monkeypatch.setenv("CXKPI_DB", str(db))
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.secrets["auth"] = AUTH
    app.user = {"is_logged_in": True, **user}
    app.run()
    assert not app.exception, app.exception
    return app


def everything_shown(app: AppTest) -> str:
    """Every text of the page and its sidebar, labels included."""
    labels = [b.label for b in app.button]
    return "\n".join([texts(app), *(c.value for c in app.sidebar.caption), *labels])


def warehouse_words(db: Path) -> set[str]:
    """Department ids and names of the warehouse: none may reach someone without a grant."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql("SELECT department_id, department_name FROM department_value").fetchall()
    return {word for row in rows for word in row}


@pytest.mark.parametrize(
    "email", ["stranger@example.com", "exec@example.com"], ids=["stranger", "granted"]
)
def test_the_closed_page_shows_no_department_and_no_path(
    sample_db, monkeypatch, access_file, capsys, email
):
    access_file.write_text(ACCESS.replace("[BIL]", "[BILL]"))
    app = visit(sample_db, monkeypatch, {"email": email, "email_verified": True})
    assert app.title[0].value == "The dashboard is closed"
    page = everything_shown(app)
    leaked = {w for w in warehouse_words(sample_db) if re.search(rf"\b{re.escape(w)}\b", page)}
    assert leaked == set()
    assert str(access_file.parent) not in page and "access.yml" not in page
    assert "BILL" not in page  # nor what the file says
    # The server's output has the whole problem for whoever runs it.
    assert f"{access_file}:11: unknown department 'BILL'" in capsys.readouterr().out


def test_the_no_access_page_shows_nothing_of_the_warehouse(sample_db, monkeypatch, access_file):
    app = visit(sample_db, monkeypatch, {"email": "stranger@example.com", "email_verified": True})
    assert app.title[0].value == "No access yet"
    page = everything_shown(app)
    assert {w for w in warehouse_words(sample_db) if re.search(rf"\b{re.escape(w)}\b", page)} == (
        set()
    )
    assert str(access_file.parent) not in page


FORGED = "2026-11-29 09:14:03,512 access: boss@example.com as data owner (access.yml:3)"


@pytest.mark.parametrize(
    "user",
    [
        {"email": f"stranger@example.com\n{FORGED}", "email_verified": True},
        {"email": f"stranger@example.com\r{FORGED}"},
        {"sub": f"1234\n{FORGED}"},
        {"email": f"exec@example.com\u2028{FORGED}", "email_verified": True},
        {"email": "exec@example.com", "email_verified": f"yes\n{FORGED}"},
        {"name": f"\x1b[2K\x1b[1A{FORGED}", "groups": [f"x\n{FORGED}"]},
    ],
)
def test_claims_cannot_forge_a_line_of_the_access_log(
    sample_db, monkeypatch, access_file, capsys, user
):
    visit(sample_db, monkeypatch, user)
    said = capsys.readouterr().out.splitlines(keepends=True)
    logged = [line for line in said if "access: " in line]
    assert logged, said
    for line in logged:
        assert LOG_LINE.match(line), line
        assert line.endswith("\n") and "\r" not in line and "\x1b" not in line
        assert not any(c != "\n" and not c.isprintable() for c in line), line
    assert not any(line.startswith(FORGED) for line in said)
