"""Measure `cxkpi load` against DuckDB's bare CSV ingest, for files as real exports come.

Usage: python benchmarks/ingest.py [--scale 1M] [--runs 3] [--work /tmp/cxkpi-ingest]

One interactions file of the sample at --scale (interactions per year, two years: 1M gives
about 2M rows) is written four ways: in the contract's columns only; with one extra column
(a queue name, as most exports carry); with values padded by tabs and no-break spaces; and
as Parquet with typed columns and the extra column. Each is loaded with
`cxkpi load --no-build` into a fresh warehouse, and ingested by DuckDB's bare
`CREATE TABLE AS SELECT * FROM read_csv(...)` (or `read_parquet`), --runs times,
alternating. Medians and
their ratio, in one run, printed as a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from warehouse import CXKPI, measure, one_file  # noqa: E402

_BARE = (
    "import duckdb, sys; con = duckdb.connect(sys.argv[1]);"
    " reader = 'read_parquet' if sys.argv[2].endswith('.parquet') else 'read_csv';"
    " con.execute(f'CREATE TABLE t AS SELECT * FROM {reader}($p)', {'p': sys.argv[2]});"
    " con.execute('CHECKPOINT'); con.close()"
)


def variants(work: Path) -> dict[str, Path]:
    """The folders to load: the contract's columns, plus an extra column, plus odd spaces."""
    plain = work / "contract"
    one_file(work / "sample", plain)
    frame = pl.read_csv(plain / "interactions" / "all.csv", infer_schema=False)
    queues = pl.Series(["billing", "moves", "faults", "retention"])
    folders = {"contract columns only": plain}
    for name, change in (
        ("one extra column", pl.lit(queues).gather(pl.int_range(pl.len()) % 4).alias("queue")),
        (
            "padded with tabs and no-break spaces",
            ("\t" + pl.col("channel") + "\u00a0").alias("channel"),
        ),
    ):
        folder = work / name.split()[0]
        shutil.copytree(plain / "departments", folder / "departments")
        (folder / "interactions").mkdir()
        frame.with_columns(change).write_csv(folder / "interactions" / "all.csv")
        folders[name] = folder
    folder = work / "parquet"
    shutil.copytree(plain / "departments", folder / "departments")
    (folder / "interactions").mkdir()
    typed = pl.read_csv(
        folders["one extra column"] / "interactions" / "all.csv", try_parse_dates=True
    )
    typed.write_parquet(folder / "interactions" / "all.parquet")
    folders["Parquet, typed columns and the extra column"] = folder
    return folders


def pair(label: str, folder: Path, work: Path, runs: int) -> tuple:
    """(label, cxkpi median s, bare median s, cxkpi peak RSS GB), alternating the two."""
    csv = next((folder / "interactions").glob("all.*"))
    ours, bare, peaks = [], [], []
    for run in range(runs):
        db = work / f"run-{run}.duckdb"
        command = [CXKPI, "-q", "--db", str(db), "load", "--no-build", str(folder)]
        _, wall, rss = measure(label, command, ok=(0, 1))
        ours.append(wall)
        peaks.append(rss)
        db.unlink(missing_ok=True)
        _, wall, _ = measure("bare", [sys.executable, "-c", _BARE, str(db), str(csv)])
        bare.append(wall)
        db.unlink(missing_ok=True)
    return label, statistics.median(ours), statistics.median(bare), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1M")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cxkpi-ingest"))
    args = parser.parse_args()
    work = args.work
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from etl.sample.bundled import generate; from pathlib import Path;"
            f" generate(Path({str(work / 'sample')!r}), {args.scale!r})",
        ],
        check=True,
    )
    folders = variants(work)
    shutil.rmtree(work / "sample")
    rows = sum(1 for _ in (folders["contract columns only"] / "interactions/all.csv").open()) - 1
    results = [pair(label, folder, work, args.runs) for label, folder in folders.items()]
    print(f"{rows:,} interactions in one file, median of {args.runs} runs each\n")
    print(
        "| file | cxkpi load --no-build | bare DuckDB read_csv | ratio | peak RSS GB |\n"
        "|---|---:|---:|---:|---:|"
    )
    for label, ours, bare, rss in results:
        print(f"| {label} | {ours:.1f} s | {bare:.1f} s | {ours / bare:.2f}x | {rss:.2f} |")


if __name__ == "__main__":
    main()
