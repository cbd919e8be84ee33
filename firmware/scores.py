"""Scores on their way to the leaderboard, delivered exactly once.

Each finished run is written at once to ``state/queue/<game>.<submission_id>.json`` as the
very body the API expects, then sent whenever the badge is online and logged in. A file
per run (rather than one queue file) keeps the heap bounded by one run, however long the
badge stays offline. The server stores a ``submission_id`` once, so a run whose answer was
lost is simply sent again; the file goes only when the server has answered. A run the
server refuses for good (or one too damaged to send) moves to ``state/rejected/`` with the
reason, for a human to see. When the flash is full a run waits in memory instead, until it is
sent or the badge turns off.
"""

import errno
import os
from binascii import hexlify

import net
import storage
from micropython import const

QUEUE = storage.STATE + "/queue"
REJECTED = storage.STATE + "/rejected"
BESTS = storage.STATE + "/bests.json"
_MAX_UNSAVED = const(8)
_unsaved = {}  # file name -> body, for the runs the flash had no room for
_BANNED = "this player is banned"
ID_TOKEN_HEADER = "Arcade-ID-Token"
banned = None  # the server's word when the last delivery found the player banned, else None


def new_submission_id():
    return hexlify(os.urandom(12)).decode()


def enqueue(game, score, seed, ticks, inputs):
    """Queues a run; ``inputs`` holds tick, buttons, tick, buttons... for each change.
    Answers (submission_id, saved): saved is False when the flash had no room, so the run
    waits in memory."""
    submission_id = new_submission_id()
    name = game + "." + submission_id + ".json"
    try:
        storage.make_dirs(QUEUE)
        storage.write_atomic(QUEUE + "/" + name, _body(score, seed, ticks, inputs, submission_id))
        return submission_id, True
    except OSError as error:
        print("scores: %s waits in memory: %s" % (name, error))
    _unsaved[name] = "".join(_body(score, seed, ticks, inputs, submission_id))
    return submission_id, False


def no_room():
    """Why no new run could be kept (the flash is full and memory holds all it may), or None."""
    if len(_unsaved) < _MAX_UNSAVED:
        return None
    return "The flash is full and %d scores wait in memory: send them (B: account), or make room on the flash." % len(_unsaved)


def _body(score, seed, ticks, inputs, submission_id):
    yield '{"score":%d,"submission_id":"%s","run":{"seed":%d,"ticks":%d,"inputs":[' % (score, submission_id, seed, ticks)
    for i in range(0, len(inputs), 2):
        yield ("[%d,%d]" if i == 0 else ",[%d,%d]") % (inputs[i], inputs[i + 1])
    yield "]}}"


def waiting():
    """The runs waiting to be sent as (game, file name): on flash, then in memory."""
    try:
        names = [name for name in os.listdir(QUEUE) if name.endswith(".json")]
    except OSError:
        names = []
    return [(name.split(".")[0], name) for name in names + list(_unsaved)]


def deliver(server, session):
    """Sends every waiting run. Answers (answers by submission_id, refused, problem): refused
    counts the runs set aside for good; problem says why some runs still wait ("offline",
    "slow", "server", "garbled", "busy", "login", "untrusted") or is None."""
    global banned
    answers = {}
    refused = 0
    banned = None
    for game, name in waiting():
        submission_id = name.split(".")[1]
        try:
            body = _unsaved.get(name)
            if body is None:
                with open(QUEUE + "/" + name, "rb") as file:  # bytes: a damaged file may not be UTF-8
                    body = file.read()
            status, answer = _post(server, game, body, session)
            del body
        except OSError as error:  # the run waits, sent again by its submission_id
            print("scores: %s" % error)
            return answers, refused, _problem(error)
        except MemoryError:  # a damaged file too big to send from here
            _reject(name, None, {"detail": "too big for the badge's memory to send"})
            refused += 1
            continue
        if status in (200, 201):
            shown = isinstance(answer.get("rank"), int) and isinstance(answer.get("best"), int)
            if answer.get("submission_id") != submission_id or not shown:
                return answers, refused, "garbled"  # not the arcade's answer: cut short, a Wi-Fi sign-in page
            if _unsaved.pop(name, None) is None:
                storage.remove(QUEUE + "/" + name)
            answers[submission_id] = answer
            session.id_token_sent()
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
        else:  # refused for good: set aside, never sent again (a banned player's runs too)
            detail = answer.get("detail")
            if status == 403 and isinstance(detail, str) and detail.startswith(_BANNED):
                banned = detail
            _reject(name, status, answer)
            refused += 1
    return answers, refused, None


def _problem(error):
    """Why a request that raised ``error`` left the runs waiting (online.PROBLEMS says it)."""
    if isinstance(error, net.ServerTrouble):  # the identity provider, refreshing the token
        return "server"
    if isinstance(error, net.Untrusted):  # a look-alike: neither the run nor a token went to it
        return "untrusted"
    if isinstance(error, net.OutOfMemory):
        return "memory"
    return "slow" if error.errno == errno.ETIMEDOUT else "offline"


def _post(server, game, body, session):
    url = server + "/api/v1/games/" + game + "/scores"
    token = session.access_token()
    if token is None:
        return None, {}
    status, answer = net.post_json(url, body, token, _naming(session))
    if status == 401 and session.refresh():
        status, answer = net.post_json(url, body, session.access_token(), _naming(session))
    return status, answer


def _naming(session):
    """The ID token, sent with a score once per login (and refresh): where the server finds the
    player's name when the provider refuses the API's token at userinfo."""
    id_token = session.id_token
    return {ID_TOKEN_HEADER: id_token} if id_token else None


def _reject(name, status, answer):
    """Sets a run aside in state/rejected/ with the reason."""
    print("scores: %s is set aside (%s): %s" % (name, status, answer.get("detail") or answer.get("error") or "refused"))
    body = _unsaved.pop(name, None)
    try:
        storage.make_dirs(REJECTED)
        if body is None:
            os.rename(QUEUE + "/" + name, REJECTED + "/" + name)
        else:
            storage.write_atomic(REJECTED + "/" + name, (body,))
        storage.write_json(REJECTED + "/" + name[:-5] + ".reason.json", {"status": status, "answer": answer})
    except OSError as error:  # a full flash
        print("scores: %s: %s" % (name, error))


def bests():
    """The player's best and rank per game, as last known: {game: {"best": n, "rank": r}}."""
    known = storage.read_json(BESTS, {})
    if not isinstance(known, dict):
        return {}
    for game in list(known):
        if not isinstance(known[game], dict) or not isinstance(known[game].get("best"), int):
            del known[game]  # damaged: not guessed
    return known


def remember(game, answer):
    """Keeps the server's word on the player's best and rank."""
    known = bests()
    known[game] = {"best": answer["best"], "rank": answer["rank"]}
    _keep_bests(known)


def record_local(game, score, higher_is_better):
    """Keeps a run's score as the best when it beats the one known, before the server confirms."""
    known = bests()
    entry = known.get(game) or {}
    best = entry.get("best")
    if best is None or (score > best if higher_is_better else score < best):
        known[game] = {"best": score, "rank": entry.get("rank")}
        _keep_bests(known)


def _keep_bests(value):
    try:
        storage.make_dirs(storage.STATE)
        storage.write_json(BESTS, value)
    except OSError as error:  # a full flash: the bests are only a reminder
        print("scores: %s: %s" % (BESTS, error))
