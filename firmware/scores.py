"""Scores on their way to the leaderboard, delivered exactly once.

Each finished run is written at once to ``state/queue/<game>.<submission_id>.json`` as the
very body the API expects, then sent whenever the badge is online and logged in. A file
per run (rather than one queue file) keeps the heap bounded by one run, however long the
badge stays offline. The server stores a ``submission_id`` once, so a run whose answer was
lost is simply sent again; the file goes only when the server has answered. A run the
server refuses for good moves to ``state/rejected/`` with the reason, for a human to see.
"""

import errno
import os
from binascii import hexlify

import net
import storage

QUEUE = storage.STATE + "/queue"
REJECTED = storage.STATE + "/rejected"
BESTS = storage.STATE + "/bests.json"


def new_submission_id():
    return hexlify(os.urandom(12)).decode()


def enqueue(game, score, seed, ticks, inputs):
    """Queues a run; ``inputs`` holds tick, buttons, tick, buttons... for each change."""
    submission_id = new_submission_id()
    storage.make_dirs(QUEUE)
    storage.write_atomic(QUEUE + "/%s.%s.json" % (game, submission_id), _body(score, seed, ticks, inputs, submission_id))
    return submission_id


def _body(score, seed, ticks, inputs, submission_id):
    yield '{"score":%d,"submission_id":"%s","run":{"seed":%d,"ticks":%d,"inputs":[' % (score, submission_id, seed, ticks)
    for i in range(0, len(inputs), 2):
        yield ("[%d,%d]" if i == 0 else ",[%d,%d]") % (inputs[i], inputs[i + 1])
    yield "]}}"


def waiting():
    """The queued runs as (game, file name)."""
    try:
        names = os.listdir(QUEUE)
    except OSError:
        return []
    return [(name.split(".")[0], name) for name in names if name.endswith(".json")]


def deliver(server, session):
    """Sends every queued run. Answers (answers by submission_id, refused, problem): refused
    counts the runs set aside for good; problem says why some runs still wait ("offline",
    "slow", "server", "garbled", "busy", "login") or is None."""
    answers = {}
    refused = 0
    for game, name in waiting():
        path = QUEUE + "/" + name
        with open(path) as file:
            body = file.read()
        submission_id = name.split(".")[1]
        try:
            status, answer = _post(server, game, body, session)
        except net.ServerTrouble:  # the identity provider, refreshing the token
            return answers, refused, "server"
        except OSError as error:
            return answers, refused, "slow" if error.errno == errno.ETIMEDOUT else "offline"
        if status in (200, 201):
            shown = isinstance(answer.get("rank"), int) and isinstance(answer.get("best"), int)
            if answer.get("submission_id") != submission_id or not shown:
                return answers, refused, "garbled"  # not the arcade's answer: cut short, a Wi-Fi sign-in page
            storage.remove(path)
            answers[submission_id] = answer
            remember(game, answer)
            player = answer.get("player")
            session.set_name(player.get("name") if isinstance(player, dict) else None)
        elif status == 401 or status is None:
            return answers, refused, "login"
        elif status == 429:
            return answers, refused, "busy"
        elif status == 408 or status >= 500:
            return answers, refused, "server"
        elif not answer:
            return answers, refused, "garbled"  # not the arcade's refusal (another web server's page)
        else:
            _reject(name, status, answer)
            refused += 1
    return answers, refused, None


def _post(server, game, body, session):
    url = server + "/api/v1/games/" + game + "/scores"
    token = session.access_token()
    if token is None:
        return None, {}
    status, answer = net.post_json(url, body, token)
    if status == 401 and session.refresh():
        status, answer = net.post_json(url, body, session.access_token())
    return status, answer


def _reject(name, status, answer):
    storage.make_dirs(REJECTED)
    reason = answer.get("detail") or answer.get("error") or "refused"
    print("scores: the server refused %s (%d): %s" % (name, status, reason))
    os.rename(QUEUE + "/" + name, REJECTED + "/" + name)
    storage.write_json(REJECTED + "/" + name[:-5] + ".reason.json", {"status": status, "answer": answer})


def bests():
    """The player's best and rank per game, as last known: {game: {"best": n, "rank": r}}."""
    return storage.read_json(BESTS, {})


def remember(game, answer):
    """Keeps the server's word on the player's best and rank."""
    known = bests()
    known[game] = {"best": answer.get("best"), "rank": answer.get("rank")}
    storage.make_dirs(storage.STATE)
    storage.write_json(BESTS, known)


def record_local(game, score, higher_is_better):
    """Keeps a run's score as the best when it beats the one known, before the server confirms."""
    known = bests()
    entry = known.get(game) or {}
    best = entry.get("best")
    if best is None or (score > best if higher_is_better else score < best):
        known[game] = {"best": score, "rank": entry.get("rank")}
        storage.make_dirs(storage.STATE)
        storage.write_json(BESTS, known)
