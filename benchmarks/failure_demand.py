"""Measure the precision and recall of failure demand's causing department on random
organisations with failure demand planted (etl/sample/organisations.py: demand()).

Usage: python benchmarks/failure_demand.py [--organisations 30] [--seed 1001] [--scale 0.3]
       [--jobs 2]

Prints the rates and a table by function and reason group, as Markdown for
docs/methodology.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.sample import organisations as simulate  # noqa: E402


def by_group(results: pl.DataFrame) -> pl.DataFrame:
    """Planted, found, precision and recall by the causing department's function and reason."""
    return (
        results.group_by("function", "group")
        .agg(
            pl.col("planted").sum(),
            pl.col("found").sum(),
            pl.col("hits").sum(),
            (pl.col("planted") == 0).sum().alias("none_planted"),
            ((pl.col("planted") == 0) & (pl.col("found") > 0)).sum().alias("invented"),
        )
        .filter((pl.col("planted") > 0) | (pl.col("found") > 0))
        .with_columns(
            (pl.col("hits") / pl.col("found")).alias("precision"),
            (pl.col("hits") / pl.col("planted")).alias("recall"),
        )
        .sort("function", "group")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1001, help="first organisation's seed")
    parser.add_argument("--scale", type=float, default=0.3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    seeds = range(args.seed, args.seed + args.organisations)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
        results = pl.concat(list(pool.map(partial(simulate.attribute, scale=args.scale), seeds)))
    for name, value in simulate.attribution_rates(results).items():
        print(f"{name}: {value:.4f}" if isinstance(value, float) else f"{name}: {value}")
    print()
    table = by_group(results)
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for row in table.iter_rows():
        cells = [
            f"{v:.2%}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else v
            for v in row
        ]
        print("| " + " | ".join(map(str, cells)) + " |")
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
