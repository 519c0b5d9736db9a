"""Small YAML files a person writes (profiles, access): every problem names the file and line."""

from __future__ import annotations

from pathlib import Path

import yaml

from etl.errors import CxkpiError


class ConfigError(CxkpiError):
    """A configuration file that cannot be used, named by file and line."""


def compose(path: Path, what: str) -> tuple[str, yaml.Node | None]:
    """The file's text and its YAML node tree (nodes know their lines)."""
    try:
        text = path.read_text(encoding="utf-8")
        return text, yaml.compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(error, 'problem', error)})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read {what} ({error})") from None


def fail(path: Path, line: int, problem: str):
    raise ConfigError(f"{path}:{line}: {problem}")


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
        if key.value in result:
            fail(path, line(key), f"'{key.value}' is given twice")
        if keys is not None and key.value not in keys:
            fail(path, line(key), f"unknown key '{key.value}' (expected one of {', '.join(keys)})")
        result[key.value] = (value, line(key))
    return result


def scalar(path: Path, entry: tuple[yaml.Node, int]) -> tuple[object, int]:
    node, at = entry
    if not isinstance(node, yaml.ScalarNode):
        fail(path, at, "expected a single value")
    return plain(node), at


def sequence(path: Path, entry: tuple[yaml.Node, int], what: str) -> list[tuple[object, int]]:
    node, at = entry
    if not isinstance(node, yaml.SequenceNode):
        fail(path, at, f"'{what}' must be a list")
    return [(plain(item), line(item)) for item in node.value]


def plain(node: yaml.Node):
    return yaml.safe_load(yaml.serialize(node))
