"""The cxkpi command line, one module per command: demo, load, build, validate, sql, snapshot,
serve, access, profile and themes (docs/cli.md).

Importing the package registers every command on the group in base.py.
"""

from etl.cli import (  # noqa: F401 (registers the commands)
    build,
    config,
    load,
    serve,
    snapshot,
    sql,
    themes,
)
from etl.cli.base import (
    _invoked_as,  # noqa: F401 (how the user ran cxkpi)
    cli,
    main,
)

__all__ = ["cli", "main"]

if __name__ == "__main__":  # spark-submit runs this file, as it runs __main__.py
    main()
