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
