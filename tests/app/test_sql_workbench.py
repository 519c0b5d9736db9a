"""The SQL workbench page under AppTest: examples, refusals, schema browser, chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from etl.warehouse.sandbox import Sandbox, analyst_views, examples

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture(autouse=True, scope="module")
def _close_the_dashboards_connections():
    yield
    data.clear_cache()


@pytest.fixture
def workbench(sample_db, monkeypatch) -> AppTest:
    monkeypatch.setenv("CXKPI_DB", str(sample_db))
    monkeypatch.setenv("CXKPI_SQL_MAX_ROWS", "50")
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.run()
    app.switch_page("app_pages/sql_workbench.py").run()
    assert not app.exception
    return app


def click(app: AppTest, label: str) -> AppTest:
    [button] = [b for b in app.button if b.label == label]
    return button.click().run()


def mark(app: AppTest) -> str:
    """The mark of the page's only chart."""
    [chart] = [e for e in app.main if e.type == "vega_lite_chart"]
    spec = json.loads(chart.proto.spec)
    return spec["mark"]["type"] if isinstance(spec["mark"], dict) else spec["mark"]


def run(app: AppTest, query: str) -> AppTest:
    app.text_area(key="sql_query").input(query)
    return click(app, "Run")


def test_every_example_runs_and_shows_its_rows(workbench, sample_db):
    with Sandbox(sample_db) as box:
        for example in examples():
            click(workbench, example.title)
            assert not workbench.exception, example.name
            assert not workbench.error, (example.name, workbench.error[0].value)
            assert workbench.text_area(key="sql_query").value == example.sql
            expected = box.run(example.sql, max_rows=50)
            assert expected.frame.height > 0, f"{example.name} finds nothing in the sample"
            shown = workbench.dataframe[0].value
            assert list(shown.columns) == expected.frame.columns
            assert shown.shape[0] == expected.frame.height
            words = f"**{expected.frame.height:,} row"
            assert any(m.value.startswith(words) for m in workbench.markdown), example.name


def test_a_long_result_is_capped_and_says_downloads_hold_more(workbench):
    run(workbench, "SELECT * FROM range(500)")
    assert workbench.dataframe[0].value.shape[0] == 50
    status = next(m.value for m in workbench.markdown if m.value.startswith("**50 rows**"))
    assert "the query returned more" in status and "1,000,000 rows" in status
    labels = [b.proto.label for b in workbench.get("download_button")]
    assert labels == ["Download CSV", "Download Parquet"]
    assert [c.label for c in workbench.checkbox] == ["Raw CSV"]  # formulas kept (security.md)


def test_an_attack_is_refused_with_one_sentence(workbench):
    run(workbench, "COPY department_month TO '/tmp/leak.csv'")
    assert not workbench.exception
    [error] = workbench.error
    assert error.value == (
        "Not run: COPY statements are not allowed: only read-only SELECT queries run here"
    )
    assert not workbench.dataframe


def test_individual_engagement_answers_are_refused(workbench):
    run(workbench, "SELECT * FROM stg_engagement_responses")
    assert "'stg_engagement_responses' is not an analyst view" in workbench.error[0].value


def test_the_schema_browser_lists_every_view_with_its_yaml_descriptions(workbench):
    browser = workbench.selectbox(key="sql_view")
    assert "stg_engagement_responses" not in browser.options
    assert browser.options[:3] == ["department_month", "kpi_conflicts", "department_value"]
    browser.set_value("department_value").run()
    view = next(v for v in analyst_views() if v.name == "department_value")
    assert f"**Grain**: {view.grain}." in [m.value for m in workbench.markdown]
    listing = next(m.value for m in workbench.markdown if "`verdict`" in m.value)
    for column, text in view.columns:
        assert f"- `{column}` — {text}" in listing
    click(workbench, "Query department_value")
    assert workbench.text_area(key="sql_query").value.startswith("SELECT *\nFROM department_value")


def test_a_result_with_a_date_and_a_number_gets_a_chart_split_by_category(workbench):
    run(
        workbench,
        "SELECT month, channel, value AS nps FROM metric_channel_month "
        "WHERE metric = 'nps' AND department_id = 'ALL' AND channel <> 'all'",
    )
    [along, split] = [s for s in workbench.selectbox if s.label in ("Along", "Split by")]
    assert (along.value, split.value) == ("month", "channel")
    assert [m.value for m in workbench.multiselect if m.label == "Values"] == [["nps"]]
    assert mark(workbench) == "line"
    run(workbench, "SELECT department_id, count(*) AS months FROM department_month GROUP BY 1")
    assert mark(workbench) == "bar"
    run(workbench, "SELECT department_id, department_name FROM department_value")
    assert not [e for e in workbench.main if e.type == "vega_lite_chart"]
    assert any("No chart" in c.value for c in workbench.caption)


def test_a_warehouse_without_views_says_how_to_build_them(tmp_path, monkeypatch):
    from etl.warehouse.publish import writing

    db = tmp_path / "raw-only.duckdb"
    with writing(db):
        pass  # raw and meta tables only, as after a load that never built
    monkeypatch.setenv("CXKPI_DB", str(db))
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.switch_page("app_pages/sql_workbench.py").run()
    assert not app.exception
    assert any("run `cxkpi build`" in i.value for i in app.info)
    run(app, "SELECT * FROM raw_interactions")
    assert "'raw_interactions' is not an analyst view" in app.error[0].value


def test_a_bad_limit_setting_is_a_message_not_a_traceback(sample_db, monkeypatch):
    monkeypatch.setenv("CXKPI_DB", str(sample_db))
    monkeypatch.setenv("CXKPI_SQL_TIMEOUT", "soon")
    data.clear_cache()
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.switch_page("app_pages/sql_workbench.py").run()
    assert not app.exception
    warning = app.warning[0].value
    assert "CXKPI_SQL_TIMEOUT='soon' is not a number" in warning
    data.clear_cache()
