"""Measure nps_drivers' error rates on random organisations with planted driver effects, or
its cost on a built warehouse.

Usage: python benchmarks/drivers.py [--organisations 300]
       python benchmarks/drivers.py --db WAREHOUSE [--repeat 3]

Each organisation comes from etl/sample/driver_series.py (planted effects in NPS points,
correlated drivers, departments of random size). Prints the rates of
etl/sample/driver_series.evaluate as a Markdown table for docs/methodology.md, and the time.

With --db, times on that warehouse (opened read-only) the driver table's SQL
(sql/marts/nps_driver_answers.sql, into a temporary table) and the analysis over it
(etl/analyses/build.py's drivers step), each --repeat times, and prints the medians with the
table's rows, for docs/benchmarks.md. The whole build's time is measured by
benchmarks/warehouse.py.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import duckdb

from etl.sample.driver_series import evaluate

SQL = Path(__file__).resolve().parents[1] / "sql" / "marts" / "nps_driver_answers.sql"

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
    parser.add_argument("--db", type=Path, help="time the driver table and analysis on it")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.db:
        cost(args.db, args.repeat)
        return
    started = time.perf_counter()
    rates = evaluate(range(1000, 1000 + args.organisations))
    took = time.perf_counter() - started
    print(
        f"{rates['organisations']} organisations, {rates['intervals']:,} intervals, {took:.0f} s\n"
    )
    print("| measure | rate |\n|---|---:|")
    for key, label in LABELS.items():
        print(f"| {label} | {rates[key]:.1%} |")


def cost(db: Path, repeat: int) -> None:
    from etl.analyses.build import _drivers

    con = duckdb.connect(str(db), read_only=True)
    table, analysis = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TEMP TABLE answers AS {SQL.read_text()}")
        table.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = _drivers(con)
        analysis.append(time.perf_counter() - started)
    ((answers,),) = con.execute("SELECT count(*) FROM answers").fetchall()
    ((contacts,),) = con.execute("SELECT count(*) FROM int_interactions").fetchall()
    con.close()
    print(f"{contacts:,} interactions, {answers:,} linked answers, {result.height} driver rows\n")
    print(f"| step | median of {repeat} s |\n|---|---:|")
    print(f"| nps_driver_answers (SQL) | {statistics.median(table):.2f} |")
    print(f"| nps_drivers (regression, weights, bootstrap) | {statistics.median(analysis):.2f} |")


if __name__ == "__main__":
    main()
