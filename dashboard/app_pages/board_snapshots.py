"""Board snapshots: each month's figures exactly as frozen, its PDF, and what moved since."""

import hashlib
import json

import polars as pl
import streamlit as st

from dashboard import data, ui
from etl.reporting import scorecard
from etl.reporting.formats import format_moment, format_value
from etl.reporting.lists import TILES
from etl.reporting.sentences import failure_demand_sentence

st.title("Board snapshots")
st.caption(
    "A snapshot freezes a finished month's figures and its board pack. They never change:"
    " late data and corrections change the live pages, not these. Take one with"
    " `cxkpi snapshot --month YYYY-MM`."
)

taken = data.snapshots()
if taken.is_empty():
    st.info(
        "No board snapshot yet. Take the first with `cxkpi snapshot --month YYYY-MM`"
        " (a finished month whose data is loaded); it appears here with its PDF.",
        icon=":material/picture_as_pdf:",
    )
    st.stop()

rows = {row["snapshot_id"]: row for row in taken.iter_rows(named=True)}


def _with_n(cell: scorecard.Cell) -> str:
    """47.1% (n = 4,857); a withheld figure's reason already says its n."""
    return cell.value if cell.withheld and "n =" in cell.value else f"{cell.value} ({cell.n})"


def _label(snapshot_id: str) -> str:
    row = rows[snapshot_id]
    by = f" by {row['taken_by']}" if row["taken_by"] else ""
    frozen = format_moment(row["taken_at"])
    return f"{row['month']:%B %Y} · version {row['version']} · frozen {frozen}{by}"


# The URL carries the snapshot id (?snapshot=2026-10-v1), so a link opens that snapshot.
# (Streamlit's own binding would put the option's long label in the URL.)
wanted = st.query_params.get("snapshot")
chosen = st.selectbox(
    "Snapshot",
    options=list(rows),
    index=list(rows).index(wanted) if wanted in rows else 0,
    format_func=_label,
    key="snapshot",
)
st.query_params["snapshot"] = chosen
snap = rows[chosen]
month = snap["month"]
inputs = json.loads(snap["inputs"])
pack = data.frozen_pack(chosen)

left, right = st.columns([3, 1])
with left:
    st.markdown(
        f"**{month:%B %Y}, version {snap['version']}** (`{chosen}`), frozen on"
        f" {format_moment(snap['taken_at'])}"
        + (f" by {ui.plain(snap['taken_by'])}." if snap["taken_by"] else " (no name recorded).")
        + f" Inputs: {len(inputs)} files, fingerprint `{snap['fingerprint'][:16]}`. Analyses over"
        f" {snap['analyses_from']:%b %Y} to {snap['analyses_to']:%b %Y}."
    )
    if snap["changes"]:
        with st.expander("What changed against the version before"):
            lines = snap["changes"].splitlines()[1:]
            st.markdown("\n".join(f"- {ui.plain(line)}" for line in lines))
            if data.reader().departments:
                st.caption(
                    "Changes to figures, flags and verdicts name departments, so they are"
                    " listed for readers of every department; shown here are the files."
                )
with right:
    if pack is None:
        st.caption(
            "The board pack holds every department's figures; your access covers"
            f" {ui.plain(', '.join(data.reader().departments or ()))} only, so it is not"
            " offered here."
        )
    else:
        st.download_button(
            "Board pack (PDF)",
            data=pack,
            file_name=f"cxkpi-board-pack-{month:%Y-%m}-v{snap['version']}.pdf",
            mime="application/pdf",
            icon=":material/download:",
            type="primary",
            key="snapshot_pdf",
        )
        intact = hashlib.sha256(pack).hexdigest() == snap["pdf_sha256"]
        st.caption(
            f"{snap['pdf_pages']} pages, "
            + ("checksum matches the pack as written" if intact else "**checksum does not match**")
        )

frozen, since = st.tabs(["Figures as frozen", "Frozen vs live today"])

with frozen:
    st.caption(
        f"{month:%B %Y}, the whole organisation, all channels, exactly as frozen. Changes are"
        " against the month before and a year before, as they stood then."
    )
    tiles = data.frozen_headlines(chosen, month, TILES).to_dicts()
    for row_of_tiles in (tiles[:3], tiles[3:]):
        for column, row in zip(st.columns(3), row_of_tiles, strict=False):
            with column:
                ui.tile(row)
    demand = data.frozen_failure_demand(chosen, month)
    if demand:
        year_ago = month.replace(year=month.year - 1)
        st.markdown(
            "**Failure demand as frozen:** "
            + ui.plain(failure_demand_sentence(demand, f"{month:%B %Y}", f"{year_ago:%B %Y}"))
        )
        st.caption(
            "Contacts that happen only because something was not done, or not done right, the"
            " first time (a repeat within 7 days, a chase, a broken promise, a bounced"
            " transfer): an operational proxy from what the data records."
        )
    else:
        before = "this snapshot was taken before failure demand was frozen with the board figures"
        if demand is not None and data.reader().departments:
            before += ", or its share would give away a department outside your access"
        st.caption(f"Failure demand: no figure frozen to show here ({before}).")
    st.subheader("Flags as frozen")
    found = data.frozen_findings(chosen)
    if found.is_empty():
        st.success("No flags when this snapshot was taken.")
    for finding in found.iter_rows(named=True):
        st.markdown(f"**{ui.plain(finding['headline'])}**  \n{ui.plain(finding['explanation'])}")
    st.subheader("Department scorecard as frozen")
    st.caption(
        "The same sections and columns as the board pack's scorecard: each department by the"
        " evidence of its own function. n is the number of answers, contacts, cases or"
        " promises behind a figure."
    )
    for section in scorecard.sections(data.frozen_scorecard(chosen, month)):
        st.markdown(f"**{section.title}**: {section.covers}.")
        shown = {"Department": [row.department for row in section.rows]}
        for index, heading in enumerate(section.columns):
            shown[ui.sentence_case(heading)] = [_with_n(row.cells[index]) for row in section.rows]
        shown["Verdict"] = [row.verdict for row in section.rows]
        ui.table(pl.DataFrame(shown), key=f"scorecard_{section.function}")

with since:
    files = data.inputs_since(chosen)
    if files.is_empty():
        st.success(
            "The warehouse rests on the same input files as this snapshot: the live figures"
            f" for {month:%B %Y} are the frozen ones."
        )
    else:
        counts = files["change"].value_counts()
        count = dict(counts.iter_rows())
        st.warning(
            f"Since this snapshot, {count.get('added', 0)} input file(s) were added,"
            f" {count.get('replaced', 0)} replaced and {count.get('removed', 0)} removed."
            " The frozen figures stay as they were; the live pages show these.",
            icon=":material/update:",
        )
        with st.expander("Files"):
            st.markdown("\n".join(f"- {c}: {ui.plain(f)}" for f, c in files.iter_rows()))
    moved = data.figures_since(chosen, month)
    if moved.is_empty():
        st.markdown(f"No headline figure of {month:%B %Y} differs from the frozen one.")
    else:
        st.markdown(f"**{moved.height} figure(s) of {month:%B %Y} differ today:**")
        ui.table(
            pl.DataFrame(
                {
                    "Department": moved["department"].to_list(),
                    "Metric": moved["label"].to_list(),
                    "Frozen": [
                        format_value(m, v)
                        for m, v in zip(moved["metric"], moved["frozen_value"], strict=True)
                    ],
                    "Frozen n": moved["frozen_n"].to_list(),
                    "Live today": [
                        format_value(m, v)
                        for m, v in zip(moved["metric"], moved["live_value"], strict=True)
                    ],
                    "Live n": moved["live_n"].to_list(),
                }
            )
        )
    flags = data.flags_since(chosen)
    if flags.is_empty():
        st.markdown("Flags and department verdicts are as frozen.")
    for change, detail in flags.iter_rows():
        st.markdown(f"- **{ui.plain(change)}**: {ui.plain(detail)}")
