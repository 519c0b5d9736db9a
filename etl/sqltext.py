"""SQL text cxkpi writes itself."""

from __future__ import annotations


def literal(text: str) -> str:
    """A SQL string literal, for what takes no parameters: table functions, ATTACH, view bodies."""
    return "'" + text.replace("'", "''") + "'"
