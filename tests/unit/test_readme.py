"""The README's two commands are the ones CI and users run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.+?)\n```", section)


def test_readme_gives_exactly_two_commands_demo_then_tests():
    demo, tests = readme_commands()
    assert demo.endswith("cxkpi demo")
    assert tests.split(" && ")[-1].startswith(".venv/bin/pytest")


def test_ci_runs_the_readme_test_command_verbatim_then_the_wheel_and_the_spark_tests():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-3] == readme_commands()[1]
    # The wheel, installed outside the checkout, builds the demo and answers a query.
    assert ci[-2] == ".ci/wheel" and (ROOT / ".ci" / "wheel").stat().st_mode & 0o111
    # The tests the default run deselects (pyproject's addopts) run after it, with their extra.
    assert ci[-1].endswith(".venv/bin/pytest -m spark") and "[test,spark]" in ci[-1]
