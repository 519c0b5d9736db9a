"""The cost of running ad-hoc SQL in a worker process: two checkouts measured side by side.

Usage: python benchmarks/sql_worker.py --db data/cxkpi.duckdb --before ../main --after . [--runs 15]

1. `cxkpi sql` on a small query, whole process, each checkout in turn (interleaved, so a
   busy machine slows both alike): median and ratio.
2. In process, as the workbench calls it: Sandbox.run of the same query on an open sandbox
   (warm worker), median of 50 after one warm-up; and opening a sandbox until its first answer.
Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUERY = "SELECT department_id, count(*) AS months FROM department_month GROUP BY 1 ORDER BY 1"
IN_PROCESS = """
import statistics, sys, time
from pathlib import Path
from etl.warehouse.sandbox import Sandbox
started = time.perf_counter()
box = Sandbox(Path(sys.argv[1]))
box.run(sys.argv[2])
first = time.perf_counter() - started
runs = []
for _ in range(50):
    t = time.perf_counter(); box.run(sys.argv[2]); runs.append(time.perf_counter() - t)
box.close()
print(first * 1000, statistics.median(runs) * 1000)
"""


def checkout_env(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root.resolve())}


def cli_seconds(root: Path, db: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "etl.cli", "--db", str(db), "sql", QUERY],
        env=checkout_env(root),
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    trees = {"before": args.before, "after": args.after}
    times: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.runs):
        for name, root in trees.items():
            times[name].append(cli_seconds(root, args.db))
    p50 = {name: statistics.median(samples) for name, samples in times.items()}
    print(f"`cxkpi sql` on a small query, {args.runs} runs each, interleaved:\n")
    print("| checkout | p50 s | min s | max s |\n|---|---|---|---|")
    for name, samples in times.items():
        print(f"| {name} | {p50[name]:.2f} | {min(samples):.2f} | {max(samples):.2f} |")
    print(f"\nratio after / before: {p50['after'] / p50['before']:.2f}\n")
    print("| checkout | open to first answer ms | Sandbox.run p50 ms |\n|---|---|---|")
    for name, root in trees.items():
        out = subprocess.run(
            [sys.executable, "-c", IN_PROCESS, str(args.db), QUERY],
            env=checkout_env(root),
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        print(f"| {name} | {float(out[0]):.0f} | {float(out[1]):.1f} |")


if __name__ == "__main__":
    main()
