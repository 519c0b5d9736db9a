"""Every profile in docs/profiles.md is one a user can copy: it parses as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from etl.contract.profiles import parse

DOC = Path(__file__).parents[2] / "docs" / "profiles.md"
BLOCKS = [
    block
    for block in re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    if block.startswith("source:") and "…" not in block
]


def test_the_guide_holds_complete_profiles():
    assert len(BLOCKS) >= 7


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_a_profile_in_the_guide_parses(tmp_path, number):
    path = tmp_path / "example.yml"
    path.write_text(BLOCKS[number])
    profile = parse(path)
    assert profile.columns
