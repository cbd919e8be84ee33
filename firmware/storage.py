"""Badge state on flash. Every write goes to a temporary file first, then is renamed into
place, so a reset or a flat battery mid-write leaves the old file or the new one, never half.

Paths are relative to the working directory: ``/`` on the badge, the simulator's folder
in ``arcade sim``.
"""

import json
import os

CONFIG = "config.json"
"""What ``arcade deploy`` wrote: the server, the keys games lists are signed with, the deploy's date."""
STATE = "state"
CRASHES = STATE + "/crashes.json"
"""The launcher's crashes in a row (firmware/main.py): on flash, so a hard reset does not forget them."""


def make_dirs(path):
    """Creates each folder of ``path`` that is missing."""
    built = ""
    for part in path.split("/"):
        built = built + "/" + part if built else part
        try:
            os.mkdir(built)
        except OSError:  # already there
            pass


def write_atomic(path, chunks):
    """Writes the strings of ``chunks`` as the new content of ``path``, all or nothing. A write
    the flash has no room for raises OSError (ENOSPC) and leaves no temporary file behind."""
    temporary = path + ".tmp"
    try:
        with open(temporary, "w") as file:
            for chunk in chunks:
                file.write(chunk)
        os.rename(temporary, path)
    except OSError:
        remove(temporary)
        raise


def write_json(path, value):
    write_atomic(path, (json.dumps(value),))


def read_json(path, default=None):
    """The JSON in ``path``, or ``default`` when it is missing or damaged (then kept aside)."""
    try:
        file = open(path)
    except OSError:
        return default
    try:
        return json.load(file)
    except ValueError:  # UnicodeError too
        pass
    finally:
        file.close()
    keep_aside(path, "is not valid JSON")
    return default


def keep_aside(path, why):
    """Keeps a damaged file as ``path.bad`` for a human to look at, never silently overwritten."""
    print("storage: %s %s; kept as %s.bad" % (path, why, path))
    try:
        os.rename(path, path + ".bad")
    except OSError as error:  # a full flash
        print("storage: %s: %s" % (path, error))


def remove(path):
    try:
        os.remove(path)
    except OSError:  # already gone
        pass


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False
