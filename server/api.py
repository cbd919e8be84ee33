"""The v1 JSON API the badges talk to (docs/architecture.md, "The badge ↔ server API")."""

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, SkipValidation
from litestar.response import File

from arcade.badge.catalog import Catalog
from arcade.platform.assembly import Arcade
from arcade.scoring.replay import Replays, RunRefused
from arcade.sdk.game import GameInfo
from arcade.sdk.identity import IdentityProvider, Principal
from arcade.sdk.models import (
    BadgeGame,
    BadgeInfo,
    GameSummary,
    LeaderboardPage,
    Player,
    PlayerDetail,
    ScoreAccepted,
    ScoreSubmission,
    display_name,
    player_id,
)
from arcade.sdk.store import REFUSED_INPUTS, RefusedRun, Store, StoreError
from arcade.sdk.web import TOKEN_REFUSED, bearer_token, errors, safe_picture, score_scope
from arcade.server.boards import find_window, window_board
from arcade.server.errors import NoBadRequest, invalid
from arcade.server.wiring import game_exists, submission_budget

API_VERSION = 1
MAX_PAGE = 100
MAX_BODY = 512 * 1024
"""Bytes a score submission may have: the longest run the models allow is about 300 KiB."""
NO_GAME = "no game with this id (GET /api/v1/games lists them)"

ID_TOKEN_HEADER = "Arcade-ID-Token"
"""The OpenID Connect ID token a badge sends with a score once after it logs in: the provider names
the player from it when the API's access token names no one (docs/identity-providers.md)."""
log = logging.getLogger("arcade.api")


def summary(game: GameInfo) -> GameSummary:
    return GameSummary(
        id=game.id,
        title=game.title,
        version=game.version,
        order=game.order,
        unit=game.unit,
        min_score=game.min_score,
        max_score=game.max_score,
    )


def strictly(body: bytes, model: type):
    """Decode ``body`` with no type coercion.

    Litestar decodes ``data`` leniently (``"12"`` becomes ``12``); its ``data``
    parameter still documents the schema, and this second, strict decode of the
    cached body (microseconds) makes a wrongly typed field a 422.
    """
    try:
        return msgspec.json.decode(body, type=model)
    except msgspec.ValidationError as error:
        message, _, path = str(error).partition(" - at `$.")
        raise invalid(path.rstrip("`") or "(body)", message) from None
    except msgspec.DecodeError as error:
        raise ValidationException(detail=f"the body is not valid JSON: {error}") from None


class ApiController(Controller):
    path = "/api/v1"
    tags = ["api"]
    request_max_body_size = MAX_BODY

    @get("/badge")
    async def badge(
        self,
        arcade: NamedDependency[Arcade],
        identity: NamedDependency[SkipValidation[IdentityProvider]],
        catalog: NamedDependency[SkipValidation[Catalog]],
    ) -> BadgeInfo:
        """Everything a badge needs at boot: the time, the games, how to log in, and the games it can
        get over the air in a signed manifest (``catalog``, null when the server cannot build them)."""
        return BadgeInfo(
            catalog=await catalog.signed(),
            api_version=API_VERSION,
            server_time=int(time.time()),
            games=[
                BadgeGame(id=g.id, title=g.title, version=g.version, order=g.order, unit=g.unit)
                for g in arcade.ordered_games()
            ],
            identity=identity.device_settings(),
        )

    @get(
        "/badge/files/{name:str}",
        media_type="application/octet-stream",
        operation_class=NoBadRequest,
        responses=errors({404: "no file of this name in the catalogue (its name is the sha256 the manifest lists)"}),
    )
    async def badge_file(self, name: FromPath[str], catalog: NamedDependency[SkipValidation[Catalog]]) -> File:
        """A game's ``.mpy`` as the signed manifest lists it, named by its sha256: it never changes."""
        path = await asyncio.to_thread(catalog.file, name)
        if path is None:
            raise NotFoundException(f"no file {name!r}; GET /api/v1/badge lists the games and their files")
        return File(
            path,
            filename=name,
            content_disposition_type="inline",
            headers={"Cache-Control": "max-age=31536000, immutable"},
        )

    @get("/games")
    async def games(self, arcade: NamedDependency[Arcade]) -> list[GameSummary]:
        return [summary(game) for game in arcade.ordered_games()]

    @post(
        "/games/{game_id:str}/scores",
        status_code=201,
        guards=[game_exists, bearer_token, score_scope, submission_budget],
        security=[{"bearer": []}],
        responses=errors(
            {
                400: "the body is not JSON, or is nested too deeply to read",
                401: TOKEN_REFUSED,
                403: "the access token does not carry the scope to post scores, or the organisers banned this "
                "player (the detail says why)",
                404: NO_GAME,
                409: "this submission_id was sent before with another score or run",
                413: "the body is over 512 KiB",
                422: "a field is wrong (extra names it), or the replay of the run does not reach the score",
                429: "too many scores from this player or address in a minute, or too many of this player's "
                "runs in replay; send it again after Retry-After",
                503: "the server is busy replaying runs, could not make the score durable, or could not check "
                "the token now; send it again after Retry-After",
            }
        ),
    )
    async def submit_score(
        self,
        request: Request[Principal, str, Any],
        data: JSONBody[ScoreSubmission],
        game: NamedDependency[GameInfo],
        arcade: NamedDependency[Arcade],
        identity: NamedDependency[SkipValidation[IdentityProvider]],
        store: NamedDependency[SkipValidation[Store]],
        replays: NamedDependency[Replays],
    ) -> Response[ScoreAccepted]:
        """Store a score once per ``submission_id`` and answer the player's rank and best.

        The run is replayed with the game's own rules first: a score it does not reach is a 422
        saying what the replay scored.

        The same ``submission_id`` sent again (a badge retrying after a lost
        answer) gets the same answer, with ``Idempotent-Replayed: true``.
        """
        data = strictly(await request.body(), ScoreSubmission)
        if not game.min_score <= data.score <= game.max_score:
            raise invalid(
                "score",
                f"must be between {game.min_score} and {game.max_score} {game.unit}",
                detail=f"score {data.score} is outside {game.title}'s bounds",
            )
        principal = request.user
        who = player_id(principal.issuer, principal.subject)
        try:
            await replays.verify(game, data, who)
        except RunRefused as refusal:
            await keep_as_evidence(store, game, principal, data, refusal)
            raise
        profile = await identity.profile(principal, request.auth, request.headers.get(ID_TOKEN_HEADER))
        player = Player.of(principal, profile, safe_picture(profile.picture))
        if not profile.known:  # the provider could not say: the name it was last known by stays
            known = await store.player(player.id)
            if known is not None:
                player = msgspec.structs.replace(player, name=known.name, picture=known.picture)
        answer, stored = await store.submit_score(game, player, data)
        if stored:
            arcade.announce("arcade_score_accepted", game=game, record=answer)
        headers = {} if stored else {"Idempotent-Replayed": "true"}
        return Response(answer, status_code=201, headers=headers)

    @get(
        "/games/{game_id:str}/leaderboard",
        guards=[game_exists],
        operation_class=NoBadRequest,
        responses=errors(
            {
                404: NO_GAME + ", or no time window with this id (the answer lists them)",
                422: "limit is out of range, the cursor was not handed out, or both cursor and around were given",
            }
        ),
    )
    async def leaderboard(
        self,
        arcade: NamedDependency[Arcade],
        game: NamedDependency[GameInfo],
        store: NamedDependency[SkipValidation[Store]],
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 25,
        cursor: FromQuery[str | None] = None,
        around: Annotated[
            str | None, QueryParameter(description="a player id: the page with them in the middle")
        ] = None,
        window: Annotated[
            str | None,
            QueryParameter(description="a time window's id (GET .../windows lists them); default: the whole event"),
        ] = None,
    ) -> LeaderboardPage:
        """The best score per player, best first; page with ``cursor``, or centre on ``around``; within
        a time ``window``, the best of the scores accepted in it."""
        if around is not None and cursor is not None:
            raise invalid("around", "cannot be combined with cursor", "query", "use either cursor or around, not both")
        return await window_board(store, game, await find_window(arcade, store, window), limit, cursor, around)

    @get("/players/{player:str}", operation_class=NoBadRequest, responses=errors({404: "no player with this id"}))
    async def player(
        self, player: FromPath[str], arcade: NamedDependency[Arcade], store: NamedDependency[SkipValidation[Store]]
    ) -> PlayerDetail:
        """A player and their best score and rank in each game they played."""
        found = await store.player(player)
        if found is None:
            raise NotFoundException(f"no player {player!r}")
        bests = await store.player_bests(player, arcade.ordered_games())
        return PlayerDetail(player=found.ref(), bests=bests)


# -- refused runs, kept for the admins (docs/running-an-event.md) ---------------------------------


async def keep_as_evidence(
    store: Store, game: GameInfo, principal: Principal, data: ScoreSubmission, refusal: RunRefused
) -> None:
    """Keep a refused run for the admins; the badge gets its 422 whether or not it could be kept."""
    run = RefusedRun(
        game=game.id,
        player=player_id(principal.issuer, principal.subject),
        name=display_name(str(principal.claims.get("name") or principal.subject)) or "player",
        submission_id=data.submission_id,
        claimed=data.score,
        replayed=refusal.replayed,
        reason=str(refusal),
        at=datetime.now(UTC),
        ticks=data.run.ticks,
        inputs=data.run.inputs if len(data.run.inputs) <= REFUSED_INPUTS else None,
        seed=data.run.seed,
    )
    try:
        await store.keep_refused_run(run)
    except StoreError as error:
        log.warning("could not keep a refused run of player %s as evidence: %s", run.player, error)
