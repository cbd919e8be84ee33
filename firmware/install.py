"""Installing a game got over the air: downloaded into ``state/games/new/``, checked there (size,
sha256 on the way and read back, .mpy version), then committed (firmware/installed.py), so a
game is installed whole or not at all. Loaded only while the Get games screen is open.
"""

import hashlib
import os
from binascii import hexlify

import installed
import storage

MARGIN = 3 * 4096
"""Flash a download needs besides the game: the journal, the index rewritten, littlefs's own blocks."""
ENOSPC = 28


class InstallError(Exception):
    """What the player reads when a download cannot be installed; nothing was changed."""


def free_bytes():
    stat = os.statvfs(storage.STATE)
    return stat[1] * stat[4]


def install(server, game, built_ids, progress):
    """Downloads ``game`` (an entry of the checked manifest), checks it, and puts it in place.
    ``progress(done, size)`` hears of each piece. InstallError, or OSError from the network, when
    it cannot; then nothing was changed."""
    import net  # with its HTTP library, only while getting games: the menu's heap stays as it was

    game_id, size = game["id"], game["size"]
    storage.make_dirs(installed.STAGING)
    free = free_bytes()
    if free < size + MARGIN:
        raise InstallError(
            "%s needs %d KB of flash and %d KB are free. Make room with mpremote (state/rejected/ can go)."
            % (game["title"], (size + MARGIN + 1023) // 1024, free // 1024)
        )
    staged = installed.STAGING + "/" + game_id + ".mpy"
    digest = hashlib.sha256()
    done = [0]
    try:
        with open(staged, "wb") as file:

            def write(chunk):
                digest.update(chunk)
                file.write(chunk)
                done[0] += len(chunk)
                progress(done[0], size)

            net.download(server + "/api/v1/badge/files/" + game["sha256"] + ".mpy", write, size)
    except OSError as error:
        storage.remove(staged)
        if error.args and error.args[0] == ENOSPC:
            raise InstallError("The flash filled up during the download of %s. Make room with mpremote." % game["title"])
        raise
    problem = _problem(staged, game, hexlify(digest.digest()).decode())
    if problem:
        storage.remove(staged)
        raise InstallError(problem)
    before = installed.read_index().get(game_id)
    entry = {}
    for key in ("id", "title", "version", "order", "unit", "sha256", "size"):
        entry[key] = game[key]
    entry["module"] = installed.module(game_id)
    entry["import"] = storage.STATE + ".games." + game_id
    if before:
        before.pop("previous", None)
        before.pop("tries", None)
        entry["previous"] = before
    elif game_id in built_ids:
        entry["previous"] = "build"
    if "previous" in entry:
        entry["tries"] = 0
    try:
        installed.commit({"id": game_id, "entry": entry, "from": staged, "keep": True})
    except OSError as error:  # no room for the journal or the index
        print("install: %s" % error)
        if not storage.exists(installed.JOURNAL):
            storage.remove(staged)
            raise InstallError("The flash is too full to install %s. Make room with mpremote." % game["title"])
        raise InstallError("The flash is too full to finish installing %s; the badge finishes at its next start." % game["title"])


def _problem(path, game, received):
    """Why the staged file is not the one the signed list names, or None. Read back from the
    flash, not only hashed on the way: a write the flash got wrong is caught here."""
    if received != game["sha256"]:
        return "%s arrived damaged: its sha256 is not the one the signed list gives. Try again." % game["title"]
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        header = chunk = file.read(4)
        while chunk:
            digest.update(chunk)
            chunk = file.read(512)
    if hexlify(digest.digest()).decode() != game["sha256"]:
        return "%s was written to the flash wrongly. Try again." % game["title"]
    import sys

    if len(header) < 2 or header[0] != ord("M") or header[1] != sys.implementation._mpy & 0xFF:
        return "%s is not a .mpy file this badge can run." % game["title"]
    return None


