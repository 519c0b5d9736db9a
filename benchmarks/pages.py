"""Measure the data behind every dashboard page: each page's queries, cold and warm.

Usage: python benchmarks/pages.py --db data/cxkpi.duckdb [--repeat 30]

Runs the same dashboard/data.py calls the pages make, with the default filters (the organisation,
all channels, the last 12 months) and with a department and channel chosen. "Cold" is the
first run on a new connection (the operating system's file cache is warm, DuckDB's is not);
"warm" repeats the queries on that connection with Streamlit's result cache cleared each time,
so it measures DuckDB, not the cache. Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from pathlib import Path

PRODUCTIVITY = ["aht_seconds", "contacts_per_hour", "occupancy", "cost_per_contact"]
OUTCOMES = ["nps", "fcr_rate", "repeat_contact_rate", "promise_kept_rate"]
TILES = ["nps", "fcr_rate", "promise_kept_rate", "aht_seconds", "occupancy", "empowerment_index"]


def pages(data, filters) -> dict:
    """Per page, the data calls it makes for one set of filters."""
    f = filters
    return {
        "sidebar filters (every page)": [data.filter_values],
        "overview": [
            lambda: data.headlines(f, TILES),
            lambda: data.findings(f.department),
            lambda: data.trend(f, PRODUCTIVITY),
            lambda: data.trend(f, OUTCOMES),
        ],
        "KPI conflicts": [
            lambda: data.conflicts(f.department),
            lambda: data.series(f.department, ["aht_seconds", "nps"]),
        ],
        "departments": [data.department_value],
        "employee voice": [lambda: data.linkage(f.start, f.end)],
        "initiatives": [
            lambda: data.initiatives(f.department),
            lambda: data.initiative_lifts(f.department),
        ],
        "data quality": [data.data_as_of, data.quarantine_summary, data.load_runs],
    }


def timed(calls) -> float:
    """Milliseconds to run a page's calls once."""
    started = time.perf_counter()
    for call in calls:
        call()
    return (time.perf_counter() - started) * 1000


def arguments(doc: str) -> argparse.Namespace:
    """--db and --repeat, with the dashboard pointed at the database (shared with sql.py)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    from etl import settings

    settings.DB.hand_over(args.db)  # as `cxkpi serve` hands it to the dashboard
    logging.disable(logging.WARNING)  # Streamlit warns that no app is running; none is.
    return args


def measure(repeat: int) -> list[dict]:
    """Per scenario and page: queries, cold ms, warm p50 and p95 ms ($CXKPI_DB's warehouse)."""
    logging.disable(logging.WARNING)  # Streamlit warns that no app is running; none is.
    from dashboard import data
    from etl.reporting.formats import parse_month

    months = data.filter_values()["month"]["value"].to_list()
    start, end_month = parse_month(months[max(0, len(months) - 12)]), parse_month(months[-1])
    scenarios = {
        "organisation, all channels": data.Filters(
            start, end_month, "ALL", "the organisation", "all"
        ),
        "one department, phone": data.Filters(start, end_month, "BIL", "Billing", "phone"),
    }
    results = []
    for scenario, filters in scenarios.items():
        for page, calls in pages(data, filters).items():
            data.clear_cache()
            cold = timed(calls)
            warm = []
            for _ in range(repeat):
                data._fetch.clear()
                warm.append(timed(calls))
            results.append(
                {
                    "filters": scenario,
                    "page": page,
                    "queries": len(calls),
                    "cold": cold,
                    "p50": statistics.median(warm),
                    "p95": statistics.quantiles(warm, n=20)[-1],
                }
            )
    return results


def main() -> None:
    args = arguments(__doc__)
    size = args.db.stat().st_size / 1e9
    print(f"database {args.db} ({size:.2f} GB), {args.repeat} warm runs per page\n")
    print("| filters | page | queries | cold ms | warm p50 ms | warm p95 ms |")
    print("|---|---|---|---|---|---|")
    for r in measure(args.repeat):
        print(
            f"| {r['filters']} | {r['page']} | {r['queries']} | {r['cold']:.0f} |"
            f" {r['p50']:.1f} | {r['p95']:.1f} |"
        )


if __name__ == "__main__":
    main()
