"""The `arcade` command behaves like the Unix tools around it: a version, help, quiet pipes."""

import subprocess
from importlib.metadata import version

import pytest

from tests.conftest import ARCADE, run_arcade


def test_version_is_the_installed_distributions(tmp_path):
    result = run_arcade("--version", cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout == f"arcade {version('badge-arcade')}\n"


def test_no_command_prints_the_help_as_git_and_pip_do(tmp_path):
    result = run_arcade(cwd=tmp_path)

    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: arcade")
    assert "serve" in result.stdout and "plugins" in result.stdout


@pytest.mark.parametrize("command", ["plugins", "build"])
def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path, command):
    """`arcade plugins | head -0`: the reader is gone before the first line is written."""
    process = subprocess.Popen(
        [ARCADE, command], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    process.stdout.close()
    stderr = process.stderr.read()

    assert process.wait(120) == 1
    assert stderr == ""


def test_piped_into_head(tmp_path):
    result = subprocess.run(
        f"{ARCADE} plugins | head -1", shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0 and result.stderr == ""
    assert len(result.stdout.splitlines()) == 1
