"""The games got over the air, as the flash holds them: the index the menu lists, the journal
that makes an install all or nothing, and the trial of a new version.

An install (firmware/install.py) ends with a journal naming the change (``commit.json``),
written in one atomic rename: the commit point. :func:`apply` then renames the files into place
and writes the index (``index.json``). Power lost before the journal leaves the game as it was
(:func:`recover` removes the half download at boot); lost after it, :func:`recover` finishes the
change. Every step of it can run twice.

An update keeps the version it replaces (``<id>.old.mpy``, or the build's own copy in
``games/``) until the new one has run to its end once; a new version that crashed, or never came
back from, :data:`TRIES` runs is replaced by the kept one. Loaded by the launcher at boot; kept
small, as it stays in the heap.
"""

import os

import storage

FOLDER = storage.STATE + "/games"
STAGING = FOLDER + "/new"
INDEX = FOLDER + "/index.json"
JOURNAL = FOLDER + "/commit.json"
TRIES = 2


def module(game_id):
    return FOLDER + "/" + game_id + ".mpy"


def kept(game_id):
    return FOLDER + "/" + game_id + ".old.mpy"


def read_index():
    """The games got over the air, by id, as the launcher lists them."""
    index = storage.read_json(INDEX, {})
    return index if isinstance(index, dict) else {}


def games(built):
    """The build's games (manifest.json's), each replaced by its version got over the air, then
    the games got over the air that the build lacks."""
    index = read_index()
    listed = [index.pop(game.get("id"), None) or game for game in built]
    return listed + [index[game_id] for game_id in index]


def commit(journal):
    storage.write_json(JOURNAL, journal)  # the commit point: from here boot finishes the change
    apply(journal)


def apply(journal):
    """Carries out the change the journal names; running it again after a power cut is harmless."""
    game_id = journal["id"]
    current = module(game_id)
    source = journal.get("from")
    if source and storage.exists(source):
        if journal.get("keep") and storage.exists(current):
            os.rename(current, kept(game_id))
        os.rename(source, current)
    index = read_index()
    entry = journal.get("entry")
    if entry is None:
        index.pop(game_id, None)
    else:
        index[game_id] = entry
    storage.write_json(INDEX, index)
    if entry is None:
        storage.remove(current)
        storage.remove(kept(game_id))
    storage.remove(JOURNAL)


def recover():
    """At boot: finishes a change the power cut short after its commit point, and removes a
    download it cut short before."""
    journal = storage.read_json(JOURNAL, None)
    if isinstance(journal, dict) and isinstance(journal.get("id"), str):
        print("install: finishing the installation of %s" % journal["id"])
        apply(journal)
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
    index = read_index()
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
    index = read_index()
    entry = index.get(game_id)
    if entry and "previous" in entry:
        del entry["previous"]
        entry.pop("tries", None)
        try:
            storage.write_json(INDEX, index)
        except OSError as error:  # a full flash: the version stays on trial a while longer
            print("install: %s" % error)
            return
        storage.remove(kept(game_id))


def crashed(game_id):
    """After a crash: rolls the version back if it used up its tries; answers what to say, or None."""
    entry = read_index().get(game_id)
    if entry and "previous" in entry and entry.get("tries", 0) >= TRIES:
        return _roll_back(entry)
    return None


def _roll_back(entry):
    previous = entry["previous"]
    game_id = entry["id"]
    if previous == "build":
        commit({"id": game_id, "entry": None})
        back = "the version the badge was deployed with"
    else:
        commit({"id": game_id, "entry": previous, "from": kept(game_id)})
        back = previous["version"]
    return "%s %s crashed on its first %d runs, so the badge went back to %s." % (
        entry["title"], entry["version"], TRIES, back
    )
