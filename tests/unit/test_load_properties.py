"""Property-based: for any mix of valid and invalid rows, every row is accounted for once.

Hypothesis writes interactions files mixing good rows with every kind of bad one (bad
timestamps, unknown or missing departments, non-positive or non-integer durations, unknown
channels, missing and repeated ids, values with commas, quotes and any Unicode) split over
two files. A small oracle written from the input contract (docs/contract.md), independent of
the loader, says which rows must load; the warehouse must hold exactly those, each once, and
quarantine the rest.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.contract.sources import CHANNELS
from etl.loading.load import collect, load_file
from etl.warehouse.publish import writing
from tests.conftest import DEPARTMENTS_CSV, write

#: Generated files, many per run: the generated-data tier (docs/testing.md).
pytestmark = pytest.mark.generated

COLUMNS = ["interaction_id", "started_at", "department_id", "handle_seconds", "channel", "note"]
BAD_TIMES = ["yesterday", "2026-13-01", "31/01/2026", "2026-02-30T10:00:00", ""]
FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%dT%H:%M"]

valid_rows = st.fixed_dictionaries(
    {
        "interaction_id": st.builds(
            lambda pad, key: pad + key + pad,
            st.sampled_from(["", " "]),
            st.sampled_from("ABCDEFGH"),
        ),
        "started_at": st.builds(
            lambda moment, shape: moment.strftime(shape),
            st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31)),
            st.sampled_from(FORMATS),
        ),
        "department_id": st.sampled_from(["FL", "BO", " BO "]),
        "handle_seconds": st.integers(1, 10_000).map(str) | st.sampled_from(["60.0", "1e3"]),
        "channel": st.sampled_from([*CHANNELS, ""]),
        "note": st.text(
            st.characters(exclude_categories=("Cs",), exclude_characters="\x00\r\n"), max_size=8
        ),
    }
)
#: What can be wrong with a row: a column and a value that breaks its rule.
DEFECTS = [
    *(("started_at", t) for t in BAD_TIMES),
    ("interaction_id", ""),
    ("interaction_id", "  "),
    ("department_id", "ZZ"),
    ("department_id", "fl"),
    ("department_id", ""),
    ("handle_seconds", "0"),
    ("handle_seconds", "-60"),
    ("handle_seconds", "12.5"),
    ("handle_seconds", "abc"),
    ("handle_seconds", ""),
    ("channel", "fax"),
]
rows = st.builds(
    lambda row, defects: {**row, **dict(defects)},
    valid_rows,
    st.lists(st.sampled_from(DEFECTS), max_size=2) | st.just([]),
)


def _whole_positive(text: str) -> bool:
    try:
        number = float(text)
    except ValueError:
        return False
    return number == int(number) and number > 0


def valid(row: dict) -> bool:
    """The input contract for the columns generated, written independently of the loader."""
    started = row["started_at"]
    return (
        row["interaction_id"].strip() != ""
        and started != ""
        and started not in BAD_TIMES
        and row["department_id"].strip() in ("FL", "BO")
        and _whole_positive(row["handle_seconds"])
        and row["channel"] in ("", *CHANNELS)
    )


def expected_loads(files: list[list[dict]]) -> list[set[int]]:
    """Per file, the row numbers that must load: valid, unique in the file, new to the warehouse."""
    loaded_ids: set[str] = set()
    result = []
    for index, file_rows in enumerate(files):
        if index and as_csv(file_rows) == as_csv(files[0]):
            result.append(set())  # a copy of the first file is refused whole
            continue
        good = {n: r["interaction_id"].strip() for n, r in enumerate(file_rows, 1) if valid(r)}
        counts = Counter(good.values())
        keep = {n for n, key in good.items() if counts[key] == 1 and key not in loaded_ids}
        loaded_ids |= {good[n] for n in keep}
        result.append(keep)
    return result


def as_csv(file_rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(file_rows)
    return out.getvalue()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(rows, min_size=1, max_size=25), st.lists(rows, min_size=1, max_size=25))
def test_every_row_is_loaded_once_or_quarantined_and_valid_rows_all_load(first, second):
    with tempfile.TemporaryDirectory() as folder:
        inbox = Path(folder) / "inbox"
        write(inbox, "departments", DEPARTMENTS_CSV, "departments.csv")
        paths = [
            write(inbox, "interactions", as_csv(first), "2026-01.csv"),
            write(inbox, "interactions", as_csv(second), "2026-02.csv"),
        ]
        db = Path(folder) / "w.duckdb"
        with writing(db) as con:
            for path, source in collect([inbox], None):
                load_file(con, path, source)
        con = duckdb.connect(str(db), read_only=True)
        try:
            for path, file_rows, must_load in zip(
                paths, (first, second), expected_loads([first, second]), strict=True
            ):
                key = f"interactions/{path.name}"
                status, read, loaded, quarantined = con.execute(
                    "SELECT status, rows_read, rows_loaded, rows_quarantined FROM meta_load_runs"
                    " WHERE file_key = $k",
                    {"k": key},
                ).fetchall()[0]
                if path == paths[1] and as_csv(first) == as_csv(second):
                    # The same bytes under another name would count twice: refused whole.
                    assert (status, read, loaded, quarantined) == ("refused", 0, 0, 0)
                    continue
                in_raw = [
                    r[0]
                    for r in con.execute(
                        "SELECT _row_number FROM raw_interactions WHERE _file = $k", {"k": key}
                    ).fetchall()
                ]
                in_quarantine = {
                    r[0]
                    for r in con.execute(
                        "SELECT row_number FROM meta_quarantine JOIN meta_load_runs USING (load_id)"
                        " WHERE file_key = $k",
                        {"k": key},
                    ).fetchall()
                }
                assert (read, loaded, quarantined) == (
                    len(file_rows),
                    len(must_load),
                    len(file_rows) - len(must_load),
                )
                assert sorted(in_raw) == sorted(must_load)  # each valid row exactly once
                assert in_quarantine == set(range(1, len(file_rows) + 1)) - must_load
            twice = "SELECT interaction_id FROM raw_interactions GROUP BY 1 HAVING count(*) > 1"
            assert con.execute(twice).fetchall() == []
        finally:
            con.close()
