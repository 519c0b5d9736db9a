"""The theme taxonomy: the shipped file reads, and every mistake in an edited one names the file,
line and key."""

from __future__ import annotations

import pytest

from etl.config_file import ConfigError
from etl.contract import themes

GOOD = """themes:
  - id: waited_too_long
    label: Waited too long
    definition: The wait.
    seeds: [waited too long, on hold for ages, slow to answer]
"""


def test_the_shipped_taxonomy_has_the_contact_centre_themes():
    taxonomy = themes.read(themes.SHIPPED)
    assert {
        "waited_too_long",
        "not_resolved",
        "callback_not_made",
        "passed_between_teams",
        "staff_attitude",
        "staff_helpful",
        "billing_error",
        "process_complicated",
        "digital_problem",
    } <= set(taxonomy.ids())
    assert all(len(t.seeds) >= 10 and t.definition for t in taxonomy.themes)


def test_a_changed_seed_changes_the_version(tmp_path):
    first, second = tmp_path / "a.yml", tmp_path / "b.yml"
    first.write_text(GOOD)
    second.write_text(GOOD.replace("slow to answer", "slow to pick up"))
    assert themes.read(first).version != themes.read(second).version
    assert themes.read(first).version == themes.read(first).version


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("    seeds:", "    seed:"), ":5: unknown key 'seed'"),
        (GOOD.replace("    definition: The wait.\n", ""), ":2: a theme is missing 'definition'"),
        (GOOD + GOOD.removeprefix("themes:\n"), ":6: id 'waited_too_long' is given already"),
        (GOOD.replace("id: waited_too_long", "id: Waited Too Long"), ":2: id 'Waited Too Long'"),
        (GOOD.replace("id: waited_too_long", "id: unmatched"), ":2: id 'unmatched' is kept"),
        (GOOD.replace(", slow to answer", ""), ":5: theme 'waited_too_long' has 2 seed phrases"),
        (GOOD.replace("label: Waited too long", "label: ''"), ":3: 'label' must be some text"),
        (GOOD.replace("[waited", "[[waited"), "not valid YAML"),
        ("themes: []\n", ":1: 'themes' must be a list"),
        ("", ":1: the file is empty"),
        ("thmes: []\n", ":1: unknown key 'thmes'"),
    ],
)
def test_a_bad_file_is_refused_with_its_file_and_line(tmp_path, text, message):
    path = tmp_path / "themes.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        themes.read(path)
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)
