"""The theme taxonomy: what cxkpi looks for in customers' survey comments.

A taxonomy is a small YAML file a person edits (the shipped one is themes/contact_centre.yml):
a list of themes, each with an id, a label, a definition and seed phrases. It is read with the
bounds of etl/config_file.py, and every mistake names the file, the line and the key.
The labelled comments beside it (themes/labelled.csv) measure how well each theme is found
(docs/methodology.md#themes-in-comments).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from etl import settings
from etl.config_file import compose, cut, fail, line, mapping, scalar, sequence

FOLDER = Path(__file__).parent / "themes"
#: The taxonomy a build uses unless CXKPI_THEMES names another.
SHIPPED = FOLDER / "contact_centre.yml"
#: Comments written and labelled by hand: themes | sentiment | comment, a comment a line.
LABELLED = FOLDER / "labelled.txt"
#: The pseudo-theme of comments no theme takes (never a theme of the file).
UNMATCHED = "unmatched"
#: A theme needs this many seed phrases at least: fewer cannot describe it.
MIN_SEEDS = 3
_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
_THEME_KEYS = ("id", "label", "definition", "seeds", "tone")
#: What a theme says of the service: a comment the lexicon finds neither positive nor negative
#: takes the tone of its themes (most themes are complaints).
TONES = ("negative", "positive")


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    definition: str
    seeds: tuple[str, ...]
    line: int
    tone: str = "negative"


@dataclass(frozen=True)
class Taxonomy:
    path: Path
    themes: tuple[Theme, ...]

    @property
    def version(self) -> str:
        """A digest of what decides the assignment: a changed taxonomy re-themes every comment."""
        text = "\n".join(f"{t.id}\t{t.label}\t{t.tone}\t{'|'.join(t.seeds)}" for t in self.themes)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.themes)


def path() -> Path:
    """The taxonomy file the build uses: CXKPI_THEMES, or the shipped one."""
    return settings.THEMES.get() or SHIPPED


def read(file: Path | None = None) -> Taxonomy:
    """Read and check a taxonomy; every problem names the file, the line and the key."""
    file = Path(file) if file is not None else path()
    _, root = compose(file, "the theme taxonomy")
    if root is None:
        fail(file, 1, "the file is empty: it needs a 'themes' list")
    top = mapping(file, root, "the theme taxonomy", ("themes",))
    if "themes" not in top:
        fail(file, line(root), "'themes' is missing: the list of themes")
    node, at = top["themes"]
    if not getattr(node, "value", None) or not isinstance(node.value, list):
        fail(file, at, "'themes' must be a list of themes, each with id, label, definition, seeds")
    themes, seen = [], {}
    for item in node.value:
        theme = _theme(file, item)
        if theme.id in seen:
            fail(file, theme.line, f"id '{theme.id}' is given already on line {seen[theme.id]}")
        seen[theme.id] = theme.line
        themes.append(theme)
    return Taxonomy(file, tuple(themes))


def _theme(file: Path, node) -> Theme:
    entries = mapping(file, node, "a theme", _THEME_KEYS)
    for key in _THEME_KEYS[:4]:
        if key not in entries:
            fail(file, line(node), f"a theme is missing '{key}'")
    texts = {}
    for key in ("id", "label", "definition"):
        value, at = scalar(file, entries[key])
        if not isinstance(value, str) or not value.strip():
            fail(file, at, f"'{key}' must be some text")
        texts[key] = " ".join(value.split())
    _, id_line = entries["id"]
    if not _ID.fullmatch(texts["id"]):
        fail(
            file,
            id_line,
            f"id '{cut(texts['id'])}' must be lower case letters, digits and _ (at most 40),"
            " starting with a letter",
        )
    if texts["id"] == UNMATCHED:
        fail(file, id_line, f"id '{UNMATCHED}' is kept for comments no theme takes")
    seeds = []
    for value, at in sequence(file, entries["seeds"], "seeds"):
        if not isinstance(value, str) or not value.strip():
            fail(file, at, "each of 'seeds' must be a phrase (text)")
        seeds.append(" ".join(value.split()))
    if len(seeds) < MIN_SEEDS:
        fail(
            file,
            entries["seeds"][1],
            f"theme '{texts['id']}' has {len(seeds)} seed phrases; give at least {MIN_SEEDS}",
        )
    tone = "negative"
    if "tone" in entries:
        tone, at = scalar(file, entries["tone"])
        if tone not in TONES:
            fail(file, at, f"'tone' is '{cut(tone)}': write negative or positive")
    return Theme(
        texts["id"], texts["label"], texts["definition"], tuple(seeds), line(node), str(tone)
    )


@dataclass(frozen=True)
class Labelled:
    comment: str
    themes: frozenset[str]
    sentiment: str  # positive, negative or neutral


def labelled(file: Path = LABELLED) -> list[Labelled]:
    """The hand-labelled comments; the file's '# X = theme_id' lines give the letters."""
    letters, found = {}, []
    sentiments = {"+": "positive", "-": "negative", "0": "neutral"}
    for number, text in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        legend = re.fullmatch(r"# ([A-Z]) = ([a-z_]+)", text)
        if legend:
            letters[legend.group(1)] = legend.group(2)
        if text.startswith("#") or not text.strip():
            continue
        codes, sentiment, comment = (part.strip() for part in text.split(" | ", 2))
        ids = frozenset() if codes == "-" else frozenset(letters[c] for c in codes)
        if sentiment not in sentiments:
            raise ValueError(f"{file}:{number}: sentiment '{sentiment}' is not +, - or 0")
        found.append(Labelled(comment, ids, sentiments[sentiment]))
    return found
