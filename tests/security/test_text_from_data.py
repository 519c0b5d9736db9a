"""Text from the data is shown as text: no image, link, colour, maths or icon from a name.

A department and every initiative are renamed with Markdown that Streamlit would render (an
image that makes each visitor's browser fetch a URL, links, bare URLs, `:red[...]`, `$...$`,
emoji and icon shortcodes), in the marts and in the frozen snapshot tables alike. Each page
and the board pack's HTML must then show the names as written, and nothing live.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from dashboard import data
from etl.reporting import pack, snapshot
from etl.reporting.pack import render_html
from tests.app.test_pages import APP

HOSTILE = (
    "![x](http://127.0.0.1:8799/t.png) **loud** _slanted_ :red[red] $x^2$ www.evil.test"
    " http://evil.test/a mail@evil.test :smile: :material/home: <b>b</b> [l](http://e.test)"
    " `tick` # hash"
)
DEPARTMENT = f"Billing {HOSTILE}"
INITIATIVE = f"Initiative {HOSTILE}"
#: Streamlit's own patterns, applied to the text after Markdown (its bundle, 1.67): a bare
#: URL or address becomes a link, a shortcode an emoji or icon, `:name[` a directive.
_LIVE = {
    "bare URL": re.compile(r"(https?://|www(?=\.))[-.\w]+", re.I),
    "e-mail": re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+"),
    "shortcode": re.compile(r":[\w+-][\w_+/-]*:"),
    "directive": re.compile(r":[\w-]+\["),
}
_MARKDOWN = MarkdownIt("commonmark").enable("strikethrough")
_KINDS = ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning")
_KINDS += ("error", "expander", "tabs", "metric")


@pytest.fixture(autouse=True, scope="module")
def _close_the_dashboards_connections():
    yield
    data.clear_cache()


@pytest.fixture(scope="module")
def hostile_db(sample_db: Path, tmp_path_factory) -> Path:
    """The sample warehouse with Billing and every initiative renamed in its marts, and a
    snapshot of October 2026 taken of them by someone with a hostile name."""
    folder = tmp_path_factory.mktemp("hostile")
    db = folder / "cxkpi.duckdb"
    shutil.copyfile(sample_db, db)
    with duckdb.connect(str(db)) as con:
        names = [r[0] for r in con.sql("SELECT DISTINCT name FROM raw_initiatives").fetchall()]
        renames = [("Billing", DEPARTMENT), *((n, INITIATIVE) for n in names)]
        for table, column in con.sql(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE data_type = 'VARCHAR' AND table_schema = 'main' AND table_name IN"
            " (SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE')"
        ).fetchall():
            for old, new in renames:
                con.execute(
                    f'UPDATE "{table}" SET "{column}" = replace("{column}", $old, $new)'
                    f' WHERE contains("{column}", $old)',
                    {"old": old, "new": new},
                )
    with pytest.MonkeyPatch.context() as patch:  # the pack's HTML is the test; no PDF needed
        patch.setattr(pack, "render", lambda con, sid: (render_html(con, sid), b"%PDF-", 1))
        snapshot.take(db, date(2026, 10, 1), folder, by=f"ops {HOSTILE}", today=date(2026, 12, 1))
    return db


def shown(app: AppTest) -> list[str]:
    """The Markdown source of every element that renders Markdown, with labels and help."""
    out = []
    for kind in _KINDS:
        for element in getattr(app, kind):
            for attr in ("value", "label", "help"):
                text = getattr(element, attr, None)
                if isinstance(text, str):
                    out.append(text)
    return out


def live_parts(source: str) -> list[str]:
    """What Streamlit would render of source as anything but text."""
    found = []
    tokens = _MARKDOWN.parse(source)
    text = ""
    for token in (child for t in tokens for child in (t.children or [])):
        if token.type in ("image", "link_open", "html_inline"):
            found.append(token.type)
        if token.type == "text":
            text += token.content
    found += [f"{name}: {m.group(0)}" for name, p in _LIVE.items() for m in p.finditer(text)]
    if "$" in source.replace("\\$", ""):
        found.append("unescaped $ (maths)")
    return found


def visible(source: str) -> str:
    """The text a reader sees of source (what Markdown leaves of it, joiners removed)."""
    tokens = _MARKDOWN.parse(source)
    parts = [c.content for t in tokens for c in (t.children or []) if c.type == "text"]
    return "".join(parts).replace("\u2060", "")


@pytest.mark.parametrize(
    "page",
    ["overview", "conflicts", "departments", "employee_voice", "initiatives", "board_snapshots"],
)
def test_names_from_the_data_are_shown_as_text_on_every_page(hostile_db, monkeypatch, page):
    monkeypatch.setenv("CXKPI_DB", str(hostile_db))
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.run()
    app.selectbox(key="department").set_value("BIL").run()
    if page != "overview":
        app.switch_page(f"app_pages/{page}.py").run()
    assert not app.exception, [e.message for e in app.exception]
    carrying = [s for s in shown(app) if "evil.test" in visible(s)]
    assert carrying, "the planted names are on no element of the page"
    for source in carrying:
        assert live_parts(source) == [], source
        assert HOSTILE in visible(source), source


def test_the_filter_offers_the_name_as_written(hostile_db, monkeypatch):
    monkeypatch.setenv("CXKPI_DB", str(hostile_db))
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.run()
    department = app.selectbox(key="department")
    assert DEPARTMENT in department.options  # a select box shows its options as plain text


def test_the_board_pack_holds_the_names_as_text(hostile_db):
    with duckdb.connect(str(hostile_db), read_only=True) as con:
        html = render_html(con, "2026-10-v1")
    assert "Billing ![x](http://127.0.0.1:8799/t.png) **loud**" in html  # shown as written
    assert "evil.test" in html
    assert "<b>b</b>" not in html and "&lt;b&gt;b&lt;/b&gt;" in html
    assert "<img" not in html
    sections = {f"#s{i}" for i in range(1, len(pack.SECTIONS) + 1)}
    assert set(re.findall(r"href=\"([^\"]*)\"", html)) <= sections
