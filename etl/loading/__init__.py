"""Loading: read an export, type it (in DuckDB, or with Polars for suspect rows), check it with
Great Expectations, and load it into the raw layer or quarantine, one transaction per file."""
