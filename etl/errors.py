"""Errors a user can cause, each with a message meant for a person."""

from __future__ import annotations

from pathlib import Path


class CxkpiError(Exception):
    """An error caused by input or usage, reported in one or two lines without a traceback."""


class FileRefused(CxkpiError):
    """A whole file was refused before any of its rows could be loaded."""

    def __init__(self, path: Path, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def first_line(error: BaseException, limit: int = 300) -> str:
    """What went wrong in one line: the message's first line that says something, cut to
    `limit` characters, or the error's type where the message is empty."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0][:limit] if lines else type(error).__name__
