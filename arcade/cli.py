"""The ``arcade`` command: serve the arcade, upgrade its database, move an event to another store,
re-adjudicate a game and export its boards, list plugins, sign a local token, build, simulate and
deploy the badge firmware, and start a new game."""

import argparse
import asyncio
import json
import logging
import os
import sys
import time
import typing
from importlib.metadata import version

from arcade.platform import config, loader
from arcade.sdk.errors import ArcadeError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
WORKERS_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
"""With several processes, each line says which wrote it."""
WIFI_ANSWERS = ("joins", "silent", "wrong-password", "no-ap")
"""What the fake Wi-Fi access point of ``arcade sim --lib`` does (tests/pimoroni/network.py)."""


class CommandError(ArcadeError):
    """Stops the command with this message and exit status 2."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if "command" not in args:  # as git and pip do
        parser.print_help()
        return 0
    _log_to_stderr()
    try:
        status = args.command(args) or 0
        sys.stdout.flush()  # a reader gone away (`| head`) is noticed here, not at exit
        return status
    except BrokenPipeError:
        # Quietly, as cat does; stdout goes to /dev/null so the flush at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except ArcadeError as error:
        print(f"arcade: error: {error}", file=sys.stderr)
        return 2


def _log_to_stderr(line: str = LOG_FORMAT) -> None:
    """One plain line an event on stderr: the ``arcade`` loggers' at their level (``arcade serve``
    sets it), other libraries' warnings and errors."""
    logging.basicConfig(format=line, datefmt="%Y-%m-%d %H:%M:%S", level=logging.WARNING, stream=sys.stderr, force=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arcade", description="Badge Arcade: games, leaderboards and badge logins.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version(loader.DISTRIBUTION)}")
    commands = parser.add_subparsers(metavar="COMMAND")

    addresses = argparse.ArgumentParser(add_help=False)
    addresses.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    addresses.add_argument("--port", type=int, help="port to listen on (default 8000)")
    addresses.add_argument(
        "--public-url", metavar="URL", help="where badges and browsers reach the arcade (default http://HOST:PORT)"
    )

    def command(name: str, function, help: str, parents=(), under=commands) -> argparse.ArgumentParser:
        sub = under.add_parser(name, help=help, description=help, parents=list(parents))
        sub.set_defaults(command=function)
        sub.add_argument("--config", metavar="FILE", help="settings file (default: ./arcade.toml if present)")
        sub.add_argument("--data", metavar="DIR", help="data folder (default: ./arcade-data)")
        return sub

    serve = command("serve", _serve, "Serve the leaderboards and the badge API.", [addresses])
    serve.add_argument("--workers", type=int, help="server processes (needs a store that can be shared)")
    serve.add_argument(
        "--log-level",
        choices=typing.get_args(config.LogLevel),
        help="what the server logs to stderr (default: [server] log_level, else info)",
    )

    db_help = "Look after the store's database."
    db = commands.add_parser("db", help=db_help, description=db_help)
    db.set_defaults(command=lambda args: db.print_help())
    database = db.add_subparsers(metavar="COMMAND")
    upgrade_help = "Bring the store's schema up to this arcade's version (arcade serve does it too)."
    command("upgrade", _db_upgrade, upgrade_help, under=database)

    keys_help = "Look after the built-in identity provider's signing keys."
    keys = commands.add_parser("keys", help=keys_help, description=keys_help)
    keys.set_defaults(command=lambda args: keys.print_help())
    rotate_help = (
        "Make a new signing key, which signs from now on in every server process; the old one still verifies "
        "the tokens it signed until they expire."
    )
    command("rotate", _keys_rotate, rotate_help, under=keys.add_subparsers(metavar="COMMAND"))

    badge_key_help = "Look after the key that signs the games badges get over the air."
    badge_key = commands.add_parser("badge-key", help=badge_key_help, description=badge_key_help)
    badge_key.set_defaults(command=lambda args: badge_key.print_help())
    badge_rotate_help = (
        "Make a new badge signing key; the old one signs beside it, so each badge learns the new key from the "
        "next games list it verifies. Rotate again to drop the old one (badges that never checked meanwhile "
        "then need arcade deploy)."
    )
    command("rotate", _badge_key_rotate, badge_rotate_help, under=badge_key.add_subparsers(metavar="COMMAND"))

    export = command(
        "export", _export, "Write everything the store holds, and the signing keys, to a file for arcade import."
    )
    export.add_argument("file", metavar="FILE", help="the file to write, readable by you alone (it must not exist)")
    import_ = command(
        "import", _import, "Load a file arcade export wrote into this arcade's store, which must be empty."
    )
    import_.add_argument("file", metavar="FILE", help="the export file")

    readjudicate = command(
        "readjudicate",
        _readjudicate,
        "Replay every stored run of a game with its current rules and show what changes on its board; "
        "--publish makes that the board, the old one archived.",
    )
    readjudicate.add_argument("game", metavar="GAME", help="the game's id (arcade plugins lists them)")
    readjudicate.add_argument("--publish", action="store_true", help="publish the new board (default: only show)")
    readjudicate.add_argument(
        "--reason",
        type=_reason,
        default="",
        metavar="TEXT",
        help="why, for the audit log's entry of the publish (/admin/audit)",
    )
    export_board = command(
        "export-board", _export_board, "Write a game's board (or a window's, or an archived one) as CSV or JSON."
    )
    export_board.add_argument("game", metavar="GAME", help="the game's id (arcade plugins lists them)")
    which = export_board.add_mutually_exclusive_group()
    which.add_argument("--window", metavar="WINDOW", help="a time window of [event] (default: the whole event)")
    which.add_argument("--archive", type=int, metavar="N", help="an archived board (arcade readjudicate makes them)")
    export_board.add_argument(
        "--format", choices=("csv", "json"), default="csv", help="the file's format (default csv)"
    )
    export_board.add_argument("--out", metavar="FILE", help="write here (default: standard output)")

    plugins = command("plugins", _plugins, "List the loaded plugins with their versions and hooks.")
    plugins.add_argument("--json", action="store_true", help="print JSON")

    token = command(
        "token",
        _token,
        "Print a freshly signed access token for a local player, for the server given the same address flags.",
        [addresses],
    )
    token.add_argument("--player", required=True, metavar="NAME", help="the player's name")

    build = command("build", _build, "Compile the badge firmware and every game with mpy-cross.")
    build.add_argument("--out", metavar="DIR", default="build/badge", help="output folder (default build/badge)")
    build.add_argument(
        "--mpy",
        metavar="VERSION",
        help="the .mpy version of older badge firmware: 6.2 for MicroPython 1.22, 6.1 for 1.20-1.21",
    )

    sim = command("sim", _sim, "Run the badge build under the MicroPython unix port, screen in the terminal.")
    sim.add_argument(
        "--build", metavar="DIR", help="run this build (default: build the sources into build/badge first)"
    )
    sim.add_argument(
        "--root", metavar="DIR", default="build/sim", help="the simulated flash, state kept (default build/sim)"
    )
    sim.add_argument("--server", metavar="URL", help="the arcade server (default: the configured public URL)")
    sim.add_argument("--script", metavar="FILE", help="button presses to play instead of the keyboard")
    sim.add_argument("--screenshots", metavar="DIR", help="save a PNG of every e-ink refresh here")
    sim.add_argument("--heap", metavar="SIZE", default="166K", help="MicroPython heap, like a badge's (default 166K)")
    sim.add_argument("--speed", type=int, default=1, metavar="N", help="run the clock N times faster (default 1)")
    sim.add_argument("--timeout", type=float, metavar="SECONDS", help="stop the badge after this long")
    sim.add_argument(
        "--clock",
        type=int,
        metavar="SECONDS",
        help="the badge's clock at boot, unix seconds; 0: never set (default: this machine's)",
    )
    sim.add_argument(
        "--ca",
        action="append",
        default=[],
        metavar="FILE",
        help="a CA certificate the simulated badge checks https servers against, as arcade deploy --ca",
    )
    sim.add_argument(
        "--flash-free",
        type=int,
        metavar="BYTES",
        help="a nearly full flash: state/ on littlefs (the image state.lfs in --root) with this much room left",
    )
    sim.add_argument(
        "--lib",
        metavar="DIR",
        help="modules put first on the MicroPython path, like the fakes of Pimoroni's (tests/pimoroni): the "
        "badge's own HAL, hal/badger2040w.py, then runs on them",
    )
    sim.add_argument("--battery", action="store_true", help="with --lib: on battery, a halt powers the badge off")
    sim.add_argument(
        "--wifi",
        choices=WIFI_ANSWERS,
        default="joins",
        help="with --lib: what the Wi-Fi access point does (default joins)",
    )
    sim.add_argument(
        "--watchdog", action="store_true", help="with --lib: the watchdog resets a badge that stops feeding it"
    )

    sim.add_argument(
        "--no-latch",
        action="store_true",
        help="read the buttons as the firmware did before presses were latched: only what is held at a read",
    )

    deploy = command("deploy", _deploy, "Copy the build onto a badge over USB with mpremote.")
    deploy.add_argument("--build", metavar="DIR", default="build/badge", help="the build to copy (default build/badge)")
    deploy.add_argument("--server", metavar="URL", help="the server URL the badge uses (default: the public URL)")
    deploy.add_argument(
        "--device", metavar="PORT", default="auto", help="mpremote's device, like /dev/ttyACM0 (default auto)"
    )
    deploy.add_argument("--dry-run", action="store_true", help="print the mpremote command instead of running it")
    deploy.add_argument(
        "--ca",
        action="append",
        default=[],
        metavar="FILE",
        help="a CA certificate (PEM or DER) the badge checks https servers against, or a server's own "
        "self-signed one; once per CA (the server's, the identity provider's)",
    )

    new_game = command("new-game", _new_game, "Start a new game: its own distribution, ready to install and play.")
    new_game.add_argument("name", metavar="NAME", help="the game's id and package name, like 'snake'")
    new_game.add_argument("--into", metavar="DIR", default=".", help="where to make arcade-game-NAME/ (default: here)")
    return parser


_SETTING_FLAGS = {
    "host": "--host",
    "port": "--port",
    "public_url": "--public-url",
    "workers": "--workers",
    "log_level": "--log-level",
}
"""The ``[server]`` settings a command's flags override, by the flag's argparse name."""


def _settings(args) -> config.Settings:
    flags = {
        f"server.{key}": (flag, getattr(args, key))
        for key, flag in _SETTING_FLAGS.items()
        if getattr(args, key, None) is not None
    }
    settings = config.load(args.config, flags=flags)
    if args.data:
        settings.data_dir = args.data
    return settings


def _serve(args) -> int:
    from arcade.platform.assembly import assemble

    settings = _settings(args)
    logging.getLogger("arcade").setLevel(settings.server.log_level.upper())
    arcade = assemble(settings)
    count = settings.server.workers
    if count > 1 and not arcade.store.shareable:
        name = arcade.active()["store"]
        raise CommandError(
            f"the {name} store serves one process only, so it cannot run with {count} workers; serve with "
            "--workers 1 (the default), or keep the arcade in PostgreSQL, which several processes share: "
            '[store] plugin = "postgres" (docs/operating.md, Running with PostgreSQL)'
        )
    if count == 1:
        from arcade.server import serving

        serving.serve(arcade)
        return 0
    from arcade.server import workers

    _log_to_stderr(WORKERS_LOG_FORMAT)
    asyncio.run(_start_and_stop(arcade))  # a store or plugin that cannot start says so once, here
    return workers.supervise(settings, count, WORKERS_LOG_FORMAT)


async def _start_and_stop(arcade) -> None:
    await arcade.start()
    await arcade.stop()


def _db_upgrade(args) -> int:
    from arcade.platform.assembly import assemble

    arcade = assemble(_settings(args))
    name = arcade.active()["store"]
    upgrade = getattr(arcade.store, "upgrade", None)
    if upgrade is None:
        print(f"the {name} store keeps no versioned schema: nothing to upgrade")
        return 0
    before, after = asyncio.run(upgrade())
    if before == after:
        print(f"the {name} store's schema is at version {after}, the newest this arcade knows: nothing to do")
    else:
        print(f"upgraded the {name} store's schema from version {before} to {after}")
    return 0


def _export(args) -> int:
    from pathlib import Path

    from arcade.platform import transfer
    from arcade.platform.assembly import assemble

    arcade = assemble(_settings(args))
    summary = asyncio.run(transfer.export(arcade, Path(args.file), _ProgressLine()))
    print(
        f"wrote {summary.path} ({_size(summary.size)}, sha256 {summary.sha256}), readable by you alone: it "
        "holds the signing keys and the accounts' password hashes, so keep it as you keep the data folder"
    )
    _print_counts(summary)
    return 0


def _import(args) -> int:
    from pathlib import Path

    from arcade.platform import transfer
    from arcade.platform.assembly import assemble

    progress = _ProgressLine()
    checked = transfer.check(Path(args.file), progress)  # before the store or the data folder is touched
    arcade = assemble(_settings(args))
    summary = asyncio.run(transfer.import_(arcade, checked, progress))
    store = arcade.active()["store"]
    print(f"imported {summary.path} (sha256 {summary.sha256}) into the {store} store, and verified it item by item:")
    _print_counts(summary)
    if summary.signing_keys and not summary.keys_used:
        print(
            f"the file's signing keys were not used: the identity provider {arcade.active()['identity']!r} keeps "
            "no keys of its own, so tokens of the exported arcade's built-in provider do not work here"
        )
    return 0


def _print_counts(summary) -> None:
    kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(summary.records.items()))
    rows = [
        ("players", f"{summary.counts['player']:,}"),
        ("scores", f"{summary.counts['score']:,}"),
        ("records", f"{summary.counts['record']:,}" + (f"  ({kinds})" if kinds else "")),
        ("counters", f"{summary.counts['counter']:,}"),
        ("audit entries", f"{summary.counts['audit']:,}"),
        ("signing keys", f"{summary.signing_keys:,}"),
    ]
    print("\n".join(f"  {name:<13} {count}" for name, count in rows))


def _size(count: int) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 100_000 else f"{count / 1e3:.1f} kB"


class _ProgressLine:
    """How far a long command has got, on stderr: rewritten in place on a terminal, a line every few
    seconds otherwise (a log), and always when a stage ends."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.terminal = stream.isatty()
        self.shown = (None, 0.0)
        self.started = {}

    def __call__(self, stage: str, done: int, total: int | None, items: int) -> None:
        now = time.monotonic()
        started = self.started.setdefault(stage, now)
        finished = done == total
        if not finished and stage == self.shown[0] and now - self.shown[1] < (0.2 if self.terminal else 5):
            return
        self.shown = (stage, now)
        part = f"{done / total:4.0%} of {_size(total)}" if total else _size(done)
        rate = f", {items / (now - started):,.0f} items/s" if items and now > started else ""
        line = f"{stage} {part}, {items:,} items{rate}"
        if self.terminal:
            self.stream.write(f"\r\033[K{line}" + ("\n" if finished else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


# -- running an event: re-adjudication and board files ------------------------------------------


def _reason(text: str) -> str:
    """``--reason`` as the audit log keeps it, as the admin pages take it: one line, not too long."""
    from arcade.sdk.store import audit_reason

    try:
        return audit_reason(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _readjudicate(args) -> int:
    from arcade.platform.assembly import assemble
    from arcade.scoring import readjudicate

    arcade = assemble(_settings(args))
    game = _game(arcade, args.game)

    async def work():
        found = await readjudicate.diff(arcade.store, game, _ReplayProgress())
        _print_diff(arcade, found, await _names(arcade.store, found))
        if not args.publish:
            return found, None
        return found, await readjudicate.publish(arcade.store, found, _operator(), args.reason)

    found, archive = _with_the_store(arcade, work, "arcade readjudicate")
    if not found.changes:
        print(f"nothing changed under {game.id} {game.version}: nothing to publish")
    elif archive is not None:
        print(
            f"published: the board of {game.id} is re-adjudicated under {game.version}; the old board is archive "
            f"{archive.id} (/games/{game.id}/archives/{archive.id})"
        )
    else:
        print(f"nothing published: run arcade readjudicate {game.id} --publish to make this the board")
    return 0


def _operator() -> str:
    """Who runs a command that changes the event, for the audit log: the login name on this computer."""
    import getpass

    try:
        return f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):  # no login name for this user id (a container's)
        return "the command line"


class _ReplayProgress:
    def __init__(self):
        self.line = _ProgressLine()

    def __call__(self, replayed: int) -> None:
        self.line("replaying", replayed, None, replayed)


SHOWN_CHANGES = 20
"""Changes of each kind listed by arcade readjudicate; the counts cover them all."""


async def _names(store, found) -> dict[str, str]:
    shown = [change.player for changes in _kinds(found).values() for change in changes[:SHOWN_CHANGES]]
    return {player: (await store.player(player) or _Nobody).name for player in set(shown)}


class _Nobody:
    name = "(player gone)"


def _kinds(found) -> dict:
    return {
        "scores that move": found.moved,
        "runs that no longer verify": found.no_longer_verify,
        "runs that verify again": found.verify_again,
    }


def _print_diff(arcade, found, names: dict[str, str]) -> None:
    game = found.game
    print(f"replayed {found.replayed:,} stored runs of {game.id} with its rules at version {game.version}")
    kinds = _kinds(found)
    for kind, changes in kinds.items():
        print(f"  {kind:<28} {len(changes):,}")
    for kind, changes in kinds.items():
        if not changes:
            continue
        print(f"{kind}:")
        for change in changes[:SHOWN_CHANGES]:
            before = "-" if change.before is None else f"{change.before:,}"
            now = "no longer verifies" if change.now is None else f"{change.now:,} {game.unit}"
            reason = f"  ({change.reason})" if change.reason else ""
            print(f"  {names[change.player]} ({change.player}), run {change.submission_id}: {before} -> {now}{reason}")
        if len(changes) > SHOWN_CHANGES:
            print(f"  ... and {len(changes) - SHOWN_CHANGES:,} more")


def _export_board(args) -> int:
    from arcade.platform import admin_windows, board_files
    from arcade.platform.assembly import assemble

    settings = _settings(args)
    arcade = assemble(settings)
    game = _game(arcade, args.game)

    async def work():
        if args.archive is None:
            windows = await admin_windows.event_windows(settings.windows, arcade.store)
            window = windows.get(args.window)
            if window is None:
                raise CommandError(
                    f"no window {args.window!r} in [event] or the admins' sessions; the windows are: "
                    f"{', '.join(windows.ids())}"
                )
            source = board_files.Source.of_window(window)
        else:
            archive = next((found for found in await arcade.store.archives(game) if found.id == args.archive), None)
            if archive is None:
                raise CommandError(f"{game.id} has no archived board {args.archive} (arcade readjudicate makes them)")
            source = board_files.Source.of_archive(archive)
        out = open(args.out, "xb") if args.out else sys.stdout.buffer
        try:
            async for chunk in board_files.write(arcade.store, game, source, args.format):
                out.write(chunk)
        finally:
            if args.out:
                out.close()

    try:
        _with_the_store(arcade, work, "arcade export-board")
    except FileExistsError:
        raise CommandError(f"{args.out} exists already: give a new file, or move that one away") from None
    return 0


def _game(arcade, game_id: str):
    game = arcade.games.get(game_id)
    if game is None:
        raise CommandError(f"no game {game_id!r} on this arcade; its games are: {', '.join(sorted(arcade.games))}")
    return game


def _with_the_store(arcade, work, command: str):
    """Run the coroutine function ``work`` with the arcade started, as one more process of it: beside
    the servers when the store is shared; a store of one process must not be served meanwhile."""
    from arcade.sdk.store import StoreError

    async def run():
        try:
            await arcade.start()
        except StoreError as error:
            if arcade.store.shareable:
                raise
            raise CommandError(
                f"{command} needs the {arcade.active()['store']} store, which one process holds at a time: {error}. "
                "Stop the server, run the command, and start the server again; with PostgreSQL it runs beside "
                "the servers"
            ) from None
        try:
            return await work()
        finally:
            await arcade.stop()

    return asyncio.run(run())


def _plugins(args) -> int:
    from arcade.platform.assembly import assemble

    arcade = assemble(_settings(args))  # the store is built (its keys are there), not opened
    rows = loader.describe(arcade.manager)
    active = arcade.active()
    if args.json:
        print(json.dumps({"active": active, "plugins": rows, "games": sorted(arcade.games)}, indent=2))
        return 0
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        origin = f"{row['distribution']} {row['version']}" if row["distribution"] else "(registered in code)"
        if row["status"] == "loaded":
            state = ", ".join(row["hooks"])
        else:
            state = ": ".join(filter(None, [row["status"], row["reason"]]))
        print(f"{row['name']:<{width}}  {origin}  {state}")
    print(f"\nactive store: {active['store']}; active identity provider: {active['identity']}")
    print(f"games: {', '.join(game.id for game in arcade.ordered_games())}")
    return 0


def _token(args) -> int:
    from arcade.platform.assembly import assemble

    arcade = assemble(_settings(args))
    issue = getattr(arcade.identity, "issue_access_token", None)
    if issue is None:
        raise CommandError(
            f"arcade token signs with the built-in identity provider, but the active one is "
            f"{arcade.active()['identity']!r}; get tokens from that provider instead"
        )

    async def sign():
        return issue(subject=args.player, name=args.player)

    print(_beside_the_servers(arcade, sign))
    return 0


def _keys_rotate(args) -> int:
    from datetime import UTC, datetime

    from arcade.platform.assembly import assemble
    from arcade.plugins.idp_builtin.keys import REFRESH_S

    arcade = assemble(_settings(args))
    rotate = getattr(arcade.identity, "rotate_keys", None)
    if rotate is None:
        raise CommandError(
            f"arcade keys rotate rotates the built-in identity provider's keys, but the active one is "
            f"{arcade.active()['identity']!r}, which keeps its own: rotate them there"
        )
    new, old, until = _beside_the_servers(arcade, rotate)
    print(
        f"key {new} signs from now on, in every server process of this arcade within {REFRESH_S} s; "
        f"key {old} still verifies the tokens it signed until {datetime.fromtimestamp(until, UTC):%Y-%m-%d %H:%M:%S} UTC"
    )
    return 0


def _badge_key_rotate(args) -> int:
    arcade, keys = _badge_keys(args)
    new, old = _beside_the_servers(arcade, keys.rotate)
    print(
        f"key {new} signs the games list from now on, in every server process within 30 s; key {old} signs beside "
        "it, so badges take the new key from the next list they check"
    )
    return 0


def _badge_keys(args):
    """The arcade of ``args`` and its badge keys, to reach with :func:`_beside_the_servers`."""
    from arcade.badge.signing import BadgeKeys
    from arcade.platform.assembly import assemble

    arcade = assemble(_settings(args))
    return arcade, BadgeKeys(arcade.context.data_dir, arcade.store)


def _existing_badge_keys(args) -> list[dict]:
    """The public badge keys of the arcade the settings name, as a deploy would write them; none if
    its server has made none yet (the simulated badge then refuses games over the air, saying why)."""
    from arcade.badge.signing import public

    arcade, keys = _badge_keys(args)
    return [public(key) for key in _beside_the_servers(arcade, keys.existing)]


def _beside_the_servers(arcade, work):
    """Run the coroutine function ``work`` as one more process of the arcade: with the arcade started
    when its store is shared (the keys are there), else beside the server that holds the store."""

    async def run():
        if not arcade.store.shareable:
            return await work()
        await arcade.start()
        try:
            return await work()
        finally:
            await arcade.stop()

    return asyncio.run(run())


def _build(args) -> int:
    from pathlib import Path

    _build_badge(_settings(args), Path(args.out), args.mpy)
    return 0


def _build_badge(settings: config.Settings, out, mpy: str | None = None, reuse: bool = False) -> None:
    from arcade.badge import build
    from arcade.platform.assembly import collect_games

    manager = loader.load(settings.plugins.disabled, settings.plugins.strict)
    build.build(list(collect_games(manager).values()), out, mpy, reuse=reuse)


def _sim(args) -> int:
    from pathlib import Path

    from arcade.badge.sim import Simulator, parse_script
    from arcade.badge.trust import read_certificates

    script = None
    if args.script:
        try:
            text = Path(args.script).read_text()
        except OSError as error:
            raise CommandError(f"cannot read the script {args.script}: {error.strerror}") from None
        script = parse_script(text, args.script)
    if args.speed < 1:
        raise CommandError(f"--speed {args.speed}: the clock runs at least at real time (1)")
    if args.flash_free is not None and args.flash_free < 0:
        raise CommandError(f"--flash-free {args.flash_free}: the room left on the flash is 0 bytes or more")
    lib = Path(args.lib) if args.lib else None
    if lib and not (lib / "badger2040.py").is_file():
        raise CommandError(f"--lib {args.lib}: no badger2040.py there; give the folder of the fakes (tests/pimoroni)")
    if not lib and (args.battery or args.watchdog or args.wifi != "joins"):
        raise CommandError("--battery, --watchdog and --wifi need --lib: the fakes of the badge's modules model them")
    settings = _settings(args)
    if args.build is None:
        _build_badge(settings, Path("build/badge"), reuse=True)
    simulator = Simulator(
        build=Path(args.build or "build/badge"),
        root=Path(args.root),
        server=(args.server or settings.public_url).rstrip("/"),
        heap=args.heap,
        speed=args.speed,
        script=script,
        screenshots=Path(args.screenshots) if args.screenshots else None,
        timeout=args.timeout,
        flash_free=args.flash_free,
        latch=not args.no_latch,
        games_keys=_existing_badge_keys(args),
        trusted=read_certificates([Path(file) for file in args.ca]),
        terminal=sys.stdin.isatty() and sys.stdout.isatty(),
        lib=lib.resolve() if lib else None,
        battery=args.battery,
        wifi=args.wifi,
        watchdog=args.watchdog,
        clock=args.clock,
    )
    return simulator.run()


def _deploy(args) -> int:
    from pathlib import Path

    from arcade.badge.deploy import deploy
    from arcade.badge.signing import public

    arcade, keys = _badge_keys(args)
    trusted = [public(key) for key in _beside_the_servers(arcade, keys.keys)]
    server = args.server or _settings(args).public_url
    return deploy(Path(args.build), server, trusted, args.device, args.dry_run, [Path(file) for file in args.ca])


def _new_game(args) -> int:
    from pathlib import Path

    from arcade.badge.scaffold import new_game
    from arcade.platform.assembly import collect_games

    folder = new_game(args.name, Path(args.into), set(collect_games(loader.load())))
    package = folder / args.name
    made = [
        (package / "badge.py", "its rules: MicroPython on the badge, replayed by the server"),
        (package / "__init__.py", "its server plugin, which registers it"),
        (folder / "tests" / f"test_{args.name}.py", "its test"),
    ]
    steps = [
        (f"pip install -e {folder}", "the arcade finds the game through its entry point"),
        (f"pytest {folder / 'tests'}", "the badge and the server play it alike"),
        ("arcade sim", "it is on the badge menu"),
        ("arcade serve", "and it has a leaderboard"),
    ]
    width = max(len(str(left)) for left, _ in made + steps)
    print(f"Made the game {args.name!r} in {folder}:")
    print("\n".join(f"  {left!s:<{width}}  {right}" for left, right in made))
    print("Next:")
    print("\n".join(f"  {left:<{width}}  {right}" for left, right in steps))
    return 0
