"""Small YAML files a person writes (profiles, access): every problem names the file and line.

Such a file is read in bounded time and memory whatever it holds: it must be a regular file
of at most MAX_BYTES, nested at most MAX_DEPTH deep, without anchors or aliases (a few
hundred bytes of nested aliases expand to gigabytes) and without tags beyond YAML's plain
types (`!!python/name:...` names code). Each is refused in one line naming the line, and a
value echoed in a message is cut to SHOWN characters. tests/security/test_yaml_files.py.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from etl.errors import CxkpiError

#: Profiles and access files are a few kilobytes; the model YAML under sql/ a few more.
MAX_BYTES = 256 * 1024
MAX_DEPTH = 20
#: How much of a value from the file a message shows.
SHOWN = 60
#: The longest message a problem gives (a safety net; values are cut to SHOWN first).
_MESSAGE = 400
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")
) | {"!"}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConfigError(CxkpiError):
    """A configuration file that cannot be used, named by file and line."""


def compose(path: Path, what: str) -> tuple[str, yaml.Node | None]:
    """The file's text and its YAML node tree (nodes know their lines)."""
    text = _read(path, what)
    try:
        _check_events(path, text)
        return text, yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML ({cut(problem)})") from None


def load(path: Path, what: str) -> object:
    """The file as plain Python values, read with the same bounds as compose."""
    _, root = compose(path, what)
    return None if root is None else plain(root, path)


def _read(path: Path, what: str) -> str:
    """The text of a regular file no larger than MAX_BYTES (a FIFO or device never blocks)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read {what} ({error.strerror or error})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: cannot read {what}: not a regular file")
        if info.st_size > MAX_BYTES:
            raise ConfigError(
                f"{path}: {what} is larger than {MAX_BYTES // 1024} KB ({info.st_size:,} bytes);"
                " such a file holds a few lines"
            )
        data = handle.read(MAX_BYTES + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: cannot read {what}: not UTF-8 ({error.reason})") from None


def _check_events(path: Path, text: str) -> None:
    """Refuse anchors, aliases, tags beyond plain values and deep nesting, by line."""
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        at = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            fail(
                path, at, f"aliases (*{cut(event.anchor, 20)}) are not allowed; write the value out"
            )
        if getattr(event, "anchor", None):
            fail(path, at, f"anchors (&{cut(event.anchor, 20)}) are not allowed; write values out")
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _PLAIN_TAGS:
            fail(path, at, f"the tag {cut(tag, 40)} is not allowed: only plain values are read")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                fail(path, at, f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def cut(value: object, limit: int = SHOWN) -> str:
    """A value from the file as a message shows it: one line, at most limit characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fail(path: Path, line: int, problem: str):
    raise ConfigError(cut(f"{path}:{line}: {problem}", _MESSAGE))


def line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def mapping(
    path: Path, node, what: str, keys: tuple[str, ...] | None = None
) -> dict[str, tuple[yaml.Node, int]]:
    """A mapping's entries by key, each with its node and line; a key given twice, or one
    not among keys (when given), is an error."""
    if not isinstance(node, yaml.MappingNode):
        fail(path, line(node) if node else 1, f"{what} must be a mapping of keys to values")
    result = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            fail(path, line(key), f"a key of {what} must be a plain name")
        if key.value in result:
            fail(path, line(key), f"'{cut(key.value)}' is given twice")
        if keys is not None and key.value not in keys:
            fail(
                path,
                line(key),
                f"unknown key '{cut(key.value)}' (expected one of {', '.join(keys)})",
            )
        result[key.value] = (value, line(key))
    return result


def scalar(path: Path, entry: tuple[yaml.Node, int]) -> tuple[object, int]:
    node, at = entry
    if not isinstance(node, yaml.ScalarNode):
        fail(path, at, "expected a single value")
    return plain(node, path), at


def sequence(path: Path, entry: tuple[yaml.Node, int], what: str) -> list[tuple[object, int]]:
    node, at = entry
    if not isinstance(node, yaml.SequenceNode):
        fail(path, at, f"'{what}' must be a list")
    return [(plain(item, path), line(item)) for item in node.value]


def plain(node: yaml.Node, path: Path | None = None):
    """A node's value; one that does not read as its type (`!!int x`, 2026-02-30) is an error."""
    try:
        return yaml.load(yaml.serialize(node), Loader=_LOADER)
    except (yaml.YAMLError, ValueError, TypeError, KeyError) as error:
        fail(path or Path("?"), line(node), f"this value does not read ({cut(error)})")
