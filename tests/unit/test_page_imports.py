"""The dashboard's pages start without the statistics: no page imports scipy or scikit-learn,
directly or through a module it imports (the analyses' thresholds live apart, in
etl/analyses/thresholds.py)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboard"


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {n for n in names if n.split(".")[0] in ("etl", "dashboard")}


def test_no_page_nor_what_it_imports_loads_scipy():
    modules = sorted(set().union(*(_imported(p) for p in DASHBOARD.rglob("*.py"))))
    assert "etl.analyses.thresholds" in modules and not any(
        m.startswith("etl.analyses.") and m != "etl.analyses.thresholds" for m in modules
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'sklearn')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_build_without_comments_never_loads_scikit_learn():
    code = (
        "import sys, duckdb\n"
        "from etl.analyses import comments\n"
        "con = duckdb.connect()\n"
        "con.execute(\"CREATE TABLE stg_nps_responses AS SELECT 'R1' AS response_id,"
        " 'BIL' AS department_id, NULL::VARCHAR AS comment\")\n"
        "comments.build(con)\n"
        "themes = con.sql('SELECT count(*) FROM theme_taxonomy').fetchall()\n"
        "print('sklearn' in sys.modules, themes)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "False [(9,)]"
