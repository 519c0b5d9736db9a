"""Measure nps_drivers' error rates on random organisations with planted driver effects.

Usage: python benchmarks/drivers.py [--organisations 300]

Each organisation comes from etl/sample/driver_series.py (planted effects in NPS points,
correlated drivers, departments of random size). Prints the rates of
etl/sample/driver_series.evaluate as a Markdown table for docs/methodology.md, and the time.
"""

from __future__ import annotations

import argparse
import time

from etl.sample.driver_series import evaluate

LABELS = {
    "coverage": "95% intervals that hold the planted effect",
    "false_effect": "drivers planted at 0 called lower or higher NPS",
    "no_effect_flagged": "the no-effect driver (long wait) marked no clear effect",
    "power": "effects of -10 points or beyond found (lower NPS)",
    "top_driver": "scopes whose most important driver is the planted one",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=300)
    args = parser.parse_args()
    started = time.perf_counter()
    rates = evaluate(range(1000, 1000 + args.organisations))
    took = time.perf_counter() - started
    print(
        f"{rates['organisations']} organisations, {rates['intervals']:,} intervals, {took:.0f} s\n"
    )
    print("| measure | rate |\n|---|---:|")
    for key, label in LABELS.items():
        print(f"| {label} | {rates[key]:.1%} |")


if __name__ == "__main__":
    main()
