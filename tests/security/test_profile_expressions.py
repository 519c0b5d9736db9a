"""A profile's expressions and filters reach the row and nothing else.

They are checked with DuckDB's parser against an allow-list of node kinds and functions, and
Polars evaluates the text cxkpi renders from that checked tree, never the text as written:
no subquery, table function, file, URL, setting or environment variable, and no file
content in a message. docs/security.md, "Files cxkpi reads".
"""

from __future__ import annotations

import http.server
import re
import threading
from pathlib import Path

import polars as pl
import pytest

from etl.config_file import ConfigError
from etl.contract import profiles
from etl.contract.expression import column_sql

SECRET = "top-secret-line-of-a-private-file"
BODY = f"a\n{SECRET}\n".encode()
PROFILE = """source: departments
columns:
  department_id: id
  name: {{expression: {expression}}}
  function: kind
  headcount: staff
filters:
  - exclude: {exclude}
    reason: test
"""


@pytest.fixture(scope="module")
def server():
    """A loopback HTTP server that counts the requests it gets."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):  # noqa: N802 (the standard library's name)
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()

        def do_GET(self):  # noqa: N802
            self.do_HEAD()
            self.wfile.write(BODY)

        def log_message(self, *_):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()


ATTACKS = [
    "(SELECT nope FROM read_csv('{secret}'))",
    "(SELECT * FROM read_csv('{secret}'))",
    "title IN (SELECT column0 FROM read_csv('{secret}', header=false))",
    "EXISTS (SELECT 1 FROM read_parquet('{secret}'))",
    "(SELECT nope FROM read_json('{secret}'))",
    "(SELECT nope FROM read_csv('{url}/x.csv'))",
    "(SELECT nope FROM glob('/etc/*'))",
    "(SELECT 1)",
    "read_text('{secret}')",
    "read_blob('{secret}')",
    "getenv('HOME')",
    "current_setting('threads')",
    "title || (SELECT nope FROM read_csv('{secret}'))",
    "title; COPY (SELECT 1) TO '/tmp/x.csv'",
    "count(*) OVER ()",
    "main.upper(title)",
    "list_transform([1], x -> x)",
    "title COLLATE nocase",
    "$1",
    "*",
]


def _profile(tmp_path: Path, expression: str, exclude: str = "kind = 'x'") -> Path:
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    path = tmp_path / "hostile.yml"
    path.write_text(PROFILE.format(expression=quoted(expression), exclude=quoted(exclude)))
    return path


@pytest.mark.parametrize("where", ["expression", "filter"])
@pytest.mark.parametrize("attack", ATTACKS)
def test_an_expression_reaching_outside_the_row_is_refused_by_line(
    tmp_path: Path, server, attack: str, where: str
) -> None:
    url, hits = server
    secret = tmp_path / "secret.csv"
    secret.write_text(f"{SECRET}\nb\n")
    text = attack.format(secret=secret, url=url)
    args = (text,) if where == "expression" else ("upper(title)", text)
    before = len(hits)
    with pytest.raises(ConfigError) as refused:
        profiles.parse(_profile(tmp_path, *args))
    message = str(refused.value)
    assert "\n" not in message and len(message) < 400
    assert SECRET not in message
    assert "not allowed" in message
    assert "hostile.yml:" in message
    assert len(hits) == before, "the profile made an HTTP request"


LEGITIMATE = [
    ("\"vru+line\" || '-' || call_id", ["1-c", "2-d"]),
    ("'IBM-' || CAST(_row_number AS VARCHAR)", ["IBM-1", "IBM-2"]),
    ("CAST(minutes AS DOUBLE) * 60", [60.0, 150.0]),
    ("outcome = 'HANG'", [True, False]),
    ("Status = 'a'", [True, False]),
    ("title LIKE 'b%'", [False, True]),
    ("title ILIKE 'B%'", [False, True]),
    ("title NOT IN ('a', 'x')", [False, True]),
    ("title IS NULL OR title <> 'a'", [False, True]),
    ("CASE WHEN title = 'a' THEN 'one' ELSE 'other' END", ["one", "other"]),
    ("coalesce(nullif(title, 'a'), 'none')", ["none", "bb1"]),
    ("upper(trim(title))", ["A", "BB1"]),
    ("regexp_replace(title, '\\d+', '')", ["a", "bb"]),
    ("title ~ '\\d'", [False, True]),
    ("length(title) BETWEEN 2 AND 3", [False, True]),
    ("substr(title, 1, 1) || lower('X')", ["ax", "bx"]),
    ("round(CAST(minutes AS DOUBLE) / 2, 1)", [0.5, 1.2]),
    ("-CAST(minutes AS DOUBLE)", [-1.0, -2.5]),
    ("NOT (title = 'a') AND title != 'c'", [False, True]),
    ("strftime(strptime(day, '%d/%m/%Y'), '%Y-%m-%d')", ["2026-01-05", "2026-02-06"]),
    ("'it''s ' || title", ["it's a", "it's bb1"]),
]


@pytest.mark.parametrize("text, expected", LEGITIMATE)
def test_column_expressions_still_map_the_row(text: str, expected: list) -> None:
    frame = pl.DataFrame(
        {
            "title": ["a", "bb1"],
            "vru+line": ["1", "2"],
            "call_id": ["c", "d"],
            "outcome": ["HANG", "x"],
            "_row_number": [1, 2],
            "minutes": ["1", "2.5"],
            "Status": ["a", "b"],
            "day": ["05/01/2026", "06/02/2026"],
        }
    )
    expr = pl.sql_expr(column_sql(text))
    assert frame.select(expr.alias("r"))["r"].to_list() == expected


def test_polars_evaluates_what_was_checked_not_what_was_written(tmp_path: Path) -> None:
    """Nested comments: DuckDB reads `1`, Polars' parser would read a subquery after it."""
    secret = tmp_path / "secret.csv"
    secret.write_text(f"{SECRET}\n")
    text = f"1 /* /* */ + (SELECT nope FROM read_csv('{secret}')) -- */"
    assert column_sql(text) == "1"
    profile = profiles.parse(_profile(tmp_path, text))
    frame = pl.DataFrame({"title": ["a"]})
    assert frame.select(profile.columns[1].expr.alias("r"))["r"].to_list() == [1]


def test_every_shipped_profile_and_documented_expression_loads() -> None:
    shipped = sorted(profiles.SHIPPED.glob("*.yml"))
    assert len(shipped) >= 2
    for path in shipped:
        assert profiles.parse(path).columns
    docs = (Path(__file__).parents[2] / "docs" / "profiles.md").read_text()
    written = re.findall(r'(?:expression|exclude): "((?:[^"\\]|\\.)*)"', docs)
    assert len(written) >= 4
    for text in written:
        pl.sql_expr(column_sql(text.replace('\\"', '"').replace("\\|", "|")))
