"""The repository speaks of itself: no tracked file points at a document a reader cannot open.

A comment that cites a section of a product contract kept outside the repository, or the
number of an issue in a tracker, sends the reader somewhere they cannot follow. The fact
belongs in the repository (docs/contract.md, docs/methodology.md, a constant), and the
comment names that place instead.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Spelled in pieces so that this file does not hold the words it looks for.
_CONTRACT_DOCUMENT = "S" + "PEC"
_TRACKER = "iss" + "ue"
FORBIDDEN = (
    (re.compile(rf"\b{_CONTRACT_DOCUMENT}\b"), "the external contract document"),
    (re.compile(rf"\b{_TRACKER}s?[ \t-]*#?\d+", re.IGNORECASE), "an issue number"),
)


def tracked_text_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], check=True, capture_output=True
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name]


def text_of(path: Path) -> str | None:
    """The file's text, or None for a binary file (or a tracked file deleted in the tree)."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


def outside_references(text: str) -> list[tuple[int, str, str]]:
    """(line number, what it points at, the line) for each reference outside the repository."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, what in FORBIDDEN:
            if pattern.search(line):
                found.append((number, what, line.strip()))
    return found


def test_no_tracked_file_points_at_a_document_outside_the_repository():
    files = tracked_text_files()
    assert len(files) > 100, "git ls-files listed too few files to be this repository"
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {what}: {line}"
        for path in files
        if (text := text_of(path)) is not None
        for number, what, line in outside_references(text)
    ]
    assert offending == [], "say where the fact lives in the repository:\n" + "\n".join(offending)


@pytest.mark.parametrize(
    "line",
    [
        f"-- per {_CONTRACT_DOCUMENT} section 4",
        f"The {_CONTRACT_DOCUMENT}'s contract views",
        f"(see {_TRACKER} 8)",
        f"{_TRACKER.title()} #12 asked for it",
        f"[results](#enterprise-scale-{_TRACKER}-8)",
        f"{_TRACKER}s 3 and 4",
    ],
)
def test_each_kind_of_reference_is_caught(line):
    assert outside_references(line)


@pytest.mark.parametrize(
    "line",
    ["model.spec.get('grain')", "Spec of a profile column", "an issue with the file", "SPECTRUM"],
)
def test_ordinary_words_are_not_caught(line):
    assert outside_references(line) == []
