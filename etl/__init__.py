"""cxkpi: contract-driven ETL from customer-experience exports into a DuckDB warehouse."""

import warnings

# With the [spark] extra installed, Great Expectations imports pyspark, which warns that it does
# not fully support pandas 3. cxkpi hands Spark no pandas data (docs/scale-out.md).
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)
