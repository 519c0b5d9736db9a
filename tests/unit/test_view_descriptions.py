"""What the workbench's schema browser says of each view is written for the people querying
it: no source file, test or code name of the project's own machinery."""

from __future__ import annotations

import re

from etl.warehouse.sandbox import CONTRACT_VIEWS, GROUPS, OUTPUT, analyst_views

#: A path into the project's code (etl/analyses/linkage.py, tests/...), or a Python file.
CODE = re.compile(r"\b(?:etl|dashboard|tests|benchmarks)/\S*|\b\w+\.py\b")


def test_no_view_description_points_into_the_code():
    said = [
        (view.name, text)
        for view in analyst_views()
        for text in (view.description, view.grain, *(d for _, d in view.columns))
        if CODE.search(text)
    ]
    assert said == []


def test_every_view_has_a_one_line_summary_and_a_group():
    for view in analyst_views():
        assert view.group in GROUPS, view.name
        assert 0 < len(view.summary) <= 90, view.name
        assert "\n" not in view.summary
    groups = [view.group for view in analyst_views()]
    assert groups == sorted(groups, key=GROUPS.index), "grouped, in the groups' order"
    assert groups.count(OUTPUT) == len(CONTRACT_VIEWS)


def test_the_code_pattern_finds_what_it_looks_for():
    assert CODE.search("written by etl/analyses/linkage.py.")
    assert CODE.search("the rules in access.py")
    assert not CODE.search("docs/security.md: groups under 5 responses are never shown")
