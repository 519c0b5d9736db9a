"""The rooms of docs/architecture.md and the imports allowed between them.

Each module belongs to one room: a folder of etl/ (etl/loading/, etl/warehouse/, ...), the
foundations (the modules directly in etl/), the dashboard's shared modules or its pages. A
room imports only the rooms below it in ORDER, so no two rooms import each other and etl never
imports the dashboard. Imports inside functions count the same as those at the top.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: The rooms of etl, lowest first: each may import itself and the rooms before it.
ORDER = (
    "foundations",
    "contract",
    "analyses",
    "warehouse",
    "loading",
    "reporting",
    "scaleout",
    "sample",
    "cli",
)
#: What the dashboard may import from etl: the pages read data through dashboard/data.py and
#: import no statistics, no loader and no warehouse code of their own.
DASHBOARD = {"foundations", "contract", "analyses.thresholds", "warehouse", "reporting"}
PAGES = {"contract", "analyses.thresholds", "reporting"}


def room(module: str) -> str | None:
    """The room of a module of this project, None for anything else."""
    parts = module.split(".")
    if parts[0] == "dashboard":
        return "pages" if parts[1:2] == ["app_pages"] else "dashboard"
    if parts[0] != "etl":
        return None
    if len(parts) > 1 and (ROOT / "etl" / parts[1]).is_dir():
        return parts[1]
    return "foundations"


def modules() -> dict[str, Path]:
    """Every module of etl and dashboard, by its dotted name."""
    found = {}
    for path in sorted([*ROOT.glob("etl/**/*.py"), *ROOT.glob("dashboard/**/*.py")]):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path) -> set[str]:
    """The project modules a file imports, at the top or inside a function."""
    known, names = modules(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            inner = {f"{node.module}.{alias.name}" for alias in node.names} & set(known)
            # `from etl.analyses import thresholds` imports a module, not the package's names
            names |= inner or {node.module}
    return {name for name in names if name in known}


def allowed(source: str, target: str) -> bool:
    """May a module of room `source` import the module `target`?"""
    goal = room(target)
    if source == goal:
        return True
    if source in ("dashboard", "pages"):
        rooms = DASHBOARD if source == "dashboard" else PAGES | {"dashboard"}
        specific = "analyses.thresholds" if target == "etl.analyses.thresholds" else goal
        return specific in rooms or (goal == "dashboard" and source == "pages")
    if goal in ("dashboard", "pages"):
        return False
    return ORDER.index(goal) < ORDER.index(source)


def breaks() -> list[str]:
    """Every import that breaks the rules, as 'module -> module'."""
    found = []
    for name, path in modules().items():
        for target in sorted(imports(path)):
            if target == "etl" and room(name) != "foundations":
                continue  # the package itself: PACKAGE and ROOT
            if not allowed(room(name), target):
                found.append(f"{name} ({room(name)}) -> {target} ({room(target)})")
    return found


def test_every_import_follows_the_rooms_order():
    assert breaks() == []


def test_every_folder_of_etl_is_a_room_of_the_order():
    folders = {p.name for p in (ROOT / "etl").iterdir() if (p / "__init__.py").is_file()}
    assert folders == set(ORDER) - {"foundations"}


@pytest.mark.parametrize(
    ("module", "target"),
    [
        ("etl.reporting.pack", "dashboard.charts"),  # etl importing the dashboard
        ("dashboard.app_pages.overview", "etl.loading.load"),  # a page importing the loader
        ("dashboard.app_pages.overview", "etl.analyses.conflicts"),  # a page importing scipy
        ("dashboard.app_pages.overview", "etl.warehouse.models"),  # a page past data.py
        ("etl.warehouse.models", "etl.reporting.snapshot"),  # a room importing one above it
        ("etl.contract.sources", "etl.loading.read"),
        ("etl.settings", "etl.warehouse.publish"),  # a foundation importing a room
    ],
)
def test_the_rules_refuse_each_kind_of_break(module, target):
    assert not allowed(room(module), target)


def test_a_planted_import_is_found(tmp_path, monkeypatch):
    """The scan reads imports inside functions too: plant one and see it reported."""
    path = ROOT / "etl" / "contract" / "sources.py"
    planted = tmp_path / "sources.py"
    planted.write_text(path.read_text() + "\n\ndef _x():\n    from etl.cli import main\n")
    known = modules()
    monkeypatch.setattr(f"{__name__}.modules", lambda: {**known, "etl.contract.sources": planted})
    assert "etl.contract.sources (contract) -> etl.cli (cli)" in breaks()


def test_architecture_md_lists_the_same_order():
    text = (ROOT / "docs" / "architecture.md").read_text()
    listed = re.search(r"<!-- rooms: (.*?) -->", text)
    assert listed, "docs/architecture.md names the rooms' order in a <!-- rooms: ... --> line"
    assert tuple(listed.group(1).split(" < ")) == ORDER
