"""The dashboard in a real browser: Debian's Chromium, driven by Playwright, against `cxkpi serve`.

Set CXKPI_SCREENSHOTS=docs to refresh the README's screenshot (docs/screenshot-overview.png).
"""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from etl import settings
from tests.e2e.conftest import TALL, main_text, serving, visit

LAPTOP = {"width": 1280, "height": 800}
PAGES = {
    "": ("Customer experience: the organisation", "What needs attention"),
    "conflicts": ("KPI conflicts: the organisation", "Pair (or click a cell)"),
    "departments": ("Departments and customer value", "Front-line units"),
    "employee_voice": ("Employee voice: the organisation", "Empowerment by department and wave"),
    "customers_words": ("Customers' words: the organisation", "Rising themes"),
    "initiatives": ("Initiatives: lasting or fading", "Lift after 1 month and after 3-6 months"),
    "data_quality": ("Data quality", "Freshness of each source"),
    "sql_workbench": ("SQL workbench", "Examples"),
    "board_snapshots": ("Board snapshots", "Figures as frozen"),
}
#: The workbench's time limit on the test server: long enough for real queries, short to test.
SQL_TIMEOUT = 15


def listening_addresses(port: int) -> set[str]:
    """Local IPv4 addresses with a socket listening on port (from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if int(hex_port, 16) == port and state == "0A":
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


@pytest.fixture(scope="module")
def server(served_db):
    """`cxkpi serve` on the sample warehouse, as a user starts it; its URL and first output."""
    with serving(served_db, "--sql-timeout", str(SQL_TIMEOUT)) as started:
        yield started


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go (kept for a look after a failure)."""
    return tmp_path_factory.mktemp("screenshots")


def test_serve_binds_loopback_and_says_the_url(server):
    assert listening_addresses(server["port"]) == {"127.0.0.1"}
    assert server["said"].startswith(f"cxkpi dashboard: {server['url']}")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_without_error_and_fits_1280_by_800(browser, server, shots, path):
    page = visit(browser, f"{server['url']}/{path}", LAPTOP)
    title, section = PAGES[path]
    assert page.locator("h1").first.inner_text() == title
    # Streamlit may still be drawing the lower sections on a busy machine: wait for the section.
    expect(page.locator("[data-testid=stMain]")).to_contain_text(section, timeout=30_000)
    text = main_text(page)
    assert page.locator("[data-testid=stException]").count() == 0
    assert "Traceback" not in text
    scroll, client = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=stMain]');"
        " return [m.scrollWidth, m.clientWidth]; }"
    )
    assert scroll <= client, f"{path or 'overview'} scrolls sideways at 1280x800"
    page.set_viewport_size(TALL)
    page.wait_for_timeout(1000)
    name = path or "overview"
    bottom = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll("
        "'[data-testid=stMain] [data-testid=stElementContainer]')]"
        ".map(e => e.getBoundingClientRect().bottom))"
    )
    height = min(TALL["height"], int(bottom) + 16)
    page.screenshot(
        path=str(shots / f"{name}.png"), clip={"x": 0, "y": 0, "width": 1280, "height": height}
    )
    if name == "overview" and (folder := settings.SCREENSHOTS.get()):
        target = folder / "screenshot-overview.png"
        shutil.copyfile(shots / "overview.png", target)
    page.close()


def test_a_product_not_a_developer_tool(browser, server):
    page = visit(browser, server["url"], LAPTOP)
    assert page.title() == "cxkpi"
    assert page.locator("[data-testid=stAppDeployButton]").count() == 0
    assert page.locator("[data-testid=stMainMenu]").count() == 0
    icons = page.evaluate(
        "() => [...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)"
    )
    assert icons and all("/media/" in href and href.endswith(".png") for href in icons)
    page.close()


def test_filters_live_in_the_url_and_follow_the_user(browser, server):
    page = visit(browser, f"{server['url']}/?department=Billing", LAPTOP)
    assert page.locator("h1").first.inner_text() == "Customer experience: Billing"
    page.get_by_role("link", name="KPI conflicts").click()
    page.wait_for_url("**/conflicts?department=Billing")
    page.wait_for_selector("h1:has-text('KPI conflicts: Billing')")
    page.close()
    again = visit(browser, f"{server['url']}/conflicts?department=Billing", LAPTOP)
    assert again.locator("h1").first.inner_text() == "KPI conflicts: Billing"
    again.close()


def test_a_finding_opens_its_evidence(browser, server):
    page = visit(browser, server["url"])
    finding = page.locator("[data-testid=stVerticalBlock]").filter(
        has=page.get_by_text("Watermelon: Claims Processing", exact=False)
    )
    finding.last.get_by_role("button", name="See the evidence").click()
    page.wait_for_selector("h1:has-text('Departments and customer value')")
    page.wait_for_selector("text=Claims Processing: watermelon.")
    page.wait_for_url("**/departments?department=Claims+Processing")
    page.close()


def test_clicking_a_matrix_cell_shows_that_pair(browser, server):
    page = visit(
        browser, f"{server['url']}/conflicts?department=Billing", {"width": 1280, "height": 1600}
    )
    matrix = page.locator("[data-testid=stVegaLiteChart]").first.bounding_box()
    # The first row (contacts per hour), a column right of the middle.
    page.mouse.click(matrix["x"] + matrix["width"] * 0.55, matrix["y"] + 20)
    page.wait_for_url("**pair=contacts+per+hour+vs+*")
    outcome = page.url.split("+vs+")[1].replace("+", " ")
    alert = page.locator("[data-testid=stAlert]").first
    alert.filter(has_text=outcome).wait_for()
    assert "contacts per hour" in alert.inner_text()
    page.close()


def run_in_workbench(page, query: str, *, keys: bool = True) -> None:
    """Type a query in the workbench editor and run it (Ctrl+Enter, or the Run button)."""
    editor = page.get_by_role("textbox", name="Query")
    editor.fill(query)
    if keys:
        editor.press("Control+Enter")
    else:
        page.get_by_role("button", name="Run").click()


def test_an_analyst_runs_a_query_and_downloads_the_csv(browser, server, sample_con, shots):
    page = visit(browser, f"{server['url']}/sql_workbench", LAPTOP)
    query = "SELECT department_id, count(*) AS months FROM department_month GROUP BY 1 ORDER BY 1"
    expected = sample_con.sql(query).fetchall()
    run_in_workbench(page, query)
    page.get_by_text(f"{len(expected)} rows").wait_for()
    page.screenshot(path=shots / "sql_workbench_result.png")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert download.value.suggested_filename.endswith(".csv")
    assert lines == ["department_id,months", *(f"{d},{n}" for d, n in expected)]
    page.close()


def test_the_board_secretary_downloads_the_frozen_pdf(browser, server, served_db, shots):
    page = visit(browser, f"{server['url']}/board_snapshots", LAPTOP)
    assert "October 2026, version 1 (2026-10-v1), frozen on" in main_text(page)
    page.screenshot(path=shots / "board_snapshots.png")
    with page.expect_download() as download:
        page.get_by_role("button", name="Board pack (PDF)").click()
    written = served_db.parent / "snapshots" / "cxkpi-board-pack-2026-10-v1.pdf"
    assert download.value.suggested_filename == written.name
    assert Path(download.value.path()).read_bytes() == written.read_bytes()
    page.close()


def test_an_attack_in_the_browser_is_refused_in_one_sentence(browser, server):
    page = visit(browser, f"{server['url']}/sql_workbench", LAPTOP)
    run_in_workbench(page, "SELECT * FROM read_csv('/etc/passwd')", keys=False)
    refusal = page.get_by_text("Not run: the table function read_csv() is not allowed")
    refusal.wait_for()
    assert "root:" not in page.content()
    page.close()


def test_a_runaway_query_does_not_hold_up_other_users(browser, server):
    analyst = visit(browser, f"{server['url']}/sql_workbench", LAPTOP)
    started = time.monotonic()
    run_in_workbench(analyst, "SELECT sum(a.range * b.range) FROM range(100000) a, range(100000) b")
    analyst.get_by_text("Running").wait_for()
    executive = visit(browser, server["url"], LAPTOP)
    executive.get_by_text("What needs attention").wait_for()
    # The executive's overview was drawn while the analyst's query was still running.
    assert time.monotonic() - started < SQL_TIMEOUT
    assert analyst.get_by_text("Running").count() == 1
    analyst.get_by_text(f"ran longer than the {SQL_TIMEOUT} s limit and was stopped").wait_for(
        timeout=(SQL_TIMEOUT + 20) * 1000
    )
    analyst.close()
    executive.close()
