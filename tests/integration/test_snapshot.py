"""Board snapshots: `cxkpi snapshot` freezes a month and writes a PDF pack that never changes."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader

from etl.reporting.formats import format_value
from etl.reporting.pack import SECTIONS
from etl.reporting.sentences import failure_demand_sentence
from etl.reporting.snapshot import FROZEN
from etl.warehouse.catalog import columns
from etl.warehouse.models import discover, run_tests
from tests.conftest import invoke_cxkpi, run_cxkpi, write

MONTH = "2026-10"


def _snapshot(db: Path, *more: str) -> str:
    result = invoke_cxkpi("--quiet", "--db", str(db), "snapshot", "--month", MONTH, *more)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    return result.stdout


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pages(pdf: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(pdf).pages]


def _frozen(db: Path, snapshot_id: str) -> dict[str, list[tuple]]:
    """Every frozen table's rows of a snapshot, in a fixed order."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            table: sorted(
                con.execute(
                    f"SELECT * FROM {table} WHERE snapshot_id = $id", {"id": snapshot_id}
                ).fetchall(),
                key=repr,
            )
            for table in FROZEN
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def taken(sample_db: Path, tmp_path_factory) -> tuple[Path, str]:
    """A copy of the sample warehouse with October 2026 frozen once, and the command's output."""
    db = tmp_path_factory.mktemp("snapshot") / "cxkpi.duckdb"
    shutil.copyfile(sample_db, db)
    return db, _snapshot(db)


def test_the_snapshot_is_recorded_with_version_fingerprint_and_pack_paths(taken):
    db, output = taken
    con = duckdb.connect(str(db), read_only=True)
    row = con.execute(
        "SELECT snapshot_id, month, version, pdf_path, html_path, pdf_sha256, pdf_pages,"
        " fingerprint, inputs, changes FROM board_snapshots"
    ).fetchall()
    assert len(row) == 1
    snapshot_id, month, version, pdf, html, sha, pages, fingerprint, inputs, changes = row[0]
    assert (snapshot_id, str(month), version, changes) == ("2026-10-v1", "2026-10-01", 1, "")
    # The default folder is snapshots/ beside the database.
    assert Path(pdf) == db.parent / "snapshots" / "cxkpi-board-pack-2026-10-v1.pdf"
    assert Path(html).read_text().startswith("<!DOCTYPE html>")
    assert _sha(Path(pdf)) == sha
    assert con.execute("SELECT pdf FROM snapshot_packs").fetchone()[0] == Path(pdf).read_bytes()
    # The fingerprint is over every current input file: one per sample file.
    files = json.loads(inputs)
    loaded = con.execute(
        "SELECT count(*) FROM load_runs WHERE NOT is_superseded AND status = 'loaded'"
    ).fetchone()[0]
    assert len(files) == loaded and re.fullmatch(r"[0-9a-f]{64}", fingerprint)
    con.close()
    assert "2026-10-v1: October 2026 version 1" in output
    assert f"{pdf} ({pages} pages)" in output


def test_the_frozen_tables_hold_the_live_figures_of_the_month(taken):
    db, _ = taken
    con = duckdb.connect(str(db), read_only=True)
    live = con.execute(
        "SELECT * FROM department_month WHERE month <= DATE '2026-10-01' ORDER BY ALL"
    ).fetchall()
    frozen = con.execute(
        "SELECT * EXCLUDE (snapshot_id) FROM snapshot_department_month ORDER BY ALL"
    ).fetchall()
    assert frozen == live and len(live) > 100
    for table, (view, _) in FROZEN.items():
        count = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert count > 0, f"{table} froze nothing from {view}"
    assert run_tests(con) == []
    models = discover()
    for model in (m for m in models.values() if m.layer == "snapshots"):
        actual = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = $t", {"t": model.name}
            ).fetchall()
        }
        assert set(columns(model, models)) == actual, model.name
    con.close()


def test_the_pdf_reads_back_with_its_month_sections_and_the_frozen_nps(taken):
    db, _ = taken
    con = duckdb.connect(str(db), read_only=True)
    pdf, pages_recorded = con.execute("SELECT pdf_path, pdf_pages FROM board_snapshots").fetchone()
    nps, n = con.execute(
        "SELECT value, n FROM snapshot_kpi_headlines WHERE department_id = 'ALL'"
        " AND month = DATE '2026-10-01' AND metric = 'nps'"
    ).fetchone()
    con.close()
    pages = _pages(Path(pdf))
    assert len(pages) == pages_recorded and 6 <= len(pages) <= 12
    for number, text in enumerate(pages, start=1):
        # Month, version, frozen date and page number on every page.
        assert "October 2026 · version 1 · frozen on" in text, number
        assert f"page {number} of {len(pages)}" in text, number
    assert "Customer experience board pack" in pages[0]
    # Every section is present, its title a line of the page the contents give for it.
    contents = dict(re.findall(r"^(\w[^.\n]+?) *\.{3,} *(\d+) *$", pages[0], re.MULTILINE))
    assert list(contents) == SECTIONS, pages[0]
    for title, number in contents.items():
        assert title in pages[int(number) - 1].splitlines(), (title, number)
    headline = next(text for text in pages[1:] if text.startswith("Headline KPIs"))
    line = next(line for line in headline.splitlines() if line.startswith("NPS"))
    assert line.split()[1:3] == [format_value("nps", nps), f"{n:,}"], line


def test_late_data_changes_the_live_views_but_not_the_snapshot(taken, tmp_path):
    frozen_db, _ = taken
    db = tmp_path / "cxkpi.duckdb"
    shutil.copyfile(frozen_db, db)
    pdf = Path(
        duckdb.connect(str(db), read_only=True)
        .execute("SELECT pdf_path FROM board_snapshots")
        .fetchone()[0]
    )
    pdf_sha = _sha(pdf)
    before = _frozen(db, "2026-10-v1")
    live_before = _live_nps(db)

    # Late survey answers for October: 400 detractors.
    late = "response_id,responded_at,customer_id,case_id,department_id,score\n" + "".join(
        f"LATE{i:05d},2026-10-30T12:00:00,CLATE{i},,RET,0\n" for i in range(400)
    )
    inbox = tmp_path / "late"
    write(inbox, "nps_responses", late, "2026-10-late.csv")
    # And 3 late answers to October's employee survey, which the snapshot published.
    employees = "response_id,wave,department_id,enps_score,q_engaged,q_empowered\n" + "".join(
        f"ELATE{i},2026-10-01,RET,0,1,1\n" for i in range(3)
    )
    write(inbox, "engagement_responses", employees, "2026-10-late.csv")
    published = _employee_figures(db, "snapshot_department_month WHERE snapshot_id = '2026-10-v1'")
    loaded = invoke_cxkpi("--quiet", "--db", str(db), "load", str(inbox))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    rebuilt = invoke_cxkpi("--quiet", "--db", str(db), "build")
    assert rebuilt.returncode == 0, rebuilt.stderr

    live_after = _live_nps(db)
    assert live_after[1] == live_before[1] + 400 and live_after[0] < live_before[0] - 2
    # The published wave keeps its figures: set against the snapshot, they give away nobody.
    assert _employee_figures(db, "department_month") == published
    assert (
        "Oct 2026, published in a board snapshot, keeps its published figures: 3 answers loaded"
        in (_engagement_status(db))
    )
    assert _frozen(db, "2026-10-v1") == before
    assert _sha(pdf) == pdf_sha

    # Taking the month again: version 2, which says what changed; version 1 untouched.
    output = _snapshot(db, "--out", str(tmp_path / "packs"))
    assert "2026-10-v2: October 2026 version 2" in output
    assert "against version 1:" in output
    assert "file added:" in output and "2026-10-late.csv (400 rows)" in output
    nps_line = (
        f"NPS: {format_value('nps', live_before[0])} then, {format_value('nps', live_after[0])} now"
    )
    assert nps_line in output
    assert _frozen(db, "2026-10-v1") == before and _sha(pdf) == pdf_sha
    second = tmp_path / "packs" / "cxkpi-board-pack-2026-10-v2.pdf"
    text = "\n".join(_pages(second))
    assert "version 2" in text and "What changed since the previous version" in text
    assert format_value("nps", live_after[0]) in text


def _employee_figures(db: Path, source: str) -> list[tuple]:
    """October's employee figures per department, from a view or a frozen table."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT department_id, enps, enps_n, empowerment_index, empowerment_index_n"
            f" FROM {source} {'AND' if 'WHERE' in source else 'WHERE'}"
            " month = DATE '2026-10-01' ORDER BY department_id"
        ).fetchall()
    finally:
        con.close()


def _engagement_status(db: Path) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT status FROM source_freshness WHERE source = 'engagement_responses'"
        ).fetchone()[0]
    finally:
        con.close()


def _live_nps(db: Path) -> tuple[float, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT value, n FROM kpi_headlines WHERE department_id = 'ALL' AND channel = 'all'"
            " AND month = DATE '2026-10-01' AND metric = 'nps'"
        ).fetchone()
    finally:
        con.close()


def test_taking_a_month_again_with_nothing_changed_says_so(taken, tmp_path):
    db = tmp_path / "cxkpi.duckdb"
    shutil.copyfile(taken[0], db)
    output = _snapshot(db, "--out", str(tmp_path / "packs"))
    assert "no input and no figure changed since version 1" in output
    con = duckdb.connect(str(db), read_only=True)
    fingerprints = con.execute("SELECT DISTINCT fingerprint FROM board_snapshots").fetchall()
    assert len(fingerprints) == 1
    con.close()


@pytest.mark.parametrize(
    ("month", "message"),
    [
        (
            "2024-05",
            "no data for May 2024: the months loaded run from November 2024 to October 2026",
        ),
        ("2099-01", "January 2099 is not over yet"),
    ],
)
def test_a_month_without_data_is_refused_in_one_line(taken, month, message):
    db = taken[0]
    before = _sha(db)
    result = invoke_cxkpi("--db", str(db), "snapshot", "--month", month)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"error: {message}" or message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    assert _sha(db) == before


def test_a_malformed_month_is_a_usage_error(taken):
    result = invoke_cxkpi("--db", str(taken[0]), "snapshot", "--month", "October")
    assert result.returncode == 2
    assert "expected a month as YYYY-MM" in result.stderr and "Traceback" not in result.stderr


def _refused_after(db: Path, delete: str) -> str:
    """Delete raw rows, rebuild, try to freeze October: the refusal on standard error."""
    con = duckdb.connect(str(db))
    con.execute(delete)
    con.close()
    assert invoke_cxkpi("--quiet", "--db", str(db), "build").returncode == 0
    result = invoke_cxkpi("--quiet", "--db", str(db), "snapshot", "--month", MONTH)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    return result.stderr.strip()


def test_a_month_still_loading_is_refused(sample_copy):
    # Half a month of contacts: short of a typical month's volume, and of the month's end.
    late_october = "DELETE FROM raw_interactions WHERE started_at >= TIMESTAMP '2026-10-16'"
    refused = _refused_after(sample_copy, late_october)
    assert refused.startswith("error: October 2026 is still loading: interactions (")
    assert refused.endswith(
        " contacts so far against about 33,000 in a typical month, the last on 15 Oct 2026);"
        " load the rest of the month, then take the snapshot"
    )
    october_nps = "DELETE FROM raw_nps_responses WHERE responded_at >= TIMESTAMP '2026-10-01'"
    assert _refused_after(sample_copy, october_nps).endswith(
        " a typical month, the last on 15 Oct 2026),"
        " nps_responses (no survey answers yet, the data ends September 2026);"
        " load the rest of the month, then take the snapshot"
    )
    no_tasks = "DELETE FROM raw_case_tasks"
    assert "case_tasks (none loaded)" in _refused_after(sample_copy, no_tasks)
    con = duckdb.connect(str(sample_copy), read_only=True)
    assert not con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE table_name = 'board_snapshots'"
    ).fetchall()
    con.close()
    assert not (sample_copy.parent / "snapshots").exists()


def test_a_pack_file_in_the_way_is_never_overwritten_and_nothing_is_recorded(taken, tmp_path):
    db = tmp_path / "cxkpi.duckdb"
    shutil.copyfile(taken[0], db)
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "cxkpi-board-pack-2026-10-v2.pdf").write_text("someone else's file")
    result = invoke_cxkpi(
        "--quiet", "--db", str(db), "snapshot", "--month", MONTH, "--out", str(packs)
    )
    assert result.returncode == 1
    assert "is never overwritten" in result.stderr and "Traceback" not in result.stderr
    assert (packs / "cxkpi-board-pack-2026-10-v2.pdf").read_text() == "someone else's file"
    assert not (packs / "cxkpi-board-pack-2026-10-v2.html").exists()
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT max(version) FROM board_snapshots").fetchone() == (1,)
    con.close()


def test_a_folder_that_cannot_be_written_is_one_line_and_nothing_is_recorded(taken, tmp_path):
    db = tmp_path / "cxkpi.duckdb"
    shutil.copyfile(taken[0], db)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    before = _sha(db)
    out = blocker / "packs"
    result = invoke_cxkpi("-q", "--db", str(db), "snapshot", "--month", MONTH, "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {out}/cxkpi-board-pack-2026-10-v2.pdf: cannot")
    assert "nothing was recorded" in result.stderr and "Traceback" not in result.stderr
    assert _sha(db) == before


def test_the_demo_freezes_the_samples_last_month_once(tmp_path):
    db = tmp_path / "cxkpi.duckdb"
    demo = ("-q", "--db", str(db), "demo", "--scale", "20k", "--out", str(tmp_path / "sample"))
    first = run_cxkpi(*demo, "--no-serve")
    assert first.returncode == 0, first.stderr
    # A line per source, not per file: the month files' lines ran to ~350.
    assert re.search(
        r"^interactions: 24 files, [\d,]+ rows loaded, 0 quarantined$", first.stdout, re.M
    )
    assert ".csv: loaded" not in first.stdout + first.stderr
    pack = tmp_path / "snapshots" / "cxkpi-board-pack-2026-10-v1.pdf"
    assert f"2026-10-v1: board pack {pack} (" in first.stdout
    assert "October 2026 · version 1" in PdfReader(pack).pages[0].extract_text()
    again = run_cxkpi(*demo, "--no-serve")
    assert again.returncode == 0, again.stderr
    assert "board pack" not in again.stdout
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT snapshot_id FROM board_snapshots").fetchall() == [("2026-10-v1",)]
    con.close()


def test_analysts_query_the_frozen_tables_through_the_guard_but_not_the_pack_bytes(taken):
    from etl.errors import CxkpiError
    from etl.warehouse.sandbox import Sandbox

    with Sandbox(taken[0]) as sandbox:
        assert {"board_snapshots", "snapshot_department_month"} <= set(sandbox.views)
        assert "snapshot_packs" not in sandbox.views
        result = sandbox.run(
            "SELECT snapshot_id, count(*) AS departments FROM snapshot_department_month"
            " WHERE month = DATE '2026-10-01' GROUP BY 1"
        )
        assert result.frame.rows() == [("2026-10-v1", 13)]
        with pytest.raises(CxkpiError, match="snapshot_packs"):
            sandbox.run("SELECT pdf FROM snapshot_packs")


def test_no_table_row_of_the_pack_is_split_across_two_pages(taken):
    """An initiative's name, start and verdict stay on one page: a row cut by the page break
    read as an initiative with no start month."""
    db, _ = taken
    con = duckdb.connect(str(db), read_only=True)
    pdf = con.execute("SELECT pdf_path FROM board_snapshots").fetchone()[0]
    initiatives = con.execute(
        "SELECT initiative_name, started_on, explanation FROM snapshot_initiative_effects"
    ).fetchall()
    con.close()
    pages = [" ".join(text.split()) for text in _pages(Path(pdf))]
    assert initiatives
    for name, started, sentence in initiatives:
        # The scorecard's row: the name, its start month and the end of its sentence together.
        row = (" ".join(name.split()[:2]), started.strftime("%b %Y"), sentence.split()[-1])
        assert any(all(part in page for part in row) for page in pages), name


# --- a pack fit for a board -----------------------------------------------------------------

#: Words of statistics the board's text never uses; "How we know" holds them.
JARGON = ("Spearman", "Pearson", "Benjamini", "Welch", "Wilson", "q = ", "p = ", "direction-aware")


def _pack(db: Path) -> tuple[Path, list[str]]:
    con = duckdb.connect(str(db), read_only=True)
    pdf = Path(con.execute("SELECT pdf_path FROM board_snapshots ORDER BY version").fetchone()[0])
    con.close()
    return pdf, _pages(pdf)


def _body(page: str) -> list[str]:
    """A page's lines without its running footer."""
    return [line for line in page.splitlines() if "cxkpi board pack ·" not in line]


def test_back_offices_are_shown_by_their_own_evidence_on_the_scorecard(taken):
    db, _ = taken
    con = duckdb.connect(str(db), read_only=True)
    sla, kept, held = con.execute(
        "SELECT m.task_sla_met_rate, v.promise_kept_held, v.promises_held"
        " FROM snapshot_department_month m JOIN snapshot_department_value v"
        " USING (snapshot_id, department_id) WHERE m.month = DATE '2026-10-01'"
        " AND m.department_name = 'Claims Processing'"
    ).fetchone()
    con.close()
    _, pages = _pack(db)
    card = next(p for p in pages if "Department scorecard" in p.splitlines())
    start = card.index("Back office")
    back = " ".join(card[start:].split())
    row = back[back.index("Claims Processing") :][:200]
    # Its month's task SLA and the promises it kept on the cases it held, each with its n.
    assert format_value("task_sla_met_rate", sla) in row, row
    assert f"{kept:.1%}" in row and f"n = {held:,}" in row, row
    assert "no data" not in back[: back.index("Support") if "Support" in back else None]


def test_every_section_but_the_method_opens_with_a_takeaway_from_the_data(taken):
    db, _ = taken
    con = duckdb.connect(str(db), read_only=True)
    html = Path(con.execute("SELECT html_path FROM board_snapshots").fetchone()[0]).read_text()
    worst, gap = con.execute(
        "SELECT department_name, nps_gap FROM snapshot_department_value"
        " WHERE verdict IN ('watermelon', 'destroys_value') ORDER BY nps_gap LIMIT 1"
    ).fetchone()
    con.close()
    sections = re.findall(r'<section id="s\d+".*?</section>', html, re.DOTALL)
    assert len(sections) == len(SECTIONS)
    for title, section in zip(SECTIONS, sections, strict=True):
        said = re.findall(r'<p class="takeaway">(.*?)</p>', section, re.DOTALL)
        assert len(said) == (0 if title == "How we know" else 1), title
        assert all(len(s.split()) >= 6 and s.endswith(".") for s in said), (title, said)
    value = re.search(r'<p class="takeaway">(.*?)</p>', sections[4], re.DOTALL).group(1)
    assert f"{worst} is the worst, {abs(gap):.0f} NPS points below" in value, value


def _lowest_text(page) -> float:
    """The height above the page's bottom edge of its lowest text, the footer left out."""
    heights = []

    def seen(text, cm, tm, *_):
        if text.strip() and "cxkpi board pack" not in text and "page " not in text:
            heights.append(tm[4] * cm[1] + tm[5] * cm[3] + cm[5])

    page.extract_text(visitor_text=seen)
    return min(heights)


def test_no_page_is_near_empty_and_no_sentence_is_printed_twice(taken):
    db, _ = taken
    pdf, pages = _pack(db)
    for number, page in enumerate(PdfReader(pdf).pages, start=1):
        # The text reaches at least half way down the page: no page holds a stray row.
        assert 1 - _lowest_text(page) / float(page.mediabox.height) >= 0.5, number
    # The sentences of the pack as written (the HTML the PDF is laid out from: PDF text
    # interleaves the columns of a table).
    con = duckdb.connect(str(db), read_only=True)
    html = Path(con.execute("SELECT html_path FROM board_snapshots").fetchone()[0]).read_text()
    con.close()
    body = html.split("<body>", 1)[1]
    blocks = re.sub(r"<[^>]+>", "\n", re.sub(r"<svg.*?</svg>", " ", body, flags=re.S))
    text = " ".join(blocks.split())
    sentences = [
        " ".join(sentence.split())
        for block in blocks.split("\n")
        for sentence in re.split(r"(?<=[.!?])\s+", block)
        if len(sentence.strip()) >= 60
    ]
    repeated = {s for s in sentences if text.count(s) > 1}
    assert not repeated, repeated


def test_the_board_reads_plain_words_and_the_statistics_are_in_how_we_know(taken):
    db, _ = taken
    _, pages = _pack(db)
    text = "\n".join("\n".join(_body(p)) for p in pages)
    board, method = text.split("\nHow we know\n")
    assert not [word for word in JARGON if word in board], [w for w in JARGON if w in board]
    # The analyses' sentences carry no statistics (the views' columns do); the method names them.
    assert "Spearman" in method and "Pearson correlation" in method
    # No pointer to files a board member cannot open.
    assert not re.search(r"docs/|sql/|\.md\b", text)


def test_who_froze_it_is_named_never_the_login_account_with_time_and_currency(
    taken, tmp_path, monkeypatch
):
    import getpass

    db = tmp_path / "cxkpi.duckdb"
    shutil.copyfile(taken[0], db)
    # The first version: nobody named, so no name, and never the login account.
    _, pages = _pack(db)
    assert f"by {getpass.getuser()}" not in pages[0]
    assert re.search(r"Frozen on \d{4}-\d\d-\d\d \d\d:\d\d UTC\. ", " ".join(pages[0].split()))
    assert format_value("cost_per_contact", 1.0) == "€1.00"
    assert re.search(r"Cost per contact €\d+\.\d\d ", " ".join(pages[1].split()))

    monkeypatch.setenv("CXKPI_SNAPSHOT_BY", "Dana Smit")
    monkeypatch.setenv("CXKPI_CURRENCY", "USD")
    monkeypatch.setenv("CXKPI_TIMEZONE", "Europe/Amsterdam")
    output = _snapshot(db, "--out", str(tmp_path / "v2"))
    assert re.search(r"frozen \d{4}-\d\d-\d\d \d\d:\d\d CET by Dana Smit,", output), output
    cover = " ".join(_pages(tmp_path / "v2" / "cxkpi-board-pack-2026-10-v2.pdf")[0].split())
    assert re.search(r"Frozen on \d{4}-\d\d-\d\d \d\d:\d\d CET by Dana Smit\.", cover), cover
    headline = " ".join(_pages(tmp_path / "v2" / "cxkpi-board-pack-2026-10-v2.pdf")[1].split())
    assert re.search(r"Cost per contact \$\d+\.\d\d ", headline), headline
    # --by wins over the setting.
    _snapshot(db, "--out", str(tmp_path / "v3"), "--by", "The Chair")
    con = duckdb.connect(str(db), read_only=True)
    by = con.execute("SELECT taken_by FROM board_snapshots ORDER BY version").fetchall()
    con.close()
    assert by == [("",), ("Dana Smit",), ("The Chair",)]


def test_a_bad_currency_is_one_line_and_nothing_is_frozen(taken, tmp_path, monkeypatch):
    db = tmp_path / "cxkpi.duckdb"
    shutil.copyfile(taken[0], db)
    monkeypatch.setenv("CXKPI_CURRENCY", "euro")
    result = invoke_cxkpi("-q", "--db", str(db), "snapshot", "--month", MONTH)
    assert result.returncode == 1
    assert result.stderr == (
        "error: CXKPI_CURRENCY='euro' is not a three-letter ISO 4217 currency code in capitals,"
        " such as EUR, USD or GBP (docs/cli.md#settings)\n"
    )
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM board_snapshots").fetchone()[0] == 1
    con.close()


def test_the_headline_section_prints_the_frozen_failure_demand_share(taken):
    db, _ = taken
    con = duckdb.connect(str(db), read_only=True)
    pdf, html = con.execute(
        "SELECT pdf_path, html FROM board_snapshots JOIN snapshot_packs USING (snapshot_id)"
    ).fetchall()[0]
    row = con.sql(
        "SELECT * FROM snapshot_failure_demand_headline WHERE department_id = 'ALL'"
        " AND month = DATE '2026-10-01'"
    ).pl()
    live = con.execute(
        "SELECT failure_share, failure_share_n FROM failure_demand_headline"
        " WHERE department_id = 'ALL' AND month = DATE '2026-10-01'"
    ).fetchall()[0]
    con.close()
    frozen = row.row(0, named=True)
    assert (frozen["failure_share"], frozen["failure_share_n"]) == live
    sentence = failure_demand_sentence(frozen, "October 2026", "October 2025")
    assert f"{frozen['failure_share']:.1%} of contacts" in sentence
    assert sentence in html
    headline = next(text for text in _pages(Path(pdf))[1:] if text.startswith("Headline KPIs"))
    assert "Failure demand was" in headline and "operational proxy" in headline


def test_what_moves_nps_prints_the_frozen_drivers_of_the_organisation_and_each_department(
    taken,
):
    db, _ = taken
    con = duckdb.connect(str(db), read_only=True)
    ((pdf,),) = con.execute("SELECT pdf_path FROM board_snapshots").fetchall()
    top = con.sql(
        "SELECT driver_label, prevalence, nps_gap FROM snapshot_nps_drivers"
        " WHERE department_id = 'ALL' AND costs_most"
    ).fetchall()
    departments = con.sql(
        "SELECT v.department_name, d.driver_label FROM snapshot_nps_drivers d"
        " JOIN snapshot_department_value v USING (snapshot_id, department_id)"
        " WHERE d.costs_most AND d.department_id <> 'ALL'"
    ).fetchall()
    ((live,),) = con.sql("SELECT count(*) FROM nps_drivers").fetchall()
    ((frozen,),) = con.sql("SELECT count(*) FROM snapshot_nps_drivers").fetchall()
    con.close()
    assert frozen == live > 0
    ((label, prevalence, gap),) = top
    page = " ".join(
        next(t for t in _pages(Path(pdf))[1:] if t.startswith("What moves NPS")).split()
    )
    assert f"Across the organisation, {label} costs customers' NPS the most" in page, page
    assert f"happens on {prevalence:.0%} of cases and goes with {-gap:.0f} points lower" in page
    assert "not what causes it" in page
    assert len(departments) >= 3
    for name, driver in departments:
        assert f"{name} {driver}" in page, (name, driver)


def _section(pages: list[str], title: str) -> str:
    """The text of the page a section's title opens, in one line."""
    return " ".join(next(t for t in pages[1:] if t.startswith(title)).split())


def test_the_failure_demand_section_prints_the_frozen_share_ledger_and_net(taken):
    db, _ = taken
    con = duckdb.connect(str(db), read_only=True)
    pdf = Path(con.execute("SELECT pdf_path FROM board_snapshots").fetchone()[0])
    contacts, failure, repeat = con.execute(
        "SELECT sum(contacts), sum(failure_contacts), sum(received_repeat)"
        " FROM snapshot_failure_demand_month WHERE department_id = 'ALL'"
        " AND month > DATE '2025-10-01' AND month <= DATE '2026-10-01'"
    ).fetchone()
    live = con.execute(
        "SELECT sum(failure_contacts) FROM failure_demand_month WHERE department_id = 'ALL'"
        " AND month > DATE '2025-10-01' AND month <= DATE '2026-10-01'"
    ).fetchone()[0]
    top = con.execute(
        "SELECT department_name, caused_elsewhere_hours, caused_elsewhere_contacts"
        " FROM snapshot_failure_demand_ledger ORDER BY caused_elsewhere_hours DESC LIMIT 1"
    ).fetchone()
    nets = con.execute(
        "SELECT DISTINCT department_name, hours_saved, failure_hours_added"
        " FROM snapshot_kpi_conflicts WHERE flagged AND net_hours_lost IS NOT NULL"
    ).fetchall()
    con.close()
    assert failure == live
    text = _section(_pages(pdf), "Failure demand")
    assert (
        f"Over November 2025 to October 2026, {failure / contacts:.1%} of the organisation's"
        f" contacts were failure demand ({failure:,} of {contacts:,})"
    ) in text, text
    assert f"repeat {repeat:,} {repeat / contacts:.1%}" in text
    # The planted back office whose broken promises the front line takes, first.
    assert top[0] == "Claims Processing"
    assert f"Claims Processing's failures cost other departments the most, {top[1]:,.0f}" in text
    assert f"Claims Processing {top[1]:,.0f} €" in text and f" {top[2]:,} " in text
    # Billing's planted faster handling: its hours saved against the failure hours after it.
    assert any(name == "Billing" for name, _, _ in nets), nets
    for _, saved, added in nets:
        assert f"{saved:,.0f} {added:,.0f} a net" in text, (saved, added)


def test_a_snapshot_taken_before_failure_demand_was_frozen_still_renders(taken, tmp_path):
    """Its pack says the section has nothing frozen; the rest is as before."""
    from etl.reporting import pack

    db = tmp_path / "cxkpi.duckdb"
    shutil.copyfile(taken[0], db)
    con = duckdb.connect(str(db))
    con.execute("DROP TABLE snapshot_failure_demand_month")
    con.execute("DROP TABLE snapshot_failure_demand_ledger")
    for column in ("hours_saved", "failure_hours_added", "net_hours_lost"):
        con.execute(f"ALTER TABLE snapshot_kpi_conflicts DROP COLUMN {column}")
    snapshot_id = con.execute("SELECT snapshot_id FROM board_snapshots").fetchall()[0][0]
    html, _, pages = pack.render(con, snapshot_id)
    con.close()
    section = re.search(r'<section id="s7".*?</section>', html, re.DOTALL).group(0)
    assert "taken before failure demand by reason and department was frozen" in section
    assert "<svg" not in section and "<table" not in section
    assert "Failure demand was" in html  # the headline's share, frozen before, still prints
    assert pages >= 6


def test_each_finding_quotes_one_frozen_redacted_comment_of_its_department(taken):
    db, _ = taken
    con = duckdb.connect(str(db), read_only=True)
    pdf = Path(con.sql("SELECT pdf_path FROM board_snapshots ORDER BY version").fetchall()[0][0])
    frozen = con.sql(
        "SELECT department_id, examples[1] AS quote FROM snapshot_theme_evidence"
        " WHERE department_id = 'CLM' ORDER BY share - organisation_share DESC LIMIT 1"
    ).fetchall()
    findings = con.sql("SELECT count(*) FROM snapshot_findings").fetchall()[0][0]
    con.close()
    [(_, quote)] = frozen
    flags = " ".join(
        " ".join(text.split()) for text in _pages(pdf) if "What the analyses flag" in text
    )
    assert flags.count("In customers' words:") == findings
    assert f"“{quote}” Promised call-back not made: 73% of Claims Processing's" in flags
    assert "13% across the organisation (n = " in flags


def test_a_snapshot_frozen_before_the_comments_prints_its_findings_without_them(taken, tmp_path):
    from etl.reporting import pack

    db = tmp_path / "before.duckdb"
    shutil.copyfile(taken[0], db)
    con = duckdb.connect(str(db))
    con.execute("DROP TABLE snapshot_theme_evidence")
    [(snapshot_id,)] = con.sql("SELECT snapshot_id FROM board_snapshots LIMIT 1").fetchall()
    html = pack.render_html(con, snapshot_id)
    con.close()
    assert "Watermelon: Claims Processing" in html
    assert "In customers' words" not in html
