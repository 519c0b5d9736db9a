"""Measure initiative_effects' error rates on random organisations with planted initiatives.

Usage: python benchmarks/initiative_effects.py [--organisations 200] [--seed 1] [--jobs 2]
       [--before-after] [--baseline-months 6]

Each organisation is drawn by etl/sample/initiative_series.py (null initiatives at random months
and right after a bad spell, durable and faded lifts, on series with the organisation's own
trends and seasons) and goes through initiative_effects. Prints, per kind of initiative, the
share given each verdict. --before-after measures the rival that sets each lift against the
department's own months before only, with no comparison departments.
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

from etl.analyses import initiatives
from etl.sample import initiative_series as simulate_initiatives  # noqa: E402


def _judge(job: tuple[int, bool, int]) -> pl.DataFrame:
    seed, before_after, baseline = job
    warnings.simplefilter("ignore")
    if before_after:
        initiatives.MIN_COMPARISONS = 10**9  # never enough: the rival without comparisons
    initiatives.BASELINE_MONTHS = baseline
    return simulate_initiatives.judge(seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1, help="first organisation's seed")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--before-after", action="store_true")
    parser.add_argument("--baseline-months", type=int, default=initiatives.BASELINE_MONTHS)
    args = parser.parse_args()
    started = time.perf_counter()
    jobs = [(s, args.before_after, args.baseline_months)
            for s in range(args.seed, args.seed + args.organisations)]  # fmt: skip
    with ProcessPoolExecutor(args.jobs) as pool:
        results = pl.concat(list(pool.map(_judge, jobs)))
    table = simulate_initiatives.rates(results)
    print(
        f"{args.organisations} organisations, {results.height} initiatives,"
        f" {time.perf_counter() - started:.0f} s\n"
    )
    print("| kind | department already trending | initiatives | durable | faded | no clear lift |")
    print("|---|---|---:|---:|---:|---:|")
    for r in table.iter_rows(named=True):
        print(
            f"| {r['kind']} | {'yes' if r['trending'] else 'no'} | {r['initiatives']}"
            f" | {r['durable']:.1%} | {r['faded']:.1%} | {r['no_clear_lift']:.1%} |"
        )


if __name__ == "__main__":
    main()
