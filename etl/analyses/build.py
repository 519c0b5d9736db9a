"""Run the analyses (conflicting KPIs, department value, EX-CX linkage, initiatives, what moves
NPS, themes in comments) in a build.

SQL marts do the heavy aggregation; the modules beside this one run the statistics (scipy)
on the small monthly tables, and build() writes kpi_conflicts, department_value, ex_cx_linkage
and initiative_effects back into the warehouse. Methods: docs/methodology.md#analyses.
"""

from __future__ import annotations

import duckdb

from etl.analyses import comments
from etl.analyses.conflicts import kpi_conflicts
from etl.analyses.demand_net import demand_net
from etl.analyses.department_value import department_value
from etl.analyses.drivers import CATEGORIES, DRIVERS, nps_drivers
from etl.analyses.initiatives import initiative_effects
from etl.analyses.linkage import ex_cx_linkage


def build(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Compute every analysis from the marts and store it as a table; the tables written."""
    series = con.sql(
        "SELECT m.department_id, coalesce(d.department_name, 'the organisation') AS name,"
        " m.month, m.metric, m.value, m.n, m.ci_low, m.ci_high FROM metric_month m"
        " LEFT JOIN stg_departments d USING (department_id) ORDER BY ALL"
    ).pl()
    channels = con.sql(
        "SELECT department_id, channel, month, metric, value, n FROM metric_channel_month"
        " WHERE channel <> 'all' ORDER BY ALL"
    ).pl()
    handling = con.sql(
        "SELECT department_id, month, contacts, handle_seconds_mean, caused_per_contact"
        " FROM int_handling_demand_month ORDER BY ALL"
    ).pl()
    tables = {
        "kpi_conflicts": demand_net(kpi_conflicts(series, channels), handling),
        "department_value": department_value(con),
        "ex_cx_linkage": ex_cx_linkage(
            series, con.sql("SELECT * FROM int_linkage_outcome_month ORDER BY ALL").pl()
        ),
    }
    initiatives = con.sql(
        "SELECT initiative_id, initiative_name, department_id, started_on, metric"
        " FROM stg_initiatives ORDER BY initiative_id"
    ).pl()
    tables["initiative_effects"] = initiative_effects(initiatives, series, tables["kpi_conflicts"])
    tables["nps_drivers"] = _drivers(con)
    for name, frame in tables.items():
        con.register("analysis", frame.to_arrow())
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM analysis")
        con.unregister("analysis")
    # Comments: redacted and themed, only those not themed yet (etl/analyses/comments.py).
    return [*tables, *comments.build(con)]


def _drivers(con: duckdb.DuckDBPyConnection):
    answers = con.sql(
        f"SELECT department_id, nps_points, {', '.join((*DRIVERS, *CATEGORIES))}"
        " FROM nps_driver_answers"
        " ORDER BY response_id"
    ).pl()
    unlinked = dict(
        con.execute(
            "SELECT coalesce(department_id, 'unattributed'), count(*) FROM int_nps_responses r"
            " WHERE score IS NOT NULL AND NOT EXISTS (SELECT 1 FROM nps_driver_answers a"
            " WHERE a.response_id = r.response_id) GROUP BY ALL"
        ).fetchall()
    )
    unlinked["ALL"] = sum(unlinked.values())
    names = con.execute("SELECT department_id, department_name FROM stg_departments")
    return nps_drivers(answers, unlinked, dict(names.fetchall()))
