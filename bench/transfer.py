"""What moving an event costs: `arcade export` and `arcade import`, both ways.

A TinyDB arcade of N scores (one player per ten, each with a run like a dino run's) is exported,
imported into PostgreSQL, exported from there and imported into a new TinyDB folder, each by the
`arcade` command as an organiser runs it. Beside each step, in the same run, the store's own way
of copying itself: the data folder copied (``cp -a``), and ``pg_dump`` and ``psql`` of the schema,
which move PostgreSQL to PostgreSQL only. Prints seconds, scores a second, the command's CPU
seconds (PostgreSQL's own work is not in them) and peak memory, and the ratio of its time to its
baseline's.

    .venv/bin/python bench/transfer.py [--scores N] [--quick]
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
sys.path[0] = str(HERE.parent)

from bench.store_scale import fill

ARCADE = Path(sys.executable).with_name("arcade")
POSTGRES = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def run(*command, cwd: Path) -> tuple[float, float, float]:
    """Run a command to its end; answer its seconds, its CPU seconds (on a machine others share, the
    wall clock counts their work too) and its peak resident memory in MB, as GNU time measures them
    (a child forked from this process would count the store this process filled)."""
    with tempfile.NamedTemporaryFile("r") as measured:
        started = time.perf_counter()
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%U %S %M", "-o", measured.name, *map(str, command)],
            check=False,
            cwd=cwd,
            capture_output=True,
        )
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, command))} failed: {result.stderr.decode()}")
        user, system, memory = measured.read().split()
    return seconds, float(user) + float(system), int(memory) / 1024


def site(base: Path, name: str, config: str = "") -> Path:
    folder = base / name
    folder.mkdir()
    (folder / "arcade.toml").write_text(config)
    return folder


def database(name: str) -> str:
    return urlunsplit(urlsplit(POSTGRES)._replace(path=f"/{name}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scores", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 scores")
    args = parser.parse_args()
    scores = 10_000 if args.quick else args.scores
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    restored = f"bench_{uuid.uuid4().hex[:12]}"
    postgres = f'[store]\nplugin = "postgres"\n[store.postgres]\ndsn = "{POSTGRES}"\nschema = "{schema}"\n'
    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        source = site(base, "tinydb")
        fill_seconds = asyncio.run(fill(source / "arcade-data", scores))
        try:
            export_tiny = run(ARCADE, "export", base / "event.jsonl", cwd=source)
            copy_tiny = run("cp", "-a", source / "arcade-data", base / "copied", cwd=base)
            rows.append(("export from TinyDB", export_tiny, "cp -a of the data folder", copy_tiny))

            target = site(base, "postgres", postgres)
            import_pg = run(ARCADE, "import", base / "event.jsonl", cwd=target)
            export_pg = run(ARCADE, "export", base / "back.jsonl", cwd=target)
            dump = run("pg_dump", "-d", POSTGRES, "-n", schema, "-f", base / "dump.sql", cwd=base)
            run("psql", "-q", "-d", POSTGRES, "-c", f'CREATE DATABASE "{restored}"', cwd=base)
            load = run("psql", "-q", "-d", database(restored), "-f", base / "dump.sql", cwd=base)
            rows.append(("import into PostgreSQL", import_pg, "psql of the dump", load))
            rows.append(("export from PostgreSQL", export_pg, "pg_dump of the schema", dump))

            again = site(base, "tinydb-again")
            import_tiny = run(ARCADE, "import", base / "back.jsonl", cwd=again)
            copy_back = run("cp", "-a", base / "copied", again / "copied", cwd=base)
            rows.append(("import into TinyDB", import_tiny, "cp -a of the data folder", copy_back))
            size = (base / "event.jsonl").stat().st_size
        finally:
            run("psql", "-q", "-d", POSTGRES, "-c", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', cwd=base)
            run("psql", "-q", "-d", POSTGRES, "-c", f'DROP DATABASE IF EXISTS "{restored}"', cwd=base)
        folder = sum(path.stat().st_size for path in (source / "arcade-data").iterdir())
    print(f"{scores:,} scores of {scores // 10:,} players (filled in {fill_seconds:.1f} s through the store's API)")
    print(f"export file {size / 1e6:.1f} MB; the TinyDB data folder {folder / 1e6:.1f} MB\n")
    print(
        f"{'':<24}{'seconds':>8}{'scores/s':>10}{'CPU s':>7}{'peak MB':>9}   {'baseline':<26}{'seconds':>8}{'ratio':>7}"
    )
    for name, (seconds, cpu, memory), baseline, (base_seconds, _, _) in rows:
        print(
            f"{name:<24}{seconds:>8.2f}{scores / seconds:>10,.0f}{cpu:>7.1f}{memory:>9.0f}   "
            f"{baseline:<26}{base_seconds:>8.2f}{seconds / base_seconds:>7.1f}"
        )
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
