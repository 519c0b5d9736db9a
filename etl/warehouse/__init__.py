"""The warehouse: the DuckDB file and its safe publish, the SQL models and their tests, the data
dictionary, read-only connections, the ad-hoc SQL sandbox, and who may see what."""
