"""Measure department_value's error rates on random organisations with known truth.

Usage: python benchmarks/department_value.py [--organisations 200] [--seed 1] [--jobs 2]
       [--handed-spread 0.25]

Each organisation is drawn by etl/sample/organisations.py, written straight into the raw
tables and built
by the real models. Prints the rates, the confusion matrix (true kind x verdict) and the share
of bad units found by answers and true gap, as Markdown for docs/methodology.md.
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

from etl.sample import organisations as simulate  # noqa: E402


def _judge(seed: int, handed_spread: float) -> pl.DataFrame:
    warnings.simplefilter("ignore")  # scipy's notes on constant series in other analyses
    return simulate.judge(seed, handed_spread=handed_spread)


def markdown(frame: pl.DataFrame) -> str:
    """A frame as a Markdown table."""
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = [
        "| " + " | ".join(f"{v:.0%}" if isinstance(v, float) else str(v) for v in row) + " |"
        for row in frame.iter_rows()
    ]
    return "\n".join([head, rule, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1, help="first organisation's seed")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, help="also write every unit's row as CSV here")
    parser.add_argument(
        "--handed-spread",
        type=float,
        default=0.0,
        help="make each unit's passed-on cases harder or easier than its kept ones (latent sd)",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    seeds = range(args.seed, args.seed + args.organisations)
    with ProcessPoolExecutor(args.jobs) as pool:
        spread = [args.handed_spread] * len(seeds)
        results = pl.concat(list(pool.map(_judge, seeds, spread)))
    if args.out:
        results.write_csv(args.out)
    rates = simulate.rates(results)
    print(
        f"{rates['organisations']} organisations, {rates['units']} units,"
        f" {time.perf_counter() - started:.0f} s\n"
    )
    found = rates["target_found"] / max(rates["target_bad_units"], 1)
    print(
        f"- bad units with {simulate.TARGET_ANSWERS}+ answers and a true gap of"
        f" {-simulate.TARGET_GAP:.0f}+ points found: {rates['target_found']} of"
        f" {rates['target_bad_units']} ({found:.1%})"
    )
    print(
        f"- fine units (fine or case mix) given a bad verdict: {rates['fine_called_bad']} of"
        f" {rates['fine_units']} ({rates['fine_called_bad'] / max(rates['fine_units'], 1):.1%})"
    )
    print(
        f"- neutral verdicts whose interval is wider than the margin:"
        f" {rates['neutral_wider_than_margin']} of {rates['neutral']}\n"
    )
    print(markdown(simulate.confusion(results)) + "\n")
    print(markdown(simulate.situations(results)) + "\n")
    print(markdown(simulate.power(results)))


if __name__ == "__main__":
    main()
