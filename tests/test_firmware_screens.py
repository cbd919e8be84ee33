"""The screens a player reads, under the MicroPython unix port against the real server: the rank
among the board's players, the summary of a send, 2048's tiles, the chosen menu row."""

import json
import re

import httpx
from PIL import Image

from arcade.games.dino import badge as dino
from arcade.games.tiles import badge as tiles
from arcade.scoring.playback import play
from tests.runs import dino_run, run_of, tiles_moves
from tests.simulator import PLAY_DINO, Badge, logged_in_badge

NO_SERVER = "http://127.0.0.1:9"


def score_of(rules, run: dict) -> int:
    return play(rules.Game(run["seed"]), run["ticks"], run["inputs"])[0]


def post(server, player: str, game: str, run: dict, submission_id: str) -> dict:
    body = {"score": score_of(dino if game == "dino" else tiles, run), "run": run, "submission_id": submission_id}
    headers = {"Authorization": f"Bearer {server.token(player)}"}
    response = httpx.post(f"{server.url}/api/v1/games/{game}/scores", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def queue(badge: Badge, game: str, run: dict, submission_id: str) -> int:
    """Puts a finished run in the badge's queue, as the launcher writes it; answers its score."""
    score = score_of(dino if game == "dino" else tiles, run)
    folder = badge.root / "state" / "queue"
    folder.mkdir(parents=True, exist_ok=True)
    body = {"score": score, "submission_id": submission_id, "run": run}
    (folder / f"{game}.{submission_id}.json").write_text(json.dumps(body))
    return score


def test_the_result_says_the_rank_among_the_players_of_the_board(badge_build, server, tmp_path):
    for number, player in enumerate(("bob", "cy"), 1):
        post(server, player, "dino", dino_run(number), f"{player}-run-000001")
    badge = logged_in_badge(badge_build, tmp_path / "flash", server, server.token("ada"))

    result = badge.play(PLAY_DINO)

    assert result.returncode == 0, result.output
    said = result.last("result").said
    shown = re.search(r"Rank #(\d+) of (\d+), best \d+\. A: menu$", said)
    assert shown, said
    rank, players = shown.groups()
    board = httpx.get(f"{server.url}/api/v1/games/dino/leaderboard").json()
    assert players == "3" == str(board["players"])
    assert int(rank) == next(entry["rank"] for entry in board["entries"] if entry["player"]["name"] == "ada")


def test_the_send_summary_lists_each_run_once_with_its_own_score(badge_build, server, tmp_path):
    badge = logged_in_badge(badge_build, tmp_path / "flash", server, server.token("ada"))
    dinos = [queue(badge, "dino", dino_run(seed), f"{seed:024x}") for seed in (1, 2)]
    moves = tiles_moves(7)
    tile = queue(badge, "tiles", run_of(moves, 7), f"{7:024x}")
    (badge.root / "state" / "queue" / f"dino.{9:024x}.json").write_text('{"score": 3, "submission_id": "00')
    assert dinos[0] != dinos[1]

    result = badge.play("wait sent\nexit\n")

    assert result.returncode == 0, result.output
    said = result.last("sent").said
    assert said.startswith("Scores Sent 3 scores. ")
    shown = re.search(r"Dino: (\d+), (\d+); rank #1 of 1, best (\d+)\.", said)
    assert shown, said
    first, second, best = shown.groups()
    assert sorted((int(first), int(second))) == sorted(dinos) and int(best) == max(dinos)
    assert f"2048: {tile}; rank #1 of 1, best {tile}." in said
    assert said.count("Dino") == said.count("2048") == 1
    assert "1 refused, kept in state/rejected/." in said
    assert badge.queued() == []


def test_2048_shows_each_tiles_value_inside_it(badge_build, tmp_path):
    shots = tmp_path / "shots"
    badge = Badge(badge_build, tmp_path / "flash", NO_SERVER)
    presses = "".join(f"{4 * n + 2} {button}\n{4 * n + 3} -\n" for n, button in enumerate(["up", "a", "down", "c"] * 6))

    result = badge.play(
        f"wait menu\n1 down\n2 -\n3 down\n4 -\n5 a\n6 -\nwait tiles\n{presses}110 b\n111 -\nwait result\nexit\n",
        screenshots=shots,
    )

    assert result.returncode == 0, result.output
    [queued] = badge.queued()
    run = json.loads((badge.root / "state" / "queue" / queued).read_text())["run"]
    game = tiles.Game(run["seed"])
    play(game, run["ticks"], run["inputs"])  # B ended the game: the board as last shown
    values = [str(1 << tile) for tile in game.cells if tile]
    assert len(values) >= 4 and max(map(int, values)) >= 4
    assert result.last("tiles").text.split(" | ")[: len(values)] == values
    shot = Image.open(sorted(shots.glob("*-tiles.png"))[-1])
    for cell, tile in enumerate(game.cells):
        if tile:  # a black tile with white digits in its middle, none touching its edge
            x, y = tiles.LEFT + cell % tiles.SIZE * tiles.CELL_W, tiles.TOP + cell // tiles.SIZE * tiles.CELL_H
            inside = [
                shot.getpixel((x + dx, y + dy))
                for dx in range(3, tiles.CELL_W - 3)
                for dy in range(3, tiles.CELL_H - 3)
            ]
            edge = [shot.getpixel((x + dx, y + 2)) for dx in range(2, tiles.CELL_W - 2)]
            assert 12 <= inside.count(255) and set(edge) == {0}, (cell, 1 << tile)


def test_the_chosen_menu_row_stands_apart_from_the_title_bar(badge_build, tmp_path):
    shots = tmp_path / "shots"
    badge = Badge(badge_build, tmp_path / "flash", NO_SERVER)

    result = badge.play("wait menu\n1 down\n2 -\n3 up\n4 -\nexit\n", screenshots=shots)

    assert result.returncode == 0, result.output
    for shot in sorted(shots.glob("*-menu.png")):  # the first row chosen, then the second, then the first
        menu = Image.open(shot)
        assert {menu.getpixel((x, 15)) for x in range(296)} == {0}, shot.name  # the title bar's last line
        assert {menu.getpixel((x, 16)) for x in range(296)} == {255}, shot.name  # then a white line, always
    first, second, back = (Image.open(shot) for shot in sorted(shots.glob("*-menu.png")))
    assert first.getpixel((150, 20)) == back.getpixel((150, 20)) == 0 and second.getpixel((150, 20)) == 255
    assert second.getpixel((150, 36)) == 0 and {second.getpixel((x, 32)) for x in range(296)} == {255}
