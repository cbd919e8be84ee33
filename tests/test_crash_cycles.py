"""Ten stops of every kind while badges send (bench/crash.py, bounded): nothing acknowledged is
lost or stored twice, whatever order the stops come in."""

import re
import subprocess
import sys
from pathlib import Path

CRASH = Path(__file__).resolve().parent.parent / "bench" / "crash.py"


def test_ten_stops_of_every_kind_lose_nothing_acknowledged_and_double_nothing():
    result = subprocess.run(
        [sys.executable, str(CRASH), "--cycles", "10", "--badges", "4", "--seconds", "0.6"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "term x3, kill x3, kill-after-restart x2, kill-during-shutdown x2" in result.stdout
    cycles, acknowledged, lost, doubled = map(
        int, re.search(r"^ +(\d+) +(\d+) +(\d+) +(\d+)$", result.stdout, re.M).groups()
    )
    assert (cycles, lost, doubled) == (10, 0, 0)
    assert acknowledged > 100  # the badges really were sending through the stops
