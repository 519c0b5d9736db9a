"""Sign-in through a real OpenID Connect provider, in Chromium, for each kind of reader.

oidc-provider-mock runs on loopback in this process; `cxkpi serve` is configured against it
in a secrets file, with an access file naming who may see what. Each reader signs in by the
provider's own page, in a browser context of their own (their own cookies).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.ui import JOINER
from tests.e2e.conftest import free_port, main_text, serving
from tests.e2e.test_browser import listening_addresses

ACCESS = """\
contact: Maria Lopez, CX analytics (maria@example.com)
grants:
  - group: cx-executives
    role: executive
  - email: analyst@example.com
    role: analyst
  - email: head.billing@example.com
    role: analyst
    departments: [BIL]
"""
USERS = {
    "exec": {"email": "exec@example.com", "email_verified": True, "groups": ["cx-executives"]},
    "analyst": {"email": "analyst@example.com", "email_verified": True},
    "head": {"email": "head.billing@example.com", "email_verified": True},
    "stranger": {"email": "stranger@example.com", "email_verified": True},
}
#: What `SELECT DISTINCT department_id FROM department_month` says to each reader.
DEPARTMENTS = "SELECT DISTINCT department_id FROM department_month"


@pytest.fixture(scope="module")
def provider():
    """The OpenID Connect provider, with one predefined user per reader."""
    from oidc_provider_mock import User, run_server_in_thread

    users = [User(sub=sub, claims=claims) for sub, claims in USERS.items()]
    with run_server_in_thread(port=free_port(), user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def signed_server(served_db, provider, tmp_path_factory):
    """`cxkpi serve` with sign-in configured against the provider."""
    folder = tmp_path_factory.mktemp("auth")
    port = free_port()
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        'cookie_secret = "a-test-only-cookie-secret-of-some-length"\n'
        'client_id = "cxkpi"\n'
        'client_secret = "cxkpi-test-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    access = folder / "access.yml"
    access.write_text(ACCESS)
    options = ("--secrets", str(secrets), "--access", str(access))
    with serving(served_db, *options, port=port) as started:
        # The browser must use the host of the redirect URI, where the sign-in cookie is set.
        yield {**started, "url": f"http://localhost:{port}"}


def settle(page) -> None:
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)
    page.wait_for_timeout(700)


def sign_in(browser, server: dict, sub: str):
    """A page of a fresh browser context, signed in as sub through the provider's page."""
    context = browser.new_context(viewport={"width": 1280, "height": 2000})
    page = context.new_page()
    page.goto(server["url"])
    settle(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=30_000)
    page.get_by_role("button", name=sub, exact=True).click()
    page.wait_for_url(f"{server['url']}/**", timeout=30_000)
    settle(page)
    return page


def go(page, url: str) -> str:
    page.goto(url)
    settle(page)
    return main_text(page)


def navigation(page) -> list[str]:
    links = page.locator("[data-testid=stSidebarNavLink]")
    return [t.strip() for t in links.all_inner_texts()]


def run_query(page, query: str) -> str:
    editor = page.get_by_role("textbox", name="Query")
    editor.fill(query)
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("text=/\\d+ rows? in/", timeout=30_000)
    settle(page)
    return main_text(page)


def test_signed_out_visitors_see_the_sign_in_page_at_every_url(browser, signed_server):
    context = browser.new_context()
    page = context.new_page()
    for path in ("", "sql_workbench", "departments?department=Billing"):
        shown = go(page, f"{signed_server['url']}/{path}")
        assert "Sign in with your organisation's account" in shown
        assert "NPS" not in shown and "SELECT" not in shown
        assert navigation(page) == []
    context.close()


def test_an_executive_by_group_sees_the_dashboard_but_not_the_workbench(browser, signed_server):
    page = sign_in(browser, signed_server, "exec")
    # The word joiner before @ keeps Streamlit from linking the address (dashboard/ui.plain).
    assert "Signed in as exec@example.com (executive)" in page.locator(
        "[data-testid=stSidebar]"
    ).inner_text().replace("\n", " ").replace(JOINER, "")
    # The tiles draw before the findings: wait for the section, not the first paint.
    expect(page.locator("[data-testid=stMain]")).to_contain_text(
        "What needs attention", timeout=60_000
    )
    assert [n for n in navigation(page) if "SQL" in n] == []
    assert len(navigation(page)) == 9  # every page but the workbench
    assert "KPI conflicts: the organisation" in go(page, f"{signed_server['url']}/conflicts")
    # Tables offer no CSV export of their own when people sign in: downloads are analysts'.
    go(page, f"{signed_server['url']}/departments")
    page.locator("[data-testid=stDataFrame]").first.hover()
    toolbar = page.locator("[data-testid=stElementToolbar]").first
    toolbar.wait_for(timeout=10_000)
    labels = [b.get_attribute("aria-label") for b in toolbar.locator("button").all()]
    assert "Fullscreen" in labels and "Download as CSV" not in labels, labels
    # Opened directly by URL, the workbench is not there: Streamlit falls back to the overview.
    shown = go(page, f"{signed_server['url']}/sql_workbench")
    assert "Page not found" in page.locator("body").inner_text()
    assert "Customer experience: the organisation" in shown and "Examples" not in shown
    page.context.close()


def test_an_analyst_queries_every_department(browser, signed_server):
    page = sign_in(browser, signed_server, "analyst")
    assert any("SQL workbench" in n for n in navigation(page))
    go(page, f"{signed_server['url']}/sql_workbench")
    assert "13 rows in" in run_query(page, DEPARTMENTS)
    page.context.close()


def test_a_department_head_gets_nothing_of_another_department_by_any_path(browser, signed_server):
    page = sign_in(browser, signed_server, "head")
    url = signed_server["url"]
    # The filter offers their department and the organisation only.
    page.get_by_label("Department").click()
    options = [o.strip() for o in page.get_by_role("option").all_inner_texts()]
    assert options == ["Whole organisation", "Billing"]
    page.keyboard.press("Escape")
    # Another department in the URL is not theirs: the organisation is shown, not Sales.
    shown = go(page, f"{url}/conflicts?department=Sales")
    assert "KPI conflicts: the organisation" in shown and "KPI conflicts: Sales" not in shown
    shown = go(page, f"{url}/?department=Billing")
    assert "Customer experience: Billing" in shown
    # The workbench's views hold Billing's rows only.
    go(page, f"{url}/sql_workbench")
    assert "1 row in" in run_query(page, DEPARTMENTS)
    shown = run_query(page, "SELECT * FROM department_value WHERE department_id = 'SAL'")
    assert "0 rows in" in shown
    shown = run_query(page, "SELECT * FROM cxkpi_warehouse.main.department_month")
    assert "is no view" in shown and "you can query" in shown
    # The board pack holds every department: not offered to a department head.
    shown = go(page, f"{url}/board_snapshots")
    assert "not offered here" in shown and "Board pack (PDF)" not in shown
    page.context.close()


def test_a_stranger_is_told_whom_to_ask_and_can_sign_out(browser, signed_server):
    page = sign_in(browser, signed_server, "stranger")
    shown = main_text(page).replace(JOINER, "")
    assert "No access yet" in shown and "stranger@example.com" in shown
    assert "Maria Lopez, CX analytics (maria@example.com)" in shown
    assert navigation(page) == []
    shown = go(page, f"{signed_server['url']}/departments")
    assert "No access yet" in shown and "Front-line units" not in shown
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/oauth2/end_session**", timeout=30_000)
    page.get_by_role("button", name="End session").click()  # the provider's own page
    page.wait_for_url(f"{signed_server['url']}/**", timeout=30_000)
    shown = go(page, f"{signed_server['url']}/departments")
    assert "Sign in with your organisation's account" in shown and "Front-line units" not in shown
    page.context.close()


def test_the_network_without_sign_in_only_with_the_loud_flag(browser, served_db):
    with serving(served_db, "--host", "0.0.0.0", "--unsafe-no-sign-in") as started:
        assert listening_addresses(started["port"]) == {"0.0.0.0"}
        assert started["said"].startswith("WARNING: serving 0.0.0.0 without sign-in")
        page = browser.new_page()
        go(page, f"http://127.0.0.1:{started['port']}/")
        sidebar = page.locator("[data-testid=stSidebar]").inner_text()
        assert "Not signed in, open to the network" in sidebar
        page.close()
