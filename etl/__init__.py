"""cxkpi: contract-driven ETL from customer-experience exports into a DuckDB warehouse."""
