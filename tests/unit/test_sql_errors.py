"""DuckDB's errors in plain words: each common error class gets a sentence a person can act on,
with DuckDB's exact text kept underneath (etl/warehouse/sql_errors.py)."""

from __future__ import annotations

import duckdb
import pytest

from etl.warehouse.sandbox import Limits, Refused, _Translate
from etl.warehouse.sql_errors import explain

VIEWS = ("department_month", "organisation_month", "departments")


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect(":memory:")
    con.execute("CREATE VIEW department_month AS SELECT DATE '2026-01-01' AS month, 1 AS nps")
    con.execute("CREATE VIEW organisation_month AS SELECT DATE '2026-01-01' AS month, 2 AS nps")
    yield con
    con.close()


def refusal(con: duckdb.DuckDBPyConnection, query: str) -> Refused:
    """The refusal the sandbox makes of DuckDB's error for query."""
    with pytest.raises(Refused) as refused, _Translate(Limits()):
        con.sql(query).fetchall()
    return refused.value


@pytest.mark.parametrize(
    ("query", "sentence", "kind"),
    [
        (
            "SELECT nps_x FROM department_month",
            'There is no column "nps_x" in that query\'s tables. Did you mean "nps"?',
            "Binder Error",
        ),
        (
            "SELECT d.nps FROM department_month",
            'The query uses "d." but no table or alias of that name is in its FROM clause.'
            ' Did you mean "department_month"?',
            "Binder Error",
        ),
        (
            "SELECT month, count(*) FROM department_month",
            '"month" must be in the GROUP BY, or inside an aggregate such as sum(), max() or'
            ' any_value("month").',
            "Binder Error",
        ),
        (
            "SELECT month FROM department_month, organisation_month",
            '"month" is a column of more than one table in the query: say which one, for'
            " example table.month.",
            "Binder Error",
        ),
        (
            "SELECT sum('x'::VARCHAR)",
            "No function takes these types of value: sum(VARCHAR).",
            "Binder Error",
        ),
        ("SELECT flor(nps) FROM department_month", 'There is no function "flor()".', "Catalog"),
        (
            "SELECT * FROM departmnt_month",
            'There is no view "departmnt_month" you can query. Did you mean "department_month"?',
            "Catalog Error",
        ),
        (
            "SELECT 'abc'::INTEGER",
            'A value could not be turned into the type the query asks for: "abc" cannot be'
            " read as INT32.",
            "Conversion Error",
        ),
        (
            "SELECT 2147483647::INTEGER + 1::INTEGER",
            "A number grew past what its type can hold.",
            "Out of Range Error",
        ),
        (
            "SELECT * FROM department_month WHERE",
            'The query ends too early, after "WHERE" (line 1): something is missing at the end',
            "Parser Error",
        ),
        (
            "SELECT 'abc",
            "The query opens a quote it never closes (line 1)",
            "Parser Error",
        ),
        (
            "SELECT * FORM department_month",
            'The query has a syntax error near "department_month" (line 1).',
            "Parser Error",
        ),
    ],
)
def test_each_error_class_gets_a_plain_sentence_and_keeps_duckdbs_text(con, query, sentence, kind):
    refused = refusal(con, query)
    said = explain(refused, VIEWS)
    assert said.sentence.startswith(sentence)
    assert said.detail.startswith(kind)
    assert said.detail == refused.detail


def test_the_limits_and_the_guards_refusals_are_explained_too():
    time = explain(Refused("the query ran longer than the 30 s limit", stopped="time"))
    assert time.sentence.startswith("The query ran past its time limit and was stopped.")
    assert time.detail == "the query ran longer than the 30 s limit"
    memory = explain(Refused("the query needed more than the 2GB memory limit", "memory"))
    assert memory.sentence.startswith("The query needed more memory than its limit allows")
    copy = explain(Refused("COPY statements are not allowed: only read-only SELECT queries run"))
    assert copy.sentence == (
        "Not run: COPY statements are not allowed: only read-only SELECT queries run"
    )
    assert copy.detail == ""
    hidden = explain(Refused("'stg_engagement_responses' is not an analyst view: ..."), VIEWS)
    assert "individual employee answers, which cannot be queried" in hidden.sentence
    raw = explain(Refused("'raw_interactions' is not an analyst view: ..."), VIEWS)
    assert raw.sentence.startswith('"raw_interactions" is a raw or load table')
    far = explain(Refused("'zzz' is not an analyst view: ..."), VIEWS)
    assert far.sentence.startswith('There is no view "zzz" you can query: only the views listed')


def test_duckdbs_text_reaches_the_caller_through_a_worker(sample_db):
    """The worker sends DuckDB's text beside its sentence (JSON), as the page shows it."""
    from etl.warehouse.sandbox import Sandbox

    with Sandbox(sample_db, spare=0) as box, pytest.raises(Refused) as refused:
        box.run("SELECT nps_x FROM department_month")
    assert refused.value.detail.startswith('Binder Error: Referenced column "nps_x" not found')
    assert "Candidate bindings:" in refused.value.detail
