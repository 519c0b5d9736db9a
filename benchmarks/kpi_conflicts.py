"""Measure kpi_conflicts' error rates on random organisations with planted truth.

Usage: python benchmarks/kpi_conflicts.py [--organisations 200] [--seed 1] [--jobs 2]

Each organisation is drawn by etl/sample/conflict_series.py (planted productivity drives, seasonal
decoys, improvements on both sides, one metric trending, noise) and its monthly series go
through kpi_conflicts. Prints the rates docs/methodology.md quotes and the flags by kind.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.sample import conflict_series as simulate_conflicts  # noqa: E402


def _judge(seed: int) -> pl.DataFrame:
    warnings.simplefilter("ignore")  # scipy's notes on constant series
    return simulate_conflicts.judge(seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1, help="first organisation's seed")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    seeds = range(args.seed, args.seed + args.organisations)
    with ProcessPoolExecutor(args.jobs) as pool:
        results = pl.concat(list(pool.map(_judge, seeds)))
    r = simulate_conflicts.rates(results)
    per20 = 20 * r["false_department_flags"] / max(r["organisations"], 1)
    print(f"{r['organisations']} organisations, {time.perf_counter() - started:.0f} s\n")
    print(
        f"- planted conflicts found: {r['found']} of {r['planted']}"
        f" ({r['found'] / max(r['planted'], 1):.1%})"
    )
    print(
        f"- false department flags: {r['false_department_flags']} ({per20:.2f} per 20"
        f" organisations; {r['organisations_with_a_false_flag']} organisations with one)"
    )
    print(f"- false flags in seasonal decoys: {r['false_in_seasonal']}")
    print(
        f"- organisation-level flags: {r['organisation_flags']}, of which"
        f" {r['organisation_flags_explained']} on a pair some department was planted on;"
        f" {r['organisation_flags_showing_through']} shown as one department's conflict"
        " showing through the totals, of which"
        f" {r['showing_through_the_planted_department']} name the planted department\n"
    )
    kinds = (
        results.filter(pl.col("department_id") != "ALL")
        .group_by("kind")
        .agg(
            pl.col("planted").sum().alias("planted"),
            (pl.col("flagged") & pl.col("planted")).sum().alias("found"),
            (pl.col("flagged") & ~pl.col("planted")).sum().alias("false_flags"),
        )
        .sort("kind")
    )
    print("| kind | planted pairs | found | false flags |")
    print("|---|---:|---:|---:|")
    for row in kinds.iter_rows():
        print("| " + " | ".join(str(v) for v in row) + " |")


if __name__ == "__main__":
    main()
