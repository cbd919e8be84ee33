"""Whether a signed games list is fresh, as TUF's timestamps are, as far as a badge can tell: never
older than the newest one it checked (``state/games-issued.json``), so a look-alike server cannot replay
an old list to hold updates back; never signed before the badge was deployed (config.json's
``games_since``), so it cannot replay one at the first Get games either; and not past its ``expires``
when the badge's clock is set (a clock never set, as after the battery ran flat, skips that check).

Loaded after the signature's check, while Get games is open: the server signs ``issued`` and ``expires``.
"""

import storage

ISSUED = "state/games-issued.json"


def check(manifest, now):
    """Refuses the games list ``manifest`` if it was issued before the newest one checked (a replay), or
    expired by ``now`` (the badge's clock, unix seconds; None when not set); remembers its date."""
    issued, expires = manifest.get("issued"), manifest.get("expires")
    if not (isinstance(issued, int) and isinstance(expires, int)):
        raise ValueError("the games list carries no date: the server runs an older arcade than this badge; update it")
    newest = storage.read_json(ISSUED, 0)
    if isinstance(newest, int) and issued < newest:
        raise ValueError(
            "the games list was signed %s before one this badge already checked: an old list sent again, by a "
            "look-alike server? Try again on the arcade's own Wi-Fi" % _span(newest - issued)
        )
    config = storage.read_json(storage.CONFIG, {})
    since = config.get("games_since") if isinstance(config, dict) else None
    if isinstance(since, int) and issued < since:
        raise ValueError(
            "the games list was signed %s before this badge was deployed: an old list sent again, by a look-alike "
            "server? Or the server's clock is behind the deploying computer's. Try again on the arcade's own Wi-Fi"
            % _span(since - issued)
        )
    if now is not None and now > expires:
        raise ValueError(
            "the games list expired %s ago by this badge's clock: an old list sent again, or the clock is wrong? "
            "Try again on the arcade's own Wi-Fi" % _span(now - expires)
        )
    if issued != newest:
        try:
            storage.make_dirs(storage.STATE)
            storage.write_json(ISSUED, issued)
        except OSError as error:  # a full flash: remembered at the next check
            print("fresh: keeping the list's date for later: %s" % error)


def _span(seconds):
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return "%d %s" % (seconds // size, unit)
    return "%d seconds" % seconds
