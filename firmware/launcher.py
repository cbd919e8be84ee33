"""The arcade launcher: the menu of games, a game's run, the account screen. What goes online
(the result and its upload, the login) and Get games are apps it hands to main.py.

The launcher owns time, input and the e-ink refresh; a game owns only its rules (see
docs/badge.md). A run is recorded as its seed and the ticks where the buttons changed:
``inputs`` holds (tick, buttons) for every tick whose buttons differ from the tick before,
starting from "no button held"; ``ticks`` counts the calls to ``tick`` up to the one that
answered False. The server replays exactly that to check the score.
"""

import gc
import hashlib
import io
import os
import sys
import time
from array import array
from binascii import hexlify

import net
import scores
import storage
import ui
from hal import BUTTON_A, BUTTON_B, BUTTON_C, UPDATE_TURBO, WIDTH

MANIFEST = "manifest.json"
FULL_REFRESH_EVERY = 60  # partial refreshes between full ones, against ghosting
HEAP_RESERVE = 12 * 1024


def run(badge, session, back=None):
    """The menu, a game's run and the account, until the player picks what the launcher leaves to
    an app (online.py: the result and its upload, the login; getgames.py): answers that app, for
    main.py to run with the launcher unloaded, as badger_os does. The launcher comes back at
    ``back``: ("menu", row) or ("account", row); None at boot."""
    return Launcher(badge, session, back).loop()


class Launcher:
    def __init__(self, badge, session, back):
        self.badge = badge
        self.session = session
        if back is None:
            _installed("recover")
            import wake

            back = wake.take()
            _unload("wake")
            self.boot_sends = True
        else:
            self.boot_sends = False
        self.games = _installed("games", _read_games())
        self.server = (storage.read_json(storage.CONFIG, {}).get("server") or "").rstrip("/")
        screen, index = back
        self.back = "account" if screen == "account" else "menu"
        self.index = index if screen == "menu" else 0

    def loop(self):
        storage.remove(storage.CRASHES)  # the launcher runs: the crashes before were not in a row
        app = self.home(self.boot)
        while not app:
            app = self.home(self.menu)
        return app

    def boot(self):
        """What the badge has to say or send first, then the screen it halted on or was left on by an
        app, if not the menu."""
        if self.session.damaged:
            text = "The login saved on the badge was damaged (kept as state/session.json.bad)."
            self.session.damaged = False  # said once
            return self.hand_over("online", "login_ended", text)
        if self.boot_sends and self.session.logged_in and scores.waiting():
            self.boot_sends = False
            return self.hand_over("online", "send", "Sending the scores that waited...", False)
        if self.back == "account":
            return self.account()

    def home(self, screen):
        """Shows ``screen``, answering the app it chose (or None); A+C held (ui.Home) ends it,
        whatever it was doing, back to the menu."""
        try:
            return screen()
        except ui.Home:
            self.back = "menu"
            return None

    def hand_over(self, app, *arguments):
        """The app ``app`` (online.py doing an action, login.py) with ``arguments``, then the
        launcher back at the screen it was on."""
        titles = dict((game["id"], game["title"]) for game in self.games)
        back = (self.back, self.index if self.back == "menu" else 0)
        return (app, back, self.server, titles) + arguments

    def menu(self):
        """The menu of games, once: a game, Get games or the account, then back here."""
        self.back = "menu"
        bests = scores.bests()
        waiting = [game for game, _ in scores.waiting()]
        rows = []
        for game in self.games:
            best = (bests.get(game["id"]) or {}).get("best")
            detail = "" if best is None else "best %d" % best
            rows.append((game["title"], detail + (" *" if game["id"] in waiting else "")))
        rows.append(("Get games", "" if rows else "no games yet"))
        title = "Badge Arcade" + (" - " + self.session.name if self.session.name else "")
        self.index, button = ui.choose(self.badge, "menu", title, rows, self.index, "A: play  B: account  *: unsent")
        if button & BUTTON_A and self.index == len(self.games):
            return self.get_games()
        elif button & BUTTON_A:
            return self.play(self.games[self.index])
        elif button & BUTTON_B:
            return self.account()

    def get_games(self):
        """The "Get games" screen, getgames.py, an app: its signature check and downloads want
        the heap the launcher holds."""
        if not self.server:
            ui.message(self.badge, "no-server", "No server", net.NO_SERVER)
            return None
        built = [game["id"] for game in _read_games()]
        keys = storage.read_json(storage.CONFIG, {}).get("games_keys") or []
        return ("getgames", ("menu", self.index), self.server, self.games, built, keys)

    # A game's run.
    def play(self, game):
        """Runs ``game`` and queues its score; answers online.py's result screen, which sends it."""
        rolled_back = _installed("starting", game["id"])
        if rolled_back:
            self.games = _installed("games", _read_games())
            ui.message(self.badge, "game-rolled-back", game["title"], rolled_back)
            return None
        problem = _check_module(game) or scores.no_room()
        if problem:
            ui.message(self.badge, "game-error", game["title"], problem)
            return None
        seed = int.from_bytes(os.urandom(4), "big") & 0x7FFFFFFF
        name = game.get("import") or "games." + game["id"]
        try:
            module = __import__(name)
            for part in name.split(".")[1:]:
                module = getattr(module, part)
            score, ticks, inputs = _run(self.badge, game["id"], module.Game(seed))
        except ui.Home:  # the run is abandoned: no score, and not a clean end for a version on trial
            raise
        except Exception as error:  # a broken game must not take the badge down
            self._crashed(game, error, _installed("crashed", game["id"]))
            return None
        finally:
            _unload(name)
        _installed("ran_cleanly", game["id"])
        submission_id, saved = scores.enqueue(game["id"], score, seed, ticks, inputs)
        del inputs
        gc.collect()
        scores.record_local(game["id"], score, game.get("order", "higher") == "higher")
        if not saved:
            text = (
                "The score could not be saved on the badge. It waits in memory until it is sent, lost if "
                "the badge turns off. Make room on the flash with mpremote."
            )
            ui.message(self.badge, "flash-full", "The flash is full", text)
        return self.hand_over("online", "result", game, score, submission_id, saved)

    # The account: who am I, log in, log out, send what waits (online.py does them).
    def account(self):
        self.back = "account"
        waiting = len(scores.waiting())
        rows = [("Log out", "") if self.session.logged_in else ("Log in", "")]
        if waiting:
            rows.append(("Send waiting scores", str(waiting)))
        who = "Logged in as %s" % (self.session.name or "?") if self.session.logged_in else "Not logged in"
        index, button = ui.choose(self.badge, "account", who, rows, 0, "A: choose  C: back")
        if button & BUTTON_C:
            self.back = "menu"
            return None
        action = rows[index][0]
        if action == "Log in":
            return self.hand_over("login", "Log in", "Sending the scores that waited...")
        if action == "Log out":
            return self.hand_over("online", "log_out")
        return self.hand_over("online", "send", "Sending the scores that waited...")

    def _crashed(self, game, error, rolled_back):
        trace = io.StringIO()
        sys.print_exception(error, trace)
        lines = trace.getvalue().strip().split("\n")
        print(trace.getvalue())
        where = lines[-2].strip() if len(lines) > 1 else ""
        text = "%s. %s" % (lines[-1], where) + (" " + rolled_back if rolled_back else "")
        if rolled_back:
            self.games = _installed("games", _read_games())
        ui.message(self.badge, "game-crashed", game["title"] + " crashed", text, "A: back to the menu")

def _run(badge, name, game):
    """Plays ``game`` to its end in real time, refreshing the panel when there is time to spare.
    Answers (score, ticks, inputs)."""
    tick_ms = game.TICK_MS
    inputs = array("i")
    held = 0
    ticks = 0
    partials = 0
    alive = True
    badge.set_screen(name)
    game.draw(badge)
    ui.show(badge)
    badge.set_update_speed(UPDATE_TURBO)
    due = badge.ticks_ms()
    while alive:
        buttons = badge.buttons(due)  # a press counts at the tick it fell in, even one a refresh held up
        ui.check_home(buttons)
        if buttons != held:
            inputs.append(ticks)
            inputs.append(buttons)
            held = buttons
        alive = game.tick(buttons)
        ticks += 1
        due = time.ticks_add(due, tick_ms)
        if time.ticks_diff(due, badge.ticks_ms()) > 0 or not alive:
            band = game.draw(badge)
            if band is None or partials >= FULL_REFRESH_EVERY:
                ui.show(badge)
                badge.set_update_speed(UPDATE_TURBO)
                partials = 0
                due = badge.ticks_ms()  # the game waits while the panel cleans itself
            else:
                badge.partial_update(0, band[0], WIDTH, band[1])
                partials += 1
            wait = time.ticks_diff(due, badge.ticks_ms())
            if wait > 0:
                badge.sleep_ms(wait)
    return int(game.score), ticks, inputs


def _check_module(game):
    """Why the game's .mpy cannot run here (damaged, wrong .mpy version, too little memory), or
    None. A damaged .mpy must never be imported: one cut short hangs the VM."""
    path = game["module"]
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as file:
            header = chunk = file.read(4)
            while chunk:
                digest.update(chunk)
                chunk = file.read(512)
        size = os.stat(path)[6]
    except OSError:
        return "%s is missing. Copy the build again with arcade deploy." % path
    if hexlify(digest.digest()).decode() != game.get("sha256"):
        return "%s is damaged: it is not the file the build made. Copy the build again with arcade deploy." % path
    version = sys.implementation._mpy & 0xFF
    if len(header) < 4 or header[0] != ord("M") or header[1] != version:
        found = header[1] if len(header) > 1 else 0
        return "%s is .mpy version %d; this badge runs version %d. Rebuild with arcade build --mpy to match." % (path, found, version)
    gc.collect()
    need = size * 2 + HEAP_RESERVE
    if gc.mem_free() < need:
        return "%s needs about %d KB of memory; %d KB are free. Restart the badge and try again." % (path, need // 1024, gc.mem_free() // 1024)
    return None


def _installed(name, *arguments):
    """Calls ``name`` of firmware/installed.py (the games got over the air), loaded for the call
    only: the menu and the games keep the heap it would hold."""
    import installed

    try:
        return getattr(installed, name)(*arguments)
    finally:
        _unload("installed")


def _unload(*names):
    """Forgets modules so the memory they hold comes back."""
    for name in names:
        parts = name.split(".")
        for end in range(len(parts), 0, -1):  # the module, then each package above it
            sys.modules.pop(".".join(parts[:end]), None)
    gc.collect()


def _read_games():
    """The build's games, each with the sha256 the build recorded for its module."""
    manifest = storage.read_json(MANIFEST, {})
    games = manifest.get("games") or []
    for entry in manifest.get("files") or []:
        for game in games:
            if game.get("module") == entry.get("path"):
                game["sha256"] = entry.get("sha256")
    return games
