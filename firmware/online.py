"""The launcher's network, an app of its own: a run's result and its upload, sending what waits,
logging out; the login it hands to login.py, another app.

main.py runs it with the launcher unloaded, as badger_os runs its apps: a TLS connection takes
some 34 KB of the heap while it is open, and the menu's code is not needed meanwhile. ``run``
answers the app to run next, the launcher at ``back`` unless the player chose to log in
(docs/badge.md, Memory).
"""

import time

import net
import scores
import ui
from hal import BLACK, BUTTON_A, BUTTON_B, BUTTON_C, HEIGHT, UPDATE_FAST, WHITE, WIDTH

STATUS_Y = 80
RESULT_GUARD_MS = 1000  # the result ignores presses this long: the jumps being mashed as the run ends


def run(badge, session, back, server, titles, action, *arguments):
    """Does ``action`` (a function of Online) with ``arguments``; A+C held ends it at the menu."""
    try:
        return getattr(Online(badge, session, back, server, titles), action)(*arguments) or ("launcher", back)
    except ui.Home:
        return ("launcher", ("menu", back[1]))


class Online:
    def __init__(self, badge, session, back, server, titles):
        self.badge = badge
        self.session = session
        self.back = back
        self.server = server
        self.titles = titles  # game id -> title, for the scores sent

    def result(self, game, score, submission_id, saved):
        """A run's score; sent at once when logged in, else B logs in and sends it."""
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
            return self.log_in_and_send("Log in to send your score", "Sending your score...")

    def deliver(self, show):
        """Sends the waiting scores: (answers by submission_id, runs refused, problem or None);
        ``show(text)`` draws the Wi-Fi's progress if the badge must join it first."""
        if not self.server:
            return {}, 0, "no-server"
        try:
            net.join(self.badge, show)
        except OSError as error:
            print("online: %s" % error)
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
            return self.login_ended("The server no longer accepts this badge's login.")
        if not (confirm or refused):
            return None
        if scores.banned:
            ui.message(self.badge, "banned", "Banned", _banned(scores.banned))
            return None
        runs = {}  # each game's answers: one per run sent
        for answer in answers.values():
            runs.setdefault(answer.get("game"), []).append(answer)
        lines = ["Sent %d score%s." % (len(answers), "" if len(answers) == 1 else "s")]
        for game, sent in runs.items():
            now = min(sent, key=lambda answer: answer["rank"])  # the rank of the best run sent
            scores_sent = ", ".join(str(answer.get("score")) for answer in sent)
            lines.append("%s: %s; rank %s, best %d." % (self.titles.get(game, game), scores_sent, _rank(now), now["best"]))
        if refused:
            lines.append("%d refused, kept in state/rejected/." % refused)
        left = len(scores.waiting())
        if left:
            lines.append("%d still waiting: %s" % (left, PROBLEMS.get(problem, problem)))
        ui.message(self.badge, "sent", "Scores", " ".join(lines))

    def login_ended(self, text):
        """Says that the login ended and why (``text``), and offers to log in again to send what waits."""
        left = len(scores.waiting())
        waits = "1 score waits on the badge." if left == 1 else "%d scores wait on the badge." % left
        pressed = ui.message(self.badge, "login-ended", "Login ended", text + " " + waits, "B: log in again  A: later")
        if pressed & BUTTON_B:
            return self.log_in_and_send("Log in again", "Sending the scores that waited...")
        return None

    def log_in_and_send(self, title, text):
        """login.py, an app, logs in on the screen titled ``title``, then has what waits sent with
        ``text`` shown."""
        return ("login", self.back, self.server, self.titles, title, text)

    def log_out(self):
        ui.status(self.badge, "logging-out", "Account", "Logging out...")
        try:
            net.join(self.badge, lambda text: ui.status(self.badge, "logging-out", "Account", text))
        except OSError:
            pass
        if self.session.logout():
            ui.message(self.badge, "logged-out", "Account", "Logged out. The badge forgot its tokens.")
        else:
            ui.message(self.badge, "logged-out", "Account", "Logged out on this badge; the provider could not be reached to revoke the login.")


PROBLEMS = {
    "offline": "the server cannot be reached; it will be sent at the next connection.",
    "wifi": "the badge is not on the Wi-Fi; it will be sent at the next connection.",
    "slow": "the server did not answer in time; it will be sent later.",
    "memory": "the badge ran out of memory to send it; it will be sent later (restart the badge if this repeats).",
    "server": "the server is in trouble; it will be sent later.",
    "garbled": "the answer was garbled (a Wi-Fi sign-in page?); it will be sent later.",
    "busy": "the server asks to wait a minute; it will be sent later.",
    "login": "your login ended: log in again to send it.",
    "untrusted": "the server did not prove it is the arcade (a look-alike on this Wi-Fi?); nothing was sent, it waits.",
    "no-server": net.NO_SERVER,
}


def _outcome(answer, problem, saved):
    if answer:
        return "Rank %s, best %d." % (_rank(answer), answer["best"])
    if problem:
        return ("Saved on the badge: " if saved else "Waits in memory: ") + PROBLEMS.get(problem, problem)
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
