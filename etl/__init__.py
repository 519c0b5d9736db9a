"""cxkpi: contract-driven ETL from customer-experience exports into a DuckDB warehouse.

The rooms, and which may import which, are drawn in docs/architecture.md.
"""

import warnings
from pathlib import Path

# With the [spark] extra installed, Great Expectations imports pyspark, which warns that it does
# not fully support pandas 3. cxkpi hands Spark no pandas data (docs/scale-out.md).
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)

#: The installed package, and the folder holding it (a checkout, or site-packages).
PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
