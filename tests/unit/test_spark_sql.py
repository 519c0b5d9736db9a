"""The models' translation to Spark SQL (sqlglot only: no Spark needed, so it runs by default).

Whether Spark then gives the same answers is tests/spark/test_spark_build.py's job (CI).
"""

from __future__ import annotations

import pytest

from etl.scaleout.spark import Untranslatable, spark_models, to_spark
from etl.warehouse.models import discover


def test_every_model_spark_builds_translates_and_the_rest_is_pinned_or_reads_analyses():
    models = discover()
    on_spark = {m.name for m in spark_models()}
    assert {"stg_interactions", "int_interactions", "metric_channel_month"} <= on_spark
    assert {"department_month", "int_department_value_groups"} <= on_spark
    for name in on_spark:
        to_spark(models[name].sql)  # raises on anything Spark cannot express
    # Models left to DuckDB: those reading the analyses, and those pinned with a reason.
    assert "findings" not in on_spark
    assert "kpi_headlines" not in on_spark
    assert models["kpi_headlines"].spec["engine"] == "duckdb"


def test_duckdb_interval_constructors_become_sparks():
    sql = to_spark(
        "select a + to_seconds(s), b - to_days(d), c + to_microseconds(u), e - to_months(m) from t"
    )
    assert "MAKE_DT_INTERVAL(0, 0, 0, s)" in sql
    assert "MAKE_DT_INTERVAL(d, 0, 0, 0)" in sql
    assert "MAKE_DT_INTERVAL(0, 0, 0, CAST((u) AS DOUBLE) / 1000000)" in sql
    assert "MAKE_YM_INTERVAL(0, m)" in sql
    assert "TO_" not in sql


def test_hugeint_becomes_the_widest_exact_decimal_and_division_is_floating_point():
    sql = to_spark("select sum(x::hugeint * x), seconds / 3600.0, a / (b / 2) from t")
    assert "DECIMAL(38, 0)" in sql and "INT128" not in sql
    # Spark divides decimals as decimals rounded to 6 places; DuckDB's `/` is floating point.
    assert "CAST(seconds AS DOUBLE) / 3600.0" in sql
    assert "CAST(a AS DOUBLE) / (CAST(b AS DOUBLE) / 2)" in sql


@pytest.mark.parametrize(
    ("sql", "what"),
    [
        ("select * from a asof left join b on a.k = b.k and b.m <= a.m", "ASOF join"),
        ("select t.* replace (1 as x) from t", "REPLACE"),
        ("select any_value(m order by r) from t", "ordered aggregate"),
        ("select list(m order by r) from t", "ordered aggregate"),
    ],
)
def test_duckdb_sql_spark_cannot_express_is_refused_not_mistranslated(sql, what):
    # sqlglot passes these through (or drops the ORDER BY of an aggregate) without a word.
    with pytest.raises(Untranslatable, match=what) as refused:
        to_spark(sql)
    assert "engine: duckdb" in str(refused.value)


def test_star_exclude_becomes_sparks_except():
    assert to_spark("select t.* exclude (a) from t") == "SELECT t.* EXCEPT (a) FROM t"


def test_the_metric_definitions_seed_has_the_metric_fields_in_order_on_both_engines():
    from dataclasses import fields

    from etl.contract.metrics import Metric
    from etl.scaleout.spark import _SPARK_TYPES
    from etl.warehouse.models import METRIC_DEFINITIONS

    names = [name for name, _ in METRIC_DEFINITIONS]
    assert names == ["metric"] + [f.name for f in fields(Metric)][1:]  # Metric.name -> metric
    assert all(kind in _SPARK_TYPES for _, kind in METRIC_DEFINITIONS)


def test_a_spark_failure_is_told_by_its_cause_not_by_the_java_call_that_failed():
    from etl.scaleout.spark import reason

    py4j = Exception(
        "An error occurred while calling o151.parquet.\n"
        ": org.apache.hadoop.fs.ParentNotDirectoryException: Parent path is not a directory\n"
        "\tat org.apache.hadoop.fs.RawLocalFileSystem.mkdirs(RawLocalFileSystem.java:814)"
    )
    assert reason(py4j) == (
        "org.apache.hadoop.fs.ParentNotDirectoryException: Parent path is not a directory"
    )
    captured = Exception("[USER_RAISED_EXCEPTION] boom SQLSTATE: P0001\nJVM stacktrace: ...")
    assert reason(captured) == "[USER_RAISED_EXCEPTION] boom SQLSTATE: P0001"
    assert reason(Exception()) == "Exception"


def test_quantile_cont_becomes_sparks_exact_percentile_not_an_approximate_one():
    sql = to_spark("SELECT quantile_cont(h, 0.75) AS q FROM t")
    assert "PERCENTILE(h, 0.75)" in sql and "APPROX" not in sql
