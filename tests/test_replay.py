"""The server replays every run with the game's own rules: genuine runs rank, forged ones are
refused with the reason, and no run can make a replay go on without bound."""

import time

import pytest
from arcade.games.maze import MAZE
from arcade.games.tiles import badge as tiles

from arcade.scoring.replay import ReplayTooSlow, replay
from arcade.sdk.models import MAX_RUN_INPUTS, Run
from tests.distributions import make_plugin
from tests.runs import DOWN, UP, A, C, maze_path, run_of, tiles_moves

BACK = {A: C, C: A, UP: DOWN, DOWN: UP}


def test_genuine_maze_runs_rank_the_fewest_steps_first(app):
    path = maze_path(5)
    detour = [path[0], BACK[path[0]]] + path  # a step forth and back: two steps more
    assert app.post_score(app.token("ann"), len(detour), "ann-maze-1", "maze", run_of(detour, 5)).status_code == 201
    answer = app.post_score(app.token("ben"), len(path), "ben-maze-1", "maze", run_of(path, 5)).json()
    assert (answer["score"], answer["rank"]) == (len(path), 1)
    board = app.get("/api/v1/games/maze/leaderboard").json()
    assert [(e["player"]["name"], e["score"]) for e in board["entries"]] == [("ben", len(path)), ("ann", len(path) + 2)]


def test_a_whole_game_of_2048_scores_what_its_rules_say(app):
    moves = tiles_moves(3)
    game = tiles.Game(3)
    for move in moves:
        game.tick(move)
        game.tick(0)
    response = app.post_score(app.token("ada"), game.score, "ada-2048-1", "tiles", run_of(moves, 3))
    assert response.status_code == 201, response.text
    assert response.json()["score"] == game.score > 1000


def test_stopping_2048_with_b_keeps_the_score_so_far(app):
    moves = tiles_moves(3)[:20]
    game = tiles.Game(3)
    for move in moves:
        game.tick(move)
        game.tick(0)
    response = app.post_score(app.token("ada"), game.score, "ada-2048-2", "tiles", run_of(moves + [2], 3))
    assert response.status_code == 201, response.text


def refusal(server, game: str, score: int, run: dict) -> str:
    response = server.post_score(server.token("mallory"), score, "forged-run-1", game, run)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["extra"][0]["key"] == "run"
    return problem["detail"]


def test_a_forged_score_is_refused_with_what_the_replay_scored(shared_app):
    path = maze_path(9)
    assert refusal(shared_app, "maze", 12, run_of(path, 9)) == f"run: the replay of this run scores {len(path)}, not 12"
    assert refusal(shared_app, "balloon", 999, {"seed": 1, "inputs": [[0, 1], [10, 2]], "ticks": 11}) == (
        "run: the replay of this run scores 10, not 999"
    )
    for game in ("maze", "balloon"):
        assert shared_app.get(f"/api/v1/games/{game}/leaderboard").json()["entries"] == []


@pytest.mark.parametrize(
    "run, reason",
    [
        ({"seed": 1, "inputs": [[0, 2]], "ticks": 5}, "is over after 1 ticks, but the run says 5"),
        ({"seed": 1, "inputs": [[0, 1]], "ticks": 40}, "is still on after its 40 ticks; a run is sent once its game is over"),
        ({"seed": 1, "inputs": [[5, 1], [3, 2]], "ticks": 9}, "run.inputs[1] is at tick 3, not after the tick before (5)"),
        ({"seed": 1, "inputs": [[0, 1], [9, 2]], "ticks": 9}, "the run's last input is at tick 9, but the run lasts only 9 ticks"),
        ({"seed": 1, "inputs": [], "ticks": 36_001}, "the run lasts 36001 ticks, longer than the 36000 the server replays"),
    ],
)
def test_a_run_that_cannot_be_a_game_of_balloon_is_refused_saying_why(shared_app, run, reason):
    assert reason in refusal(shared_app, "balloon", 0, run)


def test_a_run_on_which_the_rules_raise_is_refused_not_a_server_error(make_app, tmp_path, monkeypatch):
    site = tmp_path / "site-packages"
    make_plugin(site, "fragile", """
        from arcade.sdk.game import GameInfo

        def arcade_register_games(register):
            register(GameInfo(id="fragile", title="Fragile", version="1", package="fragile_rules"))
        """)
    (site / "fragile_rules").mkdir()
    (site / "fragile_rules" / "__init__.py").write_text("")
    (site / "fragile_rules" / "badge.py").write_text(
        "class Game:\n"
        "    TICK_MS = 100\n"
        "    score = 0\n"
        "    def __init__(self, seed):\n"
        "        self.left = 3\n"
        "    def tick(self, buttons):\n"
        "        self.left -= 1\n"
        "        return 1 + 1 // self.left\n"
    )
    monkeypatch.syspath_prepend(site)  # installed: its entry point is found like any other
    reason = refusal(make_app(), "fragile", 0, {"seed": 1, "inputs": [], "ticks": 5})
    assert reason == "run: the replay of this run fails with ZeroDivisionError: integer division or modulo by zero"


def test_more_inputs_than_a_badge_records_are_refused_before_any_replay(shared_app):
    inputs = [[tick, tick % 2] for tick in range(MAX_RUN_INPUTS + 1)]
    response = shared_app.post_score(
        shared_app.token("mallory"), 0, "flood-run-1", "balloon", {"seed": 1, "inputs": inputs, "ticks": 30_000}
    )
    assert response.status_code == 422
    assert "run.inputs" in response.json()["detail"] and str(MAX_RUN_INPUTS) in response.json()["detail"]


def test_a_replay_stops_at_its_time_budget():
    path = maze_path(2)
    with pytest.raises(ReplayTooSlow, match="send it again later"):
        replay(MAZE, Run(**run_of(path, 2)), deadline=time.monotonic())  # spent before it starts
    assert replay(MAZE, Run(**run_of(path, 2))) == len(path)
