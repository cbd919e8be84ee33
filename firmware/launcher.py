"""The arcade launcher: the menu of games, a game's run, its score, the account screen.

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

import scores
import storage
import ui
from hal import BLACK, BUTTON_A, BUTTON_B, BUTTON_C, HEIGHT, UPDATE_FAST, UPDATE_TURBO, WHITE, WIDTH
from session import Session

MANIFEST = "manifest.json"
CONFIG = "config.json"
FULL_REFRESH_EVERY = 60  # partial refreshes between full ones, against ghosting
HEAP_RESERVE = 12 * 1024
STATUS_Y = 80
RESULT_GUARD_MS = 1000  # the result ignores presses this long: the jumps being mashed as the run ends


def run(badge):
    Launcher(badge).loop()


class Launcher:
    def __init__(self, badge):
        self.badge = badge
        _installed("recover")
        self.games = _installed("games", _read_games())
        self.server = (storage.read_json(CONFIG, {}).get("server") or "").rstrip("/")
        self.session = Session(badge)
        import wake

        self.woke_at, self.index = wake.take()
        _unload("wake")
        if self.woke_at != "menu":
            self.index = 0

    def loop(self):
        storage.remove(storage.CRASHES)  # the launcher runs: the crashes before were not in a row
        self.home(self.boot)
        while True:
            self.home(self.menu)

    def boot(self):
        """What the badge has to say or send first, then the screen it halted on, if not the menu."""
        if self.session.damaged:
            self.login_ended("The login saved on the badge was damaged (kept as state/session.json.bad).")
        elif self.session.logged_in and scores.waiting():
            self.send("Sending the scores that waited...", confirm=False)
        if self.woke_at == "account":
            self.account()

    def home(self, screen):
        """Shows ``screen``; A+C held (ui.Home) ends it, whatever it was doing, back to the menu."""
        try:
            screen()
        except ui.Home:
            pass

    def menu(self):
        """The menu of games, once: a game, Get games or the account, then back here."""
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
            self.get_games()
        elif button & BUTTON_A:
            self.play(self.games[self.index])
        elif button & BUTTON_B:
            self.account()

    def get_games(self):
        """The "Get games" screen (firmware/getgames.py), loaded only while it is open."""
        if not self.server:
            ui.message(self.badge, "no-server", "No server", _PROBLEMS["no-server"])
            return
        import getgames

        try:
            built = [game["id"] for game in _read_games()]
            keys = storage.read_json(CONFIG, {}).get("games_keys") or []  # read here: not held in the heap
            if getgames.run(self.badge, self.server, self.games, built, keys):
                self.games = _installed("games", _read_games())
        finally:
            _unload("getgames", "signature", "fresh", "install", "wifi")

    # A game's run.
    def play(self, game):
        rolled_back = _installed("starting", game["id"])
        if rolled_back:
            self.games = _installed("games", _read_games())
            ui.message(self.badge, "game-rolled-back", game["title"], rolled_back)
            return
        problem = _check_module(game) or scores.no_room()
        if problem:
            ui.message(self.badge, "game-error", game["title"], problem)
            return
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
            return
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
        self._result(game, score, submission_id, saved)

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

    def _result(self, game, score, submission_id, saved):
        badge = self.badge
        logged_in = self.session.logged_in
        ui.begin(badge, "result", game["title"])
        badge.text("Score", 4, ui.TITLE_H + 8)
        badge.text("%d %s" % (score, game.get("unit", "points")), 4, ui.TITLE_H + 22, 3)
        best = (scores.bests().get(game["id"]) or {}).get("best")
        if best is not None:
            badge.text("Your best: %d" % best, 4, ui.TITLE_H + 52)
        if logged_in:
            ui.paragraph(badge, "Sending...", 4, STATUS_Y, WIDTH - 8)
            ui.footer(badge, "A: menu")
        else:
            waits = "on the badge." if saved else "in memory."
            ui.paragraph(badge, "Not logged in: the score waits " + waits, 4, STATUS_Y, WIDTH - 8)
            ui.footer(badge, "A: menu  B: log in and send")
        since = badge.ticks_ms()
        ui.show(badge)
        shown = badge.ticks_ms()
        offer_login = not logged_in
        if logged_in:
            answers, _, problem = self.deliver(lambda text: _status(badge, text, None))
            offer_login = problem == "login"
            hint = "A: menu  B: log in and send" if offer_login else "A: menu"
            since = badge.ticks_ms()  # presses while it was sending are ignored: they came before the answer
            _status(badge, _outcome(answers.get(submission_id), problem, saved), hint)
        buttons = ui.Buttons(badge, since)
        while time.ticks_diff(badge.ticks_ms(), shown) < RESULT_GUARD_MS:
            buttons.pressed()  # dropped: still the run's presses, not the player's answer
            badge.sleep_ms(ui.POLL_MS)
        if buttons.wait(BUTTON_A | BUTTON_C | (BUTTON_B if offer_login else 0)) & BUTTON_B:
            if self.log_in("Log in to send your score"):
                self.send("Sending your score...")

    # The network: logging in and sending scores.
    def deliver(self, show):
        """Sends the waiting scores: (answers by submission_id, runs refused, problem or None);
        ``show(text)`` draws the Wi-Fi's progress if the badge must join it first."""
        if not self.server:
            return {}, 0, "no-server"
        try:
            _join(self.badge, show)
        except OSError as error:
            print("launcher: %s" % error)
            return {}, 0, "wifi"
        try:
            return scores.deliver(self.server, self.session)
        except OSError:
            return {}, 0, "offline"

    def send(self, text, confirm=True):
        """Sends what waits, with ``text`` on the screen meanwhile. ``confirm`` shows the outcome;
        without it only what the player should know of is shown: a login that ended, runs refused."""
        ui.status(self.badge, "sending", "Scores", text)
        answers, refused, problem = self.deliver(lambda joining: ui.status(self.badge, "sending", "Scores", joining))
        if problem == "login":
            self.login_ended("The server no longer accepts this badge's login.")
            return
        if not (confirm or refused):
            return
        if scores.banned:
            ui.message(self.badge, "banned", "Banned", _banned(scores.banned))
            return
        titles = dict((game["id"], game["title"]) for game in self.games)
        runs = {}  # each game's answers: one per run sent
        for answer in answers.values():
            runs.setdefault(answer.get("game"), []).append(answer)
        lines = ["Sent %d score%s." % (len(answers), "" if len(answers) == 1 else "s")]
        for game, sent in runs.items():
            now = min(sent, key=lambda answer: answer["rank"])  # the rank of the best run sent
            scores_sent = ", ".join(str(answer.get("score")) for answer in sent)
            lines.append("%s: %s; rank %s, best %d." % (titles.get(game, game), scores_sent, _rank(now), now["best"]))
        if refused:
            lines.append("%d refused, kept in state/rejected/." % refused)
        left = len(scores.waiting())
        if left:
            lines.append("%d still waiting: %s" % (left, _PROBLEMS.get(problem, problem)))
        ui.message(self.badge, "sent", "Scores", " ".join(lines))

    def login_ended(self, text):
        """Says that the login ended and why (``text``), and offers to log in again to send what waits."""
        left = len(scores.waiting())
        waits = "1 score waits on the badge." if left == 1 else "%d scores wait on the badge." % left
        pressed = ui.message(self.badge, "login-ended", "Login ended", text + " " + waits, "B: log in again  A: later")
        if pressed & BUTTON_B and self.log_in("Log in again") and scores.waiting():
            self.send("Sending the scores that waited...")

    def log_in(self, title):
        if not self.server:
            ui.message(self.badge, "no-server", "No server", _PROBLEMS["no-server"])
            return False
        try:
            _join(self.badge, lambda text: ui.status(self.badge, "wifi", title, text))
        except OSError as error:
            ui.message(self.badge, "login-offline", "No connection", "%s. Check WIFI_CONFIG.py." % error)
            return False
        import login

        try:
            return login.run(self.badge, self.server, self.session, title)
        finally:
            _unload("login", "qr", "qrcode")

    # The account: who am I, log in, log out, send what waits.
    def account(self):
        while True:
            waiting = len(scores.waiting())
            rows = [("Log out", "") if self.session.logged_in else ("Log in", "")]
            if waiting:
                rows.append(("Send waiting scores", str(waiting)))
            who = "Logged in as %s" % (self.session.name or "?") if self.session.logged_in else "Not logged in"
            index, button = ui.choose(self.badge, "account", who, rows, 0, "A: choose  C: back")
            if button & BUTTON_C:
                return
            action = rows[index][0]
            if action == "Log in":
                if self.log_in("Log in") and scores.waiting():
                    self.send("Sending the scores that waited...")
            elif action == "Log out":
                self.log_out()
            else:
                self.send("Sending the scores that waited...")

    def log_out(self):
        ui.status(self.badge, "logging-out", "Account", "Logging out...")
        try:
            _join(self.badge, lambda text: ui.status(self.badge, "logging-out", "Account", text))
        except OSError:
            pass
        if self.session.logout():
            ui.message(self.badge, "logged-out", "Account", "Logged out. The badge forgot its tokens.")
        else:
            ui.message(self.badge, "logged-out", "Account", "Logged out on this badge; the provider could not be reached to revoke the login.")


_PROBLEMS = {
    "offline": "the server cannot be reached; it will be sent at the next connection.",
    "wifi": "the badge is not on the Wi-Fi; it will be sent at the next connection.",
    "slow": "the server did not answer in time; it will be sent later.",
    "server": "the server is in trouble; it will be sent later.",
    "garbled": "the answer was garbled (a Wi-Fi sign-in page?); it will be sent later.",
    "busy": "the server asks to wait a minute; it will be sent later.",
    "login": "your login ended: log in again to send it.",
    "untrusted": "the server did not prove it is the arcade (a look-alike on this Wi-Fi?); nothing was sent, it waits.",
    "no-server": "no server is set: put {\"server\": URL} in config.json (arcade deploy --server URL).",
}


def _outcome(answer, problem, saved):
    if answer:
        return "Rank %s, best %d." % (_rank(answer), answer["best"])
    if problem:
        return ("Saved on the badge: " if saved else "Waits in memory: ") + _PROBLEMS.get(problem, problem)
    if scores.banned:
        return _banned(scores.banned)
    return "Refused by the server: see state/rejected/."


def _rank(answer):
    """Says "#3 of 12": the rank among the board's players (with a server that does not say, "#3")."""
    players = answer.get("players")
    return "#%d of %d" % (answer["rank"], players) if isinstance(players, int) else "#%d" % answer["rank"]


def _banned(detail):
    """The server's reason, as the badge says it: the scores are set aside, not sent again."""
    return "Banned: %s%s. Not sent again; kept in state/rejected/." % (detail[0].upper(), detail[1:].rstrip("."))


def _status(badge, text, hint):
    badge.set_pen(WHITE)
    badge.rectangle(0, STATUS_Y, WIDTH, HEIGHT - STATUS_Y)
    badge.set_pen(BLACK)
    ui.paragraph(badge, text, 4, STATUS_Y, WIDTH - 8)
    if hint:
        ui.footer(badge, hint)
    badge.set_update_speed(UPDATE_FAST)
    badge.partial_update(0, STATUS_Y, WIDTH, HEIGHT - STATUS_Y)


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


def _join(badge, show):
    """firmware/wifi.py's join, loaded only while the badge is off the Wi-Fi."""
    if badge.isconnected():
        return
    import wifi

    try:
        wifi.join(badge, show)
    finally:
        _unload("wifi")


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
