"""Where the badge was when it halted, kept on flash: on battery a halt powers the badge off, and the
press that wakes it starts ``main.py`` anew, which comes back to that screen and row."""

import storage

FILE = storage.STATE + "/wake.json"


def save(screen, index):
    try:
        storage.make_dirs(storage.STATE)
        storage.write_json(FILE, {"screen": screen, "index": index})
    except OSError as error:  # a full flash: the wake starts at the menu's top
        print("wake: %s" % error)


def take():
    """(screen, index) saved by the last halt, or (None, 0); forgotten once read, so a later boot
    that did not follow a halt starts at the menu."""
    saved = storage.read_json(FILE, None)
    storage.remove(FILE)
    if not isinstance(saved, dict) or not isinstance(saved.get("index"), int):
        return None, 0
    return saved.get("screen"), saved["index"]
