"""Measure the warehouse: sample generation, load of one large interactions file, full load, build.

Usage: python benchmarks/warehouse.py [--scale 5M] [--work /tmp/cxkpi-bench]

--scale is interactions per year; the sample covers two years, so 5M gives about 10M
interaction rows. Each cxkpi command runs as its own process so its peak memory (max RSS) is
its own. Results are printed as a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

CXKPI = str(Path(sys.executable).with_name("cxkpi"))


def measure(
    label: str, command: list[str], ok=(0,), env: dict | None = None
) -> tuple[str, float, float]:
    """Run a command in a child process: (label, wall seconds, peak RSS in GB).

    ok: the exit statuses that count as success (a load that quarantines rows exits 1);
    env: variables to set for the command.
    """
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter();"
        " r = subprocess.run(sys.argv[1:]); w = time.perf_counter() - t;"
        " print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *command],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    wall, rss_kb, status = out.stdout.split()[-3:]
    if int(status) not in ok:
        raise SystemExit(f"{label} failed ({status}): {out.stderr[-2000:]}")
    return label, float(wall), int(rss_kb) / 1024 / 1024


def one_file(sample: Path, target: Path) -> int:
    """Concatenate the monthly interactions files into one; its data rows."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(sample / "departments", target / "departments", dirs_exist_ok=True)
    (target / "interactions").mkdir(exist_ok=True)
    rows = 0
    with (target / "interactions" / "all.csv").open("w") as out:
        for index, path in enumerate(sorted((sample / "interactions").glob("*.csv"))):
            lines = path.read_text().splitlines(keepends=True)
            out.writelines(lines if index == 0 else lines[1:])
            rows += len(lines) - 1
    return rows


def bare_ingest(csv: Path, db: Path) -> tuple[str, float, float]:
    """DuckDB's own CSV ingest of the same file: the physical reference."""
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv($path)", {"path": str(csv)})
    con.execute("CHECKPOINT")
    con.close()
    wall = time.perf_counter() - started
    return "bare DuckDB read_csv of the same file", wall, _self_rss()


def _self_rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="5M")
    parser.add_argument("--work", type=Path, default=Path("/tmp/cxkpi-bench"))
    args = parser.parse_args()
    work = args.work
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sample = work / "sample"
    gen = [
        sys.executable,
        "-c",
        f"from etl.sample.bundled import generate; from pathlib import Path;"
        f" generate(Path({str(sample)!r}), {args.scale!r})",
    ]
    results = [measure(f"generate sample at --scale {args.scale}", gen)]
    rows = one_file(sample, work / "one")
    single = work / "single.duckdb"
    results.append(
        measure(
            f"load one file of {rows:,} interactions",
            [CXKPI, "-q", "--db", str(single), "load", "--no-build", str(work / "one")],
        )
    )
    results.append(bare_ingest(work / "one" / "interactions" / "all.csv", work / "bare.duckdb"))
    full = work / "full.duckdb"
    total = sum(len(p.read_bytes().splitlines()) - 1 for p in sample.rglob("*.csv"))
    results.append(
        measure(
            f"load all sources, {total:,} rows in monthly files",
            [CXKPI, "-q", "--db", str(full), "load", "--no-build", str(sample)],
        )
    )
    results.append(measure("build all models", [CXKPI, "-q", "--db", str(full), "build"]))
    size = full.stat().st_size / 1024**3
    print("| step | wall s | peak RSS GB |\n|---|---|---|")
    for label, wall, rss in results:
        print(f"| {label} | {wall:.1f} | {rss:.2f} |")
    print(f"\ndatabase file after full load and build: {size:.2f} GB")


if __name__ == "__main__":
    main()
