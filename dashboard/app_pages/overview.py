"""Overview: are we improving for customers, which KPIs fight, which departments add value."""

import streamlit as st

from dashboard import data, filters, ui
from etl.reporting import charts
from etl.reporting.lists import TILES
from etl.reporting.lists import TREND_OUTCOMES as OUTCOMES
from etl.reporting.lists import TREND_PRODUCTIVITY as PRODUCTIVITY
from etl.reporting.sentences import failure_demand_sentence, overview_headline

SHOWN_FINDINGS = 5
#: Width of one trend panel: four side by side fill the page at 1280 px.
PANEL = 140

f = filters.current()
st.title(f"Customer experience: {ui.plain(f.department_name)}")
channel = "all channels" if f.channel == "all" else f"the {ui.plain(f.channel)} channel"
tiles = data.headlines(f, TILES).to_dicts()
found = data.findings(f.department)
year_ago = ui.month_label(f.headline_month.replace(year=f.headline_month.year - 1))
failure = data.failure_demand_headline(f.department, f.headline_month)
st.markdown(
    f"**{ui.month_label(f.headline_month)}:** "
    + ui.plain(overview_headline(tiles, found.to_dicts(), year_ago))
    + " "
    + ui.plain(failure_demand_sentence(failure, ui.month_label(f.headline_month), year_ago))
)
st.caption(
    f"Tiles: {ui.month_label(f.headline_month)}, {channel}, against the month before (survey"
    " waves: the wave before) and the same month a year before. A change is green or red only"
    " when it is clear of noise; grey says no clear change. The ? beside a tile gives its"
    " definition."
)
for sentence in f.in_progress:
    st.info(
        f"{ui.plain(sentence)}. {ui.in_progress_note(f.headline_month, f.end)}",
        icon=":material/hourglass_top:",
    )

for row_of_tiles in (tiles[:3], tiles[3:]):
    for column, row in zip(st.columns(3), row_of_tiles, strict=False):
        with column:
            ui.tile(row)

st.subheader("What needs attention")
if found.is_empty():
    st.success(
        "No flags: no KPI conflict, no watermelon or value-destroying department, no faded"
        " initiative"
        + ("" if f.department == "ALL" else f" for {ui.plain(f.department_name)}")
        + "."
    )


def finding_box(finding: dict) -> None:
    """A finding's headline and sentence, with a button to the page holding its evidence."""
    with st.container(border=True):
        st.markdown(f"**{ui.plain(finding['headline'])}**  \n{ui.plain(finding['explanation'])}")
        pair = {}
        if finding["productivity_metric"]:
            pair["pair"] = f"{finding['productivity_metric']}:{finding['outcome_metric']}"
        if not data.reader().may_open(finding["evidence_page"]):
            return
        st.button(
            "See the evidence",
            key=f"overview_evidence_{finding['rank']}",
            icon=":material/arrow_forward:",
            type="tertiary",
            on_click=filters.open_page,
            args=(f"app_pages/{finding['evidence_page']}.py", finding["department_id"]),
            kwargs=pair,
        )


for finding in found.head(SHOWN_FINDINGS).iter_rows(named=True):
    finding_box(finding)
if found.height > SHOWN_FINDINGS:
    more = found.height - SHOWN_FINDINGS
    with st.expander(f"{more} more finding{'s' if more > 1 else ''}", icon=":material/list:"):
        for finding in found.slice(SHOWN_FINDINGS).iter_rows(named=True):
            finding_box(finding)

st.subheader("Productivity against customer outcomes")
st.caption(
    f"{ui.month_label(f.start)} to {ui.month_label(f.end)}, {channel}. Each panel has its own"
    " scale; the arrow says which way is better. Productivity can improve while customers do"
    " not: compare the two rows."
    + (" Hollow points: a month still in progress." if f.in_progress else "")
)
st.markdown("**Productivity**")
st.altair_chart(charts.small_multiples(data.trend(f, PRODUCTIVITY), columns=4, width=PANEL))
st.markdown("**Customer outcomes**")
st.altair_chart(charts.small_multiples(data.trend(f, OUTCOMES), columns=4, width=PANEL))
