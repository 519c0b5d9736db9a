"""Altair charts of the pages and the board pack: presentation only, fed with prepared frames."""

from __future__ import annotations

import altair as alt
import polars as pl

from etl.contract.metrics import MIN_N_ENGAGEMENT_GROUP
from etl.reporting.formats import VERDICTS

#: Height of one small-multiple panel, in pixels (two rows fit a 1280x800 screen with tiles).
PANEL_HEIGHT = 120
PANEL_WIDTH = 165
#: Height of one row of the conflict matrix, in pixels.
MATRIX_ROW = 34
#: The font the board pack draws its charts in (WeasyPrint's own), so the text a chart
#: measures is the text the PDF prints.
PRINT_FONT = "DejaVu Sans"


def _display(frame: pl.DataFrame) -> pl.DataFrame:
    """Shares as percentages and a title saying which way is better."""
    return frame.with_columns(
        shown=pl.when(pl.col("unit") == "share")
        .then(pl.col("value") * 100)
        .otherwise(pl.col("value")),
        title=pl.col("label")
        + pl.when(pl.col("unit") == "share").then(pl.lit(" (%)")).otherwise(pl.lit(""))
        + pl.when(pl.col("better") == "lower")
        .then(pl.lit(" ↓ better"))
        .otherwise(pl.lit(" ↑ better")),
    )


def small_multiples(
    frame: pl.DataFrame, columns: int = 2, width: int = PANEL_WIDTH
) -> alt.FacetChart:
    """One small line chart per metric, each on its own scale, with its n in the tooltip; a
    month still in progress (is_in_progress) has a hollow point."""
    shown = _display(frame)
    if "is_in_progress" not in shown.columns:
        shown = shown.with_columns(is_in_progress=pl.lit(False))
    shown = shown.with_columns(
        month_state=pl.when(pl.col("is_in_progress"))
        .then(pl.lit("in progress"))
        .otherwise(pl.lit("complete"))
    )
    base = alt.Chart().encode(
        x=alt.X(
            "month:T",
            title=None,
            axis=alt.Axis(
                format="%b %y",
                labelAngle=0,
                tickCount={"interval": "month", "step": 3},
                labelOverlap="greedy",
            ),
        ),
        y=alt.Y("shown:Q", title=None, scale=alt.Scale(zero=False)),
        tooltip=[
            alt.Tooltip("month:T", format="%b %Y"),
            alt.Tooltip("label:N", title="metric"),
            alt.Tooltip("shown:Q", title="value", format=",.2f"),
            alt.Tooltip("n:Q", title="n", format=","),
            alt.Tooltip("note:N"),
            alt.Tooltip("month_state:N", title="month"),
        ],
    )
    points = base.mark_point(filled=True, size=36, stroke="#4c78a8", strokeWidth=1.5).encode(
        fill=alt.condition("datum.is_in_progress", alt.value("white"), alt.value("#4c78a8")),
    )
    return (
        alt.layer(base.mark_line(), points, data=shown)
        .properties(height=PANEL_HEIGHT, width=width)
        .facet(
            facet=alt.Facet(
                "title:N", title=None, sort=None, header=alt.Header(labelLimit=0, labelFontSize=12)
            ),
            columns=columns,
        )
        .resolve_scale(y="independent", x="shared")
    )


def conflict_matrix(
    frame: pl.DataFrame, selection: alt.Parameter, printed: bool = False
) -> alt.LayerChart:
    """Productivity x outcome; colour = direction-aware association, ⚑ where flagged.

    printed: the board pack's legend, a tall gradient from "customers lost out" to "moved
    together" under a title in words, for paper (the page keeps Streamlit's own)."""
    base = alt.Chart(frame).encode(
        x=alt.X(
            "outcome_label:N",
            title="customer outcome",
            axis=alt.Axis(labelAngle=-30, labelLimit=200, labelOverlap=False),
        ),
        y=alt.Y(
            "productivity_label:N",
            title="productivity KPI",
            axis=alt.Axis(labelLimit=200, labelOverlap=False),
        ),
    )
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color(
            "association:Q",
            title=["productivity better,", "customers:"] if printed else "association",
            scale=alt.Scale(domain=[-1, 1], scheme="redblue"),
            legend=alt.Legend(
                type="gradient",
                gradientLength=MATRIX_ROW * max(frame["productivity_metric"].n_unique(), 3),
                gradientThickness=14,
                values=[-1, 0, 1],
                labelExpr=(
                    "datum.value < 0 ? 'worse' : datum.value > 0 ? 'better too' : 'unchanged'"
                ),
                titleLimit=0,
                labelLimit=0,
            )
            if printed
            else alt.Undefined,
        ),
        opacity=alt.condition(selection, alt.value(1.0), alt.value(0.55)),
        tooltip=[
            alt.Tooltip("productivity_label:N", title="productivity"),
            alt.Tooltip("outcome_label:N", title="outcome"),
            alt.Tooltip("association:Q", format="+.2f"),
            alt.Tooltip("q_value:Q", title="q (BH)", format=".3f"),
            alt.Tooltip("n_periods:Q", title="months"),
            alt.Tooltip("flagged:N"),
        ],
    )
    flags = base.mark_text(fontSize=16, color="black").encode(
        text=alt.condition("datum.flagged", alt.value("⚑"), alt.value(""))
    )
    # Streamlit fits the whole chart, angled labels included, into the height given.
    rows = frame["productivity_metric"].n_unique()
    return (cells + flags).add_params(selection).properties(height=MATRIX_ROW * rows + 140)


def quadrant(frame: pl.DataFrame, targets_met: float, selected: str = "") -> alt.LayerChart:
    """Own-target attainment against the NPS gap of the cases touched; watermelons bottom right.

    Only flagged departments and the selected one (by name) are named, so that labels do not pile up
    where most departments sit (on target, close to their peers); the tooltip names the rest.
    The legend sits below, its labels never shortened (on the page and in the board pack).
    """
    data = frame.filter(
        pl.col("nps_gap").is_not_null() & pl.col("own_target_attainment").is_not_null()
    ).with_columns(
        verdict_label=pl.col("verdict").replace_strict({k: v[0] for k, v in VERDICTS.items()}),
        attainment=pl.col("own_target_attainment") * 100,
        name_shown=pl.when(
            pl.col("verdict").is_in(["destroys_value", "watermelon"])
            | (pl.col("department_name") == selected)
        )
        .then(pl.col("department_name"))
        .otherwise(pl.lit("")),
    )
    drawn = [k for k in VERDICTS if k in set(data["verdict"])]
    colour = alt.Color(
        "verdict_label:N",
        title="verdict",
        scale=alt.Scale(
            domain=[VERDICTS[k][0] for k in drawn], range=[VERDICTS[k][1] for k in drawn]
        ),
        legend=alt.Legend(orient="bottom", labelLimit=0, titleLimit=0),
    )
    x = alt.X(
        "attainment:Q",
        title="own targets met (% of target-months)",
        scale=alt.Scale(domain=[0, 100], nice=False, padding=12),
        axis=alt.Axis(values=[0, 20, 40, 60, 80, 100]),
    )
    y_title = "NPS gap to peers (points)"
    y = alt.Y("nps_gap:Q", title=y_title)
    base = alt.Chart(data).encode(x=x)
    bars = base.mark_errorbar().encode(
        y=alt.Y("nps_gap_ci_low:Q", title=y_title), y2="nps_gap_ci_high:Q", color=colour
    )
    points = base.mark_circle(size=140, opacity=0.9).encode(
        y=y,
        color=colour,
        tooltip=[
            alt.Tooltip("department_name:N", title="department"),
            alt.Tooltip("verdict_label:N", title="verdict"),
            alt.Tooltip("attainment:Q", title="own targets met %", format=".0f"),
            alt.Tooltip("nps_gap:Q", title="NPS gap", format="+.1f"),
            alt.Tooltip("nps_touched_n:Q", title="answers", format=","),
        ],
    )
    labels = base.mark_text(align="right", dx=-10, fontSize=12, fontWeight="bold").encode(
        y=y, text="name_shown:N"
    )
    zero = (
        alt.Chart()
        .mark_rule(strokeDash=[4, 4], color="#888")
        .encode(y=alt.Y(datum=0, title=y_title))
    )
    met = (
        alt.Chart()
        .mark_rule(strokeDash=[4, 4], color="#888")
        .encode(x=alt.datum(targets_met * 100))
    )
    return (
        alt.layer(zero, met, bars, points, labels, data=data)
        .properties(height=380)
        .resolve_scale(y="shared")
    )


def interval_bars(frame: pl.DataFrame, field: str, title: str) -> alt.LayerChart:
    """A value per department with its 95% interval."""
    base = alt.Chart(frame).encode(
        y=alt.Y(
            "department_name:N",
            title=None,
            sort=alt.EncodingSortField(field, order="descending"),
            axis=alt.Axis(labelLimit=160),
        ),
    )
    bars = base.mark_bar(color="#0e5e6f").encode(
        x=alt.X(f"{field}:Q", title=title),
        tooltip=[
            alt.Tooltip("department_name:N", title="department"),
            alt.Tooltip(f"{field}:Q", format="+.1f"),
            alt.Tooltip(f"{field}_ci_low:Q", title="95% low", format="+.1f"),
            alt.Tooltip(f"{field}_ci_high:Q", title="95% high", format="+.1f"),
        ],
    )
    whiskers = base.mark_errorbar(color="black").encode(
        x=alt.X(f"{field}_ci_low:Q", title=None), x2=f"{field}_ci_high:Q"
    )
    return (bars + whiskers).properties(height=28 * max(frame.height, 3))


def counts(frame: pl.DataFrame, field: str, title: str) -> alt.Chart:
    """A count per department."""
    return (
        alt.Chart(frame)
        .mark_bar(color="#c0392b")
        .encode(
            x=alt.X(f"{field}:Q", title=title),
            y=alt.Y("department_name:N", title=None, sort="-x", axis=alt.Axis(labelLimit=160)),
            tooltip=["department_name:N", alt.Tooltip(f"{field}:Q", format=",")],
        )
        .properties(height=28 * max(frame.height, 3))
    )


def wave_heatmap(frame: pl.DataFrame, field: str) -> alt.LayerChart:
    """An index per department and survey wave; groups under 5 responses marked suppressed,
    and larger ones withheld beside them (complementary suppression) marked withheld."""
    data = frame.with_columns(
        shown=pl.col(field) * 100,
        text=pl.when(pl.col(field).is_null() & (pl.col("responses") < MIN_N_ENGAGEMENT_GROUP))
        .then(pl.lit(f"<{MIN_N_ENGAGEMENT_GROUP}"))
        .when(pl.col(field).is_null())
        .then(pl.lit("withheld"))
        .otherwise((pl.col(field) * 100).round(0).cast(pl.Int64).cast(pl.String)),
    )
    base = alt.Chart(data).encode(
        x=alt.X(
            "wave:O",
            title="survey wave",
            timeUnit="yearmonth",
            axis=alt.Axis(format="%b %y", labelAngle=0),
        ),
        y=alt.Y("department_name:N", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=200)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("shown:Q", title="% favourable", scale=alt.Scale(scheme="blues")),
        tooltip=[
            alt.Tooltip("department_name:N", title="department"),
            alt.Tooltip("wave:T", format="%b %Y"),
            alt.Tooltip("responses:Q"),
            alt.Tooltip("shown:Q", title="% favourable", format=".0f"),
        ],
    )
    text = base.mark_text(fontSize=11).encode(text="text:N")
    return (cells + text).properties(height=26 * max(data["department_name"].n_unique(), 3))


def lifts(frame: pl.DataFrame) -> alt.FacetChart:
    """Each initiative's lift at 1 month and at 3-6 months with 95% intervals, in the unit
    people read (a share's lift in points), against a dashed line at no change."""
    base = alt.Chart().encode(
        x=alt.X(
            "stage:N",
            title=None,
            sort=["after 1 month", "after 3-6 months"],
            # Two lines per label: side by side they ran into each other.
            axis=alt.Axis(labelAngle=0, labelExpr="['after', replace(datum.label, 'after ', '')]"),
        ),
    )
    points = base.mark_point(filled=True, size=120).encode(
        y=alt.Y("shown_lift:Q", title="lift against the months before"),
        color=alt.Color("stage:N", legend=None),
        tooltip=[
            alt.Tooltip("initiative_name:N", title="initiative"),
            alt.Tooltip("stage:N"),
            alt.Tooltip("shown_lift:Q", title="lift", format="+,.1f"),
            alt.Tooltip("shown_low:Q", title="95% low", format="+,.1f"),
            alt.Tooltip("shown_high:Q", title="95% high", format="+,.1f"),
            alt.Tooltip("shown_unit:N", title="unit"),
        ],
    )
    bars = base.mark_errorbar().encode(y=alt.Y("shown_low:Q", title=None), y2="shown_high:Q")
    # No x encoding: one line across the panel at 0, not a tick per stage.
    zero = alt.Chart().mark_rule(strokeDash=[4, 4], color="#555").encode(y=alt.datum(0))
    return (
        alt.layer(zero, bars, points, data=frame)
        .properties(width=210, height=180)
        .facet(
            # The heading on two lines, the initiative over its metric: one line ran out.
            facet=alt.Facet(
                "panel:N", title=None, header=alt.Header(labelExpr="split(datum.value, ': ')")
            ),
            columns=3,
        )
        .resolve_scale(y="independent")
    )


def result_chart(frame: pl.DataFrame, x: str, ys: list[str], color: str | None) -> alt.Chart:
    """A query result: lines over a time axis, otherwise horizontal bars per category."""
    temporal = frame.schema[x].is_temporal()
    long = frame.select(
        [x, *([color] if color and color != x else []), *[pl.col(y).cast(pl.Float64) for y in ys]]
    ).unpivot(index=[c for c in (x, color) if c], variable_name="measure", value_name="value")
    series = color if color else "measure"
    tooltip = [alt.Tooltip(f"{x}:{'T' if temporal else 'N'}"), "measure:N"]
    tooltip += [alt.Tooltip(f"{color}:N")] if color else []
    tooltip.append(alt.Tooltip("value:Q", format=",.4~f"))
    base = alt.Chart(long)
    if temporal:
        # Several rows per date and nothing to tell them apart: points, not a zig-zag line.
        keys = [x, "measure", *([color] if color and color != x else [])]
        several = long.select(pl.struct(keys).is_duplicated().any()).item()
        mark = base.mark_circle() if several else base.mark_line(point=True)
        chart = mark.encode(
            x=alt.X(f"{x}:T", title=x),
            y=alt.Y("value:Q", title=ys[0] if len(ys) == 1 else None, scale=alt.Scale(zero=False)),
        )
    else:
        chart = base.mark_bar().encode(
            y=alt.Y(f"{x}:N", title=x, sort="-x", axis=alt.Axis(labelLimit=220)),
            x=alt.X("value:Q", title=ys[0] if len(ys) == 1 else None),
            yOffset=alt.YOffset(f"{series}:N") if color or len(ys) > 1 else alt.Undefined,
        )
    legend = alt.Color(f"{series}:N", title=series if color else None)
    return chart.encode(
        color=legend if color or len(ys) > 1 else alt.Undefined,
        strokeDash=alt.StrokeDash("measure:N")
        if temporal and color and len(ys) > 1
        else alt.Undefined,
        tooltip=tooltip,
    )


#: Two measures this many times apart in size read as one flat line on a shared axis.
SCALE_RATIO = 10


def scales_apart(frame: pl.DataFrame, ys: list[str]) -> bool:
    """Whether the measures' largest sizes differ SCALE_RATIO times or more (or one is all 0)."""
    sizes = [frame[y].cast(pl.Float64).abs().max() for y in ys]
    sizes = [s for s in sizes if s is not None]
    if len(sizes) < 2:
        return False
    return min(sizes) == 0 or max(sizes) / min(sizes) >= SCALE_RATIO


def two_axes_chart(frame: pl.DataFrame, x: str, ys: list[str], color: str | None) -> alt.Chart:
    """Two measures of a query result, each on its own scale: over time, a line each with the
    first measure's axis on the left and the second's on the right; per category, two bar
    panels side by side."""
    first, second = ys
    temporal = frame.schema[x].is_temporal()
    split = [color] if color and color != x else []
    palette = ("#4c78a8", "#f58518")

    def one(measure: str, shade: str, side: str, dash: list[int]) -> alt.Chart:
        shown = frame.select(x, *split, pl.col(measure).cast(pl.Float64).alias(measure))
        tooltip = [alt.Tooltip(f"{x}:{'T' if temporal else 'N'}"), *split]
        tooltip.append(alt.Tooltip(f"{measure}:Q", format=",.4~f"))
        base = alt.Chart(shown)
        if not temporal:
            return base.mark_bar(color=shade).encode(
                y=alt.Y(f"{x}:N", title=x, sort="-x", axis=alt.Axis(labelLimit=220)),
                x=alt.X(f"{measure}:Q", title=measure),
                yOffset=alt.YOffset(f"{color}:N") if split else alt.Undefined,
                color=alt.Color(f"{color}:N") if split else alt.Undefined,
                tooltip=tooltip,
            )
        keys = [x, *split]
        several = shown.select(pl.struct(keys).is_duplicated().any()).item()
        mark = (
            base.mark_circle(color=shade)
            if several
            else base.mark_line(point=True, color=shade, strokeDash=dash)
        )
        return mark.encode(
            x=alt.X(f"{x}:T", title=x),
            y=alt.Y(
                f"{measure}:Q",
                title=measure,
                scale=alt.Scale(zero=False),
                axis=alt.Axis(orient=side, titleColor=shade),
            ),
            color=alt.Color(f"{color}:N") if split else alt.Undefined,
            detail=alt.Detail(f"{color}:N") if split else alt.Undefined,
            tooltip=tooltip,
        )

    left = one(first, palette[0], "left", [])
    right = one(second, palette[1], "right", [6, 3] if split else [])
    if temporal:
        return alt.layer(left, right).resolve_scale(y="independent")
    return alt.hconcat(left, right.encode(y=alt.Y(f"{x}:N", title=None, sort="-x")))


def indexed(frame: pl.DataFrame, x: str, ys: list[str], color: str | None) -> pl.DataFrame:
    """Each measure (per split) as an index over time, its first value = 100: columns x, the
    split, measure and value; a series whose first value is not above 0 has no index and is
    left out (see unindexed)."""
    split = [color] if color and color != x else []
    long = (
        frame.select(x, *split, *[pl.col(y).cast(pl.Float64) for y in ys])
        .unpivot(index=[x, *split], variable_name="measure", value_name="value")
        .drop_nulls("value")
        .sort(x)
    )
    base = pl.col("value").first().over(["measure", *split])
    return long.filter(base > 0).with_columns(value=pl.col("value") / base * 100)


def unindexed(frame: pl.DataFrame, x: str, ys: list[str], color: str | None) -> list[str]:
    """The measures indexed() leaves out, whole or for some series: no value, or a first value
    not above 0 (an index of a negative NPS would run the wrong way)."""
    split = [color] if color and color != x else []
    series = ["measure", *split]
    every = (
        frame.select(x, *split, *[pl.col(y).cast(pl.Float64) for y in ys])
        .unpivot(index=[x, *split], variable_name="measure", value_name="value")
        .drop_nulls("value")
        .select(series)
        .unique()
    )
    kept = indexed(frame, x, ys, color).select(series).unique()
    missing = set(every.join(kept, on=series, how="anti")["measure"].to_list())
    return [y for y in ys if y in missing or y not in every["measure"].to_list()]


def index_chart(frame: pl.DataFrame, x: str, ys: list[str], color: str | None) -> alt.Chart:
    """Measures of a query result over time as indices (first value = 100), so that measures of
    any size share one axis; 100 is drawn as a rule."""
    long = indexed(frame, x, ys, color)
    split = color if color and color != x else None
    tooltip = [alt.Tooltip(f"{x}:T"), "measure:N", *([alt.Tooltip(f"{split}:N")] if split else [])]
    tooltip.append(alt.Tooltip("value:Q", title="index", format=",.1f"))
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:T", title=x),
            y=alt.Y("value:Q", title="index (first value = 100)", scale=alt.Scale(zero=False)),
            color=alt.Color(f"{split or 'measure'}:N", title=split),
            strokeDash=alt.StrokeDash("measure:N") if split else alt.Undefined,
            tooltip=tooltip,
        )
    )
    rule = alt.Chart(pl.DataFrame({"base": [100]})).mark_rule(color="#999").encode(y="base:Q")
    return alt.layer(rule, lines)


def driver_bars(frame: pl.DataFrame, label_limit: int = 260) -> alt.LayerChart:
    """The NPS points each driver goes with (adjusted, 95% interval), lower NPS in red and no
    clear effect in grey; drivers that could not be weighed are left out."""
    weighed = frame.filter(pl.col("nps_gap").is_not_null()).with_columns(
        pl.when(pl.col("verdict") == "no clear effect")
        .then(pl.lit("no clear effect"))
        .otherwise(pl.col("verdict"))
        .alias("reading")
    )
    order = weighed.sort("nps_gap")["driver_label"].to_list()  # one order for both layers
    base = alt.Chart(weighed).encode(
        y=alt.Y(
            "driver_label:N",
            title=None,
            sort=order,
            axis=alt.Axis(labelLimit=label_limit, labelOverlap=False),
        )
    )
    bars = base.mark_bar().encode(
        x=alt.X("nps_gap:Q", title="NPS points it goes with, adjusted for the others"),
        color=alt.Color(
            "reading:N",
            title=None,
            scale=alt.Scale(
                domain=["lower NPS", "higher NPS", "no clear effect"],
                range=["#c0392b", "#1e8449", "#b3b6b7"],
            ),
            legend=alt.Legend(orient="bottom"),
        ),
        tooltip=[
            alt.Tooltip("driver_label:N", title="driver"),
            alt.Tooltip("nps_gap:Q", title="NPS points", format="+.0f"),
            alt.Tooltip("nps_gap_ci_low:Q", title="95% low", format="+.0f"),
            alt.Tooltip("nps_gap_ci_high:Q", title="95% high", format="+.0f"),
            alt.Tooltip("prevalence:Q", title="share of cases", format=".0%"),
            alt.Tooltip("with_driver:Q", title="answers with it", format=","),
        ],
    )
    whiskers = base.mark_errorbar(color="black").encode(
        x=alt.X("nps_gap_ci_low:Q", title=None), x2="nps_gap_ci_high:Q"
    )
    return (bars + whiskers).properties(height=30 * max(weighed.height, 3))


def driver_losses(frame: pl.DataFrame) -> alt.Chart:
    """Where NPS is lost in total: each clear driver's prevalence x NPS points."""
    clear = frame.filter(pl.col("verdict") == "lower NPS").with_columns(
        (-pl.col("nps_lost")).alias("points_lost")
    )
    return (
        alt.Chart(clear)
        .mark_bar(color="#c0392b")
        .encode(
            x=alt.X("points_lost:Q", title="NPS points lost across all answers"),
            y=alt.Y(
                "driver_label:N",
                title=None,
                sort="-x",
                axis=alt.Axis(labelLimit=260, labelOverlap=False),
            ),
            tooltip=[
                alt.Tooltip("driver_label:N", title="driver"),
                alt.Tooltip("points_lost:Q", title="NPS points lost", format=".1f"),
                alt.Tooltip("prevalence:Q", title="share of cases", format=".0%"),
            ],
        )
        .properties(height=30 * max(clear.height, 3))
    )


#: Failure-demand reasons in words and colours, in their precedence.
FAILURE_REASONS = {
    "transfer_bounce": ("transfer bounce", "#9467bd"),
    "chase": ("chase", "#d62728"),
    "broken_promise": ("broken promise", "#ff7f0e"),
    "repeat": ("repeat", "#1f77b4"),
}


def failure_share(frame: pl.DataFrame, height: int = 230) -> alt.Chart:
    """Failure demand's share of the contacts received each month, stacked by reason; the
    month's contacts (n) and each reason's count in the tooltip.

    frame: failure_demand_month rows (month, contacts, received_<reason>)."""
    long = frame.select("month", "contacts", *(f"received_{r}" for r in FAILURE_REASONS)).unpivot(
        index=["month", "contacts"], variable_name="reason", value_name="count"
    )
    long = long.with_columns(
        reason=pl.col("reason")
        .str.replace("received_", "")
        .replace_strict({r: label for r, (label, _) in FAILURE_REASONS.items()}),
        share=pl.when(pl.col("contacts") > 0).then(pl.col("count") / pl.col("contacts") * 100),
    )
    labels = [label for label, _ in FAILURE_REASONS.values()]
    colours = [colour for _, colour in FAILURE_REASONS.values()]
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X(
                "yearmonth(month):O",
                title=None,
                axis=alt.Axis(format="%b %y", labelAngle=0, labelOverlap="greedy"),
            ),
            y=alt.Y("sum(share):Q", title="% of contacts received", stack="zero"),
            color=alt.Color(
                "reason:N",
                title=None,
                sort=labels,
                scale=alt.Scale(domain=labels, range=colours),
                legend=alt.Legend(orient="top"),
            ),
            order=alt.Order("reason:N", sort="ascending"),
            tooltip=[
                alt.Tooltip("month:T", format="%b %Y"),
                alt.Tooltip("reason:N"),
                alt.Tooltip("share:Q", title="% of contacts", format=".1f"),
                alt.Tooltip("count:Q", title="contacts", format=","),
                alt.Tooltip("contacts:Q", title="n (all contacts)", format=","),
            ],
        )
        .properties(height=height)
    )


def flow_matrix(frame: pl.DataFrame, selected: str = "") -> alt.LayerChart:
    """Who causes failure demand (rows) and who absorbs it (columns): agent hours in each
    cell, contacts in the tooltip; the diagonal is a department's own. selected: a department
    name drawn in bold on both axes."""
    # One order on both axes, by hours caused and received, so the diagonal is the diagonal.
    ends = pl.concat(
        [
            frame.select(pl.col("cause_department_name").alias("name"), "hours"),
            frame.select(pl.col("department_name").alias("name"), "hours"),
        ]
    )
    order = (
        ends.group_by("name")
        .agg(pl.col("hours").sum())
        .sort("hours", "name", descending=[True, False])
    )
    order = order["name"].to_list()
    shown = frame.with_columns(
        text=pl.when(pl.col("hours") >= 0.5)
        .then(pl.col("hours").round(0).cast(pl.Int64).map_elements(lambda h: f"{h:,}", pl.String))
        .otherwise(pl.lit("<1"))
    )
    bold = f"datum.value === {selected!r}" if selected else "false"
    base = alt.Chart(shown).encode(
        x=alt.X(
            "department_name:N",
            title="received by",
            sort=order,
            axis=alt.Axis(
                orient="top",
                labelAngle=-35,
                labelLimit=150,
                labelOverlap=False,
                labelFontWeight=alt.ExprRef(f"{bold} ? 'bold' : 'normal'"),
            ),
        ),
        y=alt.Y(
            "cause_department_name:N",
            title="caused by",
            sort=order,
            axis=alt.Axis(
                labelLimit=170,
                labelOverlap=False,
                labelFontWeight=alt.ExprRef(f"{bold} ? 'bold' : 'normal'"),
            ),
        ),
    )
    cells = base.mark_rect(stroke="white", strokeWidth=1.5).encode(
        color=alt.Color(
            "hours:Q", title="agent hours", scale=alt.Scale(scheme="oranges", type="sqrt")
        ),
        tooltip=[
            alt.Tooltip("cause_department_name:N", title="caused by"),
            alt.Tooltip("department_name:N", title="received by"),
            alt.Tooltip("contacts:Q", title="contacts (n)", format=","),
            alt.Tooltip("hours:Q", title="agent hours", format=",.0f"),
        ],
    )
    text = base.mark_text(fontSize=11).encode(
        text="text:N",
        color=alt.condition(
            f"datum.hours > {float(frame['hours'].max() or 0) * 0.45}",
            alt.value("white"),
            alt.value("black"),
        ),
    )
    causes = frame["cause_department_name"].n_unique()
    receivers = frame["department_name"].n_unique()
    # Streamlit fits the whole chart, labels and legend included, into the size given.
    return (cells + text).properties(
        height=32 * max(causes, 2) + 150, width=64 * max(receivers, 2) + 280
    )


#: The ledger's two sides: caused (others took it) to the right, absorbed to the left.
LEDGER_SIDES = {
    "caused_elsewhere": ("caused, others took it", "#d95f02"),
    "absorbed": ("absorbed from others", "#7570b3"),
}


def ledger_bars(frame: pl.DataFrame, selected: str = "", width: int = 560) -> alt.LayerChart:
    """Per department, the failure-demand hours it caused that others took (right) and those
    it took that others caused (left), net caused first; contacts (n) in the tooltip. A side
    withheld from the reader (NULL) has no bar.

    frame: failure_demand_ledger rows."""
    order = frame.sort(
        pl.col("net_hours_caused").fill_null(0), "department_name", descending=[True, False]
    )["department_name"].to_list()
    long = pl.concat(
        [
            frame.select(
                "department_name",
                side=pl.lit(label),
                hours=pl.col(f"{side}_hours") * (1 if side == "caused_elsewhere" else -1),
                shown_hours=pl.col(f"{side}_hours"),
                contacts=pl.col(f"{side}_contacts"),
            )
            for side, (label, _) in LEDGER_SIDES.items()
        ]
    ).filter(pl.col("hours").is_not_null() & (pl.col("contacts") > 0))
    labels = [label for label, _ in LEDGER_SIDES.values()]
    bold = f"datum.value === {selected!r}" if selected else "false"
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y(
                "department_name:N",
                title=None,
                sort=order,
                axis=alt.Axis(
                    labelLimit=170,
                    labelOverlap=False,
                    labelFontWeight=alt.ExprRef(f"{bold} ? 'bold' : 'normal'"),
                ),
            ),
            x=alt.X(
                "hours:Q",
                title="agent hours (left: absorbed from others, right: caused for others)",
                axis=alt.Axis(labelExpr="format(abs(datum.value), ',')"),
            ),
            color=alt.Color(
                "side:N",
                title=None,
                sort=labels,
                scale=alt.Scale(domain=labels, range=[c for _, c in LEDGER_SIDES.values()]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("department_name:N", title="department"),
                alt.Tooltip("side:N"),
                alt.Tooltip("shown_hours:Q", title="agent hours", format=",.0f"),
                alt.Tooltip("contacts:Q", title="contacts (n)", format=","),
            ],
        )
    )
    zero = alt.Chart(pl.DataFrame({"x": [0]})).mark_rule(color="#333").encode(x="x:Q")
    # Streamlit fits the whole chart, legend and axis included, into the height given.
    return (bars + zero).properties(width=width, height=26 * max(len(order), 2) + 90)


def theme_heatmap(frame: pl.DataFrame) -> alt.LayerChart:
    """Each theme's share of the month's comments, a row per theme and a column per month, the
    whole percent written in each cell and the month's n under its name; the comments in the
    tooltip.

    frame: month, theme (its label, marked when unreliable), comments, comments_n, share."""
    shown = frame.sort("month").with_columns(
        percent=pl.col("share") * 100,
        column=pl.col("month").dt.strftime("%b %y")
        + pl.lit("|n ")
        + pl.col("comments_n").map_elements(lambda n: f"{n:,}", pl.String),
    )
    themes = shown.sort("theme_order")["theme"].unique(maintain_order=True).to_list()
    columns = shown["column"].unique(maintain_order=True).to_list()
    dark = float(shown["percent"].max() or 0) * 0.55
    base = alt.Chart(shown).encode(
        x=alt.X(
            "column:O",
            title=None,
            sort=columns,
            axis=alt.Axis(
                labelAngle=0,
                labelExpr="split(datum.value, '|')",
                labelFontSize=10,
                labelOverlap="greedy",
                orient="top",
            ),
        ),
        y=alt.Y("theme:N", title=None, sort=themes, axis=alt.Axis(labelLimit=300)),
        tooltip=[
            alt.Tooltip("month:T", format="%b %Y"),
            alt.Tooltip("theme:N"),
            alt.Tooltip("percent:Q", title="% of comments", format=".1f"),
            alt.Tooltip("comments:Q", title="comments", format=","),
            alt.Tooltip("comments_n:Q", title="n (all comments)", format=","),
        ],
    )
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "percent:Q",
            title="% of the month's comments",
            scale=alt.Scale(scheme="oranges", type="sqrt"),
            legend=None,
        ),
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("percent:Q", format=".0f"),
        color=alt.condition(f"datum.percent > {dark}", alt.value("white"), alt.value("black")),
    )
    return (cells + text).properties(height=alt.Step(28))
