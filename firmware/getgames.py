"""The "Get games" screen: the games the server offers that this badge lacks or has older, each
downloaded on A with its progress shown (docs/badge.md, "Games over the air").

One request (``GET /api/v1/badge``) brings the signed list of every game, so it checks every
installed game for an update at once. An app: main.py runs it with the launcher unloaded, for the
heap the signature check and the downloads want beside TLS's share.
"""

import gc
import sys

import install
import net
import signature
import ui
from hal import BLACK, BUTTON_C, UPDATE_TURBO, WHITE, WIDTH

BAR_Y = 64
BAR_H = 16
_SAFE_ID = "abcdefghijklmnopqrstuvwxyz0123456789_"


def run(badge, session, back, server, games, built_ids, deployed_keys):
    """Offers the new and updated games until C (or A+C), then answers the launcher at ``back``,
    which reads its games anew. ``games``: the menu's, ``built_ids``: the build's (kept on flash
    for a roll-back)."""
    try:
        _offer(badge, server, games, built_ids, deployed_keys)
    except ui.Home:
        pass
    return ("launcher", back)


def _offer(badge, server, games, built_ids, deployed_keys):
    ui.status(badge, "games-checking", "Get games", "Asking the server for its games...")
    try:
        manifest = _manifest(badge, server, deployed_keys)
    except (OSError, ValueError) as error:
        _failed(badge, _unlisted(error))
        return
    have = dict((game.get("id"), game) for game in games)
    offers, older = [], []
    for game in manifest["games"]:
        mine = have.get(game["id"])
        if mine is None:
            offers.append((game, "new"))
        elif newer(game["version"], mine.get("version")):
            offers.append((game, "%s > %s" % (mine.get("version"), game["version"])))
        elif newer(mine.get("version"), game["version"]):
            older.append("%s %s" % (game["title"], game["version"]))
    if older:
        text = "The server offers %s, older than this badge's: an old games list sent again? Not installed." % (
            ", ".join(older)
        )
        ui.message(badge, "games-refused", "Get games", text)
    index = 0
    while offers:
        rows = [(game["title"], detail) for game, detail in offers]
        index, button = ui.choose(badge, "get-games", "Get games", rows, min(index, len(rows) - 1), "A: get  C: back")
        if button & BUTTON_C:
            return
        if _download(badge, server, offers[index][0], built_ids):
            del offers[index]
    if not older:
        ui.message(badge, "games-none", "Get games", "Every game of the server is on this badge, up to date.")


def _manifest(badge, server, deployed_keys):
    """The server's signed games list, checked; ValueError saying what is wrong with it."""
    if not badge.isconnected():
        import wifi

        wifi.join(badge, lambda text: ui.status(badge, "games-checking", "Get games", text))
    status, info = net.get_json(server + "/api/v1/badge")
    if status != 200:
        raise OSError("it answered %d" % status)
    catalog = info.get("catalog")
    info = None
    gc.collect()  # RSA's big numbers want room the rest of the answer and its garbage hold
    manifest = signature.check(catalog, deployed_keys, badge.time())
    mine = "%d.%d" % (sys.implementation._mpy & 0xFF, (sys.implementation._mpy >> 8) & 3)
    if manifest.get("mpy") != mine:
        raise ValueError(
            "The server builds games as .mpy version %s and this badge runs %s: install the mpy-cross of the "
            "badge's MicroPython on the server" % (manifest.get("mpy"), mine)
        )
    games = manifest.get("games")
    if not isinstance(games, list) or not all(_valid(game) for game in games):
        raise ValueError("The games list is signed but not of a shape this badge knows: update its firmware")
    return manifest


def _unlisted(error):
    """Why there is no games list, as the player reads it."""
    if isinstance(error, net.Untrusted):
        return "%s. %s" % (error, net.Untrusted.ADVICE)
    if isinstance(error, net.OutOfMemory):
        return net.OutOfMemory.ADVICE
    if isinstance(error, OSError):
        return "The server cannot be reached (%s)." % error
    return "%s." % str(error).rstrip(".")  # the list's own fault, said by _manifest


def _valid(game):
    if not (net.has_strings(game, ("id", "title", "version", "sha256")) and isinstance(game.get("size"), int)):
        return False
    return 0 < len(game["id"]) <= 32 and all(char in _SAFE_ID for char in game["id"])


def _download(badge, server, game, built_ids):
    ui.begin(badge, "games-download", "Get games")
    ui.paragraph(badge, "Downloading %s %s, %d bytes." % (game["title"], game["version"], game["size"]), 4, ui.TITLE_H + 8, WIDTH - 8)
    badge.rectangle(4, BAR_Y, WIDTH - 8, BAR_H)
    badge.set_pen(WHITE)
    badge.rectangle(6, BAR_Y + 2, WIDTH - 12, BAR_H - 4)
    badge.set_pen(BLACK)
    ui.show(badge)
    shown = [0]

    def progress(done, size):
        quarter = done * 4 // size
        if quarter > shown[0]:
            shown[0] = quarter
            badge.rectangle(6, BAR_Y + 2, (WIDTH - 12) * done // size, BAR_H - 4)
            badge.set_update_speed(UPDATE_TURBO)
            badge.partial_update(0, BAR_Y, WIDTH, BAR_H)

    try:
        install.install(server, game, built_ids, progress)
    except install.InstallError as error:
        return _failed(badge, str(error))
    except OSError as error:
        return _failed(badge, "The download of %s stopped: %s. Try again." % (game["title"], error))
    text = "%s %s is installed: it is on the menu." % (game["title"], game["version"])
    ui.message(badge, "games-installed", "Get games", text)
    return True


def _failed(badge, text):
    ui.message(badge, "games-failed", "Get games", text + " Your games are as they were.")
    return False


def newer(version, than):
    """Whether the version ``version`` comes after ``than`` (dotted numbers; others compared as text)."""
    if not isinstance(than, str):
        return isinstance(version, str)
    if not isinstance(version, str):
        return False
    return _parts(version) > _parts(than)


def _parts(version):
    parts = []
    for part in version.split("."):
        parts.append((0, int(part), "") if part.isdigit() else (1, 0, part))
    return parts
