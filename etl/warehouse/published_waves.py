"""Employee-survey waves a board snapshot published: their counts, kept as published.

A snapshot freezes a wave's employee figures. Answers loaded or removed later must change no
figure of that wave anywhere, or the frozen figure set against the live one would give them
away, and suppression re-chosen on them could bring back a cell the snapshot withheld
(docs/security.md). So the counts of every published wave are recorded here, and every build
reads those counts for those waves (int_engagement_counts).
"""

from __future__ import annotations

from datetime import date

import duckdb

from etl.warehouse.publish import PUBLISHED_ENGAGEMENT_COLUMNS

#: The counts' columns, without the snapshot that published them.
_COUNTS = tuple(name for name, _ in PUBLISHED_ENGAGEMENT_COLUMNS if name != "snapshot_id")
#: department_month's employee-survey sample sizes: a frozen row with any above 0 showed a wave.
_EMPLOYEE_N = ("enps_n", "engagement_index_n", "empowerment_index_n", "teamwork_index_n")


def publish_waves(con: duckdb.DuckDBPyConnection, snapshot_id: str, through: date) -> int:
    """Record the counts of every wave up to `through` that no snapshot has published yet,
    as published by this snapshot; the wave months newly published.

    The snapshot's analyses run to `through`, so each of those waves may show in what it froze.
    """
    columns = ", ".join(_COUNTS)
    rows = (
        f"SELECT {columns}, $id AS snapshot_id FROM int_engagement_counts"
        " WHERE NOT is_published AND month <= $through"
    )
    return _record(con, rows, {"id": snapshot_id, "through": through})


def close_frozen_waves(con: duckdb.DuckDBPyConnection) -> int:
    """Record the counts of waves a snapshot froze without recording them (snapshots taken
    before counts were kept); the wave months closed. Run by every build, a no-op after.

    Their answers as loaded now are the best record left: from here on they stay as they are.
    """
    frozen = con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE table_name = 'snapshot_department_month'"
    ).fetchall()
    if not frozen:
        return 0
    showed = " OR ".join(f"coalesce({n}, 0) > 0" for n in _EMPLOYEE_N)
    shown = (
        "SELECT month, min(snapshot_id) AS snapshot_id FROM snapshot_department_month"
        f" WHERE {showed} GROUP BY month"
    )
    columns = ", ".join(f"c.{name}" for name in _COUNTS)
    rows = (
        f"SELECT {columns}, s.snapshot_id FROM int_engagement_counts AS c"
        f" INNER JOIN ({shown}) AS s USING (month) WHERE NOT c.is_published"
    )
    return _record(con, rows)


def _record(con: duckdb.DuckDBPyConnection, rows: str, params: dict | None = None) -> int:
    """Insert the counts `rows` selects for waves not recorded yet, and mark them published in
    the built table at once (the next build reads the same counts back); the months recorded."""
    new = f"FROM ({rows}) AS r WHERE r.month NOT IN (SELECT month FROM meta_published_engagement)"
    months = con.execute(f"SELECT count(DISTINCT r.month) {new}", params).fetchall()[0][0]
    columns = ", ".join(_COUNTS)
    con.execute(
        f"INSERT INTO meta_published_engagement ({columns}, snapshot_id)"
        f" SELECT {', '.join(f'r.{c}' for c in _COUNTS)}, r.snapshot_id {new}",
        params,
    )
    con.execute(
        "UPDATE int_engagement_counts AS c SET is_published = true, snapshot_id = p.snapshot_id"
        " FROM meta_published_engagement AS p"
        " WHERE NOT c.is_published AND p.month = c.month AND p.department_id = c.department_id"
    )
    return months
