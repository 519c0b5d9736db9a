"""The profile forms real exports need: durations, day/month checks, conditional maps, one
response per respondent, filters before expressions, blanks, loose codes, loud overflow.

Each export is written here from values the test knows, and each expected figure is worked
out from those values in plain Python, not by cxkpi.
"""

from __future__ import annotations

import random
import statistics
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import xlsxwriter

from etl.contract.profiles import ProfileError, parse
from tests.unit.test_profiles import load_with, profile_file, query, warehouse  # noqa: F401

INTERACTIONS = """\
source: interactions
columns:
  interaction_id: id
  started_at: {{timestamp: {{column: start, format: "{fmt}"}}}}
  department_id: {{constant: FL}}
  channel: {{constant: phone}}
{more}
"""


def interactions_profile(tmp_path: Path, more: str, fmt: str = "%Y-%m-%d %H:%M") -> Path:
    return profile_file(tmp_path, INTERACTIONS.format(fmt=fmt, more=more))


def test_durations_in_every_form_load_as_seconds(tmp_path, warehouse):  # noqa: F811
    """H:MM:SS, MM:SS, plain seconds and Excel time cells (an XLSX as Excel writes it)."""
    rng = random.Random(7)
    seconds = [rng.randint(1, 4 * 3600) for _ in range(60)] + [59, 3599, 86399, 90000]
    book = xlsxwriter.Workbook(tmp_path / "calls.xlsx")
    sheet = book.add_worksheet()
    clock = book.add_format({"num_format": "[h]:mm:ss"})
    sheet.write_row(0, 0, ["id", "start", "talk"])
    for row, value in enumerate(seconds, start=1):
        sheet.write_string(row, 0, f"C{row}")
        sheet.write_string(row, 1, "2026-01-05 09:00")
        form = row % 4
        if form == 0:  # an Excel time cell: a fraction of a day
            sheet.write_number(row, 2, value / 86400, clock)
        elif form == 1:
            h, rest = divmod(value, 3600)
            sheet.write_string(row, 2, f"{h}:{rest // 60:02d}:{rest % 60:02d}")
        elif form == 2:
            sheet.write_string(row, 2, f"{value // 60}:{value % 60:02d}")
        else:
            sheet.write_string(row, 2, str(value))
    book.close()
    profile = interactions_profile(tmp_path, "  handle_seconds: {duration: talk}")
    result = load_with(warehouse, tmp_path / "calls.xlsx", profile)
    assert (result.rows_loaded, result.rows_quarantined) == (len(seconds), 0), result.message
    loaded = query(warehouse, "SELECT interaction_id, handle_seconds FROM raw_interactions")
    assert sorted(v for _, v in loaded) == sorted(seconds)
    mean = query(warehouse, "SELECT avg(handle_seconds) FROM raw_interactions")[0][0]
    assert mean == pytest.approx(statistics.fmean(seconds))


def test_a_duration_that_is_not_one_is_quarantined_naming_the_forms(tmp_path, warehouse):  # noqa: F811
    export = tmp_path / "calls.csv"
    export.write_text("id,start,talk\nA,2026-01-05 09:00,2.5\nB,2026-01-05 09:00,TEL\n")
    profile = interactions_profile(
        tmp_path, "  handle_seconds: {duration: {column: talk, unit: minutes}}"
    )
    result = load_with(warehouse, export, profile)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert query(warehouse, "SELECT handle_seconds FROM raw_interactions") == [(150,)]
    rule, message = query(warehouse, "SELECT rule, message FROM meta_quarantine")[0]
    assert rule == "format:duration"
    assert "'TEL' is not a duration (H:MM:SS, MM:SS, an Excel time or a number of minutes)" in (
        message
    )


def test_small_integer_arithmetic_no_longer_wraps_around(tmp_path, warehouse):  # noqa: F811
    """EXTRACT gives Polars an 8-bit integer: 59 minutes * 60 used to load as -44 + 59."""
    times = [(0, 2, 23), (0, 59, 59), (0, 45, 0), (0, 3, 45)]
    rows = "".join(
        f"C{i},2026-01-05 09:00,1899-12-31 {h:02d}:{m:02d}:{s:02d}\n"
        for i, (h, m, s) in enumerate(times)
    )
    export = tmp_path / "calls.csv"
    export.write_text("id,start,talk\n" + rows)
    stamp = "strptime(talk, '%Y-%m-%d %H:%M:%S')"
    expression = f"EXTRACT(MINUTE FROM {stamp}) * 60 + EXTRACT(SECOND FROM {stamp})"
    profile = interactions_profile(tmp_path, f'  handle_seconds: {{expression: "{expression}"}}')
    load_with(warehouse, export, profile)
    loaded = query(warehouse, "SELECT handle_seconds FROM raw_interactions ORDER BY 1")
    assert [v for (v,) in loaded] == sorted(m * 60 + s for _, m, s in times)


def test_an_expression_whose_arithmetic_overflows_refuses_the_file(tmp_path, warehouse):  # noqa: F811
    export = tmp_path / "calls.csv"
    export.write_text("id,start,talk\nA,2026-01-05 09:00,5\nB,2026-01-05 09:00,9999999999\n")
    profile = interactions_profile(
        tmp_path, '  handle_seconds: {expression: "CAST(talk AS BIGINT) * 10000000000 // 100"}'
    )
    result = load_with(warehouse, export, profile)
    assert result.status == "refused"
    assert "overflows 64-bit whole-number arithmetic" in result.message
    assert f"{profile}:7: 'handle_seconds'" in result.message
    assert query(warehouse, "SELECT count(*) FROM raw_interactions") == [(0,)]


def test_filters_run_before_expressions_and_blank_cells_are_null(tmp_path, warehouse):  # noqa: F811
    """A strict cast meets only the rows no filter set aside; '' in a CSV is NULL as in Excel."""
    export = tmp_path / "calls.csv"
    export.write_text(
        "id,start,talk,status\n"
        "A,2026-01-05 09:00,100,done\n"
        "B,2026-01-05 09:10,n/a,abandoned\n"
        "C,2026-01-05 09:20,,\n"
        "D,2026-01-05 09:30,40,  \n"
    )
    profile = interactions_profile(
        tmp_path,
        '  handle_seconds: {expression: "CAST(talk AS INTEGER)"}\n'
        "filters:\n"
        "  - exclude: \"status = 'abandoned'\"\n"
        "    reason: abandoned\n"
        '  - exclude: "status IS NULL"\n'
        "    reason: no status\n",
    )
    result = load_with(warehouse, export, profile)
    assert (result.rows_read, result.rows_loaded, result.rows_filtered) == (1, 1, 3)
    assert "set aside by the profile: no status x2, abandoned x1" in result.message
    assert query(warehouse, "SELECT interaction_id FROM raw_interactions") == [("A",)]


def _dates(rng: random.Random, count: int) -> list[date]:
    return [date(2025, 1, 1) + timedelta(days=rng.randrange(365)) for _ in range(count)]


def test_a_column_mixing_day_month_orders_is_reported_and_nothing_loads_swapped(
    tmp_path,
    warehouse,  # noqa: F811
):
    rng = random.Random(11)
    truth = _dates(rng, 300)
    block = range(120, 180)  # rows written month first (0-based positions)
    written = [
        d.strftime("%m/%d/%Y" if i in block else "%d/%m/%Y") + " 10:00" for i, d in enumerate(truth)
    ]
    export = tmp_path / "calls.csv"
    export.write_text("id,start,talk\n" + "".join(f"C{i},{w},60\n" for i, w in enumerate(written)))
    profile = interactions_profile(tmp_path, "  handle_seconds: talk", fmt="%d/%m/%Y %H:%M")
    result = load_with(warehouse, export, profile)

    def kind(text: str) -> str | None:
        day, month = int(text[:2]), int(text[3:5])
        if month > 12:
            return "contradicts"
        if day > 12:
            return "stated"
        return "ambiguous" if day != month else None

    kinds = [kind(w) for w in written]
    decisive = [k if k in ("contradicts", "stated") else None for k in kinds]

    def nearest(i: int, step: int) -> str | None:
        while 0 <= i < len(kinds):
            if decisive[i]:
                return decisive[i]
            i += step
        return None

    contradicting = [i for i, k in enumerate(kinds) if k == "contradicts"]
    ambiguous = [
        i
        for i, k in enumerate(kinds)
        if k == "ambiguous" and "contradicts" in (nearest(i, -1), nearest(i, 1))
    ]
    assert contradicting and ambiguous
    assert result.rows_quarantined == len(contradicting) + len(ambiguous)
    rules = dict(query(warehouse, "SELECT rule, count(*) FROM meta_quarantine GROUP BY rule"))
    assert rules == {
        "date_order:contradicts": len(contradicting),
        "date_order:ambiguous": len(ambiguous),
    }
    assert (
        f"started_at: {len(contradicting)} rows read only as %m/%d/%Y %H:%M, against the"
        f" profile's %d/%m/%Y %H:%M"
    ) in result.message
    assert f"between rows {contradicting[0] + 1} and {contradicting[-1] + 1}" in result.message
    loaded = query(warehouse, "SELECT interaction_id, started_at FROM raw_interactions")
    assert len(loaded) == len(truth) - result.rows_quarantined
    for interaction, started in loaded:  # nothing loaded with day and month swapped
        assert started == datetime.combine(truth[int(interaction[1:])], datetime.min.time()) + (
            timedelta(hours=10)
        )


def test_a_scale_chosen_by_a_condition(tmp_path, warehouse):  # noqa: F811
    """A rating moved from 1-5 to 1-10 on 2015-06-09; both land on the contract's 0-10."""
    changed = date(2015, 6, 9)
    rng = random.Random(3)
    rows, expected = [], {}
    for i in range(80):
        day = date(2015, 1, 1) + timedelta(days=rng.randrange(365))
        rating = rng.randint(1, 10) if day >= changed else rng.randint(1, 5)
        low, high = (1, 10) if day >= changed else (1, 5)
        share = (rating - low) / (high - low)
        expected[f"R{i}"] = int(share * 10 + 0.5)  # half away from zero (all positive)
        rows.append(f"R{i},{day.isoformat()},{rating}\n")
    export = tmp_path / "survey.csv"
    export.write_text("id,date,rating\n" + "".join(rows))
    profile = profile_file(
        tmp_path,
        """\
        source: nps_responses
        columns:
          response_id: id
          responded_at: {date: {column: date, format: "%Y-%m-%d"}}
          score:
            column: rating
            scale:
              - when: "date >= '2015-06-09'"
                from: [1, 10]
                to: [0, 10]
              - from: [1, 5]
                to: [0, 10]
        """,
    )
    result = load_with(warehouse, export, profile)
    assert result.rows_loaded == 80, result.message
    loaded = dict(query(warehouse, "SELECT response_id, score FROM raw_nps_responses"))
    assert loaded == expected


def test_a_value_map_chosen_by_a_condition_and_rows_no_condition_covers(tmp_path, warehouse):  # noqa: F811
    export = tmp_path / "calls.csv"
    export.write_text(
        "id,start,talk,team,site\n"
        "A,2026-01-05 09:00,60,T1,north\n"
        "B,2026-01-05 09:00,60,T1,south\n"
        "C,2026-01-05 09:00,60,T1,east\n"
    )
    profile = profile_file(
        tmp_path,
        """\
        source: interactions
        columns:
          interaction_id: id
          started_at: {timestamp: {column: start, format: "%Y-%m-%d %H:%M"}}
          handle_seconds: talk
          department_id:
            column: team
            values:
              - when: "site = 'north'"
                map: {T1: FL}
              - when: "site = 'south'"
                map: {T1: BO}
        """,
    )
    result = load_with(warehouse, export, profile)
    loaded = query(warehouse, "SELECT interaction_id, department_id FROM raw_interactions")
    assert sorted(loaded) == [("A", "FL"), ("B", "BO")]
    assert result.rows_quarantined == 1
    rule, message = query(warehouse, "SELECT rule, message FROM meta_quarantine")[0]
    assert rule == "mapping:no_condition"
    assert "no alternative for 'department_id' applies to this row" in message


def test_one_response_per_respondent_counts_the_score_once_and_keeps_every_comment(
    tmp_path,
    warehouse,  # noqa: F811
):
    rng = random.Random(5)
    lines, scores, comments = [], {}, {}
    for respondent in range(21):
        score = rng.randint(0, 10)
        scores[f"P{respondent}"] = score
        comments[f"P{respondent}"] = []
        for note in range(rng.randint(1, 3)):
            text = f"comment {note} of P{respondent}"
            comments[f"P{respondent}"].append(text)
            lines.append(f"P{respondent},2026-02-0{1 + respondent % 9},{score},{text}\n")
    export = tmp_path / "fft.csv"
    export.write_text("Respondent ID,Date,Score,Comment\n" + "".join(lines))
    profile = profile_file(
        tmp_path,
        """\
        source: nps_responses
        one_response_per: Respondent ID
        columns:
          response_id: Respondent ID
          responded_at: {date: {column: Date, format: "%Y-%m-%d"}}
          score: Score
          comment: Comment
        """,
    )
    result = load_with(warehouse, export, profile)
    assert result.rows_loaded == 21
    assert result.rows_read + result.rows_filtered == len(lines)
    loaded = query(warehouse, "SELECT response_id, score, comment FROM raw_nps_responses")
    assert {r: s for r, s, _ in loaded} == scores
    assert {r: c.split("\n") for r, _, c in loaded} == comments
    promoters = sum(s >= 9 for s in scores.values())
    detractors = sum(s <= 6 for s in scores.values())
    nps = query(
        warehouse,
        "SELECT 100.0 * (count(*) FILTER (score >= 9) - count(*) FILTER (score <= 6)) / count(*)"
        " FROM raw_nps_responses",
    )[0][0]
    assert nps == pytest.approx(100 * (promoters - detractors) / 21)


def test_a_respondent_whose_rows_disagree_is_quarantined_not_guessed(tmp_path, warehouse):  # noqa: F811
    export = tmp_path / "fft.csv"
    export.write_text(
        "Respondent ID,Date,Score,Comment\n"
        "P1,2026-02-01,9,good\nP1,2026-02-01,3,bad\nP2,2026-02-01,7,fine\n"
    )
    profile = profile_file(
        tmp_path,
        """\
        source: nps_responses
        one_response_per: Respondent ID
        columns:
          response_id: Respondent ID
          responded_at: {date: {column: Date, format: "%Y-%m-%d"}}
          score: Score
          comment: Comment
        """,
    )
    result = load_with(warehouse, export, profile)
    assert (result.rows_loaded, result.rows_quarantined, result.rows_filtered) == (1, 1, 1)
    rule, message = query(warehouse, "SELECT rule, message FROM meta_quarantine")[0]
    assert rule == "respondent:answers_differ"
    assert "the 2 rows of respondent 'p1' give different score" in message.lower()


def test_value_maps_ignore_invisible_white_space_and_optionally_case(tmp_path, warehouse):  # noqa: F811
    export = tmp_path / "calls.csv"
    export.write_text(
        "id,start,talk,team\n"
        "A,2026-01-05 09:00,60,PTS\u00a0 - Patient Transport\n"
        "B,2026-01-05 09:00,60,pts - patient\u2009transport\n"
        "C,2026-01-05 09:00,60,\ufeffBack\u200b\n"
    )
    profile = profile_file(
        tmp_path,
        """\
        source: interactions
        columns:
          interaction_id: id
          started_at: {timestamp: {column: start, format: "%Y-%m-%d %H:%M"}}
          handle_seconds: talk
          department_id:
            column: team
            ignore_case: true
            values: {"PTS - Patient Transport": FL, back: BO}
        """,
    )
    result = load_with(warehouse, export, profile)
    assert result.rows_loaded == 3, result.message
    loaded = query(warehouse, "SELECT interaction_id, department_id FROM raw_interactions")
    assert sorted(loaded) == [("A", "FL"), ("B", "FL"), ("C", "BO")]


def test_every_mistake_of_a_profile_is_reported_at_once_with_near_misses(tmp_path):
    path = profile_file(
        tmp_path,
        """\
        source: interactions
        columns:
          interaction_id: id
          started_at: {timestamp: {column: start, fromat: "%Y"}}
          department_id: {column: team, value: {A: FL}}
          handle_secs: talk
        filters:
          - exclude: "x ="
            reason: broken
        """,
    )
    with pytest.raises(ProfileError) as error:
        parse(path)
    lines = str(error.value).splitlines()
    assert lines[0] == "5 mistakes in the profile:"
    assert lines[1].startswith(f"{path}:4: 'fromat' is not a timestamp option here")
    assert "(did you mean 'format'?)" in lines[1]
    assert lines[2].startswith(f"{path}:5: unknown key 'value' in 'department_id'")
    assert "(did you mean 'values'?)" in lines[2]
    assert "(did you mean 'handle_seconds'?)" in lines[3]
    assert lines[4].startswith(f"{path}:2: required column(s) handle_seconds")
    assert lines[5].startswith(f"{path}:8: the expression does not parse")


def test_a_column_cut_at_a_yaml_comment_is_explained(tmp_path, warehouse):  # noqa: F811
    export = tmp_path / "tickets.csv"
    export.write_text("Ticket #,start,talk\nT1,2026-01-05 09:00,60\n")
    profile = interactions_profile(tmp_path, "  handle_seconds: talk").read_text()
    path = profile_file(tmp_path, profile.replace("interaction_id: id", "interaction_id: Ticket #"))
    result = load_with(warehouse, export, path)
    assert result.status == "refused"
    assert "in YAML ' #' starts a comment, so quote the name" in result.message


def test_a_format_mismatch_names_the_profile_format_and_line(tmp_path, warehouse):  # noqa: F811
    export = tmp_path / "calls.csv"
    export.write_text("id,start,talk\nA,2021-01-01 1899-12-31 09:12:58,60\n")
    profile = interactions_profile(tmp_path, "  handle_seconds: talk")
    load_with(warehouse, export, profile)
    rule, message = query(warehouse, "SELECT rule, message FROM meta_quarantine")[0]
    assert rule == "format:timestamp"
    assert message == (
        "'2021-01-01 1899-12-31 09:12:58' does not match the profile's format"
        " '%Y-%m-%d %H:%M' (line 4)"
    )
