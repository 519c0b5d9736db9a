"""The comment search on Customers' words in a real browser: what is typed is found as text,
shown as text, and only redacted comments come back."""

from __future__ import annotations

import re
import shutil
import time

import pytest
from playwright.sync_api import expect

from dashboard.ui import JOINER
from tests.e2e.conftest import main_text, serving, visit

#: What an e-mail address or a phone number looks like in a comment the redaction missed.
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\+?\d[\d ()-]{7,}\d")
#: Typed text that means something to SQL's LIKE, to SQL itself or to Markdown.
HOSTILE = ["%", "_", "%' OR 1=1 --", "**bold**", "[x](http://example.com)"]


@pytest.fixture(scope="module")
def server(sample_db, tmp_path_factory):
    """`cxkpi serve` on a copy of the sample warehouse."""
    db = tmp_path_factory.mktemp("words") / "cxkpi.duckdb"
    shutil.copyfile(sample_db, db)
    with serving(db) as started:
        yield started


@pytest.fixture(scope="module")
def page(browser, server):
    """Customers' words, drawn, in one tab the tests type into in turn."""
    tab = visit(browser, f"{server['url']}/customers_words")
    yield tab
    tab.close()


def search(page, words: str, expected: str) -> list[str]:
    """Type words into the search box, press Enter, wait for the expected text (as a person
    reads it: without the invisible joiners that keep links from forming); the quotes shown."""
    box = page.locator("input[aria-label='Words to find']")
    box.fill(words)
    box.press("Enter")
    deadline = time.monotonic() + 30
    while expected not in main_text(page).replace(JOINER, ""):
        assert time.monotonic() < deadline, f"{expected!r} not shown"
        page.wait_for_timeout(200)
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=30_000)
    # Streamlit removes the previous run's elements once the run has finished.
    quotes = page.locator(
        "[data-testid=stMain] [data-testid=stElementContainer]:not([data-stale=true]) blockquote"
    )
    if expected.startswith("No comment"):
        expect(quotes).to_have_count(0, timeout=10_000)
    else:
        # the count is drawn a moment before the quotes under it, and they come one by one:
        # read them once the same number has been shown for half a second
        expect(quotes.first).to_be_visible(timeout=10_000)
        seen = -1
        while quotes.count() != seen:
            assert time.monotonic() < deadline + 30, "the quotes kept changing"
            seen = quotes.count()
            page.wait_for_timeout(500)
    return quotes.all_inner_texts()


def test_a_search_shows_matching_redacted_comments(page):
    quotes = search(page, "call back", "comments hold “call back”")
    assert len(quotes) > 5
    assert all("call back" in q.lower() for q in quotes), quotes
    shown = main_text(page)
    assert not EMAIL.search(shown) and not PHONE.search(shown)


def test_personal_details_are_shown_as_markers(page):
    quotes = search(page, "email me", "comments hold “email me”")
    assert quotes and all("[email]" in q for q in quotes), quotes
    assert not EMAIL.search(main_text(page))


def test_an_apostrophe_is_searched_as_text(page):
    quotes = search(page, "I've rung", "comments hold “I've rung”")
    assert quotes and all("i've rung" in q.lower() for q in quotes)


def test_a_search_without_match_says_so(page):
    quotes = search(page, "zebra crossing", "No comment holds “zebra crossing”")
    assert quotes == []


@pytest.mark.parametrize("typed", HOSTILE)
def test_sql_and_markdown_typed_are_searched_and_shown_as_text(page, typed):
    """No comment holds these: a LIKE wildcard or SQL that ran would find every one."""
    quotes = search(page, typed, f"No comment holds “{typed}”")
    assert quotes == []
    said = page.locator("[data-testid=stAlert]").filter(has_text="No comment holds")
    assert said.locator("strong, a, em").all_inner_texts() == []
