"""`python -m etl.cli` and `spark-submit etl/cli/__main__.py` (docs/scale-out.md)."""

from etl.cli import main

main()
