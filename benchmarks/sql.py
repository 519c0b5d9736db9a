"""Measure the ad-hoc SQL guard: its cost per query, and whether a runaway query slows others.

Usage: python benchmarks/sql.py --db data/cxkpi.duckdb [--repeat 30]

1. Opening a Sandbox (new in-memory instance, ATTACH, one view per analyst view, settings).
2. Each example query of sql/examples: the guard's check alone, the query through the guard,
   and the same query on a plain read-only connection (p50 / p95 over --repeat runs).
3. The overview page's data calls (dashboard/data.py, result cache cleared each time) alone,
   and again while a query that would run for minutes is running in the sandbox on another
   thread, until the time limit stops it.
4. `cxkpi sql` end to end (process start included), as a terminal user sees it.
Prints Markdown tables for docs/benchmarks.md.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

RUNAWAY = "SELECT sum(a.range * b.range) FROM range(100000) a, range(100000) b"


def ms(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def spread(samples: list[float]) -> str:
    return f"{statistics.median(samples):.1f} | {statistics.quantiles(samples, n=20)[-1]:.1f}"


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from pages import arguments, pages  # benchmarks/pages.py

    args = arguments(__doc__)

    from etl.warehouse.read_only import connect_read_only
    from etl.warehouse.sandbox import Limits, Sandbox, examples

    print(f"database {args.db} ({args.db.stat().st_size / 1e9:.2f} GB), {os.cpu_count()} cores\n")
    first = ms(lambda: Sandbox(args.db).close())
    opens = [ms(lambda: Sandbox(args.db).close()) for _ in range(10)]
    print(
        f"Sandbox open: first {first:.0f} ms (reads the YAML), then {spread(opens)} ms p50 | p95\n"
    )

    box = Sandbox(args.db)
    plain = connect_read_only(args.db)
    print("| example | check p50 ms | guarded p50 | p95 ms | plain p50 | p95 ms |")
    print("|---|---|---|---|---|---|")
    heavy = "SELECT channel, count(*), avg(handle_seconds) FROM stg_interactions GROUP BY 1"
    for name, sql in [(e.name, e.sql) for e in examples()] + [("scan of every contact", heavy)]:
        box.run(sql), plain.sql(sql).fetchall()  # warm both
        check = [ms(lambda q=sql: box.check(q)) for _ in range(args.repeat)]
        guarded = [ms(lambda q=sql: box.run(q)) for _ in range(args.repeat)]
        direct = [ms(lambda q=sql: plain.sql(q).fetchall()) for _ in range(args.repeat)]
        print(f"| {name} | {statistics.median(check):.2f} | {spread(guarded)} | {spread(direct)} |")
    plain.close()
    box.close()

    from dashboard import data
    from etl.reporting.formats import parse_month

    months = data.filter_values()["month"]["value"].to_list()
    filters = data.Filters(
        parse_month(months[-12]), parse_month(months[-1]), "ALL", "the organisation", "all"
    )
    overview = pages(data, filters)["overview"]

    def page() -> float:
        data._fetch.clear()
        return ms(lambda: [call() for call in overview])

    page()
    alone = [page() for _ in range(args.repeat)]
    runaway = Sandbox(args.db, Limits(timeout_seconds=20))
    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(_run(runaway)))
    worker.start()
    time.sleep(0.5)
    busy = []
    while worker.is_alive() and len(busy) < args.repeat:
        busy.append(page())
    worker.join()
    runaway.close()
    print(
        f"\nOverview data, p50 | p95 ms: alone {spread(alone)}; during a runaway query "
        f"({len(busy)} runs) {spread(busy)}; the runaway query: {outcome[0]}\n"
    )

    cli = str(Path(sys.executable).with_name("cxkpi"))
    query = "SELECT month, nps, nps_n FROM organisation_month ORDER BY month"
    runs = [
        ms(
            lambda: subprocess.run(
                [cli, "--db", str(args.db), "sql", query], check=True, capture_output=True
            )
        )
        for _ in range(5)
    ]
    print(f"`cxkpi sql` end to end: {statistics.median(runs):.0f} ms p50 over 5 runs")


def _run(box) -> str:
    from etl.warehouse.sandbox import Refused

    try:
        box.run(RUNAWAY)
    except Refused as refusal:
        return str(refusal)
    return "finished"


if __name__ == "__main__":
    main()
