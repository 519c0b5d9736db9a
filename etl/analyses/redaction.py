"""Personal details taken out of customers' comments before any table holds their text.

A comment is whatever a customer typed: it can hold an e-mail address, a phone number, a card
or account number, their own name or an agent's. The build replaces each with a marker
([email], [card], [phone], [number], [name]) in Polars (Rust regular expressions, no Python
loop), before the text is themed or stored. Names are found only where a simple pattern says
one follows ("my name is", "spoke to", "Mrs", a sign-off such as "Thanks, Ann"): a name with
no such cue stays, which is why comments stay behind the department scopes as well.
tests/unit/test_redaction.py has cases for every kind.
"""

from __future__ import annotations

import polars as pl

#: A word that reads as a name: a capital and lower-case letters (O'Neil, Anne-Marie too).
_NAME = r"(?:[A-Z]'[A-Z][a-z]+|[A-Z][a-z]+(?:-[A-Z][a-z]+)?)"
#: Up to three names in a row (first, middle, last).
_NAMES = rf"{_NAME}(?:\s+{_NAME}){{0,2}}"

#: (pattern, replacement) in order: e-mail before the numbers inside it, cards before phones,
#: phones before any other long number.
PATTERNS: tuple[tuple[str, str], ...] = (
    (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", "[email]"),
    (
        r"(?i)[A-Za-z0-9._%+-]+\s*(?:\(at\)|\[at\]| at )\s*[a-z0-9-]+"
        r"\s*(?:\(dot\)|\[dot\]| dot )\s*[a-z]{2,}",
        "[email]",
    ),
    # Card numbers: 13 to 19 digits, perhaps in groups split by spaces or dashes.
    (r"\b(?:\d[ -]?){12,18}\d\b", "[card]"),
    (r"\(\d{2,5}\)[ .-]?\d{3,4}[ .-]?\d{3,4}\b", "[phone]"),
    # Phone numbers: an optional country code, then 9 to 12 digits in groups.
    (r"(?:\+\d{1,3}[ .-]?)?(?:\(0?\d{1,4}\)[ .-]?)?\d{2,5}[ .-]?\d{3,4}[ .-]?\d{3,4}\b", "[phone]"),
    # Account, reference, policy and other numbers: 5 or more digits, perhaps with letters.
    (r"\b[A-Za-z]{0,4}[-/]?\d[\d/-]{3,}\d[A-Za-z]{0,2}\b", "[number]"),
    # Names after a cue: "my name is Ann Lee", "spoke to Raj", "Mrs Patel", "agent called Tom".
    (
        r"(?i:\b(?:my name is|my name's|name is|this is|i am|i'm|spoke to|speaking to|spoke with"
        r"|talked to|thanks to|thank you to|thank you|thanks|agent|advisor|adviser|colleague"
        r"|manager|called|named|ask for|asked for)\s+)"
        + rf"(?:(?i:mr|mrs|ms|miss|dr)\.?\s+)?{_NAMES}",
        "[name]",
    ),
    (rf"\b(?:Mr|Mrs|Ms|Miss|Dr|Mr\.|Mrs\.|Ms\.|Dr\.)\s+{_NAMES}", "[name]"),
    # A sign-off at the end: "Regards, Ann Lee", "Thanks - Tom", "- Ann".
    (
        r"(?i:\b(?:regards|kind regards|best wishes|thanks|thank you|cheers|sincerely|from)"
        r"[,.!]?\s*[-–]?\s*)" + rf"{_NAMES}\s*[.!]?\s*$",
        "[name]",
    ),
    (rf"\s[-–]\s?{_NAMES}\s*$", " [name]"),
)


def redact(comments: pl.Expr) -> pl.Expr:
    """The comments with personal details replaced by markers."""
    for pattern, replacement in PATTERNS:
        comments = _replace(comments, pattern, replacement)
    return comments


def _replace(comments: pl.Expr, pattern: str, replacement: str) -> pl.Expr:
    # A name's cue stays ("spoke to [name]"): the cue is the pattern's non-capturing prefix,
    # so the name alone is captured and replaced.
    if replacement == "[name]" and pattern.startswith("(?i:"):
        cue, rest = _split_cue(pattern)
        return comments.str.replace_all(f"({cue}){rest}", f"${{1}}{replacement}")
    return comments.str.replace_all(pattern, replacement)


def _split_cue(pattern: str) -> tuple[str, str]:
    """The leading (?i:...) group of a pattern and the rest."""
    depth = 0
    for i, char in enumerate(pattern):
        if char == "(" and pattern[i - 1 : i] != "\\":
            depth += 1
        elif char == ")" and pattern[i - 1 : i] != "\\":
            depth -= 1
            if depth == 0:
                return pattern[: i + 1], pattern[i + 1 :]
    return "", pattern


def redact_text(comment: str) -> str:
    """One comment redacted (the same patterns, for a check or a test)."""
    frame = pl.DataFrame({"c": [comment]}, schema={"c": pl.String})
    return frame.select(redact(pl.col("c")))["c"][0]
