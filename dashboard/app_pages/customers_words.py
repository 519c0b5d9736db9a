"""Customers' words: what customers write in the survey, theme by theme, over time."""

import polars as pl
import streamlit as st

from dashboard import data, filters, ui
from etl.analyses.thresholds import MIN_F1
from etl.reporting import charts

#: Comments each window of the rising themes needs before its shares are compared (as in the
#: theme_rising view).
MIN_COMMENTS = 30
#: How a comment's score reads beside it.
SCORED = {
    "promoter": "promoter (scored 9-10)",
    "passive": "passive (scored 7-8)",
    "detractor": "detractor (scored 0-6)",
}

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
measured = taxonomy.filter(pl.col("measured") & pl.col("f1").is_not_null())
unreliable = taxonomy.filter(pl.col("reliable").eq(False))
#: What F1 means, for people.
F1_MEANS = (
    "F1 runs from 0 to 1 and falls when a theme misses comments that are about it or takes"
    " comments that are not"
)
if not unreliable.is_empty():
    names = "; ".join(
        f"**{ui.plain(t['theme_label'])}** (F1 {t['f1']:.2f})"
        for t in unreliable.iter_rows(named=True)
    )
    st.warning(
        f"**Read with care, unreliable themes:** {names}. Against comments read and labelled by"
        f" hand, these are found with an F1 under {MIN_F1} ({F1_MEANS}). Their shares may be"
        " off; they are marked (unreliable) wherever they appear on this page.",
        icon=":material/warning:",
    )
elif not measured.is_empty():
    weakest = measured.sort("f1").row(0, named=True)
    st.caption(
        f"Every theme is reliable: against comments read and labelled by hand, each is found"
        f" with an F1 of at least {MIN_F1} (the lowest: {ui.plain(weakest['theme_label'])},"
        f" {weakest['f1']:.2f}). {F1_MEANS}. A theme under {MIN_F1} would be flagged here and"
        " marked (unreliable) wherever it appears."
    )
if not measured.is_empty():
    with st.expander("How well each theme is found"):
        st.caption(
            "Each theme against the comments labelled by hand: of the comments it takes, the"
            " share a person also put there; of the comments a person put there, the share it"
            f" takes; and F1, which weighs both (under {MIN_F1}: unreliable)."
        )
        ui.table(
            measured.select(
                pl.col("theme_label").alias("Theme"),
                pl.col("precision")
                .map_elements(lambda v: f"{v:.0%}", pl.String)
                .alias("Right when taken"),
                pl.col("recall")
                .map_elements(lambda v: f"{v:.0%}", pl.String)
                .alias("Found when there"),
                pl.col("f1").map_elements(lambda v: f"{v:.2f}", pl.String).alias("F1"),
                pl.col("labelled_comments").alias("Labelled with it (n)"),
                pl.when(pl.col("reliable"))
                .then(pl.lit("reliable"))
                .otherwise(pl.lit("unreliable"))
                .alias("Reading"),
            ),
            key="words_reliability",
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
    total = per_month["comments_n"].sum()
    st.caption(
        f"Each cell: the percent of the month's comments about {ui.plain(whose)} that take the"
        f" theme, all customers; each month's n under its name (n = {total:,} comments over"
        f" {per_month.height} months). A comment may take several themes, or none."
        " Counted over all channels: the channel filter applies to the search below."
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
        up = rising.filter(pl.col("is_change_clear") & (pl.col("change") > 0))
        if up.is_empty():
            st.markdown(
                "No theme clearly rose: every change is within what chance gives with these"
                " numbers of comments (which is not the same as no change)."
            )
        else:
            rose = [
                f"**{ui.plain(label(r['theme_label'], r['reliable']))}**, {r['before_share']:.1%}"
                f" to {r['recent_share']:.1%} of the comments ({r['before_comments']:,} to"
                f" {r['recent_comments']:,})"
                for r in up.iter_rows(named=True)
            ]
            st.markdown("Clearly on the rise: " + "; ".join(rose) + ".")

        def points(change: float) -> str:
            return "0.0 points" if abs(change) < 0.0005 else f"{change * 100:+.1f} points"

        def clear(row: dict) -> str:
            if not row["is_change_clear"]:
                return "no clear change"
            return "clearly up" if row["change"] > 0 else "clearly down"

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
            pl.struct("change", "is_change_clear")
            .map_elements(clear, pl.String)
            .alias("Beyond chance?"),
        )
        ui.table(
            table,
            helps={
                "Last 3 months": ui.help_for("theme_rising", "recent_share"),
                "3 months before": ui.help_for("theme_rising", "before_share"),
                "Change": ui.help_for("theme_rising", "change"),
                "Beyond chance?": ui.help_for("theme_rising", "is_change_clear"),
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


def channel_name(channel: str) -> str:
    """all channels, or Phone only."""
    if channel == "all":
        return "all channels"
    labels = data.filter_values()["channel"]
    label = dict(zip(labels["value"], labels["label"], strict=True)).get(channel, channel)
    return f"{ui.plain(label)} only"


wanted = words.strip()
where = (
    f"{ui.plain(whose)}, {ui.month_label(f.start)} to {ui.month_label(f.end)},"
    f" {channel_name(f.channel)}"
)
if not wanted:
    st.caption(f"Type a word or a few to read the comments that hold them ({where}).")
else:
    found, matches = data.search_comments(f, wanted)
    names = data.known_departments()
    if not matches:
        st.info(
            f"No comment holds “{ui.plain(wanted)}” ({where}). The words are found as typed,"
            " in that order: try fewer or shorter words, or a longer period.",
            icon=":material/search_off:",
        )
    else:
        more = f"; the newest {found.height} shown" if matches > found.height else ""
        st.caption(f"{matches:,} comments hold “{ui.plain(wanted)}” ({where}){more}.")
        for row in found.iter_rows(named=True):
            about = names.get(row["department_id"], row["department_id"])
            themes = (row["themes"] or "none") + (
                " (includes an unreliable theme)" if row["has_unreliable"] else ""
            )
            st.markdown(f"> {ui.plain(row['comment'])}")
            st.caption(
                f"{ui.plain(about)}, {ui.month_label(row['month'])},"
                f" {ui.plain(SCORED.get(row['nps_category'], 'no score'))}."
                f" Themes: {ui.plain(themes)}."
            )
