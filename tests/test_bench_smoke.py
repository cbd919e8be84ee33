"""The benchmarks still run end to end; their figures are not judged here."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.stores import POSTGRES

BENCH = Path(__file__).resolve().parent.parent / "bench" / "server.py"


def test_the_server_benchmark_prints_both_ratios_for_both_operations():
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every acknowledged one" in result.stdout
    for operation in ("score submission", "leaderboard read"):
        row = re.search(rf"^{operation} +([\d,]+/s +){{3}}(\d+\.\d+) +(\d+\.\d+)$", result.stdout, re.MULTILINE)
        assert row, f"no figures for {operation}:\n{result.stdout}"


def test_the_scale_benchmark_prints_its_plans_and_its_table(postgres_schema):
    """On the tests' database (the fixture skips, or fails in CI, when it does not answer); the
    benchmark makes schemas of its own."""
    result = subprocess.run(
        [sys.executable, str(BENCH.with_name("scale.py")), "--quick"],
        env={**os.environ, "BENCH_POSTGRES_DSN": POSTGRES},
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the bulk path wrote what the store's API writes" in result.stdout
    assert "PostgreSQL holds every acknowledged score" in result.stdout
    assert result.stdout.count("Execution Time:") == 6
    for row in ("rank, last place median ms", "around p99 ms", "scores/s, 2 workers"):
        assert re.search(rf"^{row} +[\d.,]+ ", result.stdout, re.MULTILINE), f"no {row}:\n{result.stdout}"
    assert re.search(r"^2 workers / 1 worker +x\d+\.\d\d ", result.stdout, re.MULTILINE), result.stdout


def test_the_badge_signature_benchmark_verifies_under_micropython_and_prints_its_ratio():
    result = subprocess.run(
        [sys.executable, str(BENCH.with_name("badge_signature.py"))], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"verify the signature \(sha256 included\) +\d+ us +[\d.]+ x sha256", result.stdout), result.stdout


def test_the_live_benchmark_prints_both_ways_and_their_ratio():
    live = BENCH.with_name("live.py")
    result = subprocess.run(
        [sys.executable, str(live), "--pages", "20", "--updates", "2"],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for way in ("re-fetch rows (before)", "change in the event (now)"):
        assert re.search(rf"^{re.escape(way)} +[\d.]+% +[\d.]+% ", result.stdout, re.MULTILINE), result.stdout
    assert "server CPU per page reached, before/now: " in result.stdout


def test_the_windows_benchmark_prints_both_stores_ratios_and_the_plan(postgres_schema):
    result = subprocess.run(
        [sys.executable, str(BENCH.with_name("windows.py")), "--quick"],
        env={**os.environ, "BENCH_POSTGRES_DSN": POSTGRES},
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for store in ("TinyDB", "PostgreSQL"):
        assert f"{store}, 10,000 scores: first read of a day's board" in result.stdout
    assert len(re.findall(r"^one day .* (\d+\.\d)x$", result.stdout, re.MULTILINE)) == 2, result.stdout
    assert "Index Cond: ((game = 'dino'::text) AND (at >=" in result.stdout  # a range of scores_by_time


def test_the_firmware_heap_benchmark_compares_both_ports_module_by_module():
    """The unix port against MicroPython's 32-bit WebAssembly port (from npm, run by node)."""
    result = subprocess.run(
        [sys.executable, str(BENCH.with_name("firmware_heap.py"))],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for module in ("storage", "net", "online", "login", "getgames", "all"):
        assert re.search(rf"^{module} +\d+\.\d KB +\d+\.\d KB +\d+\.\d\d$", result.stdout, re.MULTILINE), result.stdout
