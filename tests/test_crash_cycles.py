"""Ten stops of every kind, in a shuffled order, while badges send scores and a person signs up,
logs badges in, refreshes and revokes (bench/crash.py, bounded: one person, as each sign-up and
log-in costs the server a scrypt hash; the bench runs four): nothing acknowledged is lost or
stored twice, and no revoked login works again."""

import re
import subprocess
import sys
from pathlib import Path

CRASH = Path(__file__).resolve().parent.parent / "bench" / "crash.py"
COLUMNS = ["cycles", "scores", "accounts", "approvals", "logins", "refreshes", "revocations", "lost", "doubled"]


def test_ten_stops_of_every_kind_lose_nothing_acknowledged_and_double_nothing():
    result = subprocess.run(
        [sys.executable, str(CRASH), "--cycles", "10", "--badges", "4", "--people", "1", "--seconds", "0.6"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "term x3, kill x3, kill-after-restart x2, kill-during-shutdown x2" in result.stdout
    table = re.search(r"^ *(cycles .*)\n(.*)$", result.stdout, re.MULTILINE)
    assert table and table[1].split() == COLUMNS, result.stdout
    row = dict(zip(COLUMNS, map(int, table[2].split())))
    assert (row["cycles"], row["lost"], row["doubled"]) == (10, 0, 0), result.stdout
    # every kind of write really went on through the stops
    assert row["scores"] > 100, result.stdout
    assert all(row[kind] > 0 for kind in ("accounts", "approvals", "logins", "refreshes", "revocations")), result.stdout
