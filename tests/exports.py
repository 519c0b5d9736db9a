"""Exports with rows that break every kind of rule, shared by the tests that compare two ways
of loading the same files (DuckDB's typed ingest against the checked path, Spark against
DuckDB)."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from etl.sample.bundled import generate


def _edit(path: Path, rows: dict[int, dict[str, str]], keep: int, extra: dict | None = None):
    """Keep the first `keep` rows of a CSV export, set some values, and add extra columns."""
    frame = pl.read_csv(path, infer_schema=False).head(keep)
    for column, value in (extra or {}).items():
        frame = frame.with_columns(pl.lit(value).alias(column))
    for row, changes in rows.items():
        for column, value in changes.items():
            frame = frame.with_columns(
                pl.when(pl.int_range(pl.len()) == row - 1)
                .then(pl.lit(value))
                .otherwise(pl.col(column))
                .alias(column)
            )
    frame.write_csv(path)
    return frame


def broken_exports(root: Path) -> dict[str, Path]:
    """A small set of exports: good rows, and rows breaking every rule, key and type; a first
    round of loads and a second (one file corrected, one unchanged)."""
    sample = root / "sample"
    generate(sample, "20k")
    first = root / "first"
    for name in (
        "departments/departments.csv",
        "kpi_targets/kpi_targets.csv",
        "initiatives/initiatives.csv",
    ):
        (first / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample / name, first / name)
    months = sorted(p.name for p in (sample / "interactions").glob("*.csv"))[:2]
    for source in (
        "interactions", "case_tasks", "workforce", "nps_responses", "engagement_responses"
    ):  # fmt: skip
        (first / source).mkdir()
        for month in sorted(p.name for p in (sample / source).glob("*.csv"))[:2]:
            shutil.copy(sample / source / month, first / source / month)
    january = _edit(
        first / "interactions" / months[0],
        {
            2: {"handle_seconds": "abc"},
            3: {"started_at": "2025-01-01 02:23"},
            4: {"started_at": "2025-01-01T02:23:21+01:00"},
            5: {"started_at": "2025-13-01T00:00:00"},
            6: {"department_id": "XXX"},
            7: {"channel": "pigeon"},
            8: {"interaction_id": "I-TWICE"},
            9: {"interaction_id": "I-TWICE"},
            10: {"handle_seconds": " 42 ", "resolved": "Yes", "agent_id": " A-7 "},
            11: {"interaction_id": ""},
            12: {"handle_seconds": "1e3"},
            13: {"handle_seconds": "2.5", "customer_id": 'says "hi", twice'},
            14: {"wait_seconds": "-5"},
            15: {"resolved": "maybe"},
            16: {"handle_seconds": "nan", "follow_up_due_at": "2025-01-01T02:23:00.5"},
            17: {"transferred_to": "XXX", "resolved": "T"},
        },
        keep=400,
    )
    _edit(
        first / "interactions" / months[1],
        {4: {"interaction_id": january["interaction_id"][0]}},  # loaded from January already
        keep=300,
    )
    workforce = sorted((first / "workforce").glob("*.csv"))[0]
    _edit(
        workforce,
        {
            2: {"handling_minutes": "999"},
            3: {"work_date": "2025-02-30"},
            4: {"cost": "NaN"},
            5: {"training_minutes": "-inf"},
            6: {"scheduled_minutes": "1e400"},
        },
        keep=300,
    )
    tasks = sorted((first / "case_tasks").glob("*.csv"))[0]
    _edit(tasks, {2: {"sla_hours": "-1"}}, keep=300)
    # Windows line ends in one file, and both kinds in another.
    tasks.write_bytes(tasks.read_bytes().replace(b"\n", b"\r\n"))
    later = sorted((first / "case_tasks").glob("*.csv"))[1]
    lines = later.read_bytes().splitlines(keepends=True)
    mixed = (line.replace(b"\n", b"\r\n") if i % 2 else line for i, line in enumerate(lines))
    later.write_bytes(b"".join(mixed))
    nps, typed_nps = sorted((first / "nps_responses").glob("*.csv"))[:2]
    _edit(nps, {2: {"score": "11"}, 3: {"score": "", "csat": "", "effort": ""}}, keep=200)
    # A Parquet export with typed columns: values become text as etl/loading/read.py makes them.
    typed = pl.read_csv(typed_nps, try_parse_dates=True).head(150)
    fractions = pl.Series([500_000, 123_456, 0] * 50, dtype=pl.Int64)
    typed = typed.with_columns(
        pl.col("responded_at") + pl.duration(microseconds=fractions),
        pl.when(pl.int_range(pl.len()) == 4).then(11).otherwise(pl.col("score")).alias("score"),
    )
    typed.write_parquet(typed_nps.with_suffix(".parquet"))
    typed_nps.unlink()
    wave = sorted((first / "engagement_responses").glob("*.csv"))[0]
    _edit(wave, {2: {"enps_score": "x"}}, keep=40, extra={"q_extra": "4", "email": "a@b.c"})
    # Identical content under another name: refused by both engines.
    shutil.copy(first / "interactions" / months[1], first / "interactions" / "copy.csv")
    header = "response_id,responded_at,department_id,score,csat,effort\n"
    good = "R-X1,2025-01-05T10:00:00,RET,9,5,2\n"
    (first / "nps_responses" / "ragged.csv").write_text(
        header + good + good.replace("X1", "X2") + "R-X3,2025-01-05T10:00:00,RET,9\n"
    )
    (first / "nps_responses" / "blank.csv").write_text(
        header + good.replace("X1", "X6") + "\n" + good.replace("X1", "X7")
    )
    (first / "nps_responses" / "multiline.csv").write_text(
        header + good.replace("X1", "X4") + 'R-X5,"2025-01-05\nT10:00:00",RET,9,5,2\n'
    )
    # The second round: January corrected, February unchanged.
    second = root / "second"
    (second / "interactions").mkdir(parents=True)
    corrected = first / "interactions" / months[0]
    frame = pl.read_csv(corrected, infer_schema=False).filter(pl.col("interaction_id") != "I-TWICE")
    frame.write_csv(second / "interactions" / months[0])
    shutil.copy(first / "interactions" / months[1], second / "interactions" / months[1])
    return {"first": first, "second": second, "root": root}


#: Values an export's extra columns and padding hold: quotes, commas, accents, emoji, a
#: control character (which the two JSON writers escape apart), and white space of every kind.
ODD_VALUES = [
    'says "hi", twice',
    "Réclamation à 12 €",
    "emoji 😀",
    "ctl\x1f",
    "\u00a0no-break padded\u00a0",
    "\ttabbed\t",
    "\u3000ideographic\u2003",
    "   ",
    "",
    "inner\u00a0space",
]


def realistic_exports(root: Path) -> Path:
    """Exports as real systems write them, in the contract's columns plus their own: extra
    columns, values padded with tabs and Unicode spaces, an engagement wave with a column
    that could identify a person. All plain CSV, so the typed ingest should take them."""
    sample = root / "sample"
    generate(sample, "20k")
    folder = root / "realistic"
    (folder / "departments").mkdir(parents=True)
    shutil.copy(sample / "departments/departments.csv", folder / "departments")
    for source, keep in (("interactions", 500), ("nps_responses", 200)):
        (folder / source).mkdir()
        path = sorted((sample / source).glob("*.csv"))[0]
        frame = pl.read_csv(path, infer_schema=False).head(keep)
        odd = [ODD_VALUES[i % len(ODD_VALUES)] for i in range(frame.height)]
        pads = ["", "\t", "\u00a0", "\u3000", " \u2009"]
        frame = frame.with_columns(
            pl.Series("Agent Note", odd),
            pl.Series("queue", odd[3:] + odd[:3]),
            # padding on a contract column: trimmed as Polars trims, whatever the space
            pl.Series(
                "department_id",
                [p + d + p for p, d in zip(pads * keep, frame["department_id"], strict=False)],
            ),
        )
        frame.write_csv(folder / source / path.name)
    # Parquet exports with typed columns, as a warehouse or a BI tool writes them.
    later = sorted((sample / "interactions").glob("*.csv"))[1]
    typed = pl.read_csv(later, try_parse_dates=True).head(400)
    typed = typed.with_columns(
        pl.col("wait_seconds").cast(pl.Float64),  # whole numbers written as doubles
        pl.Series("Agent Note", [ODD_VALUES[i % len(ODD_VALUES)] for i in range(typed.height)]),
        (pl.int_range(pl.len()) % 5).alias("priority"),  # an extra whole-number column
        pl.when(pl.int_range(pl.len()) == 7)
        .then(None)
        .otherwise(pl.col("started_at"))
        .alias("started_at"),  # one missing: suspect, and quarantined by the checked path
    )
    typed.write_parquet(folder / "interactions" / later.with_suffix(".parquet").name)
    wave = sorted((sample / "engagement_responses").glob("*.csv"))[0]
    (folder / "engagement_responses").mkdir()
    _edit(
        shutil.copy(wave, folder / "engagement_responses" / wave.name),
        {2: {"enps_score": "x"}, 3: {"q_extra": "\u00a05\u00a0"}},
        keep=60,
        extra={"q_extra": "4", "email": "someone@example.com"},
    )
    return folder
