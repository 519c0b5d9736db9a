"""Customers' words: what customers write in the survey, theme by theme, over time."""

import polars as pl
import streamlit as st

from dashboard import data, filters, ui
from etl.reporting import charts
from etl.reporting.sentences import UNRELIABLE_NOTE

#: Comments each window of the rising themes needs before its shares are compared (as in the
#: theme_rising view).
MIN_COMMENTS = 30

f = filters.current()
whose = "the departments you see" if f.department == "ALL" else f.department_name
st.title(f"Customers' words: {ui.plain(f.department_name)}")
st.markdown(
    "What customers wrote in the survey's comment box, grouped into **themes** (a call-back"
    " not made, a wrong bill, waiting too long). A comment takes every theme it is clearly"
    " about, or none; personal details (e-mail addresses, phone, card and account numbers,"
    " names after a cue) are replaced by markers before anything is stored or shown."
)

taxonomy = data.theme_taxonomy()
unreliable = taxonomy.filter(pl.col("reliable").eq(False))
if not unreliable.is_empty():
    names = ", ".join(ui.plain(t) for t in unreliable["theme_label"])
    st.warning(
        f"**Read with care:** {names}: {UNRELIABLE_NOTE}. Shares of these themes may be off.",
        icon=":material/warning:",
    )
elif taxonomy["measured"].any():
    st.caption(
        "Every theme found the comments labelled by hand with an F1 of 0.5 or more; a theme"
        " below that is marked unreliable here. How the themes are learnt and measured:"
        " docs/methodology.md, Themes in comments."
    )


def label(theme: str, reliable: bool | None) -> str:
    """The theme's label, marked when unreliable."""
    return f"{theme} (unreliable)" if reliable is False else theme


st.subheader("Themes over time")
months = data.theme_months(f)
ELSEWHERE = (
    " Customers answer about the unit they spoke to, so a back office has none of its own: the"
    " comments on the cases it worked on are beside its verdict on the Departments page."
)
if months.is_empty():
    st.info(f"No survey comments about {ui.plain(whose)} in the period.{ELSEWHERE}")
else:
    shown = months.with_columns(
        theme=pl.struct("theme_label", "reliable").map_elements(
            lambda t: label(t["theme_label"], t["reliable"]), pl.String
        )
    )
    per_month = months.unique("month")
    st.caption(
        f"Each theme's share of the month's comments for {ui.plain(whose)}, all customers:"
        f" n = {per_month['comments_n'].sum():,} comments over"
        f" {per_month.height} months (the month's n in the tooltip). A comment may take several"
        " themes. Counted over all channels: the channel filter applies to the search below."
    )
    st.altair_chart(charts.theme_heatmap(shown))

st.subheader("Rising themes")
rising = data.rising_themes(f.department)
if rising.is_empty():
    st.info(f"No survey comments about {ui.plain(whose)} in the last six months.{ELSEWHERE}")
else:
    first = rising.row(0, named=True)
    recent = f"{ui.month_label(first['recent_from'])} to {ui.month_label(first['recent_to'])}"
    before = f"{ui.month_label(first['before_from'])} to {ui.month_label(first['before_to'])}"
    st.caption(
        f"Share of {ui.plain(first['department_name'])}'s comments in the last 3 months with"
        f" comments ({recent}, n = {first['recent_n']:,}) against the 3 before ({before},"
        f" n = {first['before_n']:,}). Compared only with at least {MIN_COMMENTS} comments in"
        " each; the period filter does not apply."
    )
    if not first["is_enough"]:
        st.info(
            f"Too few comments to compare: {first['recent_n']:,} and {first['before_n']:,},"
            f" under the {MIN_COMMENTS} each window needs."
        )
    else:
        up = rising.filter(pl.col("change") > 0)
        if up.is_empty():
            st.markdown("No theme comes up more often than in the three months before.")
        else:
            top = up.row(0, named=True)
            st.markdown(
                f"Most on the rise: **{ui.plain(label(top['theme_label'], top['reliable']))}**,"
                f" {top['before_share']:.1%} to {top['recent_share']:.1%} of the comments"
                f" ({top['before_comments']:,} to {top['recent_comments']:,})."
            )

        def points(change: float) -> str:
            return "0.0 points" if abs(change) < 0.0005 else f"{change * 100:+.1f} points"

        def share(count: str, n: str, ratio: str) -> pl.Expr:
            return pl.format(
                "{} ({} of {})",
                pl.col(ratio).map_elements(lambda s: f"{s:.1%}", pl.String),
                pl.col(count).map_elements(ui.count, pl.String),
                pl.col(n).map_elements(ui.count, pl.String),
            )

        table = rising.select(
            pl.struct("theme_label", "reliable")
            .map_elements(lambda t: label(t["theme_label"], t["reliable"]), pl.String)
            .alias("Theme"),
            share("recent_comments", "recent_n", "recent_share").alias("Last 3 months"),
            share("before_comments", "before_n", "before_share").alias("3 months before"),
            pl.col("change").map_elements(points, pl.String).alias("Change"),
        )
        ui.table(
            table,
            helps={
                "Last 3 months": ui.help_for("theme_rising", "recent_share"),
                "3 months before": ui.help_for("theme_rising", "before_share"),
                "Change": ui.help_for("theme_rising", "change"),
            },
            key="words_rising",
        )

st.subheader("Search the comments")
words = st.text_input(
    "Words to find",
    key="words_search",
    placeholder="e.g. call back",
    help="Case-insensitive, anywhere in the comment; over the period, department and channel"
    " of the filters. Comments are shown redacted.",
)
if words.strip():
    found, matches = data.search_comments(f, words.strip())
    names = data.known_departments()
    if not matches:
        st.info(f"No comment of {ui.plain(whose)} in the period holds “{ui.plain(words)}”.")
    else:
        more = f"; the newest {found.height} shown" if matches > found.height else ""
        st.caption(f"{matches:,} comments hold “{ui.plain(words.strip())}”{more}.")
        for row in found.iter_rows(named=True):
            about = names.get(row["department_id"], row["department_id"])
            themes = row["themes"] + (
                " (includes an unreliable theme)" if row["has_unreliable"] else ""
            )
            st.markdown(f"> {ui.plain(row['comment'])}")
            st.caption(
                f"{ui.plain(about)}, {ui.month_label(row['month'])},"
                f" {ui.plain(row['nps_category'] or 'no score')}. Themes: {ui.plain(themes)}."
            )
