"""Failure demand: the contacts that happen only because something was not done, or not done
right, the first time; who causes them and who absorbs them."""

import polars as pl
import streamlit as st

from dashboard import data, filters, ui
from etl.reporting import charts
from etl.reporting.formats import money

#: The one sentence on what the figures are, and the list of what they cannot see
#: (docs/methodology.md#failure-demand).
HONESTY = (
    "An operational proxy: it counts only what the data records (a contact back within 7 days"
    " of one that did not resolve, a chase of an overdue task, a call about a broken promise,"
    " a transfer that bounced), where a listening study would hear the calls themselves. It"
    " cannot see failure demand on a first contact (a customer calling about a confusing bill),"
    " a contact more than 7 days after the one that failed, a customer back on a new case"
    " without a customer id, or call-backs and transfers the systems never recorded."
)
REASON_WORDS = {r: label for r, (label, _) in charts.FAILURE_REASONS.items()}

f = filters.current()
st.title(f"Failure demand: {ui.plain(f.department_name)}")
months = data.failure_demand_months(f.department, f.start, f.end)
if months.is_empty() or months["contacts"].sum() + months["caused_contacts"].sum() == 0:
    st.info(
        f"No contacts for {ui.plain(f.department_name)} in this period, and no failure demand"
        " it caused: load interactions and run `cxkpi build`."
    )
    st.stop()

period = f"{ui.month_label(f.start)} to {ui.month_label(f.end)}"
contacts, failure = int(months["contacts"].sum()), int(months["failure_contacts"].sum())
hours = float(months["failure_hours"].sum())
caused, caused_hours = int(months["caused_contacts"].sum()), float(months["caused_hours"].sum())
who = "the organisation" if f.department == "ALL" else ui.plain(f.department_name)
who_first = "The organisation" if f.department == "ALL" else who


def trend_clause(frame: pl.DataFrame) -> str:
    """How the share moved between the period's first and last three months, in words."""
    if frame.height < 6:
        return ""
    first, last = frame.head(3), frame.tail(3)
    start = first["failure_contacts"].sum() / max(first["contacts"].sum(), 1)
    end = last["failure_contacts"].sum() / max(last["contacts"].sum(), 1)
    if round(start, 3) == round(end, 3):
        return f" It held at {end:.1%} from the first three months to the last three."
    move = "up" if end > start else "down"
    return (
        f" It went {move} from {start:.1%} in the first three months to {end:.1%} in the last"
        " three."
    )


received = (
    f"**{failure / contacts:.1%} of the contacts {who} received were failure demand** from"
    f" {period}: {failure:,} of {contacts:,}, taking {hours:,.0f} agent hours."
    + trend_clause(months)
    if contacts
    else f"**{who_first} took no contacts itself** from {period}."
)
if f.department != "ALL":
    received += (
        f" Its own failures caused {caused:,} failure-demand contacts, wherever they were taken,"
        f" costing {caused_hours:,.0f} agent hours."
    )
st.markdown(received)
st.caption(HONESTY)
st.caption(
    "Over all channels: the channel filter does not apply. Each contact has at most one reason,"
    " the first that holds: transfer bounce, chase, broken promise, repeat."
)

if contacts:
    st.subheader("Share of contacts, by reason")
    st.caption(f"Failure demand received each month (n = {contacts:,} contacts in the period).")
    st.altair_chart(charts.failure_share(months), width="stretch")
else:
    st.caption(f"{who_first} takes no contacts: its failure demand is what it causes.")

st.subheader("Who causes it, and who absorbs it")
flows = data.failure_demand_flows(f.department, f.start, f.end)
if flows.is_empty():
    st.info(f"No failure demand from or to {who} in this period.")
else:
    own = flows.filter(pl.col("cause_department_id") == pl.col("department_id"))
    st.caption(
        "Agent hours of failure demand in the period, from the department whose failure"
        " caused it (rows) to the department that took the contact (columns); the diagonal"
        f" is a department's own. n = {int(flows['contacts'].sum()):,} contacts,"
        f" {own['hours'].sum() / max(flows['hours'].sum(), 1e-9):.0%} of the hours on the"
        " diagonal. Hover over a cell for its contacts."
    )
    selected = "" if f.department == "ALL" else f.department_name
    st.altair_chart(charts.flow_matrix(flows, selected), width="content")
    if data.reader().visibility.departments is not None:
        st.caption(
            "Your access covers some departments: failure demand caused or received outside"
            " them is not shown."
        )

st.subheader("The ledger: who pays for whose failures")
ledger = data.failure_demand_ledger().filter(
    (pl.col("contacts") > 0) | (pl.col("caused_elsewhere_contacts").fill_null(1) > 0)
)
if ledger.is_empty() or ledger["first_month"].is_null().all():
    st.info("No contacts in the last 12 months: the ledger has nothing to weigh.")
else:
    window = (
        f"{ui.month_label(ledger['first_month'][0])} to {ui.month_label(ledger['last_month'][0])}"
    )
    moved = int(ledger["caused_elsewhere_contacts"].fill_null(0).sum())
    st.caption(
        f"Over the last 12 months ({window}, the months the department verdicts judge; the"
        " period filter does not move it): the agent hours of failure demand each department"
        " caused that another had to take, against those it took that another caused. A"
        f" department's own failure demand, taken by itself, is left out. n = {moved:,}"
        " contacts crossing between departments."
    )
    if ledger["caused_elsewhere_hours"].is_null().any() or ledger["absorbed_hours"].is_null().any():
        st.caption(
            "A side marked withheld would give away the one department outside your access at"
            " its other end."
        )
    selected = "" if f.department == "ALL" else f.department_name
    st.altair_chart(charts.ledger_bars(ledger, selected), width="content")
    costed = ledger["cost_missing_for"].is_null().all()
    if not costed:
        st.caption(
            "Cost is shown only where workforce cost is loaded for the departments that took the"
            " contacts; a cost marked – is missing some of it (load workforce cost per agent-day)."
        )

    def hours(column: str) -> pl.Expr:
        return pl.col(column).round(0).cast(pl.Int64)

    def cost(column: str) -> pl.Expr:
        return pl.col(column).map_elements(lambda c: money(c, places=0), pl.String)

    shown = ledger.select(
        pl.col("department_name").alias("Department"),
        hours("caused_elsewhere_hours").alias("Caused (h)"),
        cost("caused_elsewhere_cost").alias("Cost caused"),
        hours("absorbed_hours").alias("Absorbed (h)"),
        cost("absorbed_cost").alias("Cost absorbed"),
        hours("net_hours_caused").alias("Net (h)"),
        pl.col("caused_elsewhere_contacts").alias("Contacts caused"),
        pl.col("absorbed_contacts").alias("Contacts absorbed"),
    )
    withheld = "withheld: one department outside your access at the other end"
    ui.table(
        shown,
        highlight=[name == selected for name in ledger["department_name"]],
        helps={
            "Caused (h)": "Agent hours other departments spent on failure demand"
            " this department caused (handle time). Blank where " + withheld + ".",
            "Cost caused": "Their cost at the handling departments' workforce cost per handled"
            " minute; – where that cost is not loaded.",
            "Absorbed (h)": "Agent hours this department spent on failure demand others caused.",
            "Cost absorbed": "Their cost at this department's workforce cost per handled minute.",
            "Net (h)": "Caused for others minus absorbed: positive, others pay for its"
            " failures; negative, it pays for others'.",
            "Contacts caused": "Contacts behind the hours caused for others (n).",
            "Contacts absorbed": "Contacts behind the hours absorbed (n).",
        },
    )

st.subheader("The biggest causes")
causes = data.failure_demand_causes(f.department, f.start, f.end)
if causes.is_empty():
    st.info(f"{who_first} caused no failure demand in this period.")
else:
    st.caption(
        "By agent hours in the period. Example cases are the latest; look them up in the"
        " SQL workbench by their case_id."
    )
    shown = causes.select(
        pl.col("cause_department_name").alias("Caused by"),
        pl.col("reason").replace_strict(REASON_WORDS, default=None).alias("Reason"),
        pl.col("contacts").alias("Contacts"),
        pl.col("hours").round(0).cast(pl.Int64).alias("Hours"),
        pl.col("landed_elsewhere").alias("Taken by others"),
        pl.col("example_cases").list.join(", ").alias("Example cases"),
    )
    ui.table(
        shown,
        helps={
            "Contacts": "Failure-demand contacts with this cause and reason (n).",
            "Hours": "Agent hours they took (handle time).",
            "Taken by others": "Of the contacts, those another department had to take.",
            "Example cases": "The latest cases with such a contact (case_id).",
        },
    )
