"""Data quality: what was loaded, what was rejected and why, and how fresh each source is."""

import streamlit as st

from dashboard import data, ui

st.title("Data quality")
st.markdown(
    "Every row read is either loaded or set aside in **quarantine** with the file, row, column"
    " and rule it broke. Fix the export and load it again under the same name: its earlier rows"
    " are replaced, never doubled."
)

st.subheader("Freshness of each source")
st.caption(
    "A month is complete when every monthly source (contacts, case tasks, workforce, customer"
    " surveys) covers it with at least half of a typical month's rows; the dashboard reports the"
    " last complete month. Employee surveys come in waves and never hold a month back."
)
fresh = data.data_as_of()
months = data.reporting_months()
reporting = (
    months.filter(months["is_reporting_month"]).row(0, named=True) if months.height else None
)
behind = fresh.filter(
    fresh["status"].str.starts_with("behind") | (fresh["status"] == "nothing loaded")
)
if behind.is_empty() and reporting is not None and reporting["is_complete"]:
    st.success(
        f"Every source is loaded and complete to {ui.month_label(reporting['month'])}, the month"
        " the dashboard reports."
    )
for row in behind.iter_rows(named=True):
    st.warning(f"**{ui.plain(row['source'])}**: {ui.plain(row['status'])}.")
for row in fresh.filter(fresh["revised_waves"] > 0).iter_rows(named=True):
    # The sentence is long and the table cuts it: a published wave's late answers, in full.
    st.info(f"**{ui.plain(row['source'])}**: {ui.plain(row['status'])}.", icon=":material/lock:")
for row in months.filter(months["is_in_progress"]).iter_rows(named=True):
    st.info(f"{ui.plain(row['in_progress'])}.", icon=":material/hourglass_top:")
shown, helps = ui.readable(fresh, "source_freshness")
ui.table(shown, helps=helps)

st.subheader("What to fix")
problems = data.quarantine_summary()
if problems.is_empty():
    st.success("No rows rejected in the current loads.")
else:
    total = problems["rows_quarantined"].sum()
    st.error(f"{total:,} rows are in quarantine, in {problems['file'].n_unique()} file(s).")
    summary = problems.select(
        "file",
        "column",
        "rule",
        "rows_quarantined",
        "first_row_number",
        "example_message",
        "fix",
    )
    shown, helps = ui.readable(summary, "quarantine_summary")
    ui.table(shown, helps=helps)
    if data.reader().role.raw_records:
        st.markdown("**Rejected rows as the system sent them** (first 1,000)")
        sent = data.quarantined_rows()
        shown, helps = ui.readable(sent, "quarantine")
        ui.table(shown, helps=helps)
    st.caption("See every rejected row with what the system sent:")
    st.code(
        'cxkpi sql "SELECT file, row_number, \\"column\\", rule, message, raw_record'
        ' FROM quarantine WHERE NOT is_superseded ORDER BY file, row_number"',
        language="bash",
    )

st.subheader("Load runs")
runs = data.load_runs()
st.caption(
    f"The latest {runs.height} file loads, newest first; refused files were not loaded at"
    " all, quarantined ones partly."
)
shown, helps = ui.readable(runs, "load_runs")
ui.table(shown, helps=helps)
