"""Reporting: what the pages and the board pack show (the KPI lists, formats, charts), board
snapshots and their diffs, and the pack rendered from its template."""
