"""Measure theming survey comments in a build: redaction, themes and sentiment.

Usage: python benchmarks/themes.py [--comments 100k,1M] [--distinct 1.0]

Comments are the hand-labelled ones and the sample's, each made distinct by a made-up word
(--distinct is the share kept distinct; the rest repeat, as short comments do). Each size is
themed three ways in one in-memory warehouse: a first build (every comment), a rebuild with
nothing new, and a rebuild after a month of new comments (a twelfth more). Printed as a
Markdown table for docs/benchmarks.md; peak memory is this process's maximum resident set.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402
import polars as pl  # noqa: E402

from etl.analyses import comments  # noqa: E402
from etl.contract import themes  # noqa: E402
from etl.sample import comments as sample  # noqa: E402

_SAMPLE = (*sample.CALLBACK, *sample.CLAIMS, *sample.REPEAT, *sample.BILLING, *sample.PRAISE,
           *sample.DETRACTOR, *sample.PROMOTER, *sample.NOISE)  # fmt: skip


def _word(i: int) -> str:
    """A made-up lower-case word for i (no digits: redaction would take them)."""
    letters = ""
    while True:
        letters += "bcdfghjklmnpqrstvwxz"[i % 20]
        i //= 20
        if not i:
            return "q" + letters


def frame(n: int, start: int, distinct: float) -> pl.DataFrame:
    texts = [x.comment for x in themes.labelled()] + list(_SAMPLE)
    unique = int(n * distinct)
    rows = [
        texts[i % len(texts)] + (f" {_word(i)}" if i - start < unique else "")
        for i in range(start, start + n)
    ]
    ids = [f"R{i:09d}" for i in range(start, start + n)]
    return pl.DataFrame({"response_id": ids, "department_id": "BIL", "comment": rows})


def timed(con: duckdb.DuckDBPyConnection) -> float:
    began = time.perf_counter()
    comments.build(con)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", default="100k,1M")
    parser.add_argument("--distinct", type=float, default=1.0)
    args = parser.parse_args()
    print("| comments | distinct | first build | rebuild, nothing new | + a month (1/12) |")
    print("|---:|---:|---:|---:|---:|")
    for size in args.comments.split(","):
        n = int(float(size.lower().rstrip("km")) * {"k": 1e3, "m": 1e6}.get(size[-1].lower(), 1))
        con = duckdb.connect()
        con.register("c", frame(n, 0, args.distinct).to_arrow())
        con.execute("CREATE TABLE stg_nps_responses AS SELECT * FROM c")
        first, again = timed(con), timed(con)
        con.register("m", frame(n // 12, n, args.distinct).to_arrow())
        con.execute("INSERT INTO stg_nps_responses SELECT * FROM m")
        month = timed(con)
        print(f"| {n:,} | {args.distinct:.0%} | {first:.1f} s | {again:.1f} s | {month:.1f} s |")
        con.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"\npeak RSS {peak:.2f} GB")


if __name__ == "__main__":
    main()
