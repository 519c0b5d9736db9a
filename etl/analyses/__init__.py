"""The analyses: the statistics on the marts' small monthly tables, one module per analysis.

Thresholds live in thresholds.py (no scipy: the pages read them); build.py runs the four
analyses in a build and writes their tables. Methods and error rates: docs/methodology.md.
"""
