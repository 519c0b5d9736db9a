"""`cxkpi profile check` gives the verdict `cxkpi validate --profile` gives, and unmapped codes."""

from __future__ import annotations

import csv
import io
import re

from tests.conftest import invoke_cxkpi
from tests.unit.test_profiles import EXPORT, GOOD, profile_file, warehouse  # noqa: F401


def _rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(EXPORT.split("\n", 2)[2]), delimiter=";"))


def test_profile_check_exits_like_validate_with_counts_and_the_rule(tmp_path):
    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT.encode("latin-1"))
    path = profile_file(tmp_path, GOOD)
    rows = _rows()
    kept = [r for r in rows if r["Status"] != "ABANDONED"]
    checked = invoke_cxkpi("profile", "check", str(path), str(export))
    validated = invoke_cxkpi("validate", "--profile", str(path), str(export))
    assert checked.returncode == validated.returncode != 0
    # no warehouse: no department is known, so every kept row would be quarantined
    assert f"{len(kept)} read, 0 loaded, {len(kept)} quarantined" in checked.stdout
    assert f"{len(rows) - len(kept)} set aside by the profile" in checked.stdout
    # rows are counted under the first rule they break, as the quarantine records them:
    # row 2's first is its impossible date (31 February)
    assert f"department_id/known_department x{len(kept) - 1}, e.g. row 1:" in checked.stdout
    assert "started_at/format:timestamp x1, e.g. row 2: '31/02/2026 10:00'" in checked.stdout
    assert "no departments are loaded in" in checked.stdout  # says why, and what to do
    assert f"first {len(rows)} mapped rows" in checked.stdout  # the preview stays


def test_profile_check_lists_codes_no_value_map_entry_maps(tmp_path):
    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT.encode("latin-1"))
    path = profile_file(tmp_path, GOOD)
    fax = sum(r["Media"] == "FAX" and r["Status"] != "ABANDONED" for r in _rows())
    checked = invoke_cxkpi("profile", "check", str(path), str(export))
    assert f"warning: channel: codes no value-map entry maps: 'FAX' x{fax}" in checked.stdout


def test_profile_list_shows_yours_first_and_marks_a_shipped_one_you_hide(tmp_path, monkeypatch):
    profile_file(tmp_path, GOOD, "technion_bank")
    monkeypatch.setenv("CXKPI_PROFILES", str(tmp_path))
    listed = invoke_cxkpi("profile", "list").stdout.splitlines()
    named = [line for line in listed if line.startswith("technion_bank:")]
    assert len(named) == 2
    assert "(yours:" in named[0] and str(tmp_path) in named[0]
    assert "(shipped, hidden by yours of the same name:" in named[1]


def test_an_unchanged_reload_does_not_rebuild(sample_copy, sample_dir):
    from etl.warehouse import models

    calls = []
    original = models.build
    models.build = lambda *a, **k: calls.append(1) or original(*a, **k)
    try:
        result = invoke_cxkpi("--quiet", "--db", str(sample_copy), "load", str(sample_dir))
    finally:
        models.build = original
    assert result.returncode == 0, result.stderr
    assert "nothing changed; the views were not rebuilt" in result.stdout
    assert calls == []


def test_profile_check_counts_each_rule_with_an_example_as_validate_counts_them(
    tmp_path,
    warehouse,  # noqa: F811
):
    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT.encode("latin-1"))
    path = profile_file(tmp_path, GOOD)
    checked = invoke_cxkpi("--db", str(warehouse), "profile", "check", str(path), str(export))
    validated = invoke_cxkpi(
        "--db", str(warehouse), "validate", "--profile", str(path), str(export)
    )
    # with FL and BO known, row 2 breaks the date format and row 4 names an unknown team
    rules = re.findall(r"^  (\S+/\S+ x\d+), e\.g\. row (\d+):", checked.stdout, re.M)
    assert sorted(rules) == [
        ("department_id/known_department x1", "4"),
        ("started_at/format:timestamp x1", "2"),
    ]
    said = re.search(r"^  by rule: (.*)$", validated.stdout, re.M).group(1).split(", ")
    assert sorted(said) == [label for label, _ in sorted(rules)]
    assert "no departments are loaded" not in checked.stdout


def test_profile_check_leaves_id_columns_alone_and_lists_at_most_ten_codes(tmp_path):
    codes = [f"M{i:02}" for i in range(15)]
    lines = ["Ticket;Day;Time;Team;minutes;Media;Status;Agent Name"]
    lines += [f"T{i};03/01/2026;09:15;Front;5;{c};DONE;x" for i, c in enumerate(codes)]
    export = tmp_path / "export.csv"
    export.write_bytes(("a\nb\n" + "\n".join(lines) + "\n").encode("latin-1"))
    # an id column whose map only empties a placeholder keeps every other id on purpose
    text = GOOD.replace(
        "  customer_id:\n    constant: null",
        '  customer_id:\n    column: Ticket\n    values: {"T99": null}',
    )
    checked = invoke_cxkpi("profile", "check", str(profile_file(tmp_path, text)), str(export))
    assert "warning: customer_id" not in checked.stdout
    warning = next(line for line in checked.stdout.splitlines() if "warning: channel" in line)
    assert warning.count(" x1") == 10
    assert warning.endswith("and 5 more codes (5 rows)")
    # the preview shows the contract's columns, not the loader's own markers
    assert "_filtered" not in checked.stdout and "_problem" not in checked.stdout
