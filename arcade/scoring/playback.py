"""Plays runs of a game's badge module and prints where each one got to.

This file runs unchanged under CPython and under the MicroPython unix port, so the same
runs played by both must print the same lines: that is how a game shows its rules are
deterministic on the badge and on the server (see arcade/gamecheck.py).

    micropython playback.py GAME_FOLDER < runs

Each input line is one run as JSON, ``[seed, ticks, [[tick, buttons], ...]]``; each output
line is ``[score, ticks played, over]``, or ``["error", message]`` if the game raised.
"""

import json
import sys


def play(game, ticks, inputs):
    """Ticks ``game`` as the launcher does, with the buttons changing at ``inputs``, until the
    game is over or ``ticks`` ticks have passed; answers (score, ticks played, over)."""
    buttons = 0
    upcoming = 0
    for tick in range(ticks):
        if upcoming < len(inputs) and inputs[upcoming][0] == tick:
            buttons = inputs[upcoming][1]
            upcoming += 1
        if not game.tick(buttons):
            return int(game.score), tick + 1, True
    return int(game.score), ticks, False


def main(folder):
    sys.path.insert(0, folder)
    from badge import Game

    for line in sys.stdin:
        if not line.strip():
            continue
        seed, ticks, inputs = json.loads(line)
        try:
            reached = list(play(Game(seed), ticks, inputs))
        except Exception as error:
            reached = ["error", "%s: %s" % (type(error).__name__, error)]
        print(json.dumps(reached))


if __name__ == "__main__":
    main(sys.argv[1])
