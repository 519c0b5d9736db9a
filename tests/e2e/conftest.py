"""Browser tests' shared parts: Debian's Chromium under Playwright, and `cxkpi serve`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import CXKPI

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Streamlit scrolls inside its own container, so screenshots use a tall viewport.
TALL = {"width": 1280, "height": 2400}


def free_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(db: Path, *options: str, port: int | None = None) -> Iterator[dict]:
    """`cxkpi serve` on db, as a user starts it, until the block ends; its URL and first output."""
    port = port or free_port()
    process = subprocess.Popen(
        [CXKPI, "--db", str(db), "serve", "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cxkpi serve did not start: {process.stdout.read()}") from None
            time.sleep(0.3)
    first_line = process.stdout.readline()
    try:
        yield {"url": url, "port": port, "said": first_line}
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium under Playwright (no browser download).

    Without Chromium the browser tests skip, saying why; under CI=true they fail instead, so
    that CI cannot pass without them.
    """
    if not CHROMIUM.exists():
        missing = f"Chromium is missing at {CHROMIUM}: apt-get install -y chromium (.ci/chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}; CI must run the browser tests")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


#: The sidebar's department filter: drawn on every page of a warehouse with data.
FILTERS_DRAWN = "[data-testid=stSidebar] input[aria-label=Department]"


def visit(browser, url: str, viewport=TALL):
    """A new page at url, once Streamlit has finished running and drawn the title and filters.

    The browser draws the sidebar after the script has finished. A link clicked before
    the filters are drawn leaves their query parameters behind (Streamlit's frontend
    binds widgets to the URL as it draws them), so tests start from a drawn page.
    """
    page = browser.new_page(viewport=viewport)
    page.goto(url)
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)
    page.wait_for_selector(FILTERS_DRAWN, timeout=60_000)
    page.wait_for_timeout(500)
    return page


def main_text(page) -> str:
    """The text of the page's main area."""
    return page.locator("[data-testid=stMain]").inner_text()


@pytest.fixture(scope="module")
def served_db(sample_db, tmp_path_factory) -> Path:
    """A copy of the sample warehouse with October 2026 frozen by `cxkpi snapshot`."""
    db = tmp_path_factory.mktemp("served") / "cxkpi.duckdb"
    shutil.copyfile(sample_db, db)
    taken = subprocess.run(
        [CXKPI, "-q", "--db", str(db), "snapshot", "--month", "2026-10"],
        capture_output=True,
        text=True,
    )
    assert taken.returncode == 0, taken.stderr
    return db
