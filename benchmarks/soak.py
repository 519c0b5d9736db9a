"""Soak run: many monthly loads in sequence while the dashboard's data is polled throughout.

Usage: python benchmarks/soak.py [--months 50] [--scale 150k] [--out /tmp/cxkpi-soak]

It generates the seeded sample with --months months and loads them the way a CX team does:
one `cxkpi load` (load and build) per month with that month's files from every source, the
reference files with the first month. Every seventh month carries two broken rows (an unknown
department, a negative duration), which must be quarantined; every tenth month sends an
earlier month's file again, unchanged, which must change nothing.

Meanwhile a separate process reads the warehouse the way the dashboard does (dashboard/data.py,
every page's calls, one published file per round) and checks in one query that the marts and
the load runs come from the same state. After each load the rows are reconciled: rows read =
loaded + quarantined for every file, raw rows = rows loaded, and the totals equal the rows
written. Prints a Markdown report for docs/reliability.md; exits 1 on any error or mismatch.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

CXKPI = str(Path(sys.executable).with_name("cxkpi"))
MONTHLY = ("interactions", "case_tasks", "workforce", "nps_responses", "engagement_responses")
REFERENCE = ("departments", "kpi_targets", "initiatives")
BROKEN_EVERY, RESEND_EVERY = 7, 10
#: Broken interactions appended to every BROKEN_EVERY-th month (other columns empty).
BROKEN_ROWS = (
    {"interaction_id": "SOAK-BAD-{n}-1", "department_id": "ZZZ", "handle_seconds": "300"},
    {"interaction_id": "SOAK-BAD-{n}-2", "department_id": "BIL", "handle_seconds": "-30"},
)
SAME_STATE = (
    "SELECT f.last_month, f.rows_loaded, (SELECT sum(aht_seconds_n) FROM department_month) AS marts"
    " FROM source_freshness f WHERE f.source = 'interactions'"
)


def poll(db: Path, stop: Path, log: Path) -> None:
    """The poller process: every page's data, then the same-state check, until stop exists."""
    import logging

    from etl import settings

    settings.DB.hand_over(db)  # as `cxkpi serve` hands it to the dashboard
    logging.disable(logging.WARNING)  # Streamlit warns that no app is running; none is.
    sys.path.insert(0, str(Path(__file__).parent))
    from pages import pages  # benchmarks/pages.py

    from dashboard import data
    from etl.reporting.formats import parse_month

    with log.open("w") as out:
        while not stop.exists():
            started = time.perf_counter()
            record: dict = {"ok": True}
            try:
                data._fetch.clear()  # real queries every round, not the result cache
                data.pin()
                months = data.filter_values()["month"]["value"].to_list()
                end = parse_month(months[-1])
                start = parse_month(months[max(0, len(months) - 12)])
                filters = data.Filters(start, end, "ALL", "the organisation", "all")
                for calls in pages(data, filters).values():
                    for call in calls:
                        call()
                month, rows, marts = data.fetch(SAME_STATE).row(0)
                record.update(month=str(month), rows=int(rows), marts=int(marts))
                record["ok"] = rows == marts
            except Exception as error:  # the report counts and shows every failure
                if isinstance(error, data.DataUnavailable) and "no warehouse" in str(error):
                    record = {"ok": True, "waiting": True}
                else:
                    record = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
            record["ms"] = round((time.perf_counter() - started) * 1000, 1)
            out.write(json.dumps(record) + "\n")
            out.flush()
            time.sleep(0.2)


def month_folders(exports: Path, inbox: Path) -> list[tuple[str, Path, Counter]]:
    """One folder per month with that month's files (hard links); the rows each holds."""
    months = sorted({p.stem for p in (exports / "interactions").glob("*.csv")})
    folders = []
    for index, month in enumerate(months, 1):
        folder = inbox / f"{index:02d}-{month}"
        rows: Counter = Counter()
        sources = MONTHLY + (REFERENCE if index == 1 else ())
        for source in sources:
            for path in (exports / source).glob("*.csv"):
                if source in REFERENCE or path.stem == month:
                    target = folder / source / path.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
                    rows[source] += _rows(target)
        if index % BROKEN_EVERY == 0:
            target = folder / "interactions" / f"{month}.csv"
            with target.open("r+") as handle:
                columns = handle.readline().strip().split(",")
                handle.seek(0, os.SEEK_END)
                for broken in BROKEN_ROWS:
                    values = {**broken, "started_at": f"{month}-03T10:00:00"}
                    line = ",".join(values.get(c, "").format(n=index) for c in columns)
                    handle.write(line + "\n")
            rows["interactions"] += len(BROKEN_ROWS)
            rows["broken"] += len(BROKEN_ROWS)
        if index % RESEND_EVERY == 0:
            earlier = months[index - RESEND_EVERY]
            shutil.copyfile(exports / "case_tasks" / f"{earlier}.csv", _resend(folder, earlier))
            rows["resent"] += 1
        folders.append((month, folder, rows))
    return folders


def _resend(folder: Path, month: str) -> Path:
    path = folder / "resent" / "case_tasks" / f"{month}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _rows(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle) - 1


def reconcile(db: Path) -> dict:
    """Per source: rows read, loaded and quarantined by the current loads; rows in raw tables."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute(
            "SELECT source, sum(rows_read), sum(rows_loaded), sum(rows_quarantined),"
            " count(*) FILTER (WHERE rows_read <> rows_loaded + rows_quarantined)"
            " FROM meta_load_runs WHERE superseded_by IS NULL GROUP BY source"
        ).fetchall()
        result = {}
        for source, read, loaded, quarantined, unbalanced in runs:
            (raw,) = con.execute(f"SELECT count(*) FROM raw_{source}").fetchall()[0]
            result[source] = {
                "read": int(read),
                "loaded": int(loaded),
                "quarantined": int(quarantined),
                "unbalanced_files": int(unbalanced),
                "raw": int(raw),
            }
        return result
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=50)
    parser.add_argument("--scale", default="150k")
    parser.add_argument("--out", type=Path, default=Path("/tmp/cxkpi-soak"))
    parser.add_argument("--poller", nargs=3, metavar=("DB", "STOP", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.poller:
        poll(*map(Path, args.poller))
        return

    from etl.sample.bundled import generate

    shutil.rmtree(args.out, ignore_errors=True)
    exports, db = args.out / "exports", args.out / "soak.duckdb"
    generate(exports, args.scale, months=args.months)
    folders = month_folders(exports, args.out / "inbox")
    stop, log = args.out / "stop", args.out / "poll.jsonl"
    poller = subprocess.Popen(
        [sys.executable, __file__, "--poller", str(db), str(stop), str(log)],
        cwd=Path(__file__).resolve().parents[1],
    )
    expected: Counter = Counter()
    problems, timings = [], []
    started = time.perf_counter()
    for index, (month, folder, rows) in enumerate(folders, 1):
        began = time.perf_counter()
        run = subprocess.run(
            [CXKPI, "-q", "--db", str(db), "load", str(folder)], capture_output=True, text=True
        )
        timings.append(time.perf_counter() - began)
        expected.update({k: v for k, v in rows.items() if k not in ("broken", "resent")})
        expected["broken"] += rows["broken"]
        said = run.stdout + run.stderr
        if run.returncode != (1 if rows["broken"] else 0) or "Traceback" in said:
            problems.append(f"load {index} ({month}): exit {run.returncode}: {said[-500:]}")
        if rows["resent"] and "unchanged" not in said:
            problems.append(f"load {index} ({month}): the resent file was not 'unchanged'")
        state = reconcile(db)
        for source, counts in state.items():
            if counts["unbalanced_files"] or counts["raw"] != counts["loaded"]:
                problems.append(f"load {index} ({month}) {source}: {counts}")
            if counts["read"] != expected[source]:
                problems.append(
                    f"load {index} ({month}) {source}: {counts['read']} rows read by current"
                    f" loads, {expected[source]} written"
                )
        quarantined = sum(c["quarantined"] for c in state.values())
        if quarantined != expected["broken"]:
            problems.append(f"load {index}: {quarantined} quarantined, {expected['broken']} broken")
        print(f"load {index:2d} {month}: {timings[-1]:5.1f} s, {db.stat().st_size / 1e6:6.1f} MB")
    total = time.perf_counter() - started
    time.sleep(1)
    stop.touch()
    poller.wait(timeout=120)
    polls = [json.loads(line) for line in log.read_text().splitlines()]
    failed = [p for p in polls if not p["ok"]]
    served = [p for p in polls if "rows" in p]
    final = reconcile(db)
    report(args, expected, folders, timings, total, polls, served, failed, final, problems)
    sys.exit(1 if problems or failed else 0)


def report(args, sent, folders, timings, total, polls, served, failed, final, problems):
    """The Markdown report."""
    states = len({(p["month"], p["rows"]) for p in served})
    slow = sorted(p["ms"] for p in served)
    p95 = slow[int(len(slow) * 0.95)] if slow else float("nan")
    print(
        f"\n## Soak run: {len(folders)} monthly loads, scale {args.scale}, {os.cpu_count()} cores\n"
    )
    print(f"- loads: {len(folders)} in {total / 60:.1f} min; per load median")
    print(f"  {sorted(timings)[len(timings) // 2]:.1f} s, first {timings[0]:.1f} s,")
    print(f"  last {timings[-1]:.1f} s (load and build of everything so far)")
    print(f"- dashboard polls: {len(polls)} rounds of every page's data, {len(served)} answered")
    print(f"  ({len(polls) - len(served) - len(failed)} before the first load published),")
    print(f"  **{len(failed)} errors**, {states} distinct published states seen,")
    print(f"  round p95 {p95:.0f} ms (result cache cleared every round)")
    print(f"- mismatches found by reconciliation: **{len(problems)}**\n")
    print("| source | rows sent | read | loaded | quarantined | in raw table |")
    print("|---|---|---|---|---|---|")
    for source, counts in sorted(final.items()):
        print(
            f"| {source} | {sent[source]:,} | {counts['read']:,} |"
            f" {counts['loaded']:,} | {counts['quarantined']:,} | {counts['raw']:,} |"
        )
    for line in problems[:20] + [json.dumps(p) for p in failed[:20]]:
        print(f"\nPROBLEM: {line}")


if __name__ == "__main__":
    main()
