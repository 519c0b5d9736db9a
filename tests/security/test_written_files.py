"""Files cxkpi writes are created without following a link: a planted one redirects nothing.

Someone who can write into the output folder plants `<name>.partial -> a file of yours`;
the next command must refuse in one line and leave that file as it was. docs/security.md,
"Files cxkpi writes".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etl.errors import CxkpiError
from etl.warehouse import publish as warehouse
from tests.conftest import invoke_cxkpi

MONTH = "2026-10"
PACK = f"cxkpi-board-pack-{MONTH}-v1"
MINE = "the victim's own file\n"


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim.txt"
    victim.write_text(MINE)
    return victim


def _one_line_refusal(result, link: Path) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr[-300:]
    assert link.name in result.stderr and "link" in result.stderr


@pytest.mark.parametrize("planted", [f"{PACK}.html.partial", f"{PACK}.pdf.partial"])
def test_a_planted_link_beside_the_pack_is_refused_and_followed_nowhere(
    sample_copy: Path, tmp_path: Path, planted: str
) -> None:
    victim = _victim(tmp_path)
    out = tmp_path / "packs"
    out.mkdir()
    link = out / planted
    link.symlink_to(victim)
    result = invoke_cxkpi(
        "--quiet", "--db", str(sample_copy), "snapshot", "--month", MONTH, "--out", str(out)
    )
    _one_line_refusal(result, link)
    assert victim.read_text() == MINE
    assert link.is_symlink()


def test_a_planted_journal_partial_is_refused_and_followed_nowhere(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    db = tmp_path / "cx.duckdb"
    (tmp_path / "cx.duckdb.journal.partial").symlink_to(victim)
    with pytest.raises(CxkpiError, match="symbolic link"), warehouse.writing(db) as con:
        con.execute("SELECT 1")
    assert victim.read_text() == MINE


def test_a_planted_lock_link_creates_nothing_where_it_points(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "created-by-cxkpi"
    target.parent.mkdir()
    db = tmp_path / "cx.duckdb"
    (tmp_path / "cx.duckdb.lock").symlink_to(target)
    with pytest.raises(CxkpiError, match="symbolic link"), warehouse.writing(db):
        pass
    assert not target.exists()


def test_a_database_path_that_is_a_link_is_refused(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    db = tmp_path / "cx.duckdb"
    db.symlink_to(victim)
    with pytest.raises(CxkpiError, match="symbolic link"), warehouse.writing(db):
        pass
    assert victim.read_text() == MINE and db.is_symlink()


def test_the_pack_still_writes_when_nothing_is_planted(sample_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "packs"
    result = invoke_cxkpi(
        "--quiet", "--db", str(sample_copy), "snapshot", "--month", MONTH, "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"{PACK}.html", f"{PACK}.pdf"]
    assert not (out / f"{PACK}.pdf").is_symlink()
    shutil.rmtree(out)


@pytest.mark.parametrize("planted", ["lake", "raw/raw_interactions", "raw/raw_interactions/x"])
def test_a_link_in_the_lake_is_refused_before_a_spark_job_writes(tmp_path: Path, planted) -> None:
    from etl.scaleout import lake

    target = tmp_path / "elsewhere"
    target.mkdir()
    root = tmp_path / "lake"
    if planted == "lake":
        root.symlink_to(target, target_is_directory=True)
    else:
        (root / planted).parent.mkdir(parents=True)
        (root / planted).symlink_to(target, target_is_directory=True)
    with pytest.raises(CxkpiError, match="symbolic link"), lake.writing(root):
        pass
    assert list(target.iterdir()) == []
