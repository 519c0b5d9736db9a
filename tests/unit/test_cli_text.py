"""Commands cxkpi prints for the user to paste must work as pasted."""

from __future__ import annotations

import sys
from pathlib import Path

from etl.cli import base as cli


def test_printed_commands_use_the_path_cxkpi_was_run_from(tmp_path, monkeypatch):
    program = tmp_path / ".venv" / "bin" / "cxkpi"
    program.parent.mkdir(parents=True)
    program.write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(program), "demo"])
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    assert cli._invoked_as() == str(Path(".venv/bin/cxkpi"))


def test_printed_commands_say_cxkpi_when_it_is_on_the_path(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/cxkpi", "demo"])
    monkeypatch.setattr(cli.shutil, "which", lambda name: "/usr/local/bin/cxkpi")
    assert cli._invoked_as() == "cxkpi"


def test_cli_reference_is_current():
    from etl.cli.reference import CLI_REFERENCE, reference

    assert CLI_REFERENCE.read_text() == reference(), "run: python -m etl.cli.reference"
    for command in cli.cli.commands:
        assert f"## cxkpi {command}" in CLI_REFERENCE.read_text()


def test_the_file_spark_submit_is_given_runs_the_command_line(tmp_path):
    """docs/scale-out.md hands spark-submit `etl.cli.__file__`: run as a script, it is cxkpi."""
    import subprocess
    import sys

    import etl.cli

    for script in (etl.cli.__file__, str(Path(etl.cli.__file__).with_name("__main__.py"))):
        ran = subprocess.run(
            [sys.executable, script, "--help"], capture_output=True, text=True, cwd=tmp_path
        )
        assert ran.returncode == 0 and ran.stdout.startswith("Usage: cxkpi"), ran.stderr
