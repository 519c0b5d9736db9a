"""The SQL workbench page under AppTest: examples, refusals, schema browser, chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data, ui
from etl.warehouse.sandbox import CONTRACT_VIEWS, Sandbox, analyst_views, examples

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture(autouse=True, scope="module")
def _close_the_dashboards_connections():
    yield
    data.clear_cache()


@pytest.fixture
def workbench(sample_db, monkeypatch) -> AppTest:
    monkeypatch.setenv("CXKPI_DB", str(sample_db))
    monkeypatch.setenv("CXKPI_SQL_MAX_ROWS", "50")
    # The sandbox is cached per reader: one an earlier page test opened has the default limits.
    data.clear_cache()
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
    assert "individual employee answers, which cannot be queried" in workbench.error[0].value
    assert "'stg_engagement_responses' is not an analyst view" in said_exactly(workbench)


def said_exactly(app: AppTest) -> str:
    """What the expander under an error holds: the guard's or DuckDB's exact text."""
    [expander] = [e for e in app.main.get("expander") if e.label.startswith("Exactly what")]
    [code] = expander.get("code")
    return code.value


def test_the_schema_browser_lists_every_view_with_its_yaml_descriptions(workbench):
    browser = workbench.selectbox(key="sql_view")
    assert "stg_engagement_responses" not in browser.options
    assert browser.options[:3] == [
        "department_month — Every metric of metric_definitions under its own name, with"
        " <metric>_n (its sample size)…",
        "kpi_conflicts — Whether a productivity KPI improved while a customer outcome worsened,"
        " with the monthly…",
        "department_value — How the cases a department worked on ended against comparable cases"
        " of the other units…",
    ]
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


def test_views_are_grouped_output_views_first_internal_ones_last(workbench):
    [groups] = [g for g in workbench.segmented_control if g.label == "Group"]
    assert groups.options == ["Output", "Supporting", "Internal"]
    assert groups.value == "output"
    browser = workbench.selectbox(key="sql_view")
    assert [o.split(" — ")[0] for o in browser.options] == list(CONTRACT_VIEWS)
    said = f"{len(CONTRACT_VIEWS)} documented output views"
    assert any(c.value.startswith(said) for c in workbench.caption)
    groups.set_value("supporting").run()
    supporting = [o.split(" — ")[0] for o in workbench.selectbox(key="sql_view").options]
    assert {"department_nps_month", "departments", "kpi_headlines"} <= set(supporting)
    assert not [v for v in supporting if v.startswith(("stg_", "int_", "snapshot_"))]
    [groups] = [g for g in workbench.segmented_control if g.label == "Group"]
    groups.set_value("internal").run()
    internal = workbench.selectbox(key="sql_view").options
    names = [o.split(" — ")[0] for o in internal]
    assert names and all(v.startswith(("stg_", "int_", "snapshot_")) for v in names)
    assert "int_nps_responses — Survey answers attributed to a touchpoint department" in internal
    assert any("Their columns may change between releases" in c.value for c in workbench.caption)


def test_a_query_run_is_kept_in_the_link_and_runs_again_when_the_link_opens(
    workbench, sample_db, monkeypatch
):
    query = "SELECT month, nps, nps_n FROM organisation_month ORDER BY month"
    run(workbench, query)
    assert workbench.query_params["q"] == query
    # A reload, or the link shared with someone: a new session opens the page from the URL,
    # the filters' parameters beside the query.
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.query_params.update({"q": query, "department": "Billing"})
    app.run()
    app.switch_page("app_pages/sql_workbench.py").run()
    assert not app.exception
    assert app.text_area(key="sql_query").value == query
    assert app.dataframe[0].value.shape[0] == workbench.dataframe[0].value.shape[0] > 0
    assert app.query_params["department"] == "Billing"
    assert app.selectbox(key="department").value == "BIL"
    # The same refusals as a typed query.
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.query_params["q"] = "COPY department_month TO '/tmp/leak.csv'"
    app.switch_page("app_pages/sql_workbench.py").run()
    assert app.error[0].value.startswith("Not run: COPY statements are not allowed")
    assert not app.dataframe


def test_a_query_too_long_for_a_link_leaves_none_and_says_so(workbench):
    run(workbench, "SELECT 1 AS x")
    assert workbench.query_params["q"] == "SELECT 1 AS x"
    long = "SELECT 1 AS x -- " + "x" * data.URL_QUERY_CHARS
    run(workbench, long)
    assert "q" not in workbench.query_params
    assert workbench.dataframe[0].value.shape[0] == 1
    assert any("too long to keep in the page's link" in c.value for c in workbench.caption)


def chart_spec(app: AppTest) -> dict:
    [chart] = [e for e in app.main if e.type == "vega_lite_chart"]
    return json.loads(chart.proto.spec)


def test_two_measures_far_apart_get_an_axis_each_or_an_index(workbench):
    run(workbench, "SELECT month, nps, aht_seconds FROM organisation_month ORDER BY month")
    [values] = [m for m in workbench.multiselect if m.label == "Values"]
    values.set_value(["nps", "aht_seconds"]).run()
    [scale] = [s for s in workbench.segmented_control if s.label == "Scale"]
    assert scale.options == ["One axis", "Two axes", "Index (first = 100)"]
    assert scale.value == "Two axes"  # an NPS near 10 and a handle time near 450 seconds
    spec = chart_spec(workbench)
    assert spec["resolve"]["scale"]["y"] == "independent"
    fields = [layer["encoding"]["y"]["field"] for layer in spec["layer"]]
    assert fields == ["nps", "aht_seconds"]
    assert [layer["encoding"]["y"]["axis"]["orient"] for layer in spec["layer"]] == [
        "left",
        "right",
    ]
    scale.set_value("Index (first = 100)").run()
    rule, lines = chart_spec(workbench)["layer"]
    assert lines["encoding"]["y"]["title"] == "index (first value = 100)"
    assert rule["mark"]["type"] == "rule"
    assert not any(c.value.startswith("No index") for c in workbench.caption)
    [scale] = [s for s in workbench.segmented_control if s.label == "Scale"]
    scale.set_value("One axis").run()
    assert "layer" not in chart_spec(workbench)
    assert any("on one axis the smaller reads as a flat line" in c.value for c in workbench.caption)


def test_an_index_leaves_out_a_measure_that_starts_at_or_below_zero(workbench):
    # An NPS less 100 is never above 0: as an index it would run the wrong way.
    run(
        workbench,
        "SELECT month, nps - 100 AS below_best, nps_n AS answers FROM organisation_month"
        " ORDER BY month",
    )
    [values] = [m for m in workbench.multiselect if m.label == "Values"]
    values.set_value(["below_best", "answers"]).run()
    [scale] = [s for s in workbench.segmented_control if s.label == "Scale"]
    scale.set_value("Index (first = 100)").run()
    said = f"No index for {ui.plain('below_best')}"
    assert any(c.value.startswith(said) for c in workbench.caption)
    assert chart_spec(workbench)["layer"][1]["encoding"]["y"]["field"] == "value"


@pytest.mark.parametrize(
    ("query", "sentence", "exactly"),
    [
        (
            "SELECT nps_x FROM department_month",
            'There is no column "nps_x" in that query\'s tables. Did you mean "nps_n"?',
            'Binder Error: Referenced column "nps_x" not found in FROM clause!',
        ),
        (
            "SELECT * FORM department_month",
            'The query has a syntax error near "department_month" (line 1).',
            "Parser Error: syntax error at or near",
        ),
        (
            "SELECT * FROM departmnt_month",
            'There is no view "departmnt_month" you can query. Did you mean "department_month"?',
            "'departmnt_month' is not an analyst view",
        ),
        (
            "SELECT 'abc'::INTEGER AS x",
            'A value could not be turned into the type the query asks for: "abc" cannot be read'
            " as INT32.",
            "Conversion Error: Could not convert string 'abc' to INT32",
        ),
    ],
)
def test_an_error_says_what_is_wrong_in_plain_words_with_duckdbs_text_underneath(
    workbench, query, sentence, exactly
):
    run(workbench, query)
    assert not workbench.exception
    [error] = workbench.error
    assert error.value.startswith(ui.plain(sentence))
    assert exactly in said_exactly(workbench)


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
    assert "is a raw or load table, which cannot be queried here" in app.error[0].value
    assert "'raw_interactions' is not an analyst view" in said_exactly(app)


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
