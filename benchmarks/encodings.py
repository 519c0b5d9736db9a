"""Measure what reading Windows-1252 and ';'-separated contract files costs.

Usage: python benchmarks/encodings.py [--scale 1M] [--runs 3] [--work /tmp/cxkpi-encodings]

One interactions file of the sample at --scale (interactions per year, two years) is loaded
with `cxkpi load --no-build` as it is, ';'-separated (detected from the header), and
';'-separated in Windows-1252 (stated), each into a fresh warehouse, --runs times; and the
check every plain file now pays (is it UTF-8? which delimiter?) is timed on its own.
Medians, in one run, printed as a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from warehouse import CXKPI, measure, one_file  # noqa: E402

from etl.contract.sources import INTERACTIONS  # noqa: E402
from etl.loading.dialect import detect  # noqa: E402


def semicolons(plain: Path, target: Path, encoding: str) -> None:
    """The same rows, ';'-separated, in encoding."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        plain.open(encoding="utf-8", newline="") as source,
        target.open("w", encoding=encoding, newline="") as out,
    ):
        csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(csv.reader(source))


def loads(label: str, folder: Path, work: Path, runs: int, *options: str) -> list[tuple]:
    """(label, median wall s, max peak RSS GB) of loading folder into a fresh warehouse."""
    walls, peaks = [], []
    for run in range(runs):
        db = work / f"{folder.name}-{run}.duckdb"
        command = [CXKPI, "-q", "--db", str(db), "load", "--no-build", *options, str(folder)]
        _, wall, rss = measure(label, command, ok=(0, 1))
        walls.append(wall)
        peaks.append(rss)
        db.unlink(missing_ok=True)
    return [(label, statistics.median(walls), max(peaks))]


def check_alone(path: Path, runs: int) -> float:
    """Median seconds of the encoding and delimiter check on a plain file."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        assert detect(path, INTERACTIONS).plain
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1M")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cxkpi-encodings"))
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
    rows = one_file(work / "sample", work / "plain")
    plain = work / "plain" / "interactions" / "all.csv"
    for name, encoding in (("semicolons", "utf-8"), ("windows-1252", "cp1252")):
        shutil.copytree(work / "plain" / "departments", work / name / "departments")
        semicolons(plain, work / name / "interactions" / "all.csv", encoding)
    size = plain.stat().st_size / 1024**2
    results = loads("as it is (UTF-8, commas)", work / "plain", work, args.runs)
    results += loads("';'-separated, detected", work / "semicolons", work, args.runs)
    results += loads(
        "';'-separated Windows-1252, stated",
        work / "windows-1252",
        work,
        args.runs,
        "--encoding",
        "windows-1252",
    )
    base = results[0][1]
    print(f"{rows:,} interactions, {size:.0f} MiB, median of {args.runs} runs\n")
    print("| file | cxkpi load --no-build | ratio | peak RSS GB |\n|---|---:|---:|---:|")
    for label, wall, rss in results:
        print(f"| {label} | {wall:.1f} s | {wall / base:.2f}x | {rss:.2f} |")
    print(f"\nthe check on the plain file alone: {check_alone(plain, args.runs):.2f} s")


if __name__ == "__main__":
    main()
