"""An executive keeps the dashboard open, and an analyst queries, while a month is loaded.

Every page drawn and every `cxkpi sql` run during `cxkpi load` (load and build) must succeed
and show the state before the load or the state after it: never an error, a lock, or a mix.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from etl.sample.bundled import generate
from tests.conftest import CXKPI, run_cxkpi
from tests.e2e.conftest import main_text, serving, visit

pytestmark = pytest.mark.reliability

#: Files of months up to this one are loaded first; the rest arrive while people watch.
FIRST_MONTHS = "2025-12"
CONSISTENCY = (
    "SELECT f.last_month, f.rows_loaded, (SELECT sum(aht_seconds_n) FROM department_month)"
    " FROM source_freshness f WHERE f.source = 'interactions'"
)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> tuple[Path, Path]:
    """The 150k sample, and a copy holding only its files up to FIRST_MONTHS."""
    everything = tmp_path_factory.mktemp("exports")
    generate(everything, "150k", seed=99)
    first = tmp_path_factory.mktemp("first")
    for path in everything.rglob("*.csv"):
        if not re.fullmatch(r"\d{4}-\d{2}", path.stem) or path.stem <= FIRST_MONTHS:
            target = first / path.relative_to(everything)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return first, everything


def redraw(page) -> str:
    """Reload the page as a user presses F5; its main text once Streamlit has finished."""
    page.reload()
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=60_000)
    page.wait_for_timeout(200)
    return main_text(page)


def _query_in_a_loop(db: Path, stop: threading.Event, answers: list, failures: list) -> None:
    while not stop.is_set():
        run = run_cxkpi("--db", str(db), "sql", CONSISTENCY, "--format", "csv")
        if run.returncode != 0 or run.stderr.strip():
            failures.append(run.stdout + run.stderr)
        else:
            answers.append(tuple(run.stdout.splitlines()[1].split(",")))


def test_pages_and_queries_succeed_throughout_a_load_and_show_old_or_new(
    exports, tmp_path, browser
):
    first, everything = exports
    db = tmp_path / "cxkpi.duckdb"
    loaded = run_cxkpi("-q", "--db", str(db), "load", str(first))
    assert loaded.returncode == 0, loaded.stderr
    with serving(db) as server:
        page = visit(browser, server["url"])
        assert "Tiles: Dec 2025" in main_text(page)

        stop, answers, failures = threading.Event(), [], []
        analyst = threading.Thread(target=_query_in_a_loop, args=(db, stop, answers, failures))
        analyst.start()
        load = subprocess.Popen(
            [CXKPI, "-q", "--db", str(db), "load", str(everything)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        shown, problems = [], []
        try:
            while load.poll() is None:
                text = redraw(page)
                if page.locator("[data-testid=stException]").count() or re.search(
                    r"Traceback|lock|A query failed|no view the dashboard needs", text
                ):
                    problems.append(text[:500])
                shown.append(re.search(r"Tiles: (\w{3} \d{4})", text).group(1))
        finally:
            out, err = load.communicate(timeout=600)
            stop.set()
            analyst.join(timeout=120)
        assert load.returncode == 0, err
        assert problems == []
        assert failures == []
        assert "Tiles: Oct 2026" in redraw(page)
        page.close()

    assert len(shown) >= 3, shown
    assert set(shown) <= {"Dec 2025", "Oct 2026"}
    assert "Dec 2025" in shown
    assert len(answers) >= 3
    for month, rows, in_marts in answers:
        assert rows == in_marts, "the marts and the load runs came from different states"
        assert month in ("2025-12-01", "2026-10-01")
    assert {a[0] for a in answers} >= {"2025-12-01"}
