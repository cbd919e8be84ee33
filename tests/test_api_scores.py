"""The score API over HTTP against a real server: the badge's side of the contract."""

import httpx


def test_a_token_from_the_cli_posts_a_score_that_ranks(server):
    token = server.token("ada")
    response = server.post_score(token, 120, "run-000001")
    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["score"], answer["best"], answer["rank"], answer["new_best"]) == (120, 120, 1, True)
    assert answer["player"]["name"] == "ada"
    board = httpx.get(f"{server.url}/api/v1/games/dino/leaderboard").json()
    assert [(e["rank"], e["player"]["name"], e["score"]) for e in board["entries"]] == [(1, "ada", 120)]
