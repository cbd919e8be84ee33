"""The server benchmark still runs end to end; its figures are not judged here."""

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "server.py"


def test_the_server_benchmark_prints_both_ratios_for_both_operations():
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every acknowledged one" in result.stdout
    for operation in ("score submission", "leaderboard read"):
        row = re.search(rf"^{operation} +([\d,]+/s +){{3}}(\d+\.\d+) +(\d+\.\d+)$", result.stdout, re.MULTILINE)
        assert row, f"no figures for {operation}:\n{result.stdout}"
