"""The two servers the arcade is measured against, on the arcade's own paths and uvicorn settings.

- ``bare``: Litestar answering fixed JSON, the ceiling for any endpoint on this stack.
- ``seed``: the seed talk's design rebuilt on this stack: the bearer token is
  verified, then the whole JSON file ``{subject: [scores]}`` is read on every
  request; a score is appended and the whole file rewritten with plain ``json``;
  the top ten come from sorting every player by their best score.

Run one with ``python bench/baselines.py bare|seed --port N [--site FOLDER]``.
"""

import argparse
import json
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar, Request, get, post
from litestar.exceptions import NotAuthorizedException

SCORES_PATH = "/api/v1/games/{game_id:str}/scores"
LEADERBOARD_PATH = "/api/v1/games/{game_id:str}/leaderboard"
TOP = 10


def bare_app() -> Litestar:
    @post(SCORES_PATH)
    async def submit_score(game_id: str, data: dict[str, Any]) -> dict:
        return {"game": game_id, "stored": True}

    @get(LEADERBOARD_PATH)
    async def leaderboard(game_id: str) -> dict:
        return {"game": game_id, "entries": []}

    return Litestar([submit_score, leaderboard])


def seed_app(database: Path, identity) -> Litestar:
    """The seed's handlers block the event loop on file I/O, as the seed's did."""

    @post(SCORES_PATH)
    async def submit_score(request: Request, data: dict[str, Any]) -> dict:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            raise NotAuthorizedException("a bearer token is needed")
        principal = await identity.verify(token)
        scores = json.loads(database.read_text())
        scores.setdefault(principal.subject, []).append(int(data["score"]))
        database.write_text(json.dumps(scores))
        return {"status": "ok", "message": "Data written successfully."}

    @get(LEADERBOARD_PATH)
    async def leaderboard() -> dict:
        scores = json.loads(database.read_text())
        top = sorted(scores, key=lambda player: max(scores[player]), reverse=True)[:TOP]
        return {player: max(scores[player]) for player in top}

    return Litestar([submit_score, leaderboard])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["bare", "seed"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--site", type=Path, help="seed: the folder with arcade.toml, arcade-data/ and seed.json")
    args = parser.parse_args()
    if args.kind == "bare":
        app = bare_app()
    else:
        from arcade.platform import config
        from arcade.platform.assembly import assemble

        settings = config.load(args.site / "arcade.toml")
        identity = assemble(settings, data_dir=args.site / "arcade-data", with_store=False).identity
        app = seed_app(args.site / "seed.json", identity)
    # The settings `arcade serve` gives uvicorn.
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", timeout_graceful_shutdown=30)


if __name__ == "__main__":
    main()
