"""The guard resolves every name as DuckDB does: a name it allows never reaches DuckDB's catalog.

The class: a name the guard lets through that DuckDB resolves to something else, such as a
CTE name seen outside its scope (it then names DuckDB's real system view), a SHOW that lists
every attached database, or a function that reads a setting or the catalog.
"""

from __future__ import annotations

import re

import pytest

from etl.cli.sql import EXAMPLE_QUERIES
from etl.warehouse.sandbox import Limits, Refused, Sandbox, examples

SYSTEM_VIEWS = [
    "duckdb_databases",
    "duckdb_tables",
    "duckdb_views",
    "pg_settings",
    "sqlite_master",
    "pragma_database_list",
]

#: A CTE name visible in one scope, referenced where DuckDB resolves it to the real view.
SCOPE_ATTACKS = [
    *(
        f"SELECT * FROM {name} WHERE EXISTS (WITH {name} AS (SELECT 1) SELECT 1 FROM {name})"
        for name in SYSTEM_VIEWS
    ),
    "SELECT * FROM (WITH duckdb_views AS (SELECT 1) SELECT * FROM duckdb_views), duckdb_views",
    "SELECT (WITH pg_settings AS (SELECT 1) SELECT 1), (SELECT count(*) FROM pg_settings)",
    "WITH duckdb_tables AS (SELECT * FROM duckdb_tables) SELECT * FROM duckdb_tables",
    "WITH a AS (SELECT * FROM duckdb_views), duckdb_views AS (SELECT 1) SELECT * FROM a",
    "WITH RECURSIVE sqlite_master AS (SELECT sql FROM sqlite_master UNION ALL "
    "SELECT sql FROM sqlite_master WHERE false) SELECT * FROM sqlite_master",
    "SELECT * FROM department_month WHERE EXISTS (WITH duckdb_databases AS (SELECT 1) "
    "SELECT 1 FROM duckdb_databases) UNION ALL BY NAME SELECT * FROM duckdb_databases",
]

#: Statements and functions that read the catalog, settings or the environment.
READER_ATTACKS = [
    ("SHOW ALL TABLES", "SHOW ALL TABLES is not allowed"),
    ("SHOW DATABASES", "SHOW DATABASES is not allowed"),
    ("SHOW stg_engagement_responses", "'stg_engagement_responses' is not an analyst view"),
    ("SHOW raw_interactions", "'raw_interactions' is not an analyst view"),
    ("SELECT current_setting('temp_directory')", "current_setting() is not allowed"),
    ("SELECT main.current_setting('memory_limit')", "current_setting() is not allowed"),
    ("SELECT 'temp_directory'.current_setting()", "current_setting() is not allowed"),
    ("SELECT getvariable('x')", "getvariable() is not allowed"),
    ("SELECT current_database()", "current_database() is not allowed"),
    ("SELECT current_schemas(true)", "current_schemas() is not allowed"),
    ("SELECT pg_get_viewdef(range) FROM range(5000)", "pg_get_viewdef() is not allowed"),
    ("SELECT get_block_size('memory')", "get_block_size() is not allowed"),
]

#: Legitimate uses of the same features, which must keep working.
ALLOWED = [
    ("WITH a AS (SELECT 1 AS x) SELECT x FROM a", [(1,)]),
    ("WITH a AS (SELECT 1 AS x), b AS (SELECT x + 1 AS y FROM a) SELECT y FROM b", [(2,)]),
    ("WITH a AS (SELECT 1 AS x) SELECT (WITH b AS (SELECT x FROM a) SELECT x FROM b)", [(1,)]),
    ("WITH a AS (SELECT 1 AS x) SELECT x FROM a UNION ALL SELECT x FROM a", [(1,), (1,)]),
    (
        "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
        "SELECT n FROM r",
        [(1,), (2,), (3,)],
    ),
    ("WITH department_month AS (SELECT 7 AS x) SELECT x FROM department_month", [(7,)]),
    ("SELECT count(*) > 0 FROM (SHOW TABLES)", [(True,)]),
]


#: A `cxkpi sql "..."` line in the docs, with the query's escaped quotes.
DOCUMENTED = r'cxkpi (?:--db \S+ )?sql "((?:SELECT|FROM)(?:[^"\\]|\\.)*)"'


@pytest.fixture(scope="module")
def sandbox(sample_db):
    with Sandbox(sample_db, Limits(timeout_seconds=10)) as box:
        yield box


def refusal(box: Sandbox, query: str) -> str:
    with pytest.raises(Refused) as refused:
        box.run(query)
    message = str(refused.value)
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.mark.parametrize("query", SCOPE_ATTACKS)
def test_a_cte_name_outside_its_scope_is_not_a_cte(sandbox, query):
    assert "is not an analyst view" in refusal(sandbox, query)


@pytest.mark.parametrize(("query", "words"), READER_ATTACKS, ids=[a[0] for a in READER_ATTACKS])
def test_catalog_and_setting_readers_are_refused_in_one_sentence(sandbox, query, words):
    assert words in refusal(sandbox, query)


def test_no_refusal_or_answer_names_the_server_s_paths(sandbox, sample_db):
    """Whatever gets through, the warehouse path and the temporary folder stay unseen."""
    secrets = (str(sample_db.parent), "cxkpi-sql-")
    for query in [*SCOPE_ATTACKS, *(q for q, _ in READER_ATTACKS), "SHOW TABLES"]:
        try:
            seen = str(sandbox.run(query).frame.rows())
        except Refused as refused:
            seen = str(refused)
        assert not any(s in seen for s in secrets), query


@pytest.mark.parametrize(("query", "rows"), ALLOWED, ids=[a[0][:50] for a in ALLOWED])
def test_ctes_recursion_and_show_tables_still_work(sandbox, query, rows):
    assert sandbox.run(query).frame.rows() == rows


def test_every_documented_query_still_runs(sandbox):
    """The examples, the CLI's suggestions and the docs' queries are never refused."""
    queries = [e.sql for e in examples()] + list(EXAMPLE_QUERIES)
    for doc in ("docs/sql-workbench.md", "README.md", "docs/cli.md"):
        with open(doc) as text:
            queries += re.findall(
                r'cxkpi (?:--db \S+ )?sql "((?:SELECT|FROM)(?:[^"\\]|\\.)*)"', text.read()
            )
    queries = [q.replace('\\"', '"') for q in queries if "..." not in q]
    assert len(queries) > 10
    for query in queries:
        sandbox.run(query)
