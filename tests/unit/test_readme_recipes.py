"""The README's recipes are true: the files, commands, options and links they name exist.

The KPI recipe is followed for every metric that exists: each file it says to touch holds
the metric the way the recipe says, and for a metric nothing else singles out, those files
are the only ones that name it, so following the recipe is enough.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import click
import pytest

from etl.cli import cli
from etl.contract import metrics
from etl.contract.metrics import METRICS
from etl.contract.profiles import SHIPPED
from etl.warehouse.catalog import DICTIONARY

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def recipe(title: str) -> str:
    """The text of the recipe that starts with **title.**, up to the next recipe."""
    start = README.index(f"**{title}.**")
    end = README.find("\n**", start + 1)
    return README[start : end if end > 0 else None]


KPI = recipe("Add a KPI")
#: The files the KPI recipe's numbered steps name, in order.
KPI_STEPS = re.findall(r"^\d+\. `([^`]+)`", KPI, re.MULTILINE)


def cte(sql: str, name: str) -> str:
    """The body of a CTE of a model, up to the next one."""
    match = re.search(rf"^{name} as \((.*?)^\)", sql, re.MULTILINE | re.DOTALL)
    assert match, f"no CTE {name}"
    return match[1]


def section(markdown: str, heading: str) -> str:
    return markdown.split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]


def read(path: str) -> str:
    return (ROOT / path).read_text()


def holds_the_metric(path: str, name: str) -> bool:
    """Whether a file the KPI recipe names holds the metric as the recipe says it does."""
    if path == "etl/contract/metrics.py":
        return any(m.name == name for m in metrics._METRICS)
    if path == "sql/marts/metric_channel_month.sql":
        measured = cte(read(path), "measured")
        return re.search(rf"^\s*select .*?'{name}'", measured, re.MULTILINE | re.DOTALL) is not None
    if path == "sql/intermediate/int_month_wide.sql":
        sql = read(path)
        return all(
            re.search(rf"filter \(where metric = '{name}'\) as {name}{suffix}\b", sql)
            for suffix in ("", "_n", "_note")
        )
    if path == "docs/methodology.md":
        return f"`{name}`" in section(read(path), "## Formulas")
    raise AssertionError(f"the recipe names {path}, which this test does not know how to check")


def test_the_kpi_recipe_names_the_files_that_define_a_metric():
    assert KPI_STEPS == [
        "etl/contract/metrics.py",
        "sql/marts/metric_channel_month.sql",
        "sql/intermediate/int_month_wide.sql",
        "docs/methodology.md",
    ]


def test_every_file_the_kpi_recipe_names_exists():
    named = re.findall(r"`([\w./-]+\.(?:py|sql|md))`", KPI)
    assert set(KPI_STEPS) <= set(named)
    assert [p for p in named if not (ROOT / p).is_file()] == []


@pytest.mark.parametrize("name", list(METRICS))
def test_each_step_of_the_kpi_recipe_holds_every_metric(name):
    assert [path for path in KPI_STEPS if not holds_the_metric(path, name)] == []
    assert f"\n| {name} | " in section(DICTIONARY.read_text(), "## Metrics")


def test_the_symbols_and_views_the_kpi_recipe_names_are_where_it_says():
    assert "`_METRICS`" in KPI and all(isinstance(m, metrics.Metric) for m in metrics._METRICS)
    source = read("sql/marts/metric_channel_month.sql")
    for name in re.search(r"CTE of their source\s*\(([^)]*)\)", KPI)[1].split(","):
        cte(source, name.strip().strip("`"))
    assert "from metric_channel_month where channel = 'all'" in read("sql/marts/metric_month.sql")
    for view in ("department_month", "organisation_month"):
        assert f"`{view}`" in KPI and "from int_month_wide" in read(f"sql/marts/{view}.sql")
    assert "`python -m etl.warehouse.catalog`" in KPI and "`docs/data-dictionary.md`" in KPI
    assert DICTIONARY == ROOT / "docs" / "data-dictionary.md"
    assert 'if __name__ == "__main__"' in read("etl/warehouse/catalog.py")


def test_following_the_kpi_recipe_is_enough():
    """Only the recipe's files (and the dictionary they generate) name every metric.

    A file that names them all is a list a new metric must join; the recipe must name it.
    """
    code = [p for d in ("etl", "sql", "dashboard", "docs") for p in (ROOT / d).rglob("*.*")]
    texts = {p: p.read_text() for p in code if p.suffix in (".py", ".sql", ".yml", ".md")}
    expected = {*KPI_STEPS, str(DICTIONARY.relative_to(ROOT))}

    def naming(name: str) -> set[str]:
        word = re.compile(rf"\b{name}\b")
        return {str(p.relative_to(ROOT)) for p, text in texts.items() if word.search(text)}

    assert set.intersection(*(naming(name) for name in METRICS)) == expected


# The README's other commands.


def _code() -> list[str]:
    """Every command line of the README: lines of code blocks and inline code."""
    blocks = re.findall(r"^```\w*\n(.*?)^```", README, re.DOTALL | re.MULTILINE)
    lines = [line for block in blocks for line in block.splitlines()]
    prose = re.sub(r"^```.*?^```", "", README, flags=re.DOTALL | re.MULTILINE)
    return lines + [" ".join(c.split()) for c in re.findall(r"`([^`]+)`", prose)]


def _commands(program: str) -> list[list[str]]:
    """The arguments of every command line that runs program, up to a pipe or redirection."""
    found = []
    for line in _code():
        for part in line.split("&&"):
            first = (part.split() or [""])[0]
            if first == program or first.endswith(f"/{program}"):
                words = shlex.split(part, comments=True)
                stop = next((i for i, w in enumerate(words) if w in ("<", ">", "|")), len(words))
                found.append(words[1:stop])
    return found


def _option(command: click.Command, word: str) -> click.Option | None:
    return next(
        (
            p
            for p in command.params
            if isinstance(p, click.Option) and word in (*p.opts, *p.secondary_opts)
        ),
        None,
    )


def test_every_cxkpi_command_and_option_in_the_readme_exists():
    commands = _commands("cxkpi")
    assert len(commands) > 15
    for words in commands:
        command: click.Command = cli
        rest = iter(words)
        for word in rest:
            if word.startswith("-") and word != "-":
                option = _option(command, word.split("=", 1)[0])
                assert option, f"cxkpi {' '.join(words)}: {command.name} has no {word}"
                if not option.is_flag and "=" not in word:
                    value = next(rest)
                    if word == "--profile":
                        assert (SHIPPED / f"{value}.yml").is_file(), value
            elif isinstance(command, click.Group):
                assert word in command.commands, f"cxkpi {' '.join(words)}: no command {word}"
                command = command.commands[word]
                if command.name == "check":
                    assert (SHIPPED / f"{next(rest)}.yml").is_file()


def test_every_python_script_and_module_in_the_readme_exists_with_its_options():
    runs = _commands("python") + _commands("python3")
    assert len(runs) >= 6
    for words in runs:
        if words[0] == "-m":
            spec = importlib.util.find_spec(words[1])
            assert spec and spec.origin, words[1]
            source, options = Path(spec.origin).read_text(), words[2:]
            if words[1] == "venv":
                continue
        else:
            source, options = (ROOT / words[0]).read_text(), words[1:]
        for word in (w for w in options if w.startswith("--")):
            assert f'"{word}"' in source, f"python {' '.join(words)}: no {word}"


def test_every_repository_path_in_the_readme_exists():
    paths = {
        w
        for line in _code()
        for w in re.findall(r"[\w./-]+", line)
        if re.match(r"(\.ci|benchmarks|dashboard|docs|etl|sql|tests)/", w)
    }
    assert len(paths) > 5
    assert sorted(p for p in paths if not (ROOT / p).exists()) == []


def _anchors(markdown: str) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", markdown, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_link_in_the_readme_leads_to_a_file_and_heading():
    links = re.findall(r"\]\(((?:docs|\.)[^)#\s]*)(?:#([^)\s]+))?\)", README)
    assert len(links) > 10
    for path, anchor in links:
        assert (ROOT / path).exists(), path
        if anchor:
            assert anchor in _anchors((ROOT / path).read_text()), f"{path}#{anchor}"


def test_the_dashboard_link_and_the_settings_of_the_readme_exist():
    for page in re.findall(r"http://127\.0\.0\.1:\d+/(\w+)", README):
        assert (ROOT / "dashboard" / "app_pages" / f"{page}.py").is_file(), page
    pages = list((ROOT / "dashboard" / "app_pages").glob("*.py"))
    assert (
        "Ten pages" in recipe("Open the dashboard")
        and len([p for p in pages if not p.name.startswith("_")]) == 10
    )
    code = "\n".join(p.read_text() for d in ("etl", "dashboard") for p in (ROOT / d).rglob("*.py"))
    for setting in set(re.findall(r"\bCXKPI_[A-Z_]+", README)):
        assert f'"{setting}"' in code or f'"{setting}' in code, setting


def _all_options(command: click.Command) -> set[str]:
    options = {o for p in command.params if isinstance(p, click.Option) for o in p.opts}
    for sub in getattr(command, "commands", {}).values():
        options |= _all_options(sub)
    return options


def test_every_option_the_readme_names_in_passing_is_an_option_of_cxkpi():
    prose = re.sub(r"^```.*?^```", "", README, flags=re.DOTALL | re.MULTILINE)
    # pytest's own options (the fast tier's command) are pytest's, not cxkpi's.
    spans = [span for span in re.findall(r"`([^`]*)`", prose) if "pytest" not in span]
    named = {option for span in spans for option in re.findall(r"(--[a-z][a-z-]*)", span)}
    assert len(named) >= 5
    assert sorted(named - _all_options(cli)) == []
