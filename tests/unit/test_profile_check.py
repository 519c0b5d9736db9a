"""`cxkpi profile check` gives the verdict `cxkpi validate --profile` gives, and unmapped codes."""

from __future__ import annotations

import csv
import io

from tests.conftest import invoke_cxkpi
from tests.unit.test_profiles import EXPORT, GOOD, profile_file


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
    assert "(known_department)" in checked.stdout
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
