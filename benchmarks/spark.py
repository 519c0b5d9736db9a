"""DuckDB against local Spark: the same load and build at each scale (docs/scale-out.md).

Usage: python benchmarks/spark.py [--scales 1M,10M] [--master local[2]] [--work /tmp/cxkpi-spark]
       (needs the [spark] extra and Java 17)

For each scale (interactions in one year, 12 months of sample data) it measures, each command
in its own process (wall time, and peak resident memory of the largest process, which is the
JVM when Spark runs):

- `cxkpi load --no-build` of the sample, once, into a DuckDB file;
- `cxkpi build` (DuckDB);
- `cxkpi lake export`: the raw layer to Parquet, split by month;
- `cxkpi build --engine spark`: Spark builds the marts into the lake, then the DuckDB file the
  dashboard reads is published from them;
- `cxkpi load --engine spark --no-build` of the same sample into a lake of its own, checked to
  hold the same raw rows as the DuckDB file.

Prints a Markdown table and writes the figures to WORK/spark-results.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from warehouse import measure  # noqa: E402  (benchmarks/warehouse.py)

CXKPI = str(Path(sys.executable).with_name("cxkpi"))


def timed(label: str, *args: str, ok=(0,)) -> tuple[float, float]:
    _, wall, rss = measure(label, [CXKPI, "-q", *args], ok)
    print(f"  {label}: {wall:.1f} s, {rss:.2f} GiB", flush=True)
    return wall, rss


def one_scale(scale: str, work: Path, master: str, memory: str) -> dict:
    from etl.sample.bundled import generate

    folder = work / scale
    shutil.rmtree(folder, ignore_errors=True)
    exports, lake = folder / "exports", folder / "lake"
    started = time.perf_counter()
    counts = generate(exports, scale, months=12)
    print(f"{scale}: generated in {time.perf_counter() - started:.0f} s", flush=True)
    duck, spark = folder / "duckdb.duckdb", folder / "spark.duckdb"
    result: dict = {"scale": scale, "interactions": counts["interactions"], "master": master}
    result["load"] = timed("load (DuckDB)", "--db", str(duck), "load", "--no-build", str(exports))
    result["build_duckdb"] = timed("build (DuckDB)", "--db", str(duck), "build")
    result["export"] = timed("lake export", "--db", str(duck), "lake", "export", str(lake))
    result["build_spark"] = timed(
        "build --engine spark",
        "--db", str(spark), "build", "--engine", "spark", "--lake", str(lake),
        "--master", master, "--conf", f"spark.driver.memory={memory}",
    )  # fmt: skip
    loaded = folder / "lake-loaded"
    result["load_spark"] = timed(
        "load --engine spark",
        "--db", str(folder / "unused.duckdb"), "load", "--engine", "spark", "--no-build",
        "--lake", str(loaded), "--master", master, "--conf", f"spark.driver.memory={memory}",
        str(exports),
    )  # fmt: skip
    result["same_raw_rows"] = same_raw_rows(duck, loaded)
    print(f"  same raw rows as the DuckDB load: {result['same_raw_rows']}", flush=True)
    result["lake_gib"] = sum(p.stat().st_size for p in lake.rglob("*") if p.is_file()) / 2**30
    result["duckdb_gib"] = duck.stat().st_size / 2**30
    result["published_gib"] = spark.stat().st_size / 2**30
    shutil.rmtree(exports)
    return result


def same_raw_rows(db: Path, lake: Path) -> bool:
    """True when every raw table of the lake holds the DuckDB file's rows (as sets of rows)."""
    import duckdb

    from etl.contract.sources import SOURCES
    from etl.scaleout import lake as lakes

    con = duckdb.connect(str(db), read_only=True)
    try:
        for source in SOURCES.values():
            folder = lakes.table_dir(lake, "raw", source.raw_table)
            casts = "SELECT * REPLACE (_extra::VARCHAR AS _extra) FROM"
            differ = con.sql(
                f"SELECT count(*) FROM (({casts} {source.raw_table} EXCEPT ALL"
                f" {casts} {lakes.duckdb_source(folder)}) UNION ALL ({casts}"
                f" {lakes.duckdb_source(folder)} EXCEPT ALL {casts} {source.raw_table}))"
            ).fetchall()[0][0]
            if differ:
                return False
        return True
    finally:
        con.close()


def report(results: list[dict]) -> None:
    print("\n| scale | interactions | DuckDB build | Spark build, publish | ratio | export |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        duck, spark, export = r["build_duckdb"], r["build_spark"], r["export"]
        print(
            f"| {r['scale']} | {r['interactions']:,} | {duck[0]:.1f} s, {duck[1]:.2f} GiB"
            f" | {spark[0]:.1f} s, {spark[1]:.2f} GiB | {spark[0] / duck[0]:.1f}x"
            f" | {export[0]:.1f} s |"
        )
    print("\n| scale | DuckDB load | Spark load | ratio | same raw rows |")
    print("|---|---:|---:|---:|---|")
    for r in results:
        duck, spark = r["load"], r["load_spark"]
        print(
            f"| {r['scale']} | {duck[0]:.1f} s, {duck[1]:.2f} GiB | {spark[0]:.1f} s,"
            f" {spark[1]:.2f} GiB | {spark[0] / duck[0]:.1f}x | {r['same_raw_rows']} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1M,10M")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--memory", default="8g", help="spark.driver.memory (local mode)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/cxkpi-spark"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for scale in args.scales.split(","):
        results.append(one_scale(scale, args.work, args.master, args.memory))
        (args.work / "spark-results.json").write_text(json.dumps(results, indent=2))
    report(results)


if __name__ == "__main__":
    main()
