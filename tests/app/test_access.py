"""Sign-in and roles under AppTest: who sees which pages, departments and records (at.user)."""

from __future__ import annotations

import contextvars
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data, ui
from etl.warehouse.access import ROLES, Access
from etl.warehouse.read_only import connect_read_only
from tests.app.test_pages import APP, PAGES, texts

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-only-cookie-secret",
    "client_id": "cxkpi",
    "client_secret": "secret",
    "server_metadata_url": "http://localhost:9400/.well-known/openid-configuration",
}
ACCESS = """\
contact: Maria Lopez, CX analytics
grants:
  - email: board@example.com
    role: board
  - email: exec@example.com
    role: executive
  - email: analyst@example.com
    role: analyst
  - email: head@example.com
    role: analyst
    departments: [BIL]
  - email: owner@example.com
    role: data_owner
"""


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


def signed_in(db: Path, monkeypatch, email: str | None, page: str = "overview", **query) -> AppTest:
    """The dashboard with sign-in configured, as email (None: not signed in), on page."""
    monkeypatch.setenv("CXKPI_DB", str(db))
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.secrets["auth"] = AUTH
    app.user = (
        {"is_logged_in": False}
        if email is None
        else {"is_logged_in": True, "email": email, "email_verified": True}
    )
    for key, value in query.items():
        app.query_params[key] = value
    app.run()
    if page != "overview":
        app.switch_page(f"app_pages/{page}.py").run()
    assert not app.exception, app.exception
    return app


def shows_data(app: AppTest) -> bool:
    return bool(app.metric) or bool(app.dataframe) or bool(app.get("vega_lite_chart"))


def test_not_signed_in_gets_the_sign_in_page_and_no_data(sample_db, monkeypatch, access_file):
    app = signed_in(sample_db, monkeypatch, None)
    assert [b.label for b in app.button] == ["Sign in"]
    assert not shows_data(app)
    assert "Local mode" not in texts(app) + "".join(c.value for c in app.sidebar.caption)


def test_an_unknown_user_is_told_whom_to_ask_and_sees_no_data(
    sample_db, monkeypatch, access_file, capsys
):
    app = signed_in(sample_db, monkeypatch, "stranger@example.com")
    app.run()  # a second run of the same session logs nothing more
    said = capsys.readouterr().out
    assert said.count("access: stranger@example.com refused: no grant in access.yml matches") == 1
    shown = texts(app)
    assert app.title[0].value == "No access yet"
    # Shown as text: dashboard/ui.plain keeps Streamlit from making the address a link.
    assert ui.plain("stranger@example.com") in shown and "Maria Lopez, CX analytics" in shown
    assert not shows_data(app)
    assert [b.label for b in app.button] == ["Sign out"]


@pytest.mark.parametrize(
    ("email", "page", "opens"),
    [
        ("board@example.com", "board_snapshots", True),
        ("board@example.com", "conflicts", False),
        ("board@example.com", "data_quality", False),
        ("exec@example.com", "conflicts", True),
        ("exec@example.com", "sql_workbench", False),
        ("analyst@example.com", "sql_workbench", True),
        ("owner@example.com", "data_quality", True),
    ],
)
def test_pages_open_only_for_roles_that_include_them(
    sample_db, monkeypatch, access_file, email, page, opens, capsys
):
    app = signed_in(sample_db, monkeypatch, email)
    signed = "".join(c.value for c in app.sidebar.caption)
    assert f"Signed in as **{ui.plain(email)}**" in signed
    role = ACCESS.split(email)[1].split("role: ")[1].split()[0].replace("_", " ")
    assert f"access: {email} as {role} (access.yml:" in capsys.readouterr().out
    if opens:
        app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception and app.title[0].value == PAGES[page]
    else:
        # Not in this run's navigation: no URL or switch reaches it (the browser test shows
        # a direct URL landing on the overview).
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page(f"app_pages/{page}.py")


def test_a_department_head_sees_their_department_and_organisation_totals(
    sample_db, monkeypatch, access_file
):
    app = signed_in(sample_db, monkeypatch, "head@example.com", department="Sales")
    department = app.selectbox(key="department")
    assert department.options == ["Whole organisation", "Billing"]
    assert department.value == "ALL"  # Sales in the URL is not theirs: ignored
    assert app.metric  # organisation totals
    department.set_value("BIL").run()
    assert app.title[0].value == "Customer experience: Billing"
    for finding in app.markdown:
        assert "Sales:" not in finding.value
    app.switch_page("app_pages/departments.py").run()
    assert not app.exception
    shown = [frame.value for frame in app.dataframe]
    names = {n for frame in shown if "Department" in frame for n in frame["Department"]}
    assert names == {"Billing"}


def test_a_scoped_analysts_workbench_finds_no_other_department(sample_db, monkeypatch, access_file):
    app = signed_in(sample_db, monkeypatch, "head@example.com", "sql_workbench")
    app.text_area(key="sql_query").input(
        "SELECT department_id, count(*) AS n FROM department_month GROUP BY ALL"
    )
    [run] = [b for b in app.button if b.label == "Run"]
    run.click().run()
    assert app.dataframe[0].value["department_id"].to_list() == ["BIL"]


def test_raw_records_only_for_data_owners(quarantined_db, monkeypatch, access_file):
    access_file.write_text(ACCESS.replace("[BIL]", "[FL]"))  # the departments of that warehouse
    owner = signed_in(quarantined_db, monkeypatch, "owner@example.com", "data_quality")
    analyst = signed_in(quarantined_db, monkeypatch, "analyst@example.com", "data_quality")
    heading = "**Rejected rows as the system sent them** (first 1,000)"
    assert heading in texts(owner) and heading not in texts(analyst)
    sent = [f.value for f in owner.dataframe if "Raw record" in f.value.columns]
    assert "C-SECRET" in str(sent[0]["Raw record"].to_list())
    assert not any("Raw record" in f.value.columns for f in analyst.dataframe)
    contextvars.copy_context().run(_reads_as_each_role)


def _reads_as_each_role() -> None:
    """In a context of its own: pin() must not outlive the test in this thread."""
    data.pin(Access(ROLES["data_owner"], None, "o", "test"))
    assert data.quarantined_rows()["rule"].to_list() == ["range"]
    data.pin(Access(ROLES["analyst"], None, "a", "test"))
    with pytest.raises(data.NotAllowed, match="quarantined rows as they were sent"):
        data.quarantined_rows()
    data.pin(Access(ROLES["executive"], None, "e", "test", "Maria"))
    with pytest.raises(data.NotAllowed, match="the SQL workbench") as refused:
        data.workbench()
    assert refused.value.fix == "Ask Maria for a role that does."


def test_a_mistake_in_the_access_file_closes_the_dashboard(
    sample_db, monkeypatch, access_file, capsys
):
    access_file.write_text(ACCESS.replace("[BIL]", "[BILL]"))
    app = signed_in(sample_db, monkeypatch, "exec@example.com")
    assert app.title[0].value == "The dashboard is closed"
    assert "finds the reason in its output" in app.error[0].value
    assert f"access: dashboard closed: {access_file}:11: unknown department 'BILL'" in (
        capsys.readouterr().out
    )
    assert not shows_data(app)


def test_local_mode_is_marked(sample_db, monkeypatch):
    monkeypatch.setenv("CXKPI_DB", str(sample_db))
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.run()
    assert "Local mode, not signed in" in "".join(c.value for c in app.sidebar.caption)
    assert app.metric and app.get("vega_lite_chart")  # what shows_data looks for is there


def test_a_department_heads_customers_words_are_their_departments_own(
    sample_db, monkeypatch, access_file
):
    """Heatmap and search of a reader limited to Billing: Billing's comments, none of others'."""
    app = signed_in(sample_db, monkeypatch, "head@example.com", "customers_words")
    con = connect_read_only(sample_db)
    try:
        counts = dict(
            con.sql(
                "SELECT department_id = 'BIL', count(DISTINCT response_id) FROM comment_themes"
                " WHERE month BETWEEN $start AND $end GROUP BY ALL",
                params={
                    "start": app.session_state["cx_filters"].start,
                    "end": app.session_state["cx_filters"].end,
                },
            ).fetchall()
        )
    finally:
        con.close()
    assert counts[False] > 0
    assert f"(n = {counts[True]:,} comments over" in texts(app)
    app.text_input(key="words_search").input("call back").run()
    said = [c.value for c in app.caption if "Themes:" in c.value]
    assert len(said) > 5 and all(c.startswith("Billing,") for c in said), said
