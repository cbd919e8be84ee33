"""The replay benchmark still runs end to end; its figures are not judged here."""

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "replay.py"


def test_the_replay_benchmark_prints_a_ratio_and_a_heap_for_every_game():
    result = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for game in ("dino", "maze", "tiles"):
        assert re.search(rf"^{game} .* \d+:1$", result.stdout, re.MULTILINE), result.stdout
        assert re.search(rf"^{game} +[\d,]+B +[\d.]+KB +[\d.]+KB +[\d,]+B$", result.stdout, re.MULTILINE), result.stdout
