"""What went wrong with an ad-hoc query, in a sentence a person can act on.

The sandbox (sandbox.py) refuses a query with one sentence, and where DuckDB raised the error
it keeps DuckDB's own text as `Refused.detail`. This module reads that text, by DuckDB's error
class (Parser, Binder, Catalog, Conversion, Out of Range, ...) and the limits that stop a query,
and says the same in plain words: which column or view does not exist and which one was
probably meant, where the syntax error is, which limit stopped the query. The workbench shows
the sentence first and DuckDB's exact text underneath.

Names in the sentences come from the query or the catalog: the caller shows the sentence as
plain text (dashboard.ui.plain), never as Markdown.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass

from etl.warehouse.access import HIDDEN, HIDDEN_PREFIXES
from etl.warehouse.sandbox import Refused


@dataclass(frozen=True)
class Explanation:
    """A plain sentence first; then what the guard or DuckDB said exactly ('' if the sentence
    is all there is)."""

    sentence: str
    detail: str = ""


_QUOTED = r'"([^"]*)"'
_CLASS = re.compile(r"^([A-Z][A-Za-z ]*?) Error: (.*)$", re.DOTALL)
_NOT_AN_ANALYST_VIEW = re.compile(r"^'(.*)' is not an analyst view")
_LINE = re.compile(r"^LINE (\d+):", re.MULTILINE)
#: Words and signs a query cannot end with: a syntax error at one of them, last in the query,
#: means the query stops short.
_GOES_ON = frozenset(
    {
        *("SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "BY", "ON", "JOIN", "AS", "IN"),
        *("HAVING", "CASE", "WHEN", "THEN", "ELSE", "LIMIT", "OFFSET", "UNION", "EXCEPT"),
        *("INTERSECT", "WITH", "BETWEEN", "LIKE", "IS"),
        *(",", "(", "+", "-", "*", "/", "=", "<", ">", "<=", ">=", "<>", "||"),
    }
)


def explain(refused: Refused, views: Collection[str] = ()) -> Explanation:
    """The refusal in plain words, views being the names the reader may query (for "did you
    mean")."""
    said = str(refused)
    if refused.stopped:
        return Explanation(_STOPPED.get(refused.stopped, _STOPPED["start"]), said)
    if found := _NOT_AN_ANALYST_VIEW.match(said):
        return Explanation(_no_such_view(found[1], views), said)
    if "tried to reach a file, URL or setting" in said:
        return Explanation(
            "The query tried to read a file, a URL or a server setting, which is not allowed"
            " here: query the views listed beside the editor by name.",
            said,
        )
    detail = refused.detail
    kind = _CLASS.match(detail)
    if not kind:
        # The guard's own refusals are one plain sentence already.
        return Explanation(f"Not run: {said}", detail)
    sentence = _by_class(kind[1], kind[2].splitlines()[0] if kind[2] else "", detail, views)
    return Explanation(sentence, detail)


_STOPPED = {
    "time": "The query ran past its time limit and was stopped. Filter to fewer months or"
    " departments, or aggregate before joining.",
    "memory": "The query needed more memory than its limit allows and was stopped. Aggregate"
    " before joining, or select fewer columns.",
    "start": "The query could not start: the SQL worker did not start. Try again; if it goes"
    " on, report it with the text below.",
}


def _by_class(kind: str, first: str, detail: str, views: Collection[str]) -> str:
    if kind == "Parser":
        return _syntax(first, detail)
    if kind == "Binder":
        return _binder(first, detail)
    if kind == "Catalog":
        return _catalog(first, detail, views)
    if kind == "Conversion":
        return (
            "A value could not be turned into the type the query asks for"
            f"{_value_in(first)}. Check the value, or use TRY_CAST(... AS type), which gives"
            " NULL instead of an error."
        )
    if kind == "Out of Range":
        return (
            "A number grew past what its type can hold. Cast it to a wider type first, for"
            " example CAST(x AS BIGINT) or CAST(x AS DOUBLE)."
        )
    if kind == "Invalid Input":
        return f"A value in the query is not valid input: {_cut(first)}."
    if kind == "Out of Memory":
        return _STOPPED["memory"]
    if kind == "Interrupt":
        return _STOPPED["time"]
    if kind == "Permission":
        return "The query tried to reach something outside the views, which is not allowed here."
    return f"DuckDB could not run the query ({kind.lower()} error): {_cut(first)}."


def _syntax(first: str, detail: str) -> str:
    where = _LINE.search(detail)
    line = f" (line {where[1]})" if where else ""
    if "at end of input" in first:
        return (
            f"The query ends too early{line}: something is missing at the end, such as a"
            " closing bracket or the value after an operator."
        )
    if "unterminated" in first:
        return (
            f"The query opens a quote it never closes{line}: add the closing ' (for text) or"
            ' " (for a name).'
        )
    near = re.search(rf"at or near {_QUOTED}", first)
    shown = re.search(r"^LINE \d+: (.*)$", detail, re.MULTILINE)
    ends = near and shown and shown[1].rstrip().endswith(near[1])
    if ends and near[1].upper() in _GOES_ON:
        return (
            f'The query ends too early, after "{near[1]}"{line}: something is missing at the'
            " end, such as a condition, a closing bracket or the value after an operator."
        )
    if near:
        return (
            f'The query has a syntax error near "{near[1]}"{line}. Check the word just before'
            " it: a misspelt keyword (FORM for FROM), a missing comma or an unclosed bracket."
        )
    return f"The query is not valid SQL{line}: {_cut(first)}."


def _binder(first: str, detail: str) -> str:
    if found := re.match(rf"Referenced column {_QUOTED} not found", first):
        return f'There is no column "{found[1]}" in that query\'s tables.{_meant(detail)}'
    if found := re.match(rf"Referenced table {_QUOTED} not found", first):
        return (
            f'The query uses "{found[1]}." but no table or alias of that name is in its FROM'
            f" clause.{_meant(detail, 'Candidate tables')}"
        )
    if found := re.match(rf"column {_QUOTED} must appear in the GROUP BY", first):
        return (
            f'"{found[1]}" must be in the GROUP BY, or inside an aggregate such as sum(),'
            f' max() or any_value("{found[1]}").'
        )
    if found := re.match(rf"Ambiguous reference to column name {_QUOTED}", first):
        return (
            f'"{found[1]}" is a column of more than one table in the query: say which one,'
            f" for example table.{found[1]}."
        )
    if found := re.search(r"argument types '([^']*)'", first):
        return (
            f"No function takes these types of value: {found[1]}. Cast the values, for"
            " example CAST(x AS VARCHAR), or see the functions it does take below."
        )
    if "Could not choose a best candidate function" in first:
        return (
            "The query mixes types an operator cannot combine without help (text and a"
            " number, say). Cast one of them, for example CAST(x AS INTEGER)."
        )
    return f"The query names something that does not fit its tables: {_cut(first)}."


def _catalog(first: str, detail: str, views: Collection[str]) -> str:
    if found := re.match(r"(?:Scalar |Aggregate |Table )?Function with name (\S+) does not", first):
        meant = re.search(rf"Did you mean {_QUOTED}", detail)
        also = f' Did you mean "{meant[1]}()"?' if meant else ""
        return f'There is no function "{found[1]}()".{also}'
    if found := re.match(r"(?:Table|View) with name (\S+) does not exist", first):
        return _no_such_view(found[1], views)
    return f"Something the query names does not exist: {_cut(first)}."


def _no_such_view(name: str, views: Collection[str]) -> str:
    if name.lower().startswith(HIDDEN_PREFIXES):
        return (
            f'"{name}" is a raw or load table, which cannot be queried here: the views beside'
            " the editor hold its rows checked and cleaned (stg_ views) and summed up."
        )
    if name.lower() in HIDDEN:
        return (
            f'"{name}" holds individual employee answers, which cannot be queried: employees'
            " are seen only in groups of 5 or more (department_month, ex_cx_linkage)."
        )
    close = difflib.get_close_matches(name.lower(), [v.lower() for v in views], n=1, cutoff=0.75)
    if close:
        return f'There is no view "{name}" you can query. Did you mean "{close[0]}"?'
    return (
        f'There is no view "{name}" you can query: only the views listed beside the editor,'
        " never files, URLs, raw tables or individual employee answers."
    )


def _meant(detail: str, label: str = "Candidate bindings") -> str:
    """' Did you mean "x"?' from DuckDB's list of candidates, '' without one."""
    found = re.search(rf"{label}: {_QUOTED}", detail)
    return f' Did you mean "{found[1]}"?' if found else ""


def _value_in(first: str) -> str:
    if found := re.search(r"Could not convert string '([^']*)' to (\w+)", first):
        return f': "{found[1]}" cannot be read as {found[2]}'
    return f" ({_cut(first)})" if first else ""


def _cut(text: str, limit: int = 200) -> str:
    text = text.strip().rstrip(".!")
    return text if len(text) <= limit else text[: limit - 1] + "…"
