"""The enterprise-scale benchmark: load, build, dashboard pages and board pack at each scale.

Usage: python benchmarks/run.py [--scales 1M,3M,10M] [--repeat 30] [--work /tmp/cxkpi-run]

For each scale (interactions in one year: the sample is generated with 12 months, so 10M is
a large contact centre's year) it measures, in the same run:

- the load of each source by `cxkpi load --no-build` in its own process: wall time, rows/s
  and peak resident memory, against DuckDB's own bare ingest of the same files
  (`CREATE TABLE AS SELECT * FROM read_csv([...])`, also in its own process): the ratio;
- `cxkpi build`: wall time and peak memory;
- every dashboard page's data (benchmarks/pages.py's calls) cold and warm, p50 and p95;
- `cxkpi snapshot` of the last month: the board pack end to end.

Prints one Markdown table per scale and a summary of the targets (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from warehouse import measure  # noqa: E402  (benchmarks/warehouse.py)

CXKPI = str(Path(sys.executable).with_name("cxkpi"))
ORDER = (
    "departments",
    "kpi_targets",
    "initiatives",
    "interactions",
    "case_tasks",
    "workforce",
    "nps_responses",
    "engagement_responses",
)
_BARE = (
    "import duckdb, sys; con = duckdb.connect(sys.argv[1]);"
    " con.execute('CREATE TABLE t AS SELECT * FROM read_csv($f)', {'f': sys.argv[2:]});"
    " con.execute('CHECKPOINT'); con.close()"
)


_BARE_ALL = (
    "import duckdb, sys, pathlib; root = pathlib.Path(sys.argv[1]);"
    " con = duckdb.connect(str(root.parent / 'bare-all.duckdb'));"
    " [con.execute(f'CREATE TABLE {d.name} AS SELECT * FROM read_csv($f)',"
    " {'f': sorted(map(str, d.glob('*.csv')))}) for d in sorted(root.iterdir())];"
    " con.execute('CHECKPOINT'); con.close(); (root.parent / 'bare-all.duckdb').unlink()"
)


def timed(command: list[str], ok=(0,), env: dict | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (GiB) of a command run in its own process."""
    _, wall, rss = measure(command[0], command, ok, env)
    return wall, rss


def bare(files: list[Path], db: Path) -> tuple[float, float]:
    """DuckDB's own ingest of the same files into a new database, as a command of its own
    (process start included, like cxkpi's)."""
    db.unlink(missing_ok=True)
    measured = timed([sys.executable, "-c", _BARE, str(db), *map(str, files)])
    db.unlink(missing_ok=True)
    return measured


def rows_in(files: list[Path]) -> int:
    total = 0
    for path in files:
        with path.open("rb") as handle:
            total += sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b""))
        total -= 1
    return total


def pages_data(db: Path, repeat: int) -> list[dict]:
    """Every page's data calls, cold and warm, in a child process (benchmarks/pages.py)."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import pages as p;"
        " print(json.dumps(p.measure(int(sys.argv[2]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(HERE), str(repeat)],
        capture_output=True,
        text=True,
        env={**os.environ, "CXKPI_DB": str(db)},
    )
    if out.returncode:
        raise SystemExit(f"page measurement failed: {out.stderr[-1500:]}")
    return json.loads(out.stdout.splitlines()[-1])


def one_scale(scale: str, work: Path, repeat: int) -> dict:
    from etl.sample.bundled import generate

    folder = work / scale
    shutil.rmtree(folder, ignore_errors=True)
    exports = folder / "exports"
    started = time.perf_counter()
    generate(exports, scale, months=12)
    result: dict = {"scale": scale, "generate_s": time.perf_counter() - started, "sources": []}
    db = folder / "cxkpi.duckdb"
    for source in ORDER:
        files = sorted((exports / source).glob("*.csv"))
        rows = rows_in(files)
        wall, rss = timed(
            [CXKPI, "-q", "--db", str(db), "load", "--no-build", str(exports / source)], ok=(0, 1)
        )
        bare_wall, bare_rss = bare(files, folder / "bare.duckdb")
        result["sources"].append(
            {
                "source": source,
                "files": len(files),
                "rows": rows,
                "load_s": wall,
                "load_gib": rss,
                "bare_s": bare_wall,
                "bare_gib": bare_rss,
            }
        )
    # What a user runs: every source in one command (one process start, one publish).
    together = folder / "together.duckdb"
    result["load_all_s"], result["load_all_gib"] = timed(
        [CXKPI, "-q", "--db", str(together), "load", "--no-build", str(exports)], ok=(0, 1)
    )
    together.unlink()
    # The same with every row through Polars and Great Expectations (the checked path).
    result["load_checked_s"], result["load_checked_gib"] = timed(
        [CXKPI, "-q", "--db", str(together), "load", "--no-build", str(exports)],
        ok=(0, 1),
        env={"CXKPI_INGEST": "checked"},
    )
    together.unlink()
    result["bare_all_s"], _ = timed([sys.executable, "-c", _BARE_ALL, str(exports)])
    result["build_s"], result["build_gib"] = timed([CXKPI, "-q", "--db", str(db), "build"])
    result["db_gib"] = db.stat().st_size / 2**30
    result["pages"] = pages_data(db, repeat)
    month = "2026-10"
    result["snapshot_s"], result["snapshot_gib"] = timed(
        [CXKPI, "-q", "--db", str(db), "snapshot", "--month", month, "--out", str(folder / "pack")]
    )
    shutil.rmtree(exports)  # keep the disk in check; the database stays for a look
    return result


def report(results: list[dict]) -> None:
    for r in results:
        total_rows = sum(s["rows"] for s in r["sources"])
        load = sum(s["load_s"] for s in r["sources"])
        bare_total = sum(s["bare_s"] for s in r["sources"])
        print(f"\n### {r['scale']} interactions a year ({total_rows:,} rows in all sources)\n")
        print(
            "| source | files | rows | cxkpi load s | rows/s | peak GiB | bare DuckDB s | ratio |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for s in r["sources"]:
            print(
                f"| {s['source']} | {s['files']} | {s['rows']:,} | {s['load_s']:.1f} |"
                f" {s['rows'] / s['load_s']:,.0f} | {s['load_gib']:.2f} | {s['bare_s']:.2f} |"
                f" {s['load_s'] / s['bare_s']:.1f}x |"
            )
        print(
            f"| sum of the above | | {total_rows:,} | {load:.1f} | {total_rows / load:,.0f} |"
            f" {max(s['load_gib'] for s in r['sources']):.2f} | {bare_total:.2f} |"
            f" {load / bare_total:.1f}x |"
        )
        print(
            f"| **all sources in one command** | | {total_rows:,} | {r['load_all_s']:.1f} |"
            f" {total_rows / r['load_all_s']:,.0f} | {r['load_all_gib']:.2f} |"
            f" {r['bare_all_s']:.2f} | {r['load_all_s'] / r['bare_all_s']:.1f}x |"
        )
        print(
            f"| all sources in one command, every row checked (`CXKPI_INGEST=checked`) | |"
            f" {total_rows:,} | {r['load_checked_s']:.1f} |"
            f" {total_rows / r['load_checked_s']:,.0f} | {r['load_checked_gib']:.2f} |"
            f" {r['bare_all_s']:.2f} | {r['load_checked_s'] / r['bare_all_s']:.1f}x |"
        )
        print(
            f"\nbuild {r['build_s']:.1f} s, peak {r['build_gib']:.2f} GiB; database"
            f" {r['db_gib']:.2f} GiB; board pack (`cxkpi snapshot`) {r['snapshot_s']:.1f} s,"
            f" peak {r['snapshot_gib']:.2f} GiB; sample generation {r['generate_s']:.1f} s\n"
        )
        print("| page data | queries | cold ms | warm p50 ms | warm p95 ms |")
        print("|---|---:|---:|---:|---:|")
        for p in r["pages"]:
            print(
                f"| {p['page']} ({p['filters']}) | {p['queries']} | {p['cold']:.0f} |"
                f" {p['p50']:.1f} | {p['p95']:.1f} |"
            )
    print("\n### Targets\n")
    print(
        "| scale | load / bare ingest (<= 1.5x) | peak load GiB (< 4) | worst page p95 ms"
        " (<= 150) | build s | build s per million rows |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        rows = sum(s["rows"] for s in r["sources"])
        print(
            f"| {r['scale']} | {r['load_all_s'] / r['bare_all_s']:.1f}x |"
            f" {max(r['load_all_gib'], *(s['load_gib'] for s in r['sources'])):.2f} |"
            f" {max(p['p95'] for p in r['pages']):.1f} | {r['build_s']:.1f} |"
            f" {r['build_s'] / rows * 1e6:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1M,3M,10M")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cxkpi-run"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores; scales {args.scales}; {args.repeat} warm runs per page")
    results = []
    for scale in args.scales.split(","):
        results.append(one_scale(scale, args.work, args.repeat))
        (args.work / "results.json").write_text(json.dumps(results, indent=1))
        print(f"{scale} done", file=sys.stderr, flush=True)
    report(results)


if __name__ == "__main__":
    main()
