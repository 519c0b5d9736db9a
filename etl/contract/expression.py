"""A profile's column expressions and filters: checked as SQL, rendered for Polars.

A profile expression maps one row of an export. Polars would run whatever its SQL allows,
including a subquery over `read_csv('/etc/passwd')` or a URL, at the moment the expression
is parsed. So the text is parsed by DuckDB (`json_serialize_sql`, nothing runs), every node
of the tree must be of an allowed kind (columns, constants, operators, CASE, CAST and the
scalar functions in FUNCTIONS), and Polars gets the text rendered here from that checked
tree, never the text as written: a comment or quoting trick that one parser reads
differently from the other has nothing left to hide in. tests/security/test_profile_expressions.py.
"""

from __future__ import annotations

import json
import re

import duckdb

from etl.errors import CxkpiError

#: Longer than any mapping needs; a longer text is refused before it is parsed.
MAX_CHARS = 2000
MAX_DEPTH = 60
#: Pure scalar functions of the row's own values that Polars' SQL knows (string, number,
#: date). Nothing here reads a file, the network, a setting or the environment.
FUNCTIONS = frozenset(
    {
        # text
        "lower", "upper", "trim", "ltrim", "rtrim", "length", "char_length",
        "character_length", "octet_length", "substr", "substring", "left", "right", "concat",
        "concat_ws", "replace", "reverse", "starts_with", "ends_with", "strpos", "lpad",
        "rpad", "initcap", "split_part", "regexp_like", "regexp_replace", "nullif",
        # numbers
        "abs", "ceil", "ceiling", "floor", "round", "sign", "sqrt", "cbrt", "power", "pow",
        "mod", "ln", "log", "log2", "log10", "exp", "greatest", "least",
        # dates and times
        "strptime", "strftime", "date_part", "date_trunc", "date", "timestamp",
    }
)  # fmt: skip
#: DuckDB operators (as its tree names them) and how Polars writes them.
OPERATORS = {
    "+": "+", "-": "-", "*": "*", "/": "/", "//": "//", "%": "%", "||": "||",
    "~~": "LIKE", "!~~": "NOT LIKE", "~~*": "ILIKE", "!~~*": "NOT ILIKE",
}  # fmt: skip
_REGEX = {"regexp_matches": "~", "regexp_full_match": "~"}
_COMPARE = {
    "COMPARE_EQUAL": "=",
    "COMPARE_NOTEQUAL": "!=",
    "COMPARE_LESSTHAN": "<",
    "COMPARE_GREATERTHAN": ">",
    "COMPARE_LESSTHANOREQUALTO": "<=",
    "COMPARE_GREATERTHANOREQUALTO": ">=",
    "COMPARE_DISTINCT_FROM": "IS DISTINCT FROM",
    "COMPARE_NOT_DISTINCT_FROM": "IS NOT DISTINCT FROM",
}
TYPES = frozenset(
    {
        "varchar", "text", "string", "integer", "int", "bigint", "smallint", "tinyint",
        "double", "float", "real", "boolean", "bool", "date", "timestamp", "time",
    }
)  # fmt: skip
#: Casts to these types are rendered as the whole-number type (see column_sql).
WHOLE_TYPES = frozenset({"integer", "int", "bigint", "smallint", "tinyint"})
#: Functions whose result Polars gives in a small or unsigned integer type (`length` is an
#: unsigned 32-bit integer: `length(a) - length(b)` below zero wraps to about 4 billion).
WHOLE_FUNCTIONS = frozenset(
    {"length", "char_length", "character_length", "octet_length", "strpos", "date_part"}
)
#: date_part's parts that Polars gives as floating-point numbers, left as they are.
_FRACTIONAL_PARTS = frozenset(
    {"epoch", "millisecond", "milliseconds", "microsecond", "microseconds"}
)
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


class ExpressionRefused(CxkpiError):
    """An expression that is not a plain column expression; the message says why."""


_PARSER: duckdb.DuckDBPyConnection | None = None


def column_sql(text: str, whole: str = "BIGINT") -> str:
    """The Polars SQL for a profile expression, rendered from its checked tree.

    Every whole number the expression makes (a cast to an integer type, `date_part`,
    `length`, `strpos`) is rendered as `whole`: BIGINT, because Polars would otherwise do
    the arithmetic in the function's own small type and wrap around without a word
    (`date_part('minute', t) * 60` is an 8-bit integer: 59 * 60 gives -44). With DOUBLE
    the same expression is its floating-point twin, which etl/contract/profiles.py compares
    with the BIGINT one to refuse a file whose 64-bit arithmetic overflows.
    """
    if len(text) > MAX_CHARS:
        raise ExpressionRefused(f"longer than {MAX_CHARS} characters is not allowed")
    serialized = _parser().execute("SELECT json_serialize_sql(?)", ["SELECT " + text]).fetchone()
    tree = json.loads(serialized[0])
    if tree.get("error"):
        problem = str(tree.get("error_message", ""))
        if "Only SELECT" in problem:
            raise ExpressionRefused("a statement (COPY, ATTACH, PRAGMA, ...) is not allowed")
        raise ExpressionRefused(f"does not parse: {_short(problem)}")
    statements = tree["statements"]
    if len(statements) != 1:
        raise ExpressionRefused("more than one statement is not allowed: write one expression")
    node = statements[0]["node"]
    clauses = ("where_clause", "having", "qualify", "sample")
    if (
        node.get("type") != "SELECT_NODE"
        or node.get("from_table", {}).get("type") != "EMPTY"
        or any(node.get(c) for c in clauses)
        or node.get("group_expressions")
        or node.get("modifiers")
        or node.get("cte_map", {}).get("map")
        or len(node.get("select_list", [])) != 1
    ):
        raise ExpressionRefused("only one column expression is allowed (no FROM, WHERE, ...)")
    expression = node["select_list"][0]
    if expression.get("alias"):
        raise ExpressionRefused("an alias (AS name) is not allowed: the column is named by its key")
    return _Renderer(whole).render(expression, 0)


def _parser() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that only parses (it can reach no file or URL either way)."""
    global _PARSER
    if _PARSER is None:
        _PARSER = duckdb.connect(config={"enable_external_access": False})
    return _PARSER


class _Renderer:
    """Renders a checked tree as Polars SQL, whole numbers as `whole` (see column_sql)."""

    def __init__(self, whole: str):
        self.whole = whole

    def render(self, node: dict, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise ExpressionRefused(f"nested more than {MAX_DEPTH} deep is not allowed")
        kind = node.get("class")
        renderer = getattr(self, _RENDERERS.get(kind, ""), None)
        if renderer is None:
            raise ExpressionRefused(f"{_kind_name(node)} is not allowed: {_ALLOWED}")
        return renderer(node, depth + 1)

    def _column(self, node: dict, _: int) -> str:
        names = node.get("column_names", [])
        if len(names) != 1:
            raise ExpressionRefused(f"the qualified name {_short('.'.join(names))} is not allowed")
        return '"' + names[0].replace('"', '""') + '"'

    def _constant(self, node: dict, _: int) -> str:
        literal = node.get("literal", {})
        kind, text = literal.get("kind"), str(literal.get("text", ""))
        if kind == "STRING":
            return "'" + text.replace("'", "''") + "'"
        if kind == "NULL_LITERAL":
            return "NULL"
        if kind == "BOOLEAN" and text.lower() in ("true", "false"):
            return text.upper()
        numeric = ("INTEGER", "BIGINT", "HUGEINT", "NUMERIC", "DECIMAL", "DOUBLE", "FLOAT")
        if kind in numeric and _NUMBER.fullmatch(text):
            return text
        raise ExpressionRefused(f"a constant of type {_short(kind)} is not allowed")

    def _function(self, node: dict, depth: int) -> str:
        name = str(node.get("function_name", "")).lower()
        arguments = node.get("arguments", [])
        if node.get("schema") or node.get("catalog"):
            raise ExpressionRefused(f"a qualified function name ({_short(name)}) is not allowed")
        if node.get("distinct") or node.get("filter") or node.get("order_bys", {}).get("orders"):
            raise ExpressionRefused(f"{_short(name)}(DISTINCT/FILTER/ORDER BY) is not allowed")
        if any(argument.get("name") for argument in arguments):
            raise ExpressionRefused(f"named arguments to {_short(name)}() are not allowed")
        args = [self.render(argument["expression"], depth) for argument in arguments]
        if node.get("is_operator"):
            if name not in OPERATORS or len(args) not in (1, 2):
                raise ExpressionRefused(f"the operator {_short(name)} is not allowed")
            if len(args) == 1:
                if name not in ("-", "+"):
                    raise ExpressionRefused(f"the operator {_short(name)} is not allowed")
                return f"({name}{args[0]})"
            return f"({args[0]} {OPERATORS[name]} {args[1]})"
        if name in _REGEX and len(args) == 2:
            return f"({args[0]} {_REGEX[name]} {args[1]})"
        if name not in FUNCTIONS:
            raise ExpressionRefused(f"the function {_short(name)}() is not allowed: {_ALLOWED}")
        call = f"{name}({', '.join(args)})"
        if name in WHOLE_FUNCTIONS and not (
            name == "date_part" and args and args[0].strip("'").lower() in _FRACTIONAL_PARTS
        ):
            return f"CAST({call} AS {self.whole})"
        return call

    def _cast(self, node: dict, depth: int) -> str:
        type_expr = node.get("type_expr") or {}
        type_name = str(type_expr.get("type_name", "")).lower()
        if type_name not in TYPES or type_expr.get("children") or type_expr.get("schema"):
            raise ExpressionRefused(f"a cast to {_short(type_name or '?')} is not allowed")
        word = "TRY_CAST" if node.get("try_cast") else "CAST"
        kind = self.whole if type_name in WHOLE_TYPES else type_name.upper()
        return f"{word}({self.render(node['child'], depth)} AS {kind})"

    def _comparison(self, node: dict, depth: int) -> str:
        operator = _COMPARE.get(node.get("type", ""))
        if operator is None:
            raise ExpressionRefused(f"the comparison {_short(node.get('type'))} is not allowed")
        return (
            f"({self.render(node['left'], depth)} {operator} {self.render(node['right'], depth)})"
        )

    def _conjunction(self, node: dict, depth: int) -> str:
        word = {"CONJUNCTION_AND": " AND ", "CONJUNCTION_OR": " OR "}.get(node.get("type", ""))
        if word is None:
            raise ExpressionRefused(f"{_short(node.get('type'))} is not allowed")
        return "(" + word.join(self.render(child, depth) for child in node["children"]) + ")"

    def _operator(self, node: dict, depth: int) -> str:
        kind = node.get("type", "")
        children = [self.render(child, depth) for child in node.get("children", [])]
        if kind == "OPERATOR_NOT" and len(children) == 1:
            return f"(NOT {children[0]})"
        if kind in ("OPERATOR_IS_NULL", "OPERATOR_IS_NOT_NULL") and len(children) == 1:
            return f"({children[0]} IS{' NOT' if 'NOT' in kind else ''} NULL)"
        if kind in ("COMPARE_IN", "COMPARE_NOT_IN") and len(children) >= 2:
            word = "NOT IN" if kind == "COMPARE_NOT_IN" else "IN"
            return f"({children[0]} {word} ({', '.join(children[1:])}))"
        if kind == "OPERATOR_COALESCE" and children:
            return f"COALESCE({', '.join(children)})"
        raise ExpressionRefused(f"{_short(kind.lower().replace('_', ' '))} is not allowed")

    def _case(self, node: dict, depth: int) -> str:
        parts = ["CASE"]
        for check in node.get("case_checks", []):
            when, then = (
                self.render(check["when_expr"], depth),
                self.render(check["then_expr"], depth),
            )
            parts.append(f"WHEN {when} THEN {then}")
        parts.append(f"ELSE {self.render(node['else_expr'], depth)} END")
        return " ".join(parts)

    def _between(self, node: dict, depth: int) -> str:
        value, low, high = (self.render(node[k], depth) for k in ("input", "lower", "upper"))
        return f"({value} BETWEEN {low} AND {high})"


_RENDERERS = {
    "COLUMN_REF": "_column",
    "CONSTANT": "_constant",
    "FUNCTION": "_function",
    "CAST": "_cast",
    "COMPARISON": "_comparison",
    "CONJUNCTION": "_conjunction",
    "OPERATOR": "_operator",
    "CASE": "_case",
    "BETWEEN": "_between",
}
_ALLOWED = (
    "a profile expression uses the row's columns, constants, operators, CASE, CAST and"
    " scalar functions (docs/profiles.md), never a subquery, table or file"
)


def _kind_name(node: dict) -> str:
    kind = str(node.get("class") or node.get("type") or "?")
    words = {"SUBQUERY": "a subquery", "STAR": "*", "WINDOW": "a window function"}
    return words.get(kind, kind.lower().replace("_", " "))


def _short(value: object, limit: int = 60) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
