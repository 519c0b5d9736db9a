"""Measure a board snapshot: the whole `cxkpi snapshot` command and each stage of the pack.

Usage: python benchmarks/snapshot.py --db data/cxkpi.duckdb --month 2026-10 [--repeat 3]

Works on a copy of the database in a temporary folder (the original is not touched). Takes
the month --repeat times through the real command (versions 1, 2, ...), timing it end to end
as a user sees it, then times the pack's parts on the copy: the HTML with its charts
(queries + vl-convert), and the PDF layout (WeasyPrint). Prints a Markdown table for
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CXKPI = str(Path(sys.executable).with_name("cxkpi"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    from etl import settings

    parser.add_argument("--db", type=Path, default=settings.DB.get())  # else $CXKPI_DB
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import duckdb

    from etl.reporting import pack

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "cxkpi.duckdb"
        shutil.copyfile(args.db, db)
        size = db.stat().st_size / 2**20
        command = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            done = subprocess.run(
                [CXKPI, "-q", "--db", str(db), "snapshot", "--month", args.month],
                capture_output=True,
                text=True,
            )
            command.append(time.perf_counter() - started)
            if done.returncode:
                sys.exit(done.stderr)
        con = duckdb.connect(str(db), read_only=True)
        snapshot_id, pages = con.execute(
            "SELECT snapshot_id, pdf_pages FROM board_snapshots ORDER BY version DESC LIMIT 1"
        ).fetchall()[0]
        html_times, pdf_times = [], []
        from weasyprint import HTML

        for _ in range(args.repeat):
            started = time.perf_counter()
            html = pack.render_html(con, snapshot_id)
            html_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            HTML(string=html, base_url=str(pack.TEMPLATES)).write_pdf()
            pdf_times.append(time.perf_counter() - started)
        con.close()

    print(
        f"database {size:,.0f} MiB, pack of {pages} pages, {args.repeat} runs each (median, max)\n"
    )
    print("| step | median s | max s |")
    print("|---|---:|---:|")
    for label, times in (
        ("`cxkpi snapshot` end to end (new process, copy, freeze, pack, publish)", command),
        ("pack HTML: frozen-table queries + charts to SVG (vl-convert)", html_times),
        ("pack PDF: WeasyPrint layout and write", pdf_times),
    ):
        print(f"| {label} | {statistics.median(times):.2f} | {max(times):.2f} |")


if __name__ == "__main__":
    main()
