"""The games got over the air, on flash: installed all or nothing, recovered at boot, rolled back
when a new version crashes on its first runs.

A download goes to ``state/games/new/`` and is checked there (size, sha256, .mpy version). Then
a journal naming the change (``commit.json``) is written in one atomic rename, the commit point;
the files are renamed into place and the index (``index.json``) written after it. Power lost
before the journal leaves the game as it was (boot removes the half download); lost after it,
boot finishes the change from the journal. Every step of it can run twice.

An update keeps the version it replaces (``<id>.old.mpy``, or the build's own copy in
``games/``) until the new one has run to its end once; a new version that crashed, or never came
back from, :data:`TRIES` runs is replaced by the kept one.
"""

import hashlib
import os
from binascii import hexlify

import net
import storage

FOLDER = storage.STATE + "/games"
STAGING = FOLDER + "/new"
INDEX = FOLDER + "/index.json"
JOURNAL = FOLDER + "/commit.json"
TRIES = 2
MARGIN = 3 * 4096
"""Flash a download needs besides the game: the journal, the index rewritten, littlefs's own blocks."""
ENOSPC = 28


class InstallError(Exception):
    """What the player reads when a download cannot be installed; nothing was changed."""


def module(game_id):
    return FOLDER + "/" + game_id + ".mpy"


def _kept(game_id):
    return FOLDER + "/" + game_id + ".old.mpy"


def installed():
    """The games got over the air, by id, as the launcher lists them."""
    index = storage.read_json(INDEX, {})
    return index if isinstance(index, dict) else {}


def games(built):
    """The build's games (manifest.json's), each replaced by its version got over the air, then
    the games got over the air that the build lacks."""
    index = installed()
    listed = [index.pop(game.get("id"), None) or game for game in built]
    return listed + [index[game_id] for game_id in index]


def free_bytes():
    stat = os.statvfs(storage.STATE)
    return stat[1] * stat[4]


def install(server, game, built_ids, progress):
    """Downloads ``game`` (an entry of the checked manifest), checks it, and puts it in place.
    ``progress(done, size)`` hears of each piece. InstallError, or OSError from the network, when
    it cannot; then nothing was changed."""
    game_id, size = game["id"], game["size"]
    storage.make_dirs(STAGING)
    free = free_bytes()
    if free < size + MARGIN:
        raise InstallError(
            "%s needs %d KB of flash and %d KB are free. Make room with mpremote (state/rejected/ can go)."
            % (game["title"], (size + MARGIN + 1023) // 1024, free // 1024)
        )
    staged = STAGING + "/" + game_id + ".mpy"
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
    before = installed().get(game_id)
    entry = {}
    for key in ("id", "title", "version", "order", "unit", "sha256", "size"):
        entry[key] = game[key]
    entry["module"] = module(game_id)
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
        _commit({"id": game_id, "entry": entry, "from": staged, "keep": True})
    except OSError as error:  # no room for the journal or the index
        print("install: %s" % error)
        if not storage.exists(JOURNAL):
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


def _commit(journal):
    storage.write_json(JOURNAL, journal)  # the commit point: from here boot finishes the change
    _apply(journal)


def _apply(journal):
    """Carries out the change the journal names; running it again after a power cut is harmless."""
    game_id = journal["id"]
    current = module(game_id)
    source = journal.get("from")
    if source and storage.exists(source):
        if journal.get("keep") and storage.exists(current):
            os.rename(current, _kept(game_id))
        os.rename(source, current)
    index = installed()
    entry = journal.get("entry")
    if entry is None:
        index.pop(game_id, None)
    else:
        index[game_id] = entry
    storage.write_json(INDEX, index)
    if entry is None:
        storage.remove(current)
        storage.remove(_kept(game_id))
    storage.remove(JOURNAL)


def recover():
    """At boot: finishes a change the power cut short after its commit point, and removes a
    download it cut short before."""
    journal = storage.read_json(JOURNAL, None)
    if isinstance(journal, dict) and isinstance(journal.get("id"), str):
        print("install: finishing the installation of %s" % journal["id"])
        _apply(journal)
    storage.remove(JOURNAL + ".tmp")  # a journal the power cut short: the change never began
    try:
        names = [entry[0] for entry in os.ilistdir(STAGING)]
    except OSError:  # no download ever
        return
    for name in names:
        print("install: removing the unfinished download %s" % name)
        storage.remove(STAGING + "/" + name)


# Trying a new version out.
def starting(game_id):
    """Called before a run: counts a run of a version on trial, or rolls it back (answering what
    the player should read) when it used up its tries without ever ending cleanly."""
    index = installed()
    entry = index.get(game_id)
    if not entry or "previous" not in entry:
        return None
    if entry.get("tries", 0) >= TRIES:
        return _roll_back(entry)
    entry["tries"] = entry.get("tries", 0) + 1
    try:
        storage.write_json(INDEX, index)
    except OSError as error:  # a full flash: this run is not counted
        print("install: %s" % error)
    return None


def ran_cleanly(game_id):
    """The new version played to its end: the one kept for a roll-back is not needed any more."""
    index = installed()
    entry = index.get(game_id)
    if entry and "previous" in entry:
        del entry["previous"]
        entry.pop("tries", None)
        try:
            storage.write_json(INDEX, index)
        except OSError as error:  # a full flash: the version stays on trial a while longer
            print("install: %s" % error)
            return
        storage.remove(_kept(game_id))


def crashed(game_id):
    """After a crash: rolls the version back if it used up its tries; answers what to say, or None."""
    entry = installed().get(game_id)
    if entry and "previous" in entry and entry.get("tries", 0) >= TRIES:
        return _roll_back(entry)
    return None


def _roll_back(entry):
    previous = entry["previous"]
    game_id = entry["id"]
    if previous == "build":
        _commit({"id": game_id, "entry": None})
        back = "the version the badge was deployed with"
    else:
        _commit({"id": game_id, "entry": previous, "from": _kept(game_id)})
        back = previous["version"]
    return "%s %s crashed on its first %d runs, so the badge went back to %s." % (
        entry["title"], entry["version"], TRIES, back
    )
